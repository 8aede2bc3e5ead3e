"""The one module that talks to MLflow: tracking store, run logging, model registry and model loading.

- :func:`configure` points MLflow at ``custml.config.tracking_uri()`` (``$MLFLOW_TRACKING_URI`` or SQLite in
  the project root; local stores keep artefacts in the project's ``mlartifacts/``).
- :func:`log_training_run` logs a :class:`custml.models.train.TrainResult`: parameters, data description,
  metrics of the model and baselines, plots, SHAP, importance, model card and the model as a pyfunc that
  returns calibrated probabilities.
- :func:`register_and_gate` registers the run's model (``custml-churn`` / ``custml-repurchase``), gives the new
  version the alias ``challenger`` and promotes it to ``champion`` only if the promotion rule
  (:func:`custml.models.promotion.decide`: no baseline beats it beyond noise, and it beats the current champion
  on the same holdout by a margin) says so; the decision is written on the model version.
- :func:`load_model`, :func:`load_customer_model`, :func:`get_model_version_info` read registered models.
- :func:`log_segmentation_run` and :func:`log_experiment_config` serve the segmentation stage and notebooks.
- :func:`log_comparison_run` logs a run that compares methods without logging a model (``custml.experiments``).
- :func:`log_monitoring_run` logs model health over time against a model version (``custml monitor``).
- :func:`log_uplift_run`, :func:`register_uplift` and :func:`load_uplift_model` keep the campaign uplift model
  (``custml-uplift``) that the train stage fits and scoring loads.
- :func:`store_drift_reference` and :func:`load_drift_reference` keep a training run's drift reference (with the run
  and as a local copy); :func:`load_model_with_info` loads a model for scoring with its registry information.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType

from custml import __version__
from custml.config import ProjectPaths, get_paths
from custml.config import tracking_uri as default_tracking_uri
from custml.errors import ConfigError, CustmlError
from custml.io import read_json, write_json
from custml.models.hybrid import BTYD_INPUT_COLUMNS
from custml.models.metrics import binary_metrics
from custml.models.predictor import CustomerModel
from custml.models.promotion import (
    Decision,
    Evidence,
    GateThresholds,
    classifier_evidence,
    decide,
    uplift_evidence,
)

__all__ = [
    "ALIAS_CHALLENGER",
    "ALIAS_CHAMPION",
    "DRIFT_REFERENCE_ARTIFACT",
    "UPLIFT_MODEL_NAME",
    "CustomerModelPyfunc",
    "EstimatorPyfunc",
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

logger = logging.getLogger(__name__)

ALIAS_CHALLENGER = "challenger"
ALIAS_CHAMPION = "champion"
MODEL_ARTIFACT = "model"
#: The training run's artefact with the drift reference (:func:`custml.scoring.drift.drift_reference`).
DRIFT_REFERENCE_ARTIFACT = "drift_reference.json"
# The digest of scores computed here on a holdout passed to register_and_gate (both models on the same rows).
_GIVEN_HOLDOUT = "holdout passed to the gate"
# The metrics the scores sidecar reports per model (contracts section 7).
_SCORE_METRICS = ("roc_auc", "pr_auc", "brier", "ece", "lift_top10", "capture_top10", "base_rate")


class TrackingError(CustmlError, RuntimeError):
    """MLflow could not do what was asked (unknown model or alias, unreachable server, ...)."""


def model_name_for(task: str) -> str:
    """Registered model name of a task: ``custml-churn`` or ``custml-repurchase``."""
    return f"custml-{task}"


def _is_local(uri: str) -> bool:
    return urlparse(uri).scheme in {"sqlite", "", "file", "postgresql", "mysql", "mssql"}


_explicit_uri: str | None = None


def configure(tracking_uri: str | None = None) -> str:
    """Point MLflow (tracking and registry) at ``tracking_uri`` or the project default; return the URI.

    An explicit URI sticks for later calls of this module; ``configure()`` (no argument) goes back to
    ``custml.config.tracking_uri()`` (``$MLFLOW_TRACKING_URI`` or SQLite in the project root), which is then
    re-read on every call. The file store is refused (MLflow 3 deprecates it): use SQLite or a server.
    """
    global _explicit_uri
    uri = tracking_uri or default_tracking_uri()
    if uri.startswith("file:") or "://" not in uri:
        raise ConfigError(
            f"tracking URI {uri!r} is a file store; use sqlite:///path/mlflow.db or http://host:port"
        )
    _explicit_uri = tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _ensure_configured() -> None:
    """Use the URI given to :func:`configure`, else the current project default."""
    configure(_explicit_uri)


def _experiment_id(name: str) -> str:
    """Id of experiment ``name``, created if absent (local stores: artefacts under the project's mlartifacts)."""
    client = MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    if _is_local(mlflow.get_tracking_uri()):
        root = get_paths().mlartifacts
        root.mkdir(parents=True, exist_ok=True)
        location = (root / re.sub(r"[^A-Za-z0-9_.-]", "_", name)).as_uri()
    return client.create_experiment(name, artifact_location=location)


# MLflow 3 advises, when a PythonModel subclass is *defined* (at import), to type-hint `predict`; it does so
# under its own warning filter, so no caller's filter can silence it. Ours have no hints on purpose (MLflow
# would derive and enforce a schema from them): the advice is recorded and dropped at each definition.
with warnings.catch_warnings(record=True):  # MLflow's type-hint advice (see above)

    class CustomerModelPyfunc(PythonModel):
        """MLflow pyfunc wrapper of :class:`custml.models.predictor.CustomerModel`.

        ``predict`` accepts the feature frame as the features stage produces it (categoricals as category or
        strings; extra columns ignored) and returns calibrated probabilities of the positive class (1-D array).
        """

        def __init__(self, model: CustomerModel) -> None:
            self.model = model

        # No type hints on purpose: MLflow 3 would derive (and enforce) a schema from them.
        def predict(self, context, model_input, params=None):
            frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return self.model.predict_proba(frame)


def _input_schema(model: CustomerModel) -> Schema:
    """Input columns of the pyfunc, all optional and of type ``any``.

    MLflow refuses int64 input for a ``double`` column and ``category`` input for a ``string`` column, while
    the features stage legitimately yields either (an all-null optional group is float or object); the
    model's own preparation (:meth:`CustomerModel.prepare`) coerces types, so the signature names the
    columns and leaves the types to it. Expected kinds are logged in the model metadata.
    """
    return Schema([ColSpec(AnyType(), c, required=False) for c in model.input_columns])


def _input_example(model: CustomerModel, features: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """Synthetic example rows (feature quantiles and common levels), so no customer's record is logged."""
    qs = np.linspace(0.1, 0.9, n)
    out: dict[str, Any] = {}
    for c in model.input_columns:
        if c in model.categorical_levels:
            levels = model.categorical_levels[c]
            out[c] = [levels[i % len(levels)] if levels else None for i in range(n)]
        elif c in features.columns:
            values = pd.to_numeric(features[c], errors="coerce").dropna().to_numpy(dtype=float)
            out[c] = np.quantile(values, qs, method="nearest") if values.size else np.full(n, np.nan)
        else:
            out[c] = np.full(n, np.nan)
    return pd.DataFrame(out)


def _log_figure(fig: Any, path: str) -> None:
    import matplotlib.pyplot as plt

    mlflow.log_figure(fig, path)
    plt.close(fig)


def _holdout_digest(features: pd.DataFrame, labels: Any) -> str:
    from custml.models.train import table_digest

    frame = features.copy()
    frame["__label__"] = np.asarray(labels)
    return table_digest(frame)


def log_training_run(
    result: Any,
    params: Mapping[str, Any] | None = None,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> str:
    """Log a training result as one MLflow run; return the run id.

    Parameters
    ----------
    result : custml.models.train.TrainResult
    params : mapping, optional
        Extra parameters (e.g. data folder, config name); the full ``TrainParams`` are always logged.
    experiment : str, optional
        Default ``custml-<task>``.
    run_name, tags : optional
    config_path : path, optional
        The YAML config the run used, logged as an artefact.
    """
    # No backend switch here: headless runs default to Agg, and notebooks keep their inline backend
    # (every figure is closed after logging, so nothing is displayed twice).
    from custml.models import explain, plots
    from custml.models.card import model_card

    _ensure_configured()
    exp_id = _experiment_id(experiment or f"custml-{result.task}")
    p = result.params
    preds = result.test_predictions
    y = preds["label"].to_numpy()
    scores = {c: preds[c].to_numpy() for c in preds.columns if c not in {"label"}}
    run_tags = {
        "custml.task": result.task,
        "custml.version": __version__,
        "custml.test_cutoff": result.data_description["test_cutoff"],
        "custml.holdout_sha256": _holdout_digest(result.test_features, y),
        "custml.champion": str(result.data_description.get("champion", "lightgbm")),
        **(tags or {}),
    }
    with mlflow.start_run(
        experiment_id=exp_id, run_name=run_name or f"{result.task}-lightgbm", tags=run_tags
    ) as run:
        mlflow.log_params(p.flat())
        if params:
            mlflow.log_params({f"extra.{k}": v for k, v in params.items()})
        mlflow.log_params(
            {
                "data.rows_train": result.data_description["rows_train"],
                "data.rows_validation": result.data_description["rows_validation"],
                "data.rows_test": result.data_description["rows_test"],
                "data.test_cutoff": result.data_description["test_cutoff"],
                "data.validation_cutoffs": ",".join(result.data_description["validation_cutoffs"]),
                "data.training_table_sha256": result.data_description["training_table_sha256"],
            }
        )
        flat = {k: float(v) for k, v in result.summary_metrics().items() if v is not None and np.isfinite(v)}
        mlflow.log_metrics(flat)
        mlflow.log_metrics({f"timing.{k}": float(v) for k, v in result.timings.items()})
        mlflow.log_dict(result.data_description, "data/description.json")
        mlflow.log_dict(p.model_dump(mode="json"), "config/train_params.json")
        mlflow.log_text(
            yaml.safe_dump(p.model_dump(mode="json"), sort_keys=False), "config/train_params.yaml"
        )
        if config_path is not None:
            mlflow.log_artifact(str(config_path), "config")
        mlflow.log_dict({k: dict(v) for k, v in result.metrics.items()}, "evaluation/metrics.json")
        mlflow.log_dict(result.calibration.to_dict(orient="records"), "evaluation/calibration.json")

        _log_figure(plots.plot_roc(y, scores), "plots/roc.png")
        _log_figure(plots.plot_pr(y, scores), "plots/pr.png")
        _log_figure(
            plots.plot_calibration(y, {k: v for k, v in scores.items() if k != "oracle"}, p.ece_bins),
            "plots/calibration.png",
        )
        _log_figure(plots.plot_lift(y, scores), "plots/lift.png")

        shap_x = result.test_features.iloc[result.shap_rows]
        _log_figure(explain.plot_shap_beeswarm(result.model, shap_x), "explain/shap_beeswarm.png")
        _log_figure(explain.plot_shap_bar(result.model, shap_x), "explain/shap_bar.png")
        mlflow.log_text(result.importance.to_csv(index=False), "explain/feature_importance.csv")
        mlflow.log_dict(result.drivers.to_dict(orient="records"), "explain/top_drivers.json")
        mlflow.log_text(model_card(result, model_name_for(result.task), run.info.run_id), "model_card.md")

        for trial in result.tuning_trials:
            with mlflow.start_run(experiment_id=exp_id, run_name=f"trial-{trial['number']}", nested=True):
                mlflow.log_params(trial["params"])
                mlflow.log_metrics({"validation.roc_auc": trial["val_roc_auc"], "trees": trial["trees"]})

        example = _input_example(result.model, result.test_features)
        signature = ModelSignature(inputs=_input_schema(result.model), outputs=Schema([ColSpec("double")]))
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=CustomerModelPyfunc(result.model),
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(),
            metadata={
                "custml_task": result.task,
                "output": f"calibrated probability of {result.task}",
                "feature_kinds": {
                    c: ("categorical" if c in result.model.categorical_levels else "numeric")
                    for c in result.model.input_columns
                },
            },
        )
        mlflow.set_tag("custml.model_uri", info.model_uri)
        logger.info("logged run %s (model %s)", run.info.run_id, info.model_uri)
        return run.info.run_id


def _pip_requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for pkg in ("lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle"):
        try:
            reqs.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:  # pragma: no cover
            reqs.append(pkg)
    return reqs


def _score_on_holdout(model_uri: str, holdout: pd.DataFrame, labels: Any, metric: str) -> float:
    probs = np.asarray(load_model(model_uri).predict(holdout), dtype=float)
    return float(binary_metrics(labels, probs)[metric])


def _register_version(client: MlflowClient, model_uri: str, name: str, task: str, description: str) -> str:
    """A new version of registered model ``name`` from ``model_uri``; a model registered here for the first
    time gets ``description``. ``mlflow.register_model`` creates the registered model itself (it says
    "Successfully registered model"); creating it beforehand made it print "already exists" on the first run.
    """
    version = str(mlflow.register_model(model_uri, name, tags={"custml.task": task}).version)
    if not client.get_registered_model(name).description:
        client.update_registered_model(name, description=description)
    return version


def _gate_version(
    client: MlflowClient,
    name: str,
    model_uri: str,
    task: str,
    description: str,
    challenger: Callable[[str], Evidence],
    champion: Callable[[Any], Evidence],
    thresholds: GateThresholds,
) -> tuple[str, Decision]:
    """Register ``model_uri`` as a new version of ``name``, alias it ``challenger``, and apply the promotion
    rule (:func:`custml.models.promotion.decide`): ``champion`` alias when promoted, the decision written on
    the version (tags ``gate.*`` and its description). ``challenger(version)`` and ``champion(model_version)``
    gather the evidence from the registry; the rule itself reads nothing."""
    version = _register_version(client, model_uri, name, task, description)
    client.set_registered_model_alias(name, ALIAS_CHALLENGER, version)
    try:
        current = client.get_model_version_by_alias(name, ALIAS_CHAMPION)
    except MlflowException:
        current = None
    decision = decide(challenger(version), champion(current) if current is not None else None, thresholds)
    if decision.promote:
        client.set_registered_model_alias(name, ALIAS_CHAMPION, version)
    for key, value in decision.as_dict().items():
        client.set_model_version_tag(name, version, f"gate.{key}", str(value))
    verdict = "PROMOTED to champion" if decision.promote else "kept as challenger"
    client.update_model_version(
        name,
        version,
        description=f"Gate on {decision.metric} (margin {decision.margin:g}): {verdict}. {decision.reason}.",
    )
    logger.info("%s v%s: %s", name, version, decision.reason)
    return version, decision


def register_and_gate(
    run_id: str,
    model_name: str | None = None,
    metric: str = "roc_auc",
    margin: float = 0.002,
    holdout: pd.DataFrame | None = None,
    holdout_labels: Any = None,
) -> dict[str, Any]:
    """Register the run's model, alias it ``challenger`` and promote it to ``champion`` if it earns it.

    The rule is :func:`custml.models.promotion.decide`: a run whose logged test metrics say a printed
    baseline beats it beyond noise (``auc_diff_hi_vs_<baseline>`` below 0, see
    :func:`custml.models.train.baseline_intervals`) is never promoted, champion or not; otherwise the first
    model is promoted, and a later one must beat the champion by ``margin`` on the same holdout (lower is
    better for brier, log_loss, ece). With ``holdout`` and ``holdout_labels`` both models are scored on it
    here; otherwise the logged test metrics are compared, but only when both runs logged the same holdout
    digest (tag ``custml.holdout_sha256``), else the champion is kept. The decision is written on the new
    model version (tags ``gate.*`` and its description).

    Returns
    -------
    dict
        ``name, version, run_id, metric, margin, challenger_score, champion_version, champion_score,
        promoted, reason``.
    """
    _ensure_configured()
    client = MlflowClient()
    run = client.get_run(run_id)
    task = run.data.tags.get("custml.task", "churn")
    name = model_name or model_name_for(task)
    model_uri = run.data.tags.get("custml.model_uri", f"runs:/{run_id}/{MODEL_ARTIFACT}")
    if metric not in run.data.metrics:
        raise TrackingError(f"run {run_id} has no metric {metric!r} to gate on")
    use_holdout = holdout is not None and holdout_labels is not None

    def evidence(found: Any, version: str) -> Evidence:
        if use_holdout:
            score = _score_on_holdout(f"models:/{name}/{version}", holdout, holdout_labels, metric)
            return classifier_evidence(
                found.data.metrics, metric, holdout_digest=_GIVEN_HOLDOUT, score=score, version=version
            )
        digest = found.data.tags.get("custml.holdout_sha256")
        return classifier_evidence(found.data.metrics, metric, holdout_digest=digest, version=version)

    version, decision = _gate_version(
        client,
        name,
        model_uri,
        task,
        f"custml {task} model (calibrated probability)",
        challenger=lambda v: evidence(run, v),
        champion=lambda mv: evidence(client.get_run(str(mv.run_id)), str(mv.version)),
        thresholds=GateThresholds(margin=float(margin)),
    )
    client.set_model_version_tag(
        name, version, "custml.test_cutoff", run.data.tags.get("custml.test_cutoff", "")
    )
    return {"name": name, "version": version, "run_id": run_id, **decision.as_dict()}


def load_model(uri: str) -> Any:
    """Load a logged or registered model as an MLflow pyfunc (``predict`` returns calibrated probabilities)."""
    _ensure_configured()
    try:
        return mlflow.pyfunc.load_model(uri)
    except MlflowException as exc:
        raise TrackingError(f"cannot load model {uri!r}: {exc.message}") from None


def load_customer_model(uri: str) -> CustomerModel:
    """Load the pure :class:`CustomerModel` behind a logged model (for reason codes and drift checks)."""
    wrapper = load_model(uri).unwrap_python_model()
    if not isinstance(wrapper, CustomerModelPyfunc):
        raise TrackingError(f"{uri!r} is not a custml customer model")
    return wrapper.model


def _resolve_version(client: MlflowClient, uri: str) -> Any:
    m = re.fullmatch(r"models:/([^/@]+)(?:@([^/]+)|/(\d+))", uri)
    if not m:
        raise TrackingError(f"expected models:/NAME@ALIAS or models:/NAME/VERSION, got {uri!r}")
    name, alias, version = m.groups()
    try:
        return (
            client.get_model_version_by_alias(name, alias)
            if alias
            else client.get_model_version(name, version)
        )
    except MlflowException as exc:
        raise TrackingError(f"no model version for {uri!r}: {exc.message}") from None


def get_model_version_info(uri: str) -> dict[str, Any]:
    """Name, version, run and test-cut-off evaluation of a registered model version (scores sidecar).

    Returns
    -------
    dict
        ``name, version, run_id, aliases, metrics`` (``roc_auc, pr_auc, brier, ece, lift_top10,
        capture_top10, base_rate, test_cutoff``), ``calibration`` (list of ``mean_predicted, observed_rate, n``),
        ``top_drivers`` (list of ``feature, description, mean_abs_shap``), ``gate`` (the ``gate.*`` tags).
    """
    _ensure_configured()
    client = MlflowClient()
    mv = _resolve_version(client, uri)
    run = client.get_run(mv.run_id)
    metrics: dict[str, Any] = {k: run.data.metrics[k] for k in _SCORE_METRICS if k in run.data.metrics}
    metrics["test_cutoff"] = run.data.tags.get("custml.test_cutoff")

    def load(path: str) -> Any:
        try:
            return mlflow.artifacts.load_dict(f"runs:/{mv.run_id}/{path}")
        except (MlflowException, OSError):
            return []

    calibration = [
        {"mean_predicted": r["mean_predicted"], "observed_rate": r["observed_rate"], "n": int(r["n"])}
        for r in load("evaluation/calibration.json")
    ]
    return {
        "name": mv.name,
        "version": str(mv.version),
        "run_id": mv.run_id,
        "aliases": list(getattr(mv, "aliases", []) or []),
        "metrics": metrics,
        "calibration": calibration,
        "top_drivers": load("explain/top_drivers.json"),
        "gate": {k[5:]: v for k, v in (mv.tags or {}).items() if k.startswith("gate.")},
    }


def log_segmentation_run(
    params: Mapping[str, Any],
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

    _ensure_configured()
    exp_id = _experiment_id(experiment)
    with mlflow.start_run(
        experiment_id=exp_id, run_name=run_name or "segmentation", tags={"custml.task": "segmentation"}
    ) as run:
        mlflow.log_params(
            {k: (",".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in params.items()}
        )
        mlflow.log_metrics(
            {k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(float(v))}
        )
        mlflow.log_text(k_curve.to_csv(index=False), "segmentation/k_curve.csv")
        mlflow.log_text(profiles.to_csv(index=True), "segmentation/profiles.csv")
        # MLflow 3 saves sklearn models with skops by default, which refuses custml's own estimator classes.
        mlflow.sklearn.log_model(
            pipeline,
            name="pipeline",
            pip_requirements=_pip_requirements(),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        )
        return run.info.run_id


def log_comparison_run(
    name: str,
    *,
    experiment: str,
    params: Mapping[str, Any],
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
    _ensure_configured()
    exp_id = _experiment_id(experiment)
    with mlflow.start_run(experiment_id=exp_id, run_name=name, tags=dict(tags or {})) as run:
        mlflow.log_params(
            {k: (",".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in params.items()}
        )
        mlflow.log_metrics(
            {k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(float(v))}
        )
        for path, table in (tables or {}).items():
            mlflow.log_text(table.to_csv(index=False), path)
        for folder, local in (files or {}).items():
            mlflow.log_artifact(str(local), folder)
        for path, fig in (figures or {}).items():
            mlflow.log_figure(fig, path)
        return run.info.run_id


def log_experiment_config(path: str | Path, run_id: str | None = None) -> None:
    """Attach an experiment YAML to a run (``run_id``) or to the active run, under ``config/``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"experiment config not found: {path}")
    _ensure_configured()
    if run_id is not None:
        MlflowClient().log_artifact(run_id, str(path), "config")
    elif mlflow.active_run() is not None:
        mlflow.log_artifact(str(path), "config")
    else:
        raise TrackingError("log_experiment_config: no run_id given and no active run")


def log_run_dict(run_id: str, obj: Mapping[str, Any], artifact_file: str) -> None:
    """Store a JSON-ready mapping as artefact ``artifact_file`` of run ``run_id`` (e.g. the drift reference)."""
    _ensure_configured()
    MlflowClient().log_dict(run_id, dict(obj), artifact_file)


def load_run_dict(run_id: str, artifact_file: str) -> dict[str, Any]:
    """Read back a mapping stored with :func:`log_run_dict`.

    Raises
    ------
    TrackingError
        If the run has no such artefact (or it is not JSON).
    """
    _ensure_configured()
    try:
        return dict(mlflow.artifacts.load_dict(f"runs:/{run_id}/{artifact_file}"))
    except (MlflowException, OSError, ValueError) as exc:
        raise TrackingError(f"run {run_id}: cannot read artefact {artifact_file} ({exc})") from None


def spark_udf(spark: Any, model_uri: str) -> Any:
    """A Spark UDF returning the model's calibrated probability (``mlflow.pyfunc.spark_udf``, local env).

    The workers use the driver's Python environment (``PYSPARK_PYTHON``), so no conda/virtualenv is built.
    """
    _ensure_configured()
    return mlflow.pyfunc.spark_udf(spark, model_uri, result_type="double", env_manager="local")


MONITORING_EXPERIMENT = "custml-monitoring"
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


def log_monitoring_run(
    model_name: str,
    model_version: str,
    health: pd.DataFrame,
    *,
    verdict: str,
    reasons: list[str] | tuple[str, ...] = (),
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
    from mlflow.entities import Metric

    _ensure_configured()
    client = MlflowClient()
    exp_id = _experiment_id(experiment)
    query = f"tags.`custml.model_name` = '{model_name}' and tags.`custml.model_version` = '{model_version}'"
    found = client.search_runs([exp_id], filter_string=query, max_results=1)
    if found:
        run_id = found[0].info.run_id
    else:
        run_id = client.create_run(
            exp_id,
            run_name=f"monitor-{model_name}-v{model_version}",
            tags={
                "custml.task": "monitoring",
                "custml.model_name": model_name,
                "custml.model_version": str(model_version),
            },
        ).info.run_id
    metrics = []
    for rec in health.to_dict(orient="records"):
        as_of = pd.Timestamp(rec["as_of"])
        step = int(as_of.strftime("%Y%m%d"))
        ts = int(as_of.value // 1_000_000)
        for key in _HEALTH_METRICS:
            value = rec.get(key)
            if value is None or not np.isfinite(float(value)):
                continue
            metrics.append(Metric(f"health.{key}", float(value), ts, step))
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


with warnings.catch_warnings(record=True):  # MLflow's type-hint advice (see above)

    class EstimatorPyfunc(PythonModel):
        """MLflow pyfunc wrapper of a fitted scikit-learn classifier (e.g. :class:`custml.models.CustomerClassifier`).

        ``predict`` returns the probability of the positive class (``classes_[1]``) per row (1-D array).
        """

        def __init__(self, estimator: Any) -> None:
            self.estimator = estimator

        # No type hints on purpose: MLflow 3 would derive (and enforce) a schema from them.
        def predict(self, context, model_input, params=None):
            frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return np.asarray(self.estimator.predict_proba(frame)[:, 1], dtype=float)


def _estimator_example(features: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """Synthetic example rows (quantiles of numeric columns, frequent levels of the others): no real record."""
    qs = np.linspace(0.1, 0.9, n)
    out: dict[str, Any] = {}
    for c in features.columns:
        col = features[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = pd.to_numeric(col, errors="coerce").dropna().to_numpy(dtype=float)
            out[str(c)] = np.quantile(values, qs, method="nearest") if values.size else np.full(n, np.nan)
        else:
            levels = col.dropna().astype(str).value_counts().index.tolist()[:n]
            out[str(c)] = [levels[i % len(levels)] if levels else None for i in range(n)]
    return pd.DataFrame(out)


def log_estimator_run(
    estimator: Any,
    features: pd.DataFrame,
    metrics: Mapping[str, float],
    *,
    task: str,
    holdout_digest: str,
    params: Mapping[str, Any] | None = None,
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
    _ensure_configured()
    exp_id = _experiment_id(experiment or f"custml-{task}-snapshot")
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
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(v)})
        for name, table in (tables or {}).items():
            mlflow.log_text(table.to_csv(index=False), f"evaluation/{name}.csv")
        example = _estimator_example(features)
        signature = ModelSignature(
            inputs=Schema([ColSpec(AnyType(), str(c), required=False) for c in features.columns]),
            outputs=Schema([ColSpec("double")]),
        )
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=EstimatorPyfunc(estimator),
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(),
            metadata={"custml_task": task, "output": f"probability of {task}"},
        )
        mlflow.set_tag("custml.model_uri", info.model_uri)
        logger.info("logged estimator run %s (model %s)", run.info.run_id, info.model_uri)
        return run.info.run_id


def _uri_parts(uri: str) -> tuple[str, str]:
    """(name, version) for display when the registry cannot tell: ``runs:/<id>/model`` -> (model, <id>)."""
    tail = uri.split(":/", 1)[-1].strip("/")
    return tail.split("/")[-1] or uri, ""


def load_model_with_info(uri: str) -> tuple[CustomerModel, dict[str, Any]]:
    """A customer model for scoring and what the registry knows of it.

    ``info`` has ``name``, ``version``, ``run_id``, ``horizon_days`` and the test metrics, calibration and
    drivers when the URI is a registry URI (``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``); for other URIs
    (``runs:/...``, a path) only ``name``/``version``/``run_id`` derived from the URI.
    """
    model = load_customer_model(uri)
    if uri.startswith("models:/"):
        info = get_model_version_info(uri)
    else:
        name, version = _uri_parts(uri)
        run_id = uri.split("/")[1] if uri.startswith("runs:/") else None
        info = {"name": name, "version": version, "run_id": run_id, "metrics": {}}
    info.setdefault("horizon_days", int(model.horizon_days))
    return model, info


def store_drift_reference(run_id: str, reference: Mapping[str, Any], local_dir: Path) -> None:
    """Log a training run's drift reference with the run (artefact) and keep a local copy ``<run_id>.json``."""
    write_json(dict(reference), ProjectPaths.drift_reference_in(local_dir, run_id))
    log_run_dict(run_id, reference, DRIFT_REFERENCE_ARTIFACT)


def load_drift_reference(run_id: str | None, uri: str, local_dir: Path) -> dict[str, Any] | None:
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


# --- uplift models (issue 14): the campaign model learnt in the train stage, loaded by scoring ----------------
UPLIFT_MODEL_NAME = "custml-uplift"
UPLIFT_EXPERIMENT = "custml-uplift"
#: The uplift run's artefact with the model's summary (campaign, arms, costs, calibration table).
UPLIFT_SUMMARY_ARTIFACT = "uplift_summary.json"


with warnings.catch_warnings(record=True):  # MLflow's type-hint advice (see above)

    class UpliftPyfunc(PythonModel):
        """MLflow pyfunc wrapper of :class:`custml.uplift.CampaignUplift`.

        ``predict`` takes the feature frame of any as-of date and returns the calibrated uplift per row (the
        estimated reduction of the churn probability by the offer; 1-D array). The value calibration reads
        an ``expected_value_12m`` column when the frame has one, else computes it from the BTYD columns.
        """

        def __init__(self, model: Any) -> None:
            self.model = model

        # No type hints on purpose: MLflow 3 would derive (and enforce) a schema from them.
        def predict(self, context, model_input, params=None):
            frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return np.asarray(self.model.predict(frame), dtype=float)


# what the value calibration of an uplift model reads: expected_value_12m, or the BTYD inputs to compute it
_UPLIFT_VALUE_COLUMNS = ("expected_value_12m", "customer_id", *BTYD_INPUT_COLUMNS)


def _uplift_metrics(model: Any) -> dict[str, float]:
    summary = model.summary()
    out = {f"holdout_{k}": float(v) for k, v in summary.get("holdout", {}).items()}
    for key in ("average_uplift", "churn_rate_treated", "churn_rate_control", "offer_cost"):
        out[key] = float(summary[key])
    if summary.get("calibration_slope") is not None:
        out["calibration_slope"] = float(summary["calibration_slope"])
    out.update({"n_treated": float(model.n_treated), "n_control": float(model.n_control)})
    return {k: v for k, v in out.items() if np.isfinite(v)}


def log_uplift_run(
    model: Any,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> str:
    """Log a fitted :class:`custml.uplift.CampaignUplift` as one MLflow run with its model; return the run id.

    Logged: the :class:`custml.uplift.UpliftParams` (``uplift.*``), the held-out quality of the out-of-fold
    ranking (``holdout_qini_auc`` with its bootstrap 95 % interval ``holdout_qini_auc_lo``/``_hi``, which the
    gate reads, ``holdout_uplift_auc``, ``holdout_uplift_at_30``), the calibration slope,
    arms and churn rates as metrics, the model's summary with its calibration table
    (:data:`UPLIFT_SUMMARY_ARTIFACT`), and the model as a pyfunc returning the calibrated uplift.
    """
    _ensure_configured()
    exp_id = _experiment_id(experiment or UPLIFT_EXPERIMENT)
    summary = model.summary()
    run_tags = {
        "custml.task": "uplift",
        "custml.version": __version__,
        "custml.campaign_id": str(model.campaign_id),
        "custml.send_day": summary["send_day"],
        **(tags or {}),
    }
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name or "uplift", tags=run_tags) as run:
        mlflow.log_params({f"uplift.{k}": v for k, v in model.params.model_dump().items()})
        if extra_params:
            mlflow.log_params({f"extra.{k}": v for k, v in extra_params.items()})
        mlflow.log_metrics(_uplift_metrics(model))
        mlflow.log_dict(summary, UPLIFT_SUMMARY_ARTIFACT)
        columns = [str(c) for c in model.columns]
        if model.calibrator is not None and model.params.calibrate_on == "value":
            columns += [c for c in _UPLIFT_VALUE_COLUMNS if c not in columns]
        signature = ModelSignature(
            inputs=Schema([ColSpec(AnyType(), c, required=False) for c in columns]),
            outputs=Schema([ColSpec("double")]),
        )
        # The signature is explicit; an input example would be a customer's row (the uplift model keeps no
        # feature quantiles to make synthetic ones from), so MLflow's advice to add one is dropped.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*input example was not provided", category=UserWarning
            )
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=UpliftPyfunc(model),
                signature=signature,
                pip_requirements=_pip_requirements(),
                metadata={
                    "custml_task": "uplift",
                    "output": "reduction of the churn probability by the offer",
                },
            )
        mlflow.set_tag("custml.model_uri", info.model_uri)
        logger.info("logged uplift run %s (model %s)", run.info.run_id, info.model_uri)
        return run.info.run_id


def register_uplift(run_id: str, model_name: str = UPLIFT_MODEL_NAME) -> dict[str, Any]:
    """Register an uplift run's model, alias it ``challenger``, and ``champion`` when it earns it.

    The rule is :func:`custml.models.promotion.decide`: the held-out Qini AUC and its bootstrap 95 % interval
    must lie above 0 (else the model is not promoted, even with no champion, and scoring keeps the
    rule-based actions); then, since uplift models of different campaigns have no common holdout: no champion
    yet, or the challenger learnt from a later campaign (the newest randomised evidence wins), or from the
    same campaign with a held-out Qini AUC at least the champion's. The decision is written on the version
    (tags ``gate.*`` and its description).

    Returns
    -------
    dict
        ``name, version, run_id, metric, margin, challenger_score, champion_version, champion_score,
        promoted, reason``.
    """
    _ensure_configured()
    client = MlflowClient()
    run = client.get_run(run_id)
    model_uri = run.data.tags.get("custml.model_uri", f"runs:/{run_id}/{MODEL_ARTIFACT}")

    def evidence(found: Any, version: str) -> Evidence:
        return uplift_evidence(found.data.metrics, found.data.tags.get("custml.send_day"), version=version)

    version, decision = _gate_version(
        client,
        model_name,
        model_uri,
        "uplift",
        "custml uplift model (reduction of churn)",
        challenger=lambda v: evidence(run, v),
        champion=lambda mv: evidence(client.get_run(str(mv.run_id)), str(mv.version)),
        thresholds=GateThresholds(margin=0.0),
    )
    return {"name": model_name, "version": version, "run_id": run_id, **decision.as_dict()}


def _gate_refusal(uri: str) -> str | None:
    """Why ``models:/NAME@champion`` names no version when the gate kept the latest one, else ``None``."""
    m = re.fullmatch(r"models:/([^/@]+)@([^/]+)", uri)
    if not m or m.group(2) != ALIAS_CHAMPION:
        return None
    try:
        latest = MlflowClient().get_model_version_by_alias(m.group(1), ALIAS_CHALLENGER)
    except MlflowException:
        return None
    tags = latest.tags or {}
    if tags.get("gate.promoted") != "False":
        return None
    return f"the gate did not promote {m.group(1)} v{latest.version}: {tags.get('gate.reason', '?')}"


def load_uplift_model(
    uri: str = f"models:/{UPLIFT_MODEL_NAME}@{ALIAS_CHAMPION}",
) -> tuple[Any, dict[str, Any]]:
    """The :class:`custml.uplift.CampaignUplift` behind a logged or registered uplift model, and its info.

    ``info``: ``name``, ``version``, ``run_id``, ``metrics`` (the logged held-out quality).

    Raises
    ------
    TrackingError
        If the URI names no model (e.g. no uplift model registered yet, or none promoted: the message then
        says which version the gate kept and why) or not an uplift model.
    """
    try:
        wrapper = load_model(uri).unwrap_python_model()
    except TrackingError:
        refused = _gate_refusal(uri)
        if refused is None:
            raise
        raise TrackingError(refused) from None
    if not isinstance(wrapper, UpliftPyfunc):
        raise TrackingError(f"{uri!r} is not a custml uplift model")
    if uri.startswith("models:/"):
        client = MlflowClient()
        mv = _resolve_version(client, uri)
        run = client.get_run(mv.run_id)
        info: dict[str, Any] = {"name": mv.name, "version": str(mv.version), "run_id": mv.run_id,
                                "metrics": dict(run.data.metrics)}  # fmt: skip
    else:
        name, version = _uri_parts(uri)
        info = {"name": name, "version": version, "run_id": None, "metrics": {}}
    return wrapper.model, info
