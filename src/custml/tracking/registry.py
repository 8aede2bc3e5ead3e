"""The model registry: registering versions, applying the promotion gate, and loading models with what is known of them.

:func:`register_and_gate` and :func:`register_uplift` register a run's model, alias the new version
``challenger`` and move ``champion`` only when :func:`custml.models.promotion.decide` says so; the decision
(:class:`custml.contracts.GateDecision`) is written on the version (tags ``gate.*`` and its description). The
loaders return the model and a typed record of its version (:class:`custml.contracts.ModelVersionInfo`,
:class:`custml.contracts.UpliftModelInfo`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, cast

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from custml.contracts import (
    CalibrationBin,
    Driver,
    GateDecision,
    ModelMetrics,
    ModelVersionInfo,
    UpliftModelInfo,
)
from custml.errors import DataFileError
from custml.models.metrics import binary_metrics
from custml.models.predictor import CustomerModel
from custml.models.promotion import Evidence, GateThresholds, classifier_evidence, decide, uplift_evidence
from custml.tracking.store import (
    ALIAS_CHALLENGER,
    ALIAS_CHAMPION,
    MODEL_ARTIFACT,
    TrackingError,
    ensure_configured,
    model_name_for,
)
from custml.tracking.wrappers import CustomerModelPyfunc, UpliftPyfunc

__all__ = [
    "UPLIFT_MODEL_NAME",
    "get_model_version_info",
    "load_customer_model",
    "load_model",
    "load_model_with_info",
    "load_uplift_model",
    "register_and_gate",
    "register_uplift",
    "spark_udf",
]

logger = logging.getLogger(__name__)

UPLIFT_MODEL_NAME = "custml-uplift"
# The digest of scores computed here on a holdout passed to register_and_gate (both models on the same rows).
_GIVEN_HOLDOUT = "holdout passed to the gate"
# The metrics the scores sidecar reports per model (contracts section 7).
_SCORE_METRICS = tuple(f for f in ModelMetrics.model_fields if f != "test_cutoff")
_CALIBRATION_KEYS = tuple(CalibrationBin.model_fields)
_DRIVER_KEYS = tuple(Driver.model_fields)


# --- registering and gating ---------------------------------------------------------------------------------------


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
    run: Any,
    task: str,
    description: str,
    evidence: Callable[[Any, str], Evidence],
    thresholds: GateThresholds,
) -> GateDecision:
    """Register ``run``'s model as a new version of ``name``, alias it ``challenger``, and apply the promotion
    rule (:func:`custml.models.promotion.decide`): ``champion`` alias when promoted, the decision written on
    the version (tags ``gate.*`` and its description). ``evidence(run, version)`` gathers what a version shows
    from its run; the rule itself reads nothing."""
    run_id = str(run.info.run_id)
    model_uri = run.data.tags.get("custml.model_uri", f"runs:/{run_id}/{MODEL_ARTIFACT}")
    version = _register_version(client, model_uri, name, task, description)
    client.set_registered_model_alias(name, ALIAS_CHALLENGER, version)
    try:
        current = client.get_model_version_by_alias(name, ALIAS_CHAMPION)
    except MlflowException:
        current = None
    champion = evidence(client.get_run(str(current.run_id)), str(current.version)) if current else None
    decision = decide(evidence(run, version), champion, thresholds).model_copy(
        update={"name": name, "version": version, "run_id": run_id}
    )
    if decision.promoted:
        client.set_registered_model_alias(name, ALIAS_CHAMPION, version)
    for key, value in decision.as_tags().items():
        client.set_model_version_tag(name, version, key, value)
    verdict = "PROMOTED to champion" if decision.promoted else "kept as challenger"
    client.update_model_version(
        name,
        version,
        description=f"Gate on {decision.metric} (margin {decision.margin:g}): {verdict}. {decision.reason}.",
    )
    logger.info("%s v%s: %s", name, version, decision.reason)
    return decision


def _score_on_holdout(model_uri: str, holdout: pd.DataFrame, labels: Any, metric: str) -> float:
    probs = np.asarray(load_model(model_uri).predict(holdout), dtype=float)
    return float(binary_metrics(labels, probs)[metric])


def register_and_gate(
    run_id: str,
    model_name: str | None = None,
    metric: str = "roc_auc",
    margin: float = 0.002,
    holdout: pd.DataFrame | None = None,
    holdout_labels: Any = None,
) -> GateDecision:
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
    GateDecision
        With the registered ``name``, ``version`` and ``run_id``.
    """
    ensure_configured()
    client = MlflowClient()
    run = client.get_run(run_id)
    task = run.data.tags.get("custml.task", "churn")
    name = model_name or model_name_for(task)
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

    thresholds = GateThresholds(margin=float(margin))
    description = f"custml {task} model (calibrated probability)"
    decision = _gate_version(client, name, run, task, description, evidence, thresholds)
    assert decision.version is not None  # set by _gate_version
    client.set_model_version_tag(
        name, decision.version, "custml.test_cutoff", run.data.tags.get("custml.test_cutoff", "")
    )
    return decision


