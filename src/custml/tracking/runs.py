"""Logging runs: training results, estimators, uplift models, segmentation, comparisons and monitoring histories.

Each ``log_*`` function starts one MLflow run in its experiment (created if absent) and returns the run id;
artefacts hold aggregates only, never customer rows. A training run's drift reference is kept with the run
and as a local copy (:func:`store_drift_reference`, :func:`load_drift_reference`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from custml import __version__
from custml.config import ProjectPaths
from custml.contracts import UpliftSummary
from custml.errors import ConfigError, CustmlError
from custml.io import read_json, write_json
from custml.models.hybrid import BTYD_INPUT_COLUMNS
from custml.tracking.store import (
    MODEL_ARTIFACT,
    TrackingError,
    ensure_configured,
    experiment_id,
    model_name_for,
    pip_requirements,
)
from custml.tracking.wrappers import (
    CustomerModelPyfunc,
    EstimatorPyfunc,
    UpliftPyfunc,
    customer_model_example,
    estimator_example,
    probability_signature,
)
from custml.types import JSONObject

__all__ = [
    "DRIFT_REFERENCE_ARTIFACT",
    "MONITORING_EXPERIMENT",
    "UPLIFT_EXPERIMENT",
    "UPLIFT_SUMMARY_ARTIFACT",
    "load_drift_reference",
    "load_run_dict",
    "log_comparison_run",
    "log_estimator_run",
    "log_experiment_config",
    "log_monitoring_run",
    "log_run_dict",
    "log_segmentation_run",
    "log_training_run",
    "log_uplift_run",
    "store_drift_reference",
]

logger = logging.getLogger(__name__)

#: The training run's artefact with the drift reference (:func:`custml.scoring.drift.drift_reference`).
DRIFT_REFERENCE_ARTIFACT = "drift_reference.json"
MONITORING_EXPERIMENT = "custml-monitoring"
UPLIFT_EXPERIMENT = "custml-uplift"
#: The uplift run's artefact with the model's summary (campaign, arms, costs, calibration table).
UPLIFT_SUMMARY_ARTIFACT = "uplift_summary.json"

#: Run parameters as given: MLflow logs each value as its text.
Params = Mapping[str, object]


def _finite(metrics: Mapping[str, float | None]) -> dict[str, float]:
    """The metrics MLflow can store (finite numbers; ``None`` and NaN dropped)."""
    out = {}
    for k, v in metrics.items():
        if v is not None and np.isfinite(float(v)):
            out[k] = float(v)
    return out


def _joined(params: Params) -> dict[str, object]:
    """Parameters with list values comma-joined (MLflow stores text)."""
    return {k: (",".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in params.items()}


def _log_figure(fig: Any, path: str) -> None:
    import matplotlib.pyplot as plt

    mlflow.log_figure(fig, path)
    plt.close(fig)


def _holdout_digest(features: pd.DataFrame, labels: Any) -> str:
    from custml.models.train import table_digest

    frame = features.copy()
    frame["__label__"] = np.asarray(labels)
    return table_digest(frame)


# --- training runs ------------------------------------------------------------------------------------------------


def _training_tags(result: Any, tags: Mapping[str, str] | None) -> dict[str, str]:
    description = result.data_description
    return {
        "custml.task": result.task,
        "custml.version": __version__,
        "custml.test_cutoff": description["test_cutoff"],
        "custml.holdout_sha256": _holdout_digest(result.test_features, result.test_predictions["label"]),
        "custml.champion": str(description.get("champion", "lightgbm")),
        **(tags or {}),
    }


def _log_training_params(result: Any, params: Params | None, config_path: str | Path | None) -> None:
    p, description = result.params, result.data_description
    mlflow.log_params(p.flat())
    if params:
        mlflow.log_params({f"extra.{k}": v for k, v in params.items()})
    mlflow.log_params(
        {
            "data.rows_train": description["rows_train"],
            "data.rows_validation": description["rows_validation"],
            "data.rows_test": description["rows_test"],
            "data.test_cutoff": description["test_cutoff"],
            "data.validation_cutoffs": ",".join(description["validation_cutoffs"]),
            "data.training_table_sha256": description["training_table_sha256"],
        }
    )
    mlflow.log_dict(description, "data/description.json")
    mlflow.log_dict(p.model_dump(mode="json"), "config/train_params.json")
    mlflow.log_text(yaml.safe_dump(p.model_dump(mode="json"), sort_keys=False), "config/train_params.yaml")
    if config_path is not None:
        mlflow.log_artifact(str(config_path), "config")


def _log_evaluation(result: Any) -> None:
    """Metrics of the model and the baselines, the calibration table and the evaluation plots."""
    from custml.models import plots

    preds = result.test_predictions
    y = preds["label"].to_numpy()
    scores = {c: preds[c].to_numpy() for c in preds.columns if c not in {"label"}}
    mlflow.log_metrics(_finite(result.summary_metrics()))
    mlflow.log_metrics({f"timing.{k}": float(v) for k, v in result.timings.items()})
    mlflow.log_dict({k: dict(v) for k, v in result.metrics.items()}, "evaluation/metrics.json")
    mlflow.log_dict(result.calibration.to_dict(orient="records"), "evaluation/calibration.json")
    _log_figure(plots.plot_roc(y, scores), "plots/roc.png")
    _log_figure(plots.plot_pr(y, scores), "plots/pr.png")
    calibrated = {k: v for k, v in scores.items() if k != "oracle"}
    _log_figure(plots.plot_calibration(y, calibrated, result.params.ece_bins), "plots/calibration.png")
    _log_figure(plots.plot_lift(y, scores), "plots/lift.png")


def _log_explanations(result: Any, run_id: str) -> None:
    """SHAP plots, importance, top drivers and the model card."""
    from custml.models import explain
    from custml.models.card import model_card

    shap_x = result.test_features.iloc[result.shap_rows]
    _log_figure(explain.plot_shap_beeswarm(result.model, shap_x), "explain/shap_beeswarm.png")
    _log_figure(explain.plot_shap_bar(result.model, shap_x), "explain/shap_bar.png")
    mlflow.log_text(result.importance.to_csv(index=False), "explain/feature_importance.csv")
    mlflow.log_dict(result.drivers.to_dict(orient="records"), "explain/top_drivers.json")
    mlflow.log_text(model_card(result, model_name_for(result.task), run_id), "model_card.md")


def _log_customer_model(result: Any) -> str:
    """The model as a pyfunc returning calibrated probabilities; its URI."""
    model = result.model
    info = mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=CustomerModelPyfunc(model),
        signature=probability_signature(model.input_columns),
        input_example=customer_model_example(model, result.test_features),
        pip_requirements=pip_requirements(),
        metadata={
            "custml_task": result.task,
            "output": f"calibrated probability of {result.task}",
            "feature_kinds": {
                c: ("categorical" if c in model.categorical_levels else "numeric")
                for c in model.input_columns
            },
        },
    )
    return str(info.model_uri)


def log_training_run(
    result: Any,
    params: Params | None = None,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> str:
    """Log a training result as one MLflow run; return the run id.

    Logged: the ``TrainParams`` and the data description, metrics of the model and baselines, plots, SHAP,
    importance, the model card, the tuning trials as nested runs, and the model as a pyfunc that returns
    calibrated probabilities.

    Parameters
    ----------
    result : custml.models.train.TrainResult
    params : mapping, optional
        Extra parameters (e.g. data folder, config name), logged as ``extra.<name>``.
    experiment : str, optional
        Default ``custml-<task>``.
    run_name, tags : optional
    config_path : path, optional
        The YAML config the run used, logged as an artefact.
    """
    # No backend switch here: headless runs default to Agg, and notebooks keep their inline backend
    # (every figure is closed after logging, so nothing is displayed twice).
    ensure_configured()
    exp_id = experiment_id(experiment or f"custml-{result.task}")
    with mlflow.start_run(
        experiment_id=exp_id,
        run_name=run_name or f"{result.task}-lightgbm",
        tags=_training_tags(result, tags),
    ) as run:
        _log_training_params(result, params, config_path)
        _log_evaluation(result)
        _log_explanations(result, run.info.run_id)
        for trial in result.tuning_trials:
            with mlflow.start_run(experiment_id=exp_id, run_name=f"trial-{trial['number']}", nested=True):
                mlflow.log_params(trial["params"])
                mlflow.log_metrics({"validation.roc_auc": trial["val_roc_auc"], "trees": trial["trees"]})
        model_uri = _log_customer_model(result)
        mlflow.set_tag("custml.model_uri", model_uri)
        logger.info("logged run %s (model %s)", run.info.run_id, model_uri)
        return str(run.info.run_id)


def log_estimator_run(
    estimator: Any,
    features: pd.DataFrame,
    metrics: Mapping[str, float],
    *,
    task: str,
    holdout_digest: str,
    params: Params | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log a fitted scikit-learn classifier as one MLflow run with its model (pyfunc); return the run id.

    Parameters
    ----------
    estimator
        Fitted classifier with ``predict_proba``; its ``get_params()`` are logged as ``estimator.*``.
    features : pandas.DataFrame
        The training features (identifiers and label removed): only their columns and quantiles are used,
        for the signature and a synthetic input example.
    metrics : mapping
        E.g. cross-validated ``roc_auc``, ``logistic.roc_auc``; logged as they are (the gate reads them).
    task : str
        Tag ``custml.task``; the experiment defaults to ``custml-<task>-snapshot``.
    holdout_digest : str
        Tag ``custml.holdout_sha256``: runs with the same digest were evaluated on the same data, so the
        champion gate may compare their logged metrics.
    params, tables, run_name, tags : optional
        Extra parameters; tables logged as CSV artefacts (``evaluation/<name>.csv``); run name; tags.
    """
    ensure_configured()
    exp_id = experiment_id(experiment or f"custml-{task}-snapshot")
    run_tags = {
        "custml.task": task,
        "custml.version": __version__,
        "custml.holdout_sha256": holdout_digest,
        "custml.estimator": type(estimator).__name__,
        **(tags or {}),
    }
    with mlflow.start_run(
        experiment_id=exp_id, run_name=run_name or f"{task}-snapshot", tags=run_tags
    ) as run:
        mlflow.log_params({f"estimator.{k}": v for k, v in estimator.get_params().items()})
        if params:
            mlflow.log_params({f"extra.{k}": v for k, v in params.items()})
        mlflow.log_metrics(_finite(metrics))
        for name, table in (tables or {}).items():
            mlflow.log_text(table.to_csv(index=False), f"evaluation/{name}.csv")
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=EstimatorPyfunc(estimator),
            signature=probability_signature(features.columns),
            input_example=estimator_example(features),
            pip_requirements=pip_requirements(),
            metadata={"custml_task": task, "output": f"probability of {task}"},
        )
        mlflow.set_tag("custml.model_uri", info.model_uri)
        logger.info("logged estimator run %s (model %s)", run.info.run_id, info.model_uri)
        return str(run.info.run_id)


