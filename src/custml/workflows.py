"""The pipeline's wiring: each ``run_*`` step reads its inputs from the project folders, calls the pure functions of
its stage, and writes its outputs (files via :mod:`custml.io`, runs and models via :mod:`custml.tracking`).

Used by the CLI, :func:`run_demo` (``make demo``), experiments and notebooks, so that every entry point runs the
same steps. Folders come from :func:`custml.config.get_paths` (``root`` overrides the project root)::

    run_generate  -> data/raw/                      (synthetic world; truth/ beside it)
    run_clean     -> data/interim/ (+ data/private/ id map, dedup pairs, golden records)
    run_features  -> data/processed/features_<as_of>.parquet
    run_segment   -> data/processed/segments_<as_of>.parquet, models/segmentation.joblib (+ MLflow run)
    run_train     -> MLflow run + registered model version, champion gate, drift reference
    run_score     -> data/scores/scores_<as_of>.parquet (+ .meta.json, optional .csv)
    run_report    -> reports/report_<as_of>.html
    run_monitor   -> data/monitoring/ health, groups and drift tables (+ MLflow run per model version)

Heavy libraries (MLflow, Spark, LightGBM) are imported inside the steps that need them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from custml.config import ProjectPaths, get_paths
from custml.errors import ConfigError, CustmlError, DataFileError
from custml.io import atomic_write, read_json, read_table, read_tables, write_json, write_table

if TYPE_CHECKING:
    from custml.quality.pipeline import CleanResult
    from custml.scoring.score import ScoreParams, ScoringModel
    from custml.segment.workflow import SegmentationResult, SegmentationRunParams
    from custml.uplift.campaign import UpliftParams

__all__ = [
    "DEFAULT_CHURN_MODEL",
    "DEFAULT_REPURCHASE_MODEL",
    "DemoResult",
    "DriftError",
    "MonitorRun",
    "ScoreRun",
    "TrainOutcome",
    "default_as_of",
    "load_scoring_model",
    "run_clean",
    "run_demo",
    "run_features",
    "run_generate",
    "run_monitor",
    "run_report",
    "run_score",
    "run_segment",
    "run_train",
    "run_train_snapshot",
    "scores_path_for",
]

logger = logging.getLogger(__name__)

DEFAULT_CHURN_MODEL = "models:/custml-churn@champion"
DEFAULT_REPURCHASE_MODEL = "models:/custml-repurchase@champion"
RAW_REQUIRED = ("customers", "orders")
RAW_OPTIONAL = ("interactions", "campaigns")
SEGMENTATION_FILE = "segmentation.joblib"
DRIFT_REFERENCE_ARTIFACT = "drift_reference.json"
_DRIFT_SAMPLE = 200_000

Engine = Literal["duckdb", "spark"]
Progress = Callable[[str], None]


class DriftError(CustmlError):
    """Scoring found features that drifted from the training reference and was asked to fail on drift."""


def _pipeline_features() -> Any:
    """Feature settings of the pipeline's own feature builds (scoring, training sets): DuckDB on one thread.

    With all cores DuckDB adds floats in a run-dependent order: the 50k churn training table got a different
    digest on every build, early stopping moved by a few trees and a backtest ECE by up to 0.003. On one
    thread a re-run is bit-identical, for ~15 % more time (8.2 s against 7.0 s for that table).
    """
    from custml.features import FeatureParams

    return FeatureParams(duckdb_threads=1)


def _paths(root: Path | str | None) -> ProjectPaths:
    return get_paths(root).ensure()


def _day(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ConfigError(f"not a date: {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _stamp(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%dT%H%M%S")


def _configure_tracking(paths: ProjectPaths) -> str:
    """Point MLflow at this project's store (``$MLFLOW_TRACKING_URI`` or SQLite in the project root)."""
    import os

    from custml import tracking
    from custml.config import ENV_TRACKING_URI, tracking_uri

    if os.environ.get(ENV_TRACKING_URI) or paths.root == get_paths().root:
        return tracking.configure()  # the project default, re-read on every call (no sticky URI)
    return tracking.configure(tracking_uri(paths))


def _say(progress: Progress | None, message: str) -> None:
    logger.info(message)
    if progress is not None:
        progress(message)


@contextmanager
def _timed(timings: dict[str, float], key: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - t0, 3)


def default_as_of(raw_dir: Path | str, orders: pd.DataFrame | None = None) -> pd.Timestamp:
    """The day after the data ends (``manifest.json`` ``end`` of a generated world), or the last order day + 1.

    ``orders`` (the raw orders, e.g. read through a source mapping) is used instead of ``raw_dir/orders.*``.
    """
    raw_dir = Path(raw_dir)
    manifest = raw_dir / "manifest.json"
    if manifest.is_file():
        end = read_json(manifest).get("end")
        if end:
            return (_day(end) + pd.Timedelta(days=1)).normalize()
    if orders is None:
        orders = read_tables(raw_dir, ["orders"])["orders"]
    last = pd.to_datetime(orders["order_ts"], errors="coerce", utc=True, format="mixed").max()
    if last is pd.NaT:
        raise DataFileError(f"orders in {raw_dir}: no readable order_ts to infer the as-of date from")
    return (last.tz_localize(None) + pd.Timedelta(days=1)).normalize()


# --------------------------------------------------------------------------------------------------------
# generate, clean, features
# --------------------------------------------------------------------------------------------------------


def run_generate(
    n_customers: int = 50_000,
    *,
    seed: int = 0,
    dirty: float = 0.02,
    locale: str = "en_US",
    root: Path | str | None = None,
    out_dir: Path | str | None = None,
    params: Any = None,
) -> Path:
    """Generate a synthetic world and write it to ``out_dir`` (default ``data/raw``); return the folder.

    ``params`` (a :class:`custml.synth.WorldParams`) overrides ``n_customers``, ``seed``, ``dirty`` and
    ``locale``.
    """
    from custml.synth import WorldParams, generate_world, write_world

    paths = _paths(root)
    out = Path(out_dir) if out_dir is not None else paths.raw
    params = params or WorldParams(n_customers=n_customers, seed=seed, dirty=dirty, locale=locale)
    world = generate_world(params)
    write_world(world, out)
    logger.info(
        "generated %d customer records, %d orders -> %s", len(world.customers), len(world.orders), out
    )
    return out


def read_raw(raw_dir: Path | str) -> dict[str, pd.DataFrame]:
    """The raw contract tables of a folder (orders required; customers, interactions and campaigns optional:
    without customers, the quality stage derives them from orders)."""
    return read_tables(raw_dir, ("orders",), ("customers", *RAW_OPTIONAL))