def register_uplift(run_id: str, model_name: str = UPLIFT_MODEL_NAME) -> GateDecision:
    """Register an uplift run's model, alias it ``challenger``, and ``champion`` when it earns it.

    The rule is :func:`custml.models.promotion.decide`: the held-out Qini AUC and its bootstrap 95 % interval
    must lie above 0 (else the model is not promoted, even with no champion, and scoring keeps the
    rule-based actions); then, since uplift models of different campaigns have no common holdout: no champion
    yet, or the challenger learnt from a later campaign (the newest randomised evidence wins), or from the
    same campaign with a held-out Qini AUC at least the champion's. The decision is written on the version
    (tags ``gate.*`` and its description).
    """
    ensure_configured()
    client = MlflowClient()

    def evidence(found: Any, version: str) -> Evidence:
        return uplift_evidence(found.data.metrics, found.data.tags.get("custml.send_day"), version=version)

    description = "custml uplift model (reduction of churn)"
    thresholds = GateThresholds(margin=0.0)
    return _gate_version(
        client, model_name, client.get_run(run_id), "uplift", description, evidence, thresholds
    )


# --- loading ------------------------------------------------------------------------------------------------------


def load_model(uri: str) -> Any:
    """Load a logged or registered model as an MLflow pyfunc (``predict`` returns calibrated probabilities)."""
    ensure_configured()
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


def _run_records(run_id: str, path: str, keys: tuple[str, ...]) -> list[dict[str, object]]:
    """The records of a JSON list logged with a run, restricted to ``keys`` (``[]`` when absent)."""
    try:
        records = cast("list[dict[str, object]]", mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}"))
    except (MlflowException, OSError):
        return []
    return [{k: r.get(k) for k in keys} for r in records]


def get_model_version_info(uri: str) -> ModelVersionInfo:
    """Name, version, run, aliases and test-cut-off evaluation of a registered model version (scores sidecar):
    ``metrics`` (``roc_auc, pr_auc, brier, ece, lift_top10, capture_top10, base_rate, test_cutoff``),
    ``calibration``, ``top_drivers`` and the ``gate`` decision written on the version.

    Raises
    ------
    TrackingError
        If the URI names no version, or the version's gate tags are of another schema version.
    """
    ensure_configured()
    client = MlflowClient()
    mv = _resolve_version(client, uri)
    run = client.get_run(mv.run_id)
    metrics = ModelMetrics(
        **{k: run.data.metrics[k] for k in _SCORE_METRICS if k in run.data.metrics},
        test_cutoff=run.data.tags.get("custml.test_cutoff"),
    )
    try:
        gate = GateDecision.from_tags(dict(mv.tags or {}), uri)
    except DataFileError as exc:
        raise TrackingError(str(exc)) from None
    return ModelVersionInfo(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        aliases=list(getattr(mv, "aliases", []) or []),
        metrics=metrics,
        calibration=_run_records(mv.run_id, "evaluation/calibration.json", _CALIBRATION_KEYS),
        top_drivers=_run_records(mv.run_id, "explain/top_drivers.json", _DRIVER_KEYS),
        gate=gate,
    )


def _uri_parts(uri: str) -> tuple[str, str, str | None]:
    """(name, version, run id) for display when the registry cannot tell: ``runs:/<id>/model`` ->
    (model, "", <id>)."""
    tail = uri.split(":/", 1)[-1].strip("/")
    run_id = uri.split("/")[1] if uri.startswith("runs:/") else None
    return tail.split("/")[-1] or uri, "", run_id


def load_model_with_info(uri: str) -> tuple[CustomerModel, ModelVersionInfo]:
    """A customer model for scoring and what the registry knows of it.

    The info has the test metrics, calibration, drivers and gate when the URI is a registry URI
    (``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``); for other URIs (``runs:/...``, a path) only the name,
    version and run id derived from the URI. ``horizon_days`` is the model's own.
    """
    model = load_customer_model(uri)
    if uri.startswith("models:/"):
        info = get_model_version_info(uri)
    else:
        name, version, run_id = _uri_parts(uri)
        info = ModelVersionInfo(name=name, version=version, run_id=run_id)
    return model, info.model_copy(update={"horizon_days": int(model.horizon_days)})


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
) -> tuple[Any, UpliftModelInfo]:
    """The :class:`custml.uplift.CampaignUplift` behind a logged or registered uplift model, and its info
    (name, version, run id and the logged held-out quality as ``metrics``).

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
    if not uri.startswith("models:/"):
        name, version, _ = _uri_parts(uri)
        return wrapper.model, UpliftModelInfo(name=name, version=version)
    client = MlflowClient()
    mv = _resolve_version(client, uri)
    metrics = dict(client.get_run(mv.run_id).data.metrics)
    return wrapper.model, UpliftModelInfo(
        name=mv.name, version=str(mv.version), run_id=mv.run_id, metrics=metrics
    )


def spark_udf(spark: Any, model_uri: str) -> Any:
    """A Spark UDF returning the model's calibrated probability (``mlflow.pyfunc.spark_udf``, local env).

    The workers use the driver's Python environment (``PYSPARK_PYTHON``), so no conda/virtualenv is built.
    """
    ensure_configured()
    return mlflow.pyfunc.spark_udf(spark, model_uri, result_type="double", env_manager="local")