# --- uplift runs (issue 14): the campaign model learnt in the train stage, loaded by scoring --------------------

# what the value calibration of an uplift model reads: expected_value_12m, or the BTYD inputs to compute it
_UPLIFT_VALUE_COLUMNS = ("expected_value_12m", "customer_id", *BTYD_INPUT_COLUMNS)


def _uplift_metrics(s: UpliftSummary) -> dict[str, float]:
    out: dict[str, float | None] = {f"holdout_{k}": v for k, v in s.holdout.items()}
    out |= {
        "average_uplift": s.average_uplift,
        "churn_rate_treated": s.churn_rate_treated,
        "churn_rate_control": s.churn_rate_control,
        "offer_cost": s.offer_cost,
        "calibration_slope": s.calibration_slope,
        "n_treated": s.n_treated,
        "n_control": s.n_control,
    }
    return _finite(out)


def log_uplift_run(
    model: Any,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    extra_params: Params | None = None,
) -> str:
    """Log a fitted :class:`custml.uplift.CampaignUplift` as one MLflow run with its model; return the run id.

    Logged: the :class:`custml.uplift.UpliftParams` (``uplift.*``), the held-out quality of the out-of-fold
    ranking (``holdout_qini_auc`` with its bootstrap 95 % interval ``holdout_qini_auc_lo``/``_hi``, which the
    gate reads, ``holdout_uplift_auc``, ``holdout_uplift_at_30``), the calibration slope,
    arms and churn rates as metrics, the model's summary with its calibration table
    (:data:`UPLIFT_SUMMARY_ARTIFACT`), and the model as a pyfunc returning the calibrated uplift.
    """
    ensure_configured()
    exp_id = experiment_id(experiment or UPLIFT_EXPERIMENT)
    summary: UpliftSummary = model.summary()
    run_tags = {
        "custml.task": "uplift",
        "custml.version": __version__,
        "custml.campaign_id": str(model.campaign_id),
        "custml.send_day": str(summary.send_day),
        **(tags or {}),
    }
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name or "uplift", tags=run_tags) as run:
        mlflow.log_params({f"uplift.{k}": v for k, v in model.params.model_dump().items()})
        if extra_params:
            mlflow.log_params({f"extra.{k}": v for k, v in extra_params.items()})
        mlflow.log_metrics(_uplift_metrics(summary))
        mlflow.log_dict(summary.model_dump(mode="json"), UPLIFT_SUMMARY_ARTIFACT)
        columns = [str(c) for c in model.columns]
        if model.calibrator is not None and model.params.calibrate_on == "value":
            columns += [c for c in _UPLIFT_VALUE_COLUMNS if c not in columns]
        # The signature is explicit; an input example would be a customer's row (the uplift model keeps no
        # feature quantiles to make synthetic ones from), so MLflow's advice to add one is dropped.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*input example was not provided", category=UserWarning
            )
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=UpliftPyfunc(model),
                signature=probability_signature(columns),
                pip_requirements=pip_requirements(),
                metadata={
                    "custml_task": "uplift",
                    "output": "reduction of the churn probability by the offer",
                },
            )
        mlflow.set_tag("custml.model_uri", info.model_uri)
        logger.info("logged uplift run %s (model %s)", run.info.run_id, info.model_uri)
        return str(run.info.run_id)