def read_inputs(
    raw_dir: Path | str, mapping: Path | str | None = None
) -> tuple[dict[str, pd.DataFrame], dict[str, Any] | None]:
    """The raw tables of ``raw_dir``: contract-named files, or any export read through a source mapping.

    Returns the tables and, with a mapping, the sources report (:class:`custml.sources.Sources`).
    """
    if mapping is None:
        return read_raw(raw_dir), None
    from custml.sources import read_sources

    sources = read_sources(raw_dir, mapping)
    return sources.tables, {
        "mapping": str(mapping),
        "tables": sources.report,
        "currency": sources.currency,
        "_line_counts": sources.line_counts,
    }


def _attach_sources(result: CleanResult, sources: dict[str, Any] | None) -> None:
    """Put the sources report into the quality report; check the line items' revenue reached the orders."""
    if sources is None:
        return
    line_counts = sources.get("_line_counts", {})
    sources = {k: v for k, v in sources.items() if k != "_line_counts"}
    result.report["sources"] = sources
    orders_src = sources["tables"].get("orders", {})
    if "orders" in line_counts:
        # lines of quarantined orders, so that lines in = lines kept + lines quarantined
        n_lines = line_counts["orders"]
        q = result.quarantine
        rows = q.loc[q["table"] == "orders", "row_number"].to_numpy(dtype="int64")
        orders_src["lines_quarantined"] = int(n_lines[rows].sum())
        orders_src["lines_kept"] = int(n_lines.sum()) - orders_src["lines_quarantined"]
    tables: dict[str, dict[str, Any]] = result.report["tables"]  # type: ignore[assignment]
    orders_rep = tables.get("orders", {})
    if "net_amount_lines" in orders_src and "net_amount_in" in orders_rep:
        lines, orders = float(orders_src["net_amount_lines"]), float(orders_rep["net_amount_in"])
        if abs(lines - orders) > 0.01:
            from custml.quality.validate import ReconciliationError

            raise ReconciliationError(
                f"orders: lines sum to {lines:,.2f} but the orders built to {orders:,.2f}"
            )


def run_clean(
    raw_dir: Path | str | None = None,
    *,
    as_of: Any = None,
    root: Path | str | None = None,
    allow_demo_key: bool = False,
    params: Any = None,
    raw: Mapping[str, pd.DataFrame] | None = None,
    write: bool = True,
    out: Path | str | None = None,
    private_dir: Path | str | None = None,
    mapping: Path | str | None = None,
) -> CleanResult:
    """Validate, clean, de-duplicate and pseudonymise the raw tables; write interim and private outputs.

    Writes ``<table>.parquet``, ``quarantine.parquet`` and ``quality_report.json`` to ``out`` (default
    ``data/interim``), and the files that link pseudonyms to people (id map, dedup pairs, golden records) to
    ``private_dir`` (default ``data/private``). ``custml clean`` calls it. ``mapping`` (a source mapping YAML,
    :mod:`custml.sources`) reads any export in ``raw_dir`` instead of contract-named files.
    """
    from custml.privacy import load_pseudonym_key
    from custml.quality import clean_tables

    paths = _paths(root)
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw
    sources = None
    if raw is not None:
        tables = dict(raw)
    else:
        tables, sources = read_inputs(raw_dir, mapping)
    as_of = _day(as_of) if as_of is not None else default_as_of(raw_dir, tables.get("orders"))
    key = load_pseudonym_key(paths, allow_demo_key=allow_demo_key)
    result = clean_tables(tables, as_of, key, params)
    _attach_sources(result, sources)
    if write:
        out_dir = Path(out) if out is not None else paths.interim
        private = Path(private_dir) if private_dir is not None else paths.private
        for name, table in result.tables.items():
            write_table(table, out_dir / f"{name}.parquet")
        write_table(result.quarantine, out_dir / "quarantine.parquet")
        write_json(result.report, out_dir / "quality_report.json")
        if result.report["mode"] == "raw":
            write_table(result.id_map, private / "id_map.parquet")
            write_table(result.golden_customers, private / "customers_golden.parquet")
            if len(result.dedup_pairs):
                write_table(result.dedup_pairs, private / "dedup_pairs.parquet")
    return result


def read_clean(root: Path | str | None = None) -> dict[str, pd.DataFrame]:
    """The clean tables of ``data/interim`` (customers and orders required)."""
    return read_tables(_paths(root).interim, RAW_REQUIRED, RAW_OPTIONAL)


def run_features(
    as_of: Any,
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    engine: Engine = "duckdb",
    write: bool = True,
) -> pd.DataFrame:
    """Features of every customer as of ``as_of`` from the clean tables; written to ``data/processed``.

    DuckDB runs on one thread here (:func:`_pipeline_features`): its parallel aggregation adds floats in a
    run-dependent order (features then differ by ~1e-14 between runs), and scores built from these features
    must be byte-identical on a re-run.
    """
    from custml.features import build_features

    paths = _paths(root)
    tables = tables if tables is not None else read_clean(root)
    as_of = _day(as_of)
    features = build_features(_feature_inputs(tables), as_of, engine=engine, params=_pipeline_features())
    if write:
        write_table(features, paths.processed / f"features_{_stamp(as_of)}.parquet")
    return features


def _feature_inputs(tables: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tables.items() if k in {"customers", "orders", "interactions"}}


def _n_rows(table: Any) -> int:
    """Rows of a table given as a DataFrame, an Arrow table or a parquet path."""
    if isinstance(table, str | Path):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(table).metadata.num_rows)
    return len(table)


# --------------------------------------------------------------------------------------------------------
# segment
# --------------------------------------------------------------------------------------------------------


def run_segment(
    as_of: Any,
    *,
    root: Path | str | None = None,
    features: pd.DataFrame | None = None,
    params: SegmentationRunParams | None = None,
    track: bool = True,
) -> SegmentationResult:
    """Rule-based segments and clusters as of ``as_of``; saves the fitted clusterer for scoring.

    Writes ``data/processed/segments_<as_of>.parquet`` and ``models/segmentation.joblib`` (the fitted
    :class:`custml.segment.CustomerClusterer`, the cluster names and the parameters), and logs the run to
    MLflow when ``track``.
    """
    import joblib

    from custml.segment.workflow import SegmentationRunParams, segment_customers

    paths = _paths(root)
    as_of = _day(as_of)
    params = params or SegmentationRunParams()
    if features is None:
        path = paths.processed / f"features_{_stamp(as_of)}.parquet"
        features = read_table(path) if path.is_file() else run_features(as_of, root=root)
    result = segment_customers(features, params)
    write_table(result.segments, paths.processed / f"segments_{_stamp(as_of)}.parquet")
    if result.clusterer is not None:
        bundle = {
            "clusterer": result.clusterer,
            "cluster_names": {int(k): str(v) for k, v in result.cluster_names.items()},
            "params": params.model_dump(mode="json"),
            "as_of": as_of.isoformat(),
        }
        target = paths.models / SEGMENTATION_FILE
        atomic_write(target, lambda tmp: joblib.dump(bundle, tmp))
        if track and result.profiles is not None and result.k_curve is not None:
            from custml import tracking

            _configure_tracking(paths)
            try:
                tracking.log_segmentation_run(
                    result.params(params), result.k_curve, result.profiles, result.clusterer, result.metrics
                )
            except Exception as exc:  # the run log is a record, not an input of later steps
                logger.warning("segmentation run not logged to MLflow: %s", str(exc).splitlines()[0])
    return result


