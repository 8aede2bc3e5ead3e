"""Step ``train``: the stacked training set, training, MLflow run, registry and champion gate (and the snapshot path)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from custml.errors import ConfigError
from custml.pipeline._wiring import (
    Engine,
    as_day,
    configure_tracking,
    feature_inputs,
    pipeline_feature_params,
    project_paths,
)
from custml.pipeline.clean import read_clean
from custml.pipeline.runner import RunRecord, TruthInputs

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from custml.config import ProjectPaths
    from custml.contracts import GateDecision
    from custml.models.params import TrainParams
    from custml.models.train import TrainResult
    from custml.pipeline.settings import SnapshotSettings
    from custml.uplift.campaign import CampaignUplift, UpliftParams

__all__ = [
    "SnapshotOutcome",
    "TrainOutcome",
    "UpliftOutcome",
    "run_train",
    "run_train_snapshot",
    "run_train_uplift",
]

logger = logging.getLogger(__name__)


def training_data_end(orders: pd.DataFrame, data_end: Any = None) -> pd.Timestamp:
    """The day the training data ends: ``data_end``, else the last plausible order (a date typo far beyond the
    rest, 2021 in 2011 data, is left out)."""
    if data_end is not None:
        return as_day(data_end)
    from custml.quality.timeline import infer_data_end

    last = infer_data_end(orders["order_ts"], now=None).end
    return as_day(last if last is not None else orders["order_ts"].max())


def training_setup(
    task: Literal["churn", "repurchase"],
    step: str,
    root: Path | str | None,
    tables: Mapping[str, pd.DataFrame] | None,
    data_end: Any,
    params: Any,
) -> tuple[Mapping[str, pd.DataFrame], Any, pd.Timestamp, pd.Timestamp]:
    """What a training step starts from: the clean tables, the params (task checked, horizon resolved from the
    data), the day the data ends and the day it starts (its first order)."""
    from custml.models.params import TrainParams

    tables = tables if tables is not None else read_clean(root)
    params = params or TrainParams(task=task)
    if params.task != task:
        raise ConfigError(f"{step}: task {task!r} but params.task is {params.task!r}")
    orders = tables["orders"]
    end = training_data_end(orders, data_end)
    params = params.with_resolved_horizon(orders, end)  # horizon_days: auto -> the data's horizon rule
    return tables, params, end, as_day(orders["order_ts"].min())


def stacked_table(
    tables: Mapping[str, pd.DataFrame],
    task: Literal["churn", "repurchase"],
    params: Any,
    cutoffs: list[pd.Timestamp],
    data_end: pd.Timestamp,
    engine: Engine = "duckdb",
    oracle: pd.DataFrame | None = None,
    id_map: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The stacked features + labels at ``cutoffs`` (the pipeline's feature settings), with the oracle if given."""
    from custml.features import build_training_set

    training = build_training_set(
        feature_inputs(tables),
        cutoffs,
        task,
        horizon_days=params.horizon,
        data_end=data_end,
        engine=engine,
        params=pipeline_feature_params(),
    )
    if oracle is None:
        return training
    from custml.models.params import DEFAULT_HORIZON_DAYS

    if params.horizon != DEFAULT_HORIZON_DAYS[task]:
        # The oracle's probabilities are those of the contract's horizons (90-day churn, 30-day repurchase).
        logger.warning(
            "no oracle for a %d-day %s horizon (the truth's oracle is for %d days)",
            params.horizon,
            task,
            DEFAULT_HORIZON_DAYS[task],
        )
        return training
    return with_oracle(training, oracle, task, id_map)


def with_oracle(
    training: pd.DataFrame, oracle: pd.DataFrame, task: str, id_map: pd.DataFrame | None
) -> pd.DataFrame:
    """The training table with the synthetic oracle's true probability as ``oracle_probability``."""
    from custml.features import join_oracle
    from custml.models.train import ORACLE_COLUMN

    column = "p_no_purchase_90d" if task == "churn" else "p_purchase_30d"
    joined = join_oracle(training, oracle[["customer_id", "cutoff", column]], id_map)
    return joined.rename(columns={column: ORACLE_COLUMN})