# --- segmentation, comparisons, configs --------------------------------------------------------------------------


def log_segmentation_run(
    params: Params,
    k_curve: pd.DataFrame,
    profiles: pd.DataFrame,
    pipeline: Any,
    metrics: Mapping[str, float],
    *,
    experiment: str = "custml-segmentation",
    run_name: str | None = None,
) -> str:
    """Log a segmentation run: parameters, the k-selection curve, cluster profiles, metrics, fitted pipeline.

    ``k_curve`` and ``profiles`` are logged as CSV artefacts (they hold cluster aggregates, no customer rows);
    ``pipeline`` (a scikit-learn estimator) as an MLflow sklearn model. Returns the run id.
    """
    import mlflow.sklearn

    ensure_configured()
    exp_id = experiment_id(experiment)
    with mlflow.start_run(
        experiment_id=exp_id, run_name=run_name or "segmentation", tags={"custml.task": "segmentation"}
    ) as run:
        mlflow.log_params(_joined(params))
        mlflow.log_metrics(_finite(metrics))
        mlflow.log_text(k_curve.to_csv(index=False), "segmentation/k_curve.csv")
        mlflow.log_text(profiles.to_csv(index=True), "segmentation/profiles.csv")
        # MLflow 3 saves sklearn models with skops by default, which refuses custml's own estimator classes.
        mlflow.sklearn.log_model(
            pipeline,
            name="pipeline",
            pip_requirements=pip_requirements(),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        )
        return str(run.info.run_id)