def _load_segmentation(paths: ProjectPaths) -> dict[str, Any] | None:
    import joblib

    path = paths.models / SEGMENTATION_FILE
    if not path.is_file():
        return None
    try:
        return joblib.load(path)
    except Exception as exc:  # a truncated or incompatible file must not stop scoring
        logger.warning("cannot load %s (%s): clusters are left empty", path, exc)
        return None


def _segments_and_clusters(
    features: pd.DataFrame, segmentation: dict[str, Any] | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rule-based segments of the scored population, and cluster names from the saved clusterer."""
    from custml.segment.rules import SegmentParams, assign_segments, has_orders
    from custml.segment.workflow import PROSPECT_CLUSTER_NAME, SegmentationRunParams

    run_params = (
        SegmentationRunParams.model_validate(segmentation["params"])
        if segmentation
        else SegmentationRunParams()
    )
    rules: SegmentParams = run_params.rules
    segments = assign_segments(features, rules)
    if segmentation is None:
        return segments, None
    buyers = has_orders(features.reset_index(drop=True), rules.rfm).to_numpy()
    names = np.full(len(features), PROSPECT_CLUSTER_NAME, dtype=object)
    if buyers.any():
        labels = segmentation["clusterer"].predict(features.reset_index(drop=True).loc[buyers])
        lookup = segmentation["cluster_names"]
        names[buyers] = [lookup.get(int(c), f"cluster {int(c)}") for c in labels]
    clusters = pd.DataFrame({"customer_id": features["customer_id"].to_numpy(), "cluster_name": names})
    return segments, clusters


# --------------------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------------------


@dataclass
class TrainOutcome:
    """One training step: the run, the gate decision and the pure training result."""

    task: str
    run_id: str
    decision: dict[str, Any]
    result: Any
    seconds: float


def run_train(
    task: Literal["churn", "repurchase"],
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    data_end: Any = None,
    params: Any = None,
    engine: Engine = "duckdb",
    oracle: pd.DataFrame | None = None,
    truth_customers: pd.DataFrame | None = None,
    id_map: pd.DataFrame | None = None,
    log: bool = True,
    register: bool = True,
    run_name: str | None = None,
    experiment: str | None = None,
    tags: Mapping[str, str] | None = None,
    config_path: Path | str | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> TrainOutcome:
    """Build the stacked training set, train, log to MLflow, register and gate (champion/challenger).

    This is the one training path: ``custml train``, the demo and the experiment runner all call it. The
    cut-offs follow :meth:`custml.models.params.TrainParams.cutoff_plan`: the test cut-off is the last one
    whose label window ends by ``data_end``, and none comes before the first order + ``min_history_days``
    (a shrunk plan's note is in ``result.data_description["cutoff_plan_note"]``). The logged run carries the drift reference
    (:func:`custml.scoring.drift.drift_reference` of the training rows' features) as ``drift_reference.json``.
    The gate scores the new version and the current champion on the same holdout (the test cut-off).

    Parameters
    ----------
    oracle, id_map : pandas.DataFrame, optional
        Synthetic data only: true probabilities per raw customer and cut-off
        (:func:`custml.synth.oracle_probabilities` with a ``cutoff`` column) and the cleaner's id map, to
        evaluate the model against the truth.
    truth_customers : pandas.DataFrame, optional
        Synthetic data only, instead of ``oracle``: the world's ``truth/customers``; the oracle is computed at
        the test cut-off.
    log, register : bool
        ``log=False`` only trains (no MLflow); ``register=False`` logs the run without registering or gating.
    run_name, experiment, tags, config_path, extra_params : optional
        Passed to :func:`custml.tracking.log_training_run`.
    """
    from custml import tracking
    from custml.features import build_training_set, join_oracle
    from custml.models.params import TrainParams
    from custml.models.train import ORACLE_COLUMN, train_model
    from custml.scoring.drift import drift_reference

    t0 = time.perf_counter()
    tables = tables if tables is not None else read_clean(root)
    params = params or TrainParams(task=task)
    if params.task != task:
        raise ConfigError(f"run_train: task {task!r} but params.task is {params.task!r}")
    orders = tables["orders"]
    end = _day(data_end) if data_end is not None else _day(orders["order_ts"].max())
    test_cutoff = (end - pd.Timedelta(days=params.horizon)).normalize()
    # No cut-off before the data has min_history_days of history: the plan shrinks (and says so) or fails.
    plan = params.cutoff_plan(test_cutoff, data_start=_day(orders["order_ts"].min()))
    training = build_training_set(
        _feature_inputs(tables),
        plan.all,
        task,
        horizon_days=params.horizon,
        data_end=end,
        engine=engine,
        params=_pipeline_features(),
    )
    if oracle is None and truth_customers is not None:
        from custml.synth import oracle_probabilities

        oracle = oracle_probabilities(truth_customers, test_cutoff).assign(cutoff=test_cutoff)
    if oracle is not None:
        column = "p_no_purchase_90d" if task == "churn" else "p_purchase_30d"
        joined = join_oracle(training, oracle[["customer_id", "cutoff", column]], id_map)
        training = joined.rename(columns={column: ORACLE_COLUMN})
    result = train_model(training, task, params)
    if plan.note:
        result.data_description["cutoff_plan_note"] = plan.note
    if not log:
        return TrainOutcome(task, "", {}, result, round(time.perf_counter() - t0, 3))
    paths = _paths(root)
    _configure_tracking(paths)
    run_id = tracking.log_training_run(
        result,
        {"data_end": end.isoformat(), **(extra_params or {})},
        experiment=experiment,
        run_name=run_name,
        tags=tags,
        config_path=config_path,
    )
    reference = drift_reference(_drift_sample(training, params.seed))
    if task == "churn":  # the score distribution at training, for custml.monitoring (run_monitor)
        from custml.monitoring import score_reference

        reference["score"] = score_reference(result.test_predictions["model"])
    _store_drift_reference(run_id, reference, paths)
    decision: dict[str, Any] = {}
    if register:
        decision = tracking.register_and_gate(
            run_id,
            metric=params.gate.metric,
            margin=params.gate.margin,
            holdout=result.test_features,
            holdout_labels=result.test_predictions["label"],
        )
    return TrainOutcome(task, run_id, decision, result, round(time.perf_counter() - t0, 3))


@dataclass
class SnapshotOutcome:
    """What :func:`run_train_snapshot` did: cross-validated figures, the fitted estimator, run and gate."""

    task: str
    run_id: str
    decision: dict[str, Any]
    cv: pd.DataFrame
    summary: dict[str, float]
    estimator: Any
    seconds: float


def run_train_snapshot(
    table: pd.DataFrame,
    label: str,
    *,
    task: str = "churn",
    id_column: str | None = None,
    root: Path | str | None = None,
    n_splits: int = 5,
    seed: int = 0,
    log: bool = True,
    register: bool = True,
    source: str | None = None,
    run_name: str | None = None,
) -> SnapshotOutcome:
    """Train on a labelled snapshot table (one row per customer): k-fold evaluation, fit, log, register, gate.

    :class:`custml.models.CustomerClassifier` and a logistic baseline are compared by stratified ``n_splits``-fold
    ROC AUC, PR AUC and ECE (:func:`custml.models.estimator.cross_validate_snapshot`); the classifier is then
    fitted on every row, logged with :func:`custml.tracking.log_estimator_run` and registered as
    ``custml-<task>-snapshot`` through the same champion gate as the transaction path (logged ROC AUC, compared
    only with a champion evaluated on the same table).
    """
    from custml import tracking
    from custml.models.estimator import (
        CustomerClassifier,
        cross_validate_snapshot,
        prepare_snapshot,
        summarise_cv,
    )
    from custml.models.train import table_digest

    t0 = time.perf_counter()
    X, y = prepare_snapshot(table, label, id_column)
    cv = cross_validate_snapshot(
        X, y, CustomerClassifier(random_state=seed), n_splits=n_splits, random_state=seed
    )
    summary = summarise_cv(cv)
    estimator = CustomerClassifier(random_state=seed).fit(X, y)
    if not log:
        return SnapshotOutcome(task, "", {}, cv, summary, estimator, round(time.perf_counter() - t0, 3))
    paths = _paths(root)
    _configure_tracking(paths)
    run_id = tracking.log_estimator_run(
        estimator,
        X,
        {**summary, "champion_is_stack": float(estimator.champion_ == "stack")},
        task=task,
        holdout_digest=table_digest(pd.concat([X, y], axis=1)),
        params={"label": label, "id_column": id_column or "", "rows": len(X), "source": source or ""},
        tables={"cv_folds": cv},
        run_name=run_name,
        tags={"custml.champion_candidate": estimator.champion_},
    )
    decision: dict[str, Any] = {}
    if register:
        decision = tracking.register_and_gate(run_id, model_name=f"custml-{task}-snapshot", metric="roc_auc")
    return SnapshotOutcome(task, run_id, decision, cv, summary, estimator, round(time.perf_counter() - t0, 3))


def _drift_sample(training: pd.DataFrame, seed: int) -> pd.DataFrame:
    from custml.models.predictor import NON_FEATURE_COLUMNS

    cols = [c for c in training.columns if c not in NON_FEATURE_COLUMNS and not str(c).startswith("oracle")]
    frame = training[cols]
    if len(frame) > _DRIFT_SAMPLE:
        frame = frame.sample(n=_DRIFT_SAMPLE, random_state=seed)
    return frame


def _local_reference_path(paths: ProjectPaths, run_id: str) -> Path:
    return paths.models / "drift_reference" / f"{run_id}.json"


def _store_drift_reference(run_id: str, reference: dict[str, Any], paths: ProjectPaths) -> None:
    """Log the reference with the run (MLflow artefact) and keep a local copy keyed by run id."""
    from custml import tracking

    write_json(reference, _local_reference_path(paths, run_id))
    tracking.log_run_dict(run_id, reference, DRIFT_REFERENCE_ARTIFACT)


def _load_drift_reference(run_id: str | None, uri: str, paths: ProjectPaths) -> dict[str, Any] | None:
    from custml import tracking

    if run_id:
        try:
            return tracking.load_run_dict(run_id, DRIFT_REFERENCE_ARTIFACT)
        except CustmlError as exc:
            logger.info("no drift reference logged with run %s (%s)", run_id, exc)
    if run_id:
        local = _local_reference_path(paths, run_id)
        if local.is_file():
            return read_json(local)
    logger.warning("no drift reference for model %s: drift is not measured", uri)
    return None


# --------------------------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------------------------


def _uri_parts(uri: str) -> tuple[str, str]:
    """(name, version) for display when the registry cannot tell: ``runs:/<id>/model`` -> (model, <id>)."""
    tail = uri.split(":/", 1)[-1].strip("/")
    return tail.split("/")[-1] or uri, ""


def load_scoring_model(uri: str) -> tuple[ScoringModel, Any, dict[str, Any]]:
    """Load a model for scoring: the :class:`ScoringModel`, the underlying customer model, its registry info.

    ``info`` has ``name``, ``version``, ``run_id`` and the test metrics, calibration and drivers when the URI
    is a registry URI (``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``); for other URIs (``runs:/...``, a
    path) only ``name``/``version``/``run_id`` derived from the URI.
    """
    from custml import tracking
    from custml.models.explain import reason_codes
    from custml.scoring.score import ScoringModel

    model = tracking.load_customer_model(uri)
    if uri.startswith("models:/"):
        info = tracking.get_model_version_info(uri)
    else:
        name, version = _uri_parts(uri)
        run_id = uri.split("/")[1] if uri.startswith("runs:/") else None
        info = {"name": name, "version": version, "run_id": run_id, "metrics": {}}
    info.setdefault("horizon_days", int(model.horizon_days))

    def explain(frame: pd.DataFrame, direction: str, top_k: int) -> pd.DataFrame:
        return reason_codes(model, frame, top_k=top_k, direction=direction)  # type: ignore[arg-type]

    handle = ScoringModel(
        name=str(info["name"]), version=str(info["version"]), predict=model.predict_proba, explain=explain
    )
    return handle, model, info


@dataclass
class ScoreRun:
    """What :func:`run_score` produced."""

    scores: pd.DataFrame
    meta: dict[str, Any]
    drift: pd.DataFrame
    out: Path
    meta_path: Path
    csv_path: Path | None
    not_scored: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def drifted(self) -> pd.DataFrame:
        """Rows of the drift table with status ``drift``."""
        return self.drift[self.drift["status"] == "drift"] if len(self.drift) else self.drift


def scores_path_for(as_of: Any, root: Path | str | None = None) -> Path:
    """Default scores file for an as-of date: ``data/scores/scores_<as_of>.parquet``."""
    return _paths(root).scores / f"scores_{_stamp(_day(as_of))}.parquet"


def _model_population(features: pd.DataFrame, task: str) -> pd.DataFrame:
    """The customers a model was trained on, at scoring time: churn = active in the last 365 days (an order),
    repurchase = at least one order (see :func:`custml.features.build_training_set`)."""
    if task == "churn":
        if "orders_365d" in features.columns:
            mask = pd.to_numeric(features["orders_365d"], errors="coerce") > 0
        else:
            mask = pd.to_numeric(features["recency_days"], errors="coerce") <= 365
    else:
        mask = pd.to_numeric(features["frequency_orders"], errors="coerce") > 0
    return features.loc[mask.fillna(False).to_numpy()]


def _drift_table(
    references: Mapping[str, dict[str, Any] | None], features: pd.DataFrame, models: Mapping[str, Any]
) -> pd.DataFrame:
    """PSI of each model's input features, on the population that model was trained on, worst first.

    Comparing like with like matters: the churn model is trained on active customers only, so the scored
    population as a whole (churned customers included) would always look drifted.
    """
    from custml.scoring.drift import feature_drift

    parts = []
    for task, reference in references.items():
        if reference is None:
            continue
        columns = set(models[task].input_columns)
        ref = {**reference, "features": {k: v for k, v in reference["features"].items() if k in columns}}
        table = feature_drift(ref, _model_population(features, task))
        table.insert(0, "model", task)
        parts.append(table)
    if not parts:
        return pd.DataFrame({"model": [], "feature": [], "psi": [], "status": []})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(
        ["psi", "model", "feature"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def _predict_spark(
    features: pd.DataFrame, uris: Mapping[str, str], models: Mapping[str, Any]
) -> pd.DataFrame:
    """Probabilities computed by Spark over the feature table, through MLflow's ``spark_udf`` of each model."""
    from pyspark.sql import functions as F

    from custml import tracking
    from custml.features import spark_session

    spark = spark_session("custml-score")
    sdf = _spark_frame(spark, features)

    cols = {}
    for task, uri in uris.items():
        udf = tracking.spark_udf(spark, uri)
        input_cols = list(models[task].input_columns)
        cols[f"{task}_probability"] = udf(*[F.col(c) for c in input_cols if c in sdf.columns])
    out = sdf.select("customer_id", *[v.alias(k) for k, v in cols.items()])
    return out.toPandas()


def _spark_frame(spark: Any, features: pd.DataFrame) -> Any:
    frame = features.drop(columns=[c for c in ("cutoff",) if c in features.columns]).copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
            frame[col].dtype
        ):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return spark.createDataFrame(frame)


def _quality_meta(report: Mapping[str, Any], not_yet_customers: int = 0) -> dict[str, Any]:
    """The quality block of the scores' meta; customers who signed up after the as-of date are not a quality
    loss, so they are counted apart (``customers_not_yet``) instead of as quarantined."""
    by_table = dict(report.get("quarantined_by_table", {}))
    by_reason = dict(report.get("quarantined_by_reason", {}))
    if not_yet_customers:
        by_table["customers"] = int(by_table.get("customers", 0)) - not_yet_customers
        by_reason["future_timestamp"] = int(by_reason.get("future_timestamp", 0)) - not_yet_customers
        by_reason = {k: v for k, v in by_reason.items() if v}
    return {
        "quarantined_by_table": by_table,
        "quarantined_by_reason": by_reason,
        "duplicates_merged": int(report.get("duplicates_merged", 0)),
        "rows_in": int(report.get("rows_in", 0)),
        "rows_quarantined": int(report.get("rows_quarantined", 0)) - not_yet_customers,
        "customers_not_yet": not_yet_customers,
    }


def _model_meta(info: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("name", "version", "run_id", "metrics", "calibration", "top_drivers", "gate", "horizon_days")
    return {k: info[k] for k in keys if k in info}


def _not_yet_customers(quarantine: pd.DataFrame) -> int:
    """Customer records quarantined only because they signed up (or first ordered) after the as-of date."""
    if not len(quarantine):
        return 0
    q = quarantine
    mask = (q["table"] == "customers") & (q["reason"] == "future_timestamp")
    mask &= q["detail"].astype("str").str.startswith("signup_date:")
    return int(mask.sum())


def _uplift_and_alive(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    tables: Mapping[str, Any],
    params: UpliftParams | None,
    enabled: bool,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Scores with ``p_alive`` and the uplift columns; the model's summary (or why there is none) for meta."""
    from custml.scoring.alive import probability_alive
    from custml.uplift import UpliftParams, fit_from_tables
    from custml.uplift.scoring import add_uplift_columns

    params = params or UpliftParams()
    model = None
    summary: dict[str, Any] = {"status": "disabled"}
    campaigns = tables.get("campaigns")
    if enabled and (campaigns is None or _n_rows(campaigns) == 0):
        summary = {"status": "no campaign data: rule-based actions"}
    elif enabled:
        try:
            frames = {k: (v.to_pandas() if hasattr(v, "to_pandas") else v) for k, v in tables.items()}
            model = fit_from_tables(frames, params, feature_params=_pipeline_features())
        except CustmlError as exc:  # documented fallback: the rule table, and meta says why
            logger.warning("uplift model not fitted (%s): rule-based actions", exc)
            summary = {"status": f"not fitted: {exc}"}
    if model is not None:
        summary = {"status": "fitted", **model.summary(), "budget": params.budget}
    out = add_uplift_columns(scores, features, model, budget=params.budget)
    alive = probability_alive(features).set_index(features["customer_id"].astype(str))["p_alive"]
    out["p_alive"] = alive.reindex(out["customer_id"].astype(str)).to_numpy()
    return out, summary


def run_score(
    data: Path | str | None = None,
    as_of: Any = None,
    out: Path | str | None = None,
    *,
    churn_model: str = DEFAULT_CHURN_MODEL,
    repurchase_model: str = DEFAULT_REPURCHASE_MODEL,
    engine: Engine = "duckdb",
    csv: bool = False,
    scored_at: Any = None,
    params: ScoreParams | None = None,
    fail_on_drift: bool = False,
    root: Path | str | None = None,
    clean: CleanResult | None = None,
    raw_rows: int | None = None,
    allow_demo_key: bool = False,
    progress: bool = False,
    say: Progress | None = None,
    mapping: Path | str | None = None,
    uplift: UpliftParams | None = None,
    campaign_uplift: bool = True,
) -> ScoreRun:
    """Score every customer of a raw data folder as of a date (``custml score``).

    Steps: read and clean the raw tables with the quality stage (or take ``clean``, already done), build the
    features as of ``as_of`` (DuckDB or Spark), load both models (registry aliases by default), compute the
    drift of the model features against the training reference, segments and cluster names, the expected
    12-month value (BTYD fitted at ``as_of``), probabilities, actions and reasons; then write the scores
    atomically (parquet, optional CSV) and the ``.meta.json`` sidecar. With a randomised campaign in the data
    (and ``campaign_uplift``), an uplift model learnt from it adds ``uplift``, ``expected_profit`` and
    ``chosen_action`` (:func:`custml.uplift.scoring.add_uplift_columns`; without one ``chosen_action`` is the
    rule-based ``recommended_action``), and BG/NBD adds ``p_alive``.

    Rows in = rows scored + rows not scored, where rows in are the raw customer records and rows not scored
    are those quarantined by the quality stage, merged into another record as duplicates, not yet a customer
    (signed up, or with orders only: first ordered, after the as-of date), or without features at the as-of
    date; ``meta["rows_not_scored"]`` gives the split. ``mapping`` reads any export through a source mapping
    (:mod:`custml.sources`); without a customers table, customers are derived from orders.

    Raises
    ------
    DriftError
        With ``fail_on_drift``, after writing the scores, if any model feature has PSI >= the drift threshold.
    """
    from custml.scoring.score import (
        ScoreParams,
        expected_value_12m,
        score_customers,
        scores_meta,
    )

    paths = _paths(root)
    timings: dict[str, float] = {}
    params = params or ScoreParams()
    data_dir = Path(data) if data is not None else paths.raw
    raw_inputs: tuple[dict[str, pd.DataFrame], dict[str, Any] | None] | None = None
    if as_of is None and clean is None:
        raw_inputs = read_inputs(data_dir, mapping)
        as_of = default_as_of(data_dir, raw_inputs[0].get("orders"))
    as_of = _day(as_of) if as_of is not None else default_as_of(data_dir)
    out_path = Path(out) if out is not None else scores_path_for(as_of, root)
    scored_at = (
        _day(scored_at) if scored_at is not None else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    )

    # Models first: a wrong URI should fail before minutes of cleaning.
    _say(say, f"loading {churn_model} and {repurchase_model}")
    with _timed(timings, "load_models_s"):
        _configure_tracking(paths)
        churn, churn_cm, churn_info = load_scoring_model(churn_model)
        repurchase, rep_cm, rep_info = load_scoring_model(repurchase_model)
    _say(say, f"cleaning the input tables of {data_dir}" if clean is None else "using the cleaned tables")
    with _timed(timings, "clean_s"):
        sources = None
        if clean is None:
            raw, sources = raw_inputs if raw_inputs is not None else read_inputs(data_dir, mapping)
            raw_rows = len(raw["customers"]) if "customers" in raw else None
            clean = run_clean(
                data_dir, as_of=as_of, root=root, allow_demo_key=allow_demo_key, raw=raw, write=False
            )
            _attach_sources(clean, sources)
        report = clean.report
        rows_in = int(raw_rows if raw_rows is not None else report["tables"]["customers"]["rows_in"])  # type: ignore[index]
    _say(say, f"features as of {as_of.date()} ({engine})")
    with _timed(timings, "features_s"):
        features = run_features(as_of, root=root, tables=clean.tables, engine=engine, write=False)
    _say(say, "drift, segments, clusters and expected value")
    with _timed(timings, "drift_s"):
        references = {
            "churn": _load_drift_reference(churn_info.get("run_id"), churn_model, paths),
            "repurchase": _load_drift_reference(rep_info.get("run_id"), repurchase_model, paths),
        }
        drift = _drift_table(references, features, {"churn": churn_cm, "repurchase": rep_cm})
    with _timed(timings, "segments_s"):
        segments, clusters = _segments_and_clusters(features, _load_segmentation(paths))
    with _timed(timings, "clv_s"):
        clv = expected_value_12m(features)
    probabilities = None
    if engine == "spark":
        with _timed(timings, "spark_predict_s"):
            probs = _predict_spark(
                features,
                {"churn": churn_model, "repurchase": repurchase_model},
                {"churn": churn_cm, "repurchase": rep_cm},
            )
            probabilities = probs
    with _timed(timings, "score_s"):
        scores = score_customers(
            features,
            churn,
            repurchase,
            segments,
            clv,
            clusters,
            as_of=as_of,
            scored_at=scored_at,
            params=params,
            probabilities=probabilities,
            progress=progress,
        )
    with _timed(timings, "uplift_s"):
        scores, uplift_meta = _uplift_and_alive(scores, features, clean.tables, uplift, campaign_uplift)

    customers_report = report["tables"]["customers"]  # type: ignore[index]
    not_yet = _not_yet_customers(clean.quarantine)
    quarantined = int(customers_report["rows_quarantined"]) - not_yet
    merged = int(report.get("duplicates_merged", 0))
    n_clean = _n_rows(clean.tables["customers"])
    not_scored = {
        "quarantined_by_quality": quarantined,
        "not_yet_a_customer": not_yet,
        "merged_duplicates": merged,
        "no_features_at_as_of": n_clean - len(scores),
    }
    unexplained = rows_in - len(scores) - sum(not_scored.values())
    if unexplained:
        not_scored["other"] = unexplained
        logger.warning("scoring: %d input rows neither scored nor accounted for", unexplained)
    meta = scores_meta(
        scores,
        as_of=as_of,
        scored_at=scored_at,
        rows_in=rows_in,
        rows_quarantined=rows_in - len(scores),
        quality=_quality_meta(report, not_yet),
        models={"churn": _model_meta(churn_info), "repurchase": _model_meta(rep_info)},
        drift=drift,
        extra={
            "rows_not_scored": not_scored,
            "engine": engine,
            "reason_policy": params.reasons,
            "actions": params.actions.model_dump(mode="json"),
            "currency": (sources or {}).get("currency") or "USD",
            "uplift": uplift_meta,
        },
    )
    _say(say, f"writing {out_path}")
    with _timed(timings, "write_s"):
        write_table(scores, out_path, csv_copy=csv)
        meta_path = write_json(meta, out_path.with_suffix(".meta.json"))
    run = ScoreRun(
        scores=scores,
        meta=meta,
        drift=drift,
        out=out_path,
        meta_path=meta_path,
        csv_path=out_path.with_suffix(".csv") if csv else None,
        not_scored=not_scored,
        timings=timings,
    )
    if fail_on_drift and len(run.drifted):
        raise DriftError(
            f"{len(run.drifted)} model features drifted (PSI >= drift threshold): "
            + ", ".join(f"{r.feature} ({r.psi:.2f})" for r in run.drifted.itertuples())
        )
    return run


# --------------------------------------------------------------------------------------------------------
# monitor
# --------------------------------------------------------------------------------------------------------


@dataclass
class MonitorRun:
    """What :func:`run_monitor` produced: the result, the files it read and wrote, the MLflow runs."""

    result: Any  # custml.monitoring.MonitoringResult
    scores_files: list[Path]
    written: dict[str, Path]
    run_ids: dict[str, str]
    now: pd.Timestamp
    timings: dict[str, float] = field(default_factory=dict)


# What monitoring reads of a scores file (other columns, e.g. of newer scoring versions, are not read).
_MONITOR_COLUMNS = (
    "customer_id",
    "as_of",
    "churn_probability",
    "churn_model_name",
    "churn_model_version",
    "rfm_segment",
    "value_tier",
    "activity_tier",
    "lifecycle_stage",
    "cluster_name",
    "recommended_action",
)


def _scores_files(scores: Path) -> list[Path]:
    if scores.is_file():
        return [scores]
    if not scores.is_dir():
        raise DataFileError(f"scores: no such file or folder: {scores}")
    files = sorted(scores.glob("scores_*.parquet")) or sorted(scores.glob("*.parquet"))
    if not files:
        raise DataFileError(f"scores: no scores_*.parquet file in {scores}")
    return files


def _first(frame: pd.DataFrame, column: str) -> Any:
    if column not in frame.columns or len(frame) == 0:
        return None
    values = frame[column].dropna()
    return values.iloc[0] if len(values) else None


def _promised(name: str, version: str, churn_meta: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Test metrics and run id of a model version from the registry, else from the scores' sidecar."""
    from custml import tracking

    try:
        info = tracking.get_model_version_info(f"models:/{name}/{version}")
        return dict(info.get("metrics") or {}), info.get("run_id")
    except CustmlError as exc:
        logger.info(
            "model %s v%s not in the registry (%s): promised metrics from the sidecar", name, version, exc
        )
    return dict(churn_meta.get("metrics") or {}), churn_meta.get("run_id")


def _meta_input_drift(meta: Mapping[str, Any]) -> pd.DataFrame | None:
    """PSI-only input drift of the churn model from a scores sidecar (no test: no counts are kept there)."""
    rows = [r for r in meta.get("drift") or [] if r.get("model", "churn") == "churn"]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    psi = pd.to_numeric(frame["psi"], errors="coerce").fillna(float("inf"))
    return pd.DataFrame(
        {
            "feature": frame["feature"].astype(str),
            "kind": None,
            "psi": psi,
            "status": frame["status"].astype(str),
            "test": "none (scores sidecar)",
            "statistic": np.nan,
            "p_value": np.nan,
            "drifted": (frame["status"] == "drift").to_numpy(),
        }
    )


def run_monitor(
    scores: Path | str | None = None,
    data: Path | str | None = None,
    *,
    now: Any = None,
    root: Path | str | None = None,
    thresholds: Any = None,
    input_drift: bool = True,
    log: bool = True,
    write: bool = True,
    out: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    allow_demo_key: bool = False,
    say: Progress | None = None,
) -> MonitorRun:
    """Monitor every scores file of a folder against the orders known now (``custml monitor``).

    Steps: read the scores files (``scores_*.parquet``) and their sidecars; clean the data folder's tables with
    the quality stage (the pseudonyms then match the scores; ``tables`` skips this) and keep the orders before
    ``now`` (default: the day after the data ends); for each churn model version, read what it promised (test
    metrics logged in MLflow) and its training reference (feature and score distributions); for each file
    dated before ``now``, the input drift at its as-of date (features rebuilt from the tables with
    ``input_drift``, else the PSI its sidecar recorded at scoring time); then
    :func:`custml.monitoring.monitor_scores`. Writes ``health``, ``groups`` and ``drift`` tables and
    ``verdict.json`` to ``out`` (default ``data/monitoring``) and logs the health history to MLflow against
    each model version (:func:`custml.tracking.log_monitoring_run`).
    """
    from custml import tracking
    from custml.monitoring import (
        HealthThresholds,
        OrderEvents,
        ScoresSnapshot,
        distribution_drift,
        monitor_scores,
    )

    paths = _paths(root)
    timings: dict[str, float] = {}
    th = thresholds or HealthThresholds()
    files = _scores_files(Path(scores) if scores is not None else paths.scores)
    with _timed(timings, "data_s"):
        if tables is None:
            if data is not None:
                data_dir = Path(data)
                now_ts = _day(now) if now is not None else default_as_of(data_dir)
                _say(say, f"cleaning the tables of {data_dir} as of {now_ts.date()}")
                tables = run_clean(
                    data_dir, as_of=now_ts, root=root, allow_demo_key=allow_demo_key, write=False
                ).tables
            else:
                tables = read_clean(root)
        orders = tables["orders"]
        events = OrderEvents.from_orders(orders, end=_day(now) if now is not None else None)
    now_ts = events.end
    _say(say, f"{len(files)} scores files; orders known until {now_ts.date()}")
    _configure_tracking(paths)  # promised metrics and references come from the registry
    snapshots = []
    models: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any] | None]] = {}
    with _timed(timings, "read_s"):
        for path in files:
            frame = read_table(path, f"scores {path.name}", columns=_MONITOR_COLUMNS)
            meta_path = path.with_suffix(".meta.json")
            meta = read_json(meta_path) if meta_path.is_file() else {}
            as_of_value = meta.get("as_of") or _first(frame, "as_of")
            if as_of_value is None:
                raise DataFileError(f"scores {path.name}: no as_of column and no .meta.json sidecar")
            as_of = _day(as_of_value)
            if as_of >= now_ts:
                logger.info("%s: as of %s, not before %s: skipped", path.name, as_of.date(), now_ts.date())
                continue
            churn_meta = (meta.get("models") or {}).get("churn") or {}
            name = str(_first(frame, "churn_model_name") or churn_meta.get("name") or "unknown")
            version = str(_first(frame, "churn_model_version") or churn_meta.get("version") or "")
            if (name, version) not in models:
                promised, run_id = _promised(name, version, churn_meta)
                reference = (
                    _load_drift_reference(run_id, f"models:/{name}/{version}", paths) if run_id else None
                )
                models[(name, version)] = (promised, reference)
            promised, reference = models[(name, version)]
            snapshots.append(
                (
                    path,
                    frame,
                    meta,
                    as_of,
                    name,
                    version,
                    int(churn_meta.get("horizon_days") or 90),
                    promised,
                    reference,
                )
            )
    with _timed(timings, "input_drift_s"):
        prepared = []
        for path, frame, meta, as_of, name, version, horizon, promised, reference in snapshots:
            drift = None
            if input_drift and reference is not None and reference.get("features"):
                _say(say, f"input drift as of {as_of.date()}")
                features = run_features(as_of, root=root, tables=tables, write=False)
                drift = distribution_drift(
                    reference["features"],
                    _model_population(features, "churn"),
                    n_reference=int(reference.get("n_rows") or 1),
                    thresholds=th.drift,
                    alpha=th.alpha,
                )
            elif meta:
                drift = _meta_input_drift(meta)
            prepared.append(
                ScoresSnapshot(
                    scores=frame,
                    as_of=as_of,
                    model_name=name,
                    model_version=version,
                    horizon_days=horizon,
                    promised=promised,
                    score_reference=(reference or {}).get("score"),
                    input_drift=drift,
                    source=path.name,
                )
            )
    with _timed(timings, "monitor_s"):
        result = monitor_scores(prepared, events, th)
    written: dict[str, Path] = {}
    if write:
        folder = Path(out) if out is not None else paths.monitoring
        with _timed(timings, "write_s"):
            written["health"] = write_table(result.health, folder / "health.parquet", csv_copy=True)
            written["groups"] = write_table(result.groups, folder / "groups.parquet")
            written["drift"] = write_table(_plain_drift(result.drift), folder / "drift.parquet")
            written["verdict"] = write_json(
                {
                    "verdict": result.verdict,
                    "reasons": list(result.reasons),
                    "now": now_ts.isoformat(),
                    "thresholds": th.model_dump(mode="json"),
                },
                folder / "verdict.json",
            )
    run_ids: dict[str, str] = {}
    if log:
        with _timed(timings, "log_s"):
            for (name, version), part in result.health.groupby(["model_name", "model_version"], sort=False):
                dates = set(part["as_of"])
                run_ids[f"{name}/{version}"] = tracking.log_monitoring_run(
                    str(name),
                    str(version),
                    part,
                    verdict=result.verdict,
                    reasons=result.reasons,
                    tables={
                        "monitoring/groups.csv": result.groups[result.groups["as_of"].isin(dates)],
                        "monitoring/drift.csv": result.drift[result.drift["as_of"].isin(dates)],
                    },
                )
    return MonitorRun(result, files, written, run_ids, now_ts, timings)


def _plain_drift(drift: pd.DataFrame) -> pd.DataFrame:
    """The drift table with plain column types for parquet (PSI inf kept, objects as strings)."""
    out = drift.copy()
    for col in ("feature", "kind", "status", "test", "source"):
        if col in out.columns:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    for col in ("psi", "statistic", "p_value"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


# --------------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------------


def run_report(
    scores: Path | str,
    *,
    out: Path | str | None = None,
    previous: Path | str | None = None,
    lang: str = "en",
    root: Path | str | None = None,
    health: Any = None,
) -> Path:
    """Render the management report of a scores file (and its ``.meta.json``) to ``reports/``; return the path.

    ``health`` (a :class:`custml.monitoring.MonitoringResult` from :func:`run_monitor`) adds the Model health
    section.
    """
    from custml.report import build_report_data, model_health, render_html

    paths = _paths(root)
    scores = Path(scores)
    frame = read_table(scores, "scores")
    meta_path = scores.with_suffix(".meta.json")
    meta = read_json(meta_path) if meta_path.is_file() else None
    prev = read_table(previous, "previous scores") if previous is not None else None
    section = model_health(health.health, health.verdict, health.reasons) if health is not None else None
    data = build_report_data(frame, meta, prev, health=section)
    html = render_html(data, lang=lang)
    suffix = scores.stem.removeprefix("scores_")
    target = Path(out) if out is not None else paths.reports / f"report_{suffix}.html"
    atomic_write(target, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    return target


# --------------------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    """Where the demo wrote its outputs, what it decided, and how long each step took."""

    root: Path
    raw_dir: Path
    as_of: pd.Timestamp
    scores_path: Path
    report_path: Path
    tracking_uri: str
    gate: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    timings: dict[str, float]

    @property
    def seconds(self) -> float:
        return float(sum(self.timings.values()))


def run_demo(
    n_customers: int = 50_000,
    seed: int = 0,
    root: Path | str | None = None,
    progress: bool = True,
    *,
    dirty: float = 0.02,
    locale: str = "en_US",
    n_train_cutoffs: int = 4,
    train_overrides: Mapping[str, Any] | None = None,
    segment_params: SegmentationRunParams | None = None,
    say: Progress | None = None,
) -> DemoResult:
    """The main job on embedded defaults: generate -> clean -> features -> segment -> train -> score -> report.

    Writes everything under ``root`` (default: the project root): a synthetic world of ``n_customers`` in
    ``data/raw``, clean tables, features, segments, both models in the MLflow registry (SQLite store unless
    ``$MLFLOW_TRACKING_URI`` says otherwise) with the champion gate, the scores as of the day after the data
    end, and the HTML report. ``say`` receives one line per step (the CLI prints them).

    ``train_overrides`` are extra :class:`custml.models.params.TrainParams` fields for both models and
    ``segment_params`` replaces the segmentation defaults (tests use both to run small and fast).
    """
    from custml.models.params import TrainParams
    from custml.scoring.score import scores_summary

    paths = _paths(root)
    uri = _configure_tracking(paths)
    timings: dict[str, float] = {}

    _say(say, f"1/7 generating a synthetic world of {n_customers:,} customers")
    with _timed(timings, "generate_s"):
        raw_dir = run_generate(n_customers, seed=seed, dirty=dirty, locale=locale, root=root)
    as_of = default_as_of(raw_dir)
    raw = read_raw(raw_dir)
    _say(say, f"2/7 cleaning: validation, quarantine, de-duplication, pseudonyms (as of {as_of.date()})")
    with _timed(timings, "clean_s"):
        clean = run_clean(raw_dir, as_of=as_of, root=root, allow_demo_key=True, raw=raw)
    _say(say, "3/7 features as of the scoring date")
    with _timed(timings, "features_s"):
        features = run_features(as_of, root=root, tables=clean.tables)
    _say(say, "4/7 segments and clusters")
    with _timed(timings, "segment_s"):
        run_segment(as_of, root=root, features=features, params=segment_params)
    gate: dict[str, dict[str, Any]] = {}
    oracle, id_map = _demo_oracle(raw_dir, clean, as_of)
    for i, task in enumerate(("churn", "repurchase")):
        _say(say, f"5/7 training the {task} model ({i + 1}/2) with registry and champion gate")
        with _timed(timings, f"train_{task}_s"):
            params = TrainParams.model_validate(
                {"n_train_cutoffs": n_train_cutoffs, "seed": seed, **(train_overrides or {}), "task": task}
            )
            outcome = run_train(
                task,
                root=root,
                tables=clean.tables,
                data_end=as_of,
                params=params,
                oracle=oracle,
                id_map=id_map,
            )
        gate[task] = outcome.decision
    _say(say, "6/7 scoring every customer")
    with _timed(timings, "score_s"):
        scored = run_score(
            raw_dir,
            as_of,
            root=root,
            clean=clean,
            raw_rows=len(raw["customers"]),
            progress=progress,
        )
    _say(say, "7/7 rendering the report")
    with _timed(timings, "report_s"):
        report = run_report(scored.out, root=root)
    return DemoResult(
        root=paths.root,
        raw_dir=raw_dir,
        as_of=as_of,
        scores_path=scored.out,
        report_path=report,
        tracking_uri=uri,
        gate=gate,
        summary={**scores_summary(scored.scores), "rows_not_scored": scored.not_scored},
        timings=timings,
    )


def _demo_oracle(
    raw_dir: Path, clean: CleanResult, as_of: pd.Timestamp
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """True probabilities at the test cut-offs of both tasks (synthetic world only), or (None, None)."""
    try:
        from custml.synth import oracle_probabilities, read_truth
    except ImportError:  # pragma: no cover - synth is part of the package
        return None, None
    if not (raw_dir / "truth").is_dir():
        return None, None
    try:
        truth = read_truth(raw_dir)
    except CustmlError as exc:
        logger.warning("cannot read the synthetic truth (%s): models are evaluated without the oracle", exc)
        return None, None
    from custml.models.params import DEFAULT_HORIZON_DAYS

    cutoffs = sorted({(as_of - pd.Timedelta(days=h)).normalize() for h in DEFAULT_HORIZON_DAYS.values()})
    parts = []
    for cut in cutoffs:
        o = oracle_probabilities(truth["customers"], cut)
        o["cutoff"] = cut
        parts.append(o)
    return pd.concat(parts, ignore_index=True), clean.id_map
