"""The one package that talks to MLflow: tracking store, run logging, model registry and model loading.

- :mod:`custml.tracking.store`: :func:`configure` points MLflow at ``custml.config.tracking_uri()``
  (``$MLFLOW_TRACKING_URI`` or SQLite in the project root; local stores keep artefacts in the project's
  ``mlartifacts/``), and the names every part shares (aliases, :class:`TrackingError`).
- :mod:`custml.tracking.runs`: :func:`log_training_run` logs a :class:`custml.models.train.TrainResult`
  (parameters, data description, metrics of the model and baselines, plots, SHAP, importance, model card and
  the model as a pyfunc that returns calibrated probabilities); :func:`log_estimator_run`,
  :func:`log_uplift_run`, :func:`log_segmentation_run`, :func:`log_comparison_run` (methods compared without a
  model), :func:`log_monitoring_run` (model health over time against a model version),
  :func:`log_experiment_config`; :func:`store_drift_reference` and :func:`load_drift_reference` keep a
  training run's drift reference (with the run and as a local copy).
- :mod:`custml.tracking.registry`: :func:`register_and_gate` registers the run's model (``custml-churn`` /
  ``custml-repurchase``), gives the new version the alias ``challenger`` and promotes it to ``champion`` only if
  the promotion rule (:func:`custml.models.promotion.decide`: no baseline beats it beyond noise, and it beats
  the current champion on the same holdout by a margin) says so; the :class:`custml.contracts.GateDecision` is
  written on the model version. :func:`register_uplift` does the same for the campaign uplift model
  (``custml-uplift``). :func:`load_model`, :func:`load_customer_model`, :func:`load_model_with_info`,
  :func:`load_uplift_model` and :func:`get_model_version_info` read registered models.
- :mod:`custml.tracking.wrappers`: the pyfunc wrappers (:class:`CustomerModelPyfunc`, :class:`EstimatorPyfunc`,
  :class:`UpliftPyfunc`) and their signatures and synthetic input examples.
"""

from custml.tracking.registry import (
    UPLIFT_MODEL_NAME,
    get_model_version_info,
    load_customer_model,
    load_model,
    load_model_with_info,
    load_uplift_model,
    register_and_gate,
    register_uplift,
    spark_udf,
)
from custml.tracking.runs import (
    DRIFT_REFERENCE_ARTIFACT,
    MONITORING_EXPERIMENT,
    UPLIFT_EXPERIMENT,
    UPLIFT_SUMMARY_ARTIFACT,
    load_drift_reference,
    load_run_dict,
    log_comparison_run,
    log_estimator_run,
    log_experiment_config,
    log_monitoring_run,
    log_run_dict,
    log_segmentation_run,
    log_training_run,
    log_uplift_run,
    store_drift_reference,
)
from custml.tracking.store import (
    ALIAS_CHALLENGER,
    ALIAS_CHAMPION,
    MODEL_ARTIFACT,
    TrackingError,
    configure,
    model_name_for,
)
from custml.tracking.wrappers import CustomerModelPyfunc, EstimatorPyfunc, UpliftPyfunc

__all__ = [
    "ALIAS_CHALLENGER",
    "ALIAS_CHAMPION",
    "DRIFT_REFERENCE_ARTIFACT",
    "MODEL_ARTIFACT",
    "MONITORING_EXPERIMENT",
    "UPLIFT_EXPERIMENT",
    "UPLIFT_MODEL_NAME",
    "UPLIFT_SUMMARY_ARTIFACT",
    "CustomerModelPyfunc",
    "EstimatorPyfunc",
    "TrackingError",
    "UpliftPyfunc",
    "configure",
    "get_model_version_info",
    "load_customer_model",
    "load_drift_reference",
    "load_model",
    "load_model_with_info",
    "load_run_dict",
    "load_uplift_model",
    "log_comparison_run",
    "log_estimator_run",
    "log_experiment_config",
    "log_monitoring_run",
    "log_run_dict",
    "log_segmentation_run",
    "log_training_run",
    "log_uplift_run",
    "model_name_for",
    "register_and_gate",
    "register_uplift",
    "spark_udf",
    "store_drift_reference",
]