def log_comparison_run(
    name: str,
    *,
    experiment: str,
    params: Params,
    metrics: Mapping[str, float],
    tags: Mapping[str, str] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    files: Mapping[str, str | Path] | None = None,
    figures: Mapping[str, Any] | None = None,
) -> str:
    """Log a generic comparison run (e.g. several segmentation methods side by side); return the run id.

    Parameters
    ----------
    name : str
        Run name.
    experiment : str
        MLflow experiment name (created if absent).
    params, metrics, tags : mappings
        Logged as they are (non-finite metrics are skipped; list values of params are comma-joined).
    tables : mapping artefact path -> DataFrame, optional
        Written as CSV at that artefact path (aggregates only: never customer rows).
    files : mapping artefact folder -> local file, optional
        Local files attached under that artefact folder.
    figures : mapping artefact path -> matplotlib figure, optional
        Saved at that artefact path.
    """
    ensure_configured()
    exp_id = experiment_id(experiment)
    with mlflow.start_run(experiment_id=exp_id, run_name=name, tags=dict(tags or {})) as run:
        mlflow.log_params(_joined(params))
        mlflow.log_metrics(_finite(metrics))
        for path, table in (tables or {}).items():
            mlflow.log_text(table.to_csv(index=False), path)
        for folder, local in (files or {}).items():
            mlflow.log_artifact(str(local), folder)
        for path, fig in (figures or {}).items():
            mlflow.log_figure(fig, path)
        return str(run.info.run_id)