@dataclass
class TrainOutcome:
    """One training step: the run, the gate decision and the pure training result."""

    task: str
    run_id: str
    decision: GateDecision | None
    result: Any
    seconds: float


def run_train(
    task: Literal["churn", "repurchase"],
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    data_end: Any = None,
    params: TrainParams | None = None,
    engine: Engine = "duckdb",
    truth: TruthInputs | None = None,
    record: RunRecord | None = None,
) -> TrainOutcome:
    """Build the stacked training set, train, log to MLflow, register and gate (champion/challenger).

    This is the one training path: ``custml train``, the demo and the experiment runner all call it. The
    cut-offs follow :meth:`custml.models.params.TrainParams.cutoff_plan`: the test cut-off is the last one
    whose label window ends by ``data_end``, and none comes before the first order + ``min_history_days``
    (a shrunk plan's note is in ``result.data_description["cutoff_plan_note"]``). The logged run carries the drift reference
    (:func:`custml.scoring.drift.training_drift_reference` of the test cut-off's rows) as ``drift_reference.json``.
    The gate scores the new version and the current champion on the same holdout (the test cut-off).

    Parameters
    ----------
    truth : TruthInputs, optional
        Synthetic data only: true probabilities per raw customer and cut-off (``oracle``:
        :func:`custml.synth.oracle_probabilities` with a ``cutoff`` column), or the world's ``truth/customers``
        (the oracle is then computed at the test cut-off), and the cleaner's id map, to evaluate the model
        against the truth.
    record : RunRecord, optional
        ``log=False`` only trains (no MLflow); ``register=False`` logs the run without registering or gating;
        run name, experiment, tags, config file and extra params go to :func:`custml.tracking.log_training_run`.
    """
    from custml import tracking
    from custml.models.train import train_model

    t0 = time.perf_counter()
    tables, params, end, data_start = training_setup(task, "run_train", root, tables, data_end, params)
    test_cutoff = (end - pd.Timedelta(days=params.horizon)).normalize()
    # No cut-off before the data has min_history_days of history: the plan shrinks (and says so) or fails.
    plan = params.cutoff_plan(test_cutoff, data_start=data_start)
    truth = truth or TruthInputs()
    record = record or RunRecord()
    oracle = truth.oracle
    if oracle is None and truth.customers is not None:
        from custml.synth import oracle_probabilities

        oracle = oracle_probabilities(truth.customers, test_cutoff).assign(cutoff=test_cutoff)
    training = stacked_table(tables, task, params, plan.all, end, engine, oracle, truth.id_map)
    result = train_model(training, task, params, plan=plan)
    if plan.note:
        result.data_description["cutoff_plan_note"] = plan.note
    if not record.log:
        return TrainOutcome(task, "", None, result, round(time.perf_counter() - t0, 3))
    paths = project_paths(root)
    configure_tracking(paths)
    run_id = tracking.log_training_run(
        result,
        {"data_end": end.isoformat(), **(record.extra_params or {})},
        experiment=record.experiment,
        run_name=record.run_name,
        tags=record.tags,
        config_path=record.config_path,
    )
    _store_reference(run_id, training, result, data_start, paths)
    decision: GateDecision | None = None
    if record.register:
        decision = tracking.register_and_gate(
            run_id,
            metric=params.gate.metric,
            margin=params.gate.margin,
            holdout=result.test_features,
            holdout_labels=result.test_predictions["label"],
        )
    return TrainOutcome(task, run_id, decision, result, round(time.perf_counter() - t0, 3))


def _store_reference(
    run_id: str, training: pd.DataFrame, result: TrainResult, data_start: pd.Timestamp, paths: ProjectPaths
) -> None:
    """Store the run's drift reference: the test cut-off's rows (the population the promised metrics describe,
    the closest in time to scoring), time-growing features relative to the days of history at that cut-off;
    for churn also the score distribution at training (:mod:`custml.monitoring`)."""
    from custml import tracking
    from custml.scoring.drift import training_drift_reference

    latest = training["cutoff"].max()
    reference = training_drift_reference(
        training[training["cutoff"] == latest],
        cutoff=latest,
        data_start=data_start,
        columns=result.model.input_columns,
        seed=result.params.seed,
    )
    if result.task == "churn":
        from custml.monitoring import score_reference

        reference["score"] = score_reference(result.test_predictions["model"])
    tracking.store_drift_reference(run_id, reference, paths.drift_references)