def log_experiment_config(path: str | Path, run_id: str | None = None) -> None:
    """Attach an experiment YAML to a run (``run_id``) or to the active run, under ``config/``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"experiment config not found: {path}")
    ensure_configured()
    if run_id is not None:
        MlflowClient().log_artifact(run_id, str(path), "config")
    elif mlflow.active_run() is not None:
        mlflow.log_artifact(str(path), "config")
    else:
        raise TrackingError("log_experiment_config: no run_id given and no active run")


def log_run_dict(run_id: str, obj: JSONObject, artifact_file: str) -> None:
    """Store a JSON object as artefact ``artifact_file`` of run ``run_id`` (e.g. the drift reference)."""
    ensure_configured()
    MlflowClient().log_dict(run_id, dict(obj), artifact_file)


def load_run_dict(run_id: str, artifact_file: str) -> JSONObject:
    """Read back a JSON object stored with :func:`log_run_dict`.

    Raises
    ------
    TrackingError
        If the run has no such artefact (or it is not JSON).
    """
    ensure_configured()
    try:
        return dict(mlflow.artifacts.load_dict(f"runs:/{run_id}/{artifact_file}"))
    except (MlflowException, OSError, ValueError) as exc:
        raise TrackingError(f"run {run_id}: cannot read artefact {artifact_file} ({exc})") from None


def store_drift_reference(run_id: str, reference: JSONObject, local_dir: Path) -> None:
    """Log a training run's drift reference with the run (artefact) and keep a local copy ``<run_id>.json``."""
    write_json(dict(reference), ProjectPaths.drift_reference_in(local_dir, run_id))
    log_run_dict(run_id, reference, DRIFT_REFERENCE_ARTIFACT)


def load_drift_reference(run_id: str | None, uri: str, local_dir: Path) -> JSONObject | None:
    """The drift reference of a model's training run: the run's artefact, else the local copy, else ``None``
    (logged: drift is then not measured for model ``uri``)."""
    if run_id:
        try:
            return load_run_dict(run_id, DRIFT_REFERENCE_ARTIFACT)
        except CustmlError as exc:
            logger.info("no drift reference logged with run %s (%s)", run_id, exc)
        local = ProjectPaths.drift_reference_in(local_dir, run_id)
        if local.is_file():
            return read_json(local)
    logger.warning("no drift reference for model %s: drift is not measured", uri)
    return None