@dataclass
class SnapshotOutcome:
    """What :func:`run_train_snapshot` did: cross-validated figures, the fitted estimator, run and gate."""

    task: str
    run_id: str
    decision: GateDecision | None
    cv: pd.DataFrame
    summary: dict[str, float]
    estimator: Any
    seconds: float
    rows_in: int = 0
    quarantine: pd.DataFrame | None = None


def run_train_snapshot(
    table: pd.DataFrame,
    label: str,
    settings: SnapshotSettings | None = None,
    *,
    root: Path | str | None = None,
    record: RunRecord | None = None,
    malformed_lines: list[list[str]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SnapshotOutcome:
    """Train on a labelled snapshot table (one row per customer): k-fold evaluation, fit, log, register, gate.

    Malformed rows are quarantined and counted, never fatal (:func:`custml.models.estimator.quarantine_snapshot`:
    a blank or unreadable label, a duplicated id, text in a number column), as are the text lines the reader
    skipped (``malformed_lines``, ``reason="malformed_line"``): rows in = rows trained on + rows quarantined.
    The quarantine is written to the project's interim folder with ``log``. ``progress`` receives one line per
    step (fold k of n, the final fit, logging).

    :class:`custml.models.CustomerClassifier` and a logistic baseline are compared by stratified ``n_splits``-fold
    ROC AUC, PR AUC and ECE (:func:`custml.models.estimator.cross_validate_snapshot`); the classifier is then
    fitted on every row, logged with :func:`custml.tracking.log_estimator_run` and registered as
    ``custml-<task>-snapshot`` through the same champion gate as the transaction path (logged ROC AUC, compared
    only with a champion evaluated on the same table).
    """
    from custml.models.estimator import (
        CustomerClassifier,
        cross_validate_snapshot,
        prepare_snapshot,
        summarise_cv,
    )
    from custml.models.train import baseline_intervals
    from custml.pipeline.settings import SnapshotSettings

    t0 = time.perf_counter()
    s = settings or SnapshotSettings()
    record = record or RunRecord()
    say = progress or (lambda _msg: None)
    clean, quarantine, rows_in = _quarantined_snapshot(table, label, s.id_column, malformed_lines)
    X, y = prepare_snapshot(clean, label, s.id_column)
    folds: list[pd.DataFrame] = []
    cv = cross_validate_snapshot(
        X, y, CustomerClassifier(random_state=s.seed), n_splits=s.n_splits, random_state=s.seed, progress=say,
        out_of_fold=folds,
    )  # fmt: skip
    summary = summarise_cv(cv)
    # Paired bootstrap interval of model minus logistic on the out-of-fold rows: what the promotion rule reads.
    summary.update(baseline_intervals(pd.concat(folds).sort_index(), seed=s.seed))
    say(f"fitting on all {len(X):,} rows")
    estimator = CustomerClassifier(random_state=s.seed).fit(X, y)
    outcome = SnapshotOutcome(s.task, "", None, cv, summary, estimator, 0.0, rows_in, quarantine)
    if record.log:
        say("logging to MLflow")
        outcome.run_id, outcome.decision = _log_snapshot(outcome, X, y, label, s, record, project_paths(root))
    outcome.seconds = round(time.perf_counter() - t0, 3)
    return outcome


def _quarantined_snapshot(
    table: pd.DataFrame, label: str, id_column: str | None, malformed_lines: list[list[str]] | None
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The rows to train on, the rows quarantined (with the lines the reader skipped) and the rows in."""
    from custml.models.estimator import quarantine_snapshot

    clean, quarantine = quarantine_snapshot(table, label, id_column)
    if malformed_lines:
        lines = pd.DataFrame({"line": [",".join(map(str, f)) for f in malformed_lines]})
        quarantine = pd.concat([quarantine, lines.assign(reason="malformed_line")], ignore_index=True)
    rows_in = len(table) + len(malformed_lines or [])
    if len(quarantine):
        counts = ", ".join(f"{k} {v}" for k, v in quarantine["reason"].value_counts().items())
        logger.warning(
            "snapshot: %d of %d rows quarantined (%s); training on %d",
            len(quarantine),
            rows_in,
            counts,
            len(clean),
        )
    return clean, quarantine, rows_in


def _log_snapshot(
    outcome: SnapshotOutcome,
    X: pd.DataFrame,
    y: pd.Series,
    label: str,
    s: SnapshotSettings,
    record: RunRecord,
    paths: ProjectPaths,
) -> tuple[str, GateDecision | None]:
    """Write the quarantine, log the snapshot run and register it through the champion gate."""
    from custml import tracking
    from custml.models.train import table_digest

    quarantine, estimator = outcome.quarantine, outcome.estimator
    if quarantine is not None and len(quarantine):
        target = paths.snapshot_quarantine(s.source or "table")
        target.parent.mkdir(parents=True, exist_ok=True)
        quarantine.astype({c: "string" for c in quarantine.columns}).to_parquet(target, index=False)
    configure_tracking(paths)
    run_id = tracking.log_estimator_run(
        estimator,
        X,
        {**outcome.summary, "champion_is_stack": float(estimator.champion_ == "stack")},
        task=s.task,
        holdout_digest=table_digest(pd.concat([X, y], axis=1)),
        params={
            "label": label,
            "id_column": s.id_column or "",
            "rows": len(X),
            "rows_in": outcome.rows_in,
            "rows_quarantined": 0 if quarantine is None else len(quarantine),
            "source": s.source or "",
        },
        tables={"cv_folds": outcome.cv},
        run_name=record.run_name,
        tags={"custml.champion_candidate": estimator.champion_},
    )
    if not record.register:
        return run_id, None
    return run_id, tracking.register_and_gate(
        run_id, model_name=f"custml-{s.task}-snapshot", metric="roc_auc"
    )


@dataclass
class UpliftOutcome:
    """The uplift step: the fitted model (``None`` and ``reason`` when there is nothing to learn from), run, gate."""

    model: CampaignUplift | None
    run_id: str
    decision: GateDecision | None
    reason: str
    seconds: float


def run_train_uplift(
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    params: UpliftParams | None = None,
    record: RunRecord | None = None,
) -> UpliftOutcome:
    """Fit the campaign uplift model from the clean tables, log it to MLflow and register it (``custml-uplift``).

    ``custml train uplift`` and the demo call it. The model learns from the latest randomised campaign with both
    arms (or ``params.campaign_id``): features at its send day, churn label over ``params.horizon_days`` after
    it (:func:`custml.uplift.fit_from_tables`), calibrated on out-of-fold predictions whose held-out Qini AUC,
    uplift AUC and uplift at 30 % are logged. Without campaign data, or when the campaign cannot be learnt
    from (outcome window not yet observed, an empty arm), nothing is logged and ``reason`` says why (scoring
    then keeps the rule-based actions).
    """
    from custml import tracking
    from custml.errors import CustmlError
    from custml.uplift import UpliftParams, fit_from_tables

    t0 = time.perf_counter()
    record = record or RunRecord()
    tables = tables if tables is not None else read_clean(root)
    params = params or UpliftParams()
    campaigns = tables.get("campaigns")
    if campaigns is None or len(campaigns) == 0:
        reason = "no campaign data: rule-based actions"
        logger.info("uplift model not trained: %s", reason)
        return UpliftOutcome(None, "", None, reason, round(time.perf_counter() - t0, 3))
    try:
        model = fit_from_tables(tables, params, feature_params=pipeline_feature_params())
    except CustmlError as exc:  # documented: scoring keeps the rule table, and says why
        reason = f"not fitted: {exc}"
        logger.warning("uplift model %s", reason)
        return UpliftOutcome(None, "", None, reason, round(time.perf_counter() - t0, 3))
    assert model is not None  # campaigns are present
    if not record.log:
        return UpliftOutcome(model, "", None, "fitted", round(time.perf_counter() - t0, 3))
    configure_tracking(project_paths(root))
    run_id = tracking.log_uplift_run(
        model, experiment=record.experiment, run_name=record.run_name, extra_params=record.extra_params
    )
    decision = tracking.register_uplift(run_id) if record.register else None
    return UpliftOutcome(model, run_id, decision, "fitted", round(time.perf_counter() - t0, 3))