# --- monitoring histories -------------------------------------------------------------------------------------

# Health measures logged as metric histories (step = the scores file's as-of date as YYYYMMDD).
_HEALTH_METRICS = (
    "n_population",
    "promised_roc_auc",
    "realised_roc_auc",
    "estimated_roc_auc",
    "realised_lift_top10",
    "estimated_lift_top10",
    "realised_ece",
    "expected_ece_noise",
    "promised_rate",
    "realised_rate",
    "expected_rate",
    "score_psi",
    "inputs_drifted",
)


def _monitoring_run(client: MlflowClient, exp_id: str, model_name: str, model_version: str) -> str:
    """The monitoring run of a model version (found by its tags, so repeated monitoring builds one history)."""
    query = f"tags.`custml.model_name` = '{model_name}' and tags.`custml.model_version` = '{model_version}'"
    found = client.search_runs([exp_id], filter_string=query, max_results=1)
    if found:
        return str(found[0].info.run_id)
    tags = {
        "custml.task": "monitoring",
        "custml.model_name": model_name,
        "custml.model_version": model_version,
    }
    run = client.create_run(exp_id, run_name=f"monitor-{model_name}-v{model_version}", tags=tags)
    return str(run.info.run_id)


def _health_metrics(health: pd.DataFrame) -> list[Any]:
    """Each health measure of each scores file as a metric at step YYYYMMDD of its as-of date."""
    from mlflow.entities import Metric

    metrics = []
    for rec in health.to_dict(orient="records"):
        as_of = pd.Timestamp(rec["as_of"])
        step = int(as_of.strftime("%Y%m%d"))
        ts = int(as_of.value // 1_000_000)
        for key, value in _finite({k: rec.get(k) for k in _HEALTH_METRICS}).items():
            metrics.append(Metric(f"health.{key}", value, ts, step))
    return metrics


def log_monitoring_run(
    model_name: str,
    model_version: str,
    health: pd.DataFrame,
    *,
    verdict: str,
    reasons: Sequence[str] = (),
    tables: Mapping[str, pd.DataFrame] | None = None,
    experiment: str = MONITORING_EXPERIMENT,
) -> str:
    """Log model health against a model version; return the run id.

    One run per model version in ``experiment`` (found again by its tags ``custml.model_name`` and
    ``custml.model_version``, so repeated monitoring builds one history): each health measure of each scores
    file is a metric at step YYYYMMDD of the file's as-of date (timestamp: that date), ``health`` and
    ``tables`` are CSV artefacts (aggregates, no customer rows), and the verdict is a tag of the run and, when
    the registry knows the version, of the model version (``monitoring.verdict``, ``monitoring.run_id``).
    """
    ensure_configured()
    client = MlflowClient()
    run_id = _monitoring_run(client, experiment_id(experiment), model_name, str(model_version))
    metrics = _health_metrics(health)
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])
    client.log_text(run_id, health.to_csv(index=False), "monitoring/health.csv")
    for path, table in (tables or {}).items():
        client.log_text(run_id, table.to_csv(index=False), path)
    client.set_tag(run_id, "monitoring.verdict", verdict)
    client.set_tag(run_id, "monitoring.reasons", "; ".join(reasons)[:4000])
    try:
        client.set_model_version_tag(model_name, str(model_version), "monitoring.verdict", verdict)
        client.set_model_version_tag(model_name, str(model_version), "monitoring.run_id", run_id)
    except MlflowException:
        logger.info(
            "model %s v%s is not in the registry: verdict kept on the run only", model_name, model_version
        )
    client.set_terminated(run_id)
    return run_id
