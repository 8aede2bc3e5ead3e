"""Step ``score``: every customer of a data folder scored as of a date -> ``data/scores/scores_<as_of>.parquet``.

The logic is in :mod:`custml.scoring` (scores, drift, row accounting) and :mod:`custml.tracking` (models and
their drift references); this module reads, calls and writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custml.config import ProjectPaths
from custml.contracts import ModelVersionInfo, ScoreMeta, UpliftModelInfo
from custml.errors import CustmlError, DriftError
from custml.io import write_table
from custml.pipeline._wiring import (
    Progress,
    as_day,
    configure_tracking,
    default_as_of,
    n_rows,
    project_paths,
    stamp,
    tell,
    timed,
)
from custml.pipeline.clean import attach_sources, read_inputs, run_clean
from custml.pipeline.features import run_features
from custml.pipeline.reports import SourcesInfo
from custml.pipeline.segment import load_segmentation, segments_and_clusters

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.pipeline.settings import ScoreSettings
    from custml.quality.pipeline import CleanResult
    from custml.scoring.drift import DriftResult
    from custml.scoring.score import ScoreParams, ScoringModel

__all__ = [
    "DEFAULT_CHURN_MODEL",
    "DEFAULT_REPURCHASE_MODEL",
    "DEFAULT_UPLIFT_MODEL",
    "DriftError",
    "ScoreRun",
    "data_start_of",
    "load_scoring_model",
    "run_score",
    "score_params",
    "scores_path_for",
]

logger = logging.getLogger(__name__)


def _default(field: str) -> str:
    from custml.pipeline.settings import ScoreSettings

    return str(ScoreSettings.model_fields[field].default)


#: The models ``custml score`` loads by default (the ``score`` settings' defaults).
DEFAULT_CHURN_MODEL = _default("churn_model")
DEFAULT_REPURCHASE_MODEL = _default("repurchase_model")
DEFAULT_UPLIFT_MODEL = _default("uplift_model")

_TASKS = ("churn", "repurchase")


#: A model loaded for scoring: its handle, the customer model, and its registry info.
LoadedModel = tuple["ScoringModel", Any, ModelVersionInfo]


def load_scoring_model(uri: str) -> LoadedModel:
    """Load a model for scoring: the :class:`ScoringModel`, the underlying customer model, its registry info
    (:func:`custml.tracking.load_model_with_info`)."""
    from custml import tracking
    from custml.models.explain import reason_codes
    from custml.scoring.score import ScoringModel

    model, info = tracking.load_model_with_info(uri)

    def explain(frame: pd.DataFrame, direction: str, top_k: int) -> pd.DataFrame:
        return reason_codes(model, frame, top_k=top_k, direction=direction)  # type: ignore[arg-type]

    handle = ScoringModel(name=info.name, version=info.version, predict=model.predict_proba, explain=explain)
    return handle, model, info


@dataclass
class ScoreRun:
    """What :func:`run_score` produced; ``drift_result`` is the drift verdict (``drift`` is its table)."""

    scores: pd.DataFrame
    meta: ScoreMeta
    drift: pd.DataFrame
    out: Path
    meta_path: Path
    csv_path: Path | None
    not_scored: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    drift_result: DriftResult | None = None

    @property
    def drifted(self) -> pd.DataFrame:
        """Rows of the drift table that count as drifted (:func:`custml.scoring.drift.drift_verdict`)."""
        if len(self.drift) == 0 or "drifted" not in self.drift.columns:
            return self.drift.iloc[0:0]
        return self.drift[self.drift["drifted"].astype(bool)]


def scores_path_for(as_of: Any, root: Path | str | None = None) -> Path:
    """Default scores file for an as-of date: ``data/scores/scores_<as_of>.parquet``."""
    return project_paths(root).scores_for(stamp(as_day(as_of)))


def _predict_spark(
    features: pd.DataFrame, uris: Mapping[str, str], models: Mapping[str, Any]
) -> pd.DataFrame:
    """Probabilities computed by Spark over the feature table, through MLflow's ``spark_udf`` of each model."""
    from custml import tracking
    from custml.features import spark_session
    from custml.scoring.spark import predict_spark

    spark = spark_session("custml-score")
    udfs = {task: tracking.spark_udf(spark, uri) for task, uri in uris.items()}
    columns = {task: list(models[task].input_columns) for task in uris}
    return predict_spark(spark, features, udfs, columns)


def _uplift_model(
    uri: str | None, tables: Mapping[str, pd.DataFrame]
) -> tuple[Any, UpliftModelInfo | None, str | None]:
    """The registered uplift model (``None`` and why when there is none to use), and its registry info."""
    from custml import tracking

    if uri is None:
        return None, None, "disabled"
    try:
        model, info = tracking.load_uplift_model(uri)
    except CustmlError as exc:  # documented fallback: the rule table, and meta says why
        campaigns = tables.get("campaigns")
        why = (
            "no campaign data" if campaigns is None or n_rows(campaigns) == 0 else f"no uplift model ({exc})"
        )
        logger.warning("uplift: %s: rule-based actions", why)
        return None, None, f"{why}: rule-based actions"
    return model, info, None


def data_start_of(tables: Mapping[str, Any]) -> pd.Timestamp | None:
    """The first day of the data (the first order), as training measures it: time features are compared
    relative to the days of history since then (:mod:`custml.scoring.drift`); ``None`` without orders."""
    orders = tables.get("orders")
    if orders is None or n_rows(orders) == 0:
        return None
    first = pd.Series(orders["order_ts"]).min()
    return None if pd.isna(first) else as_day(first)


def _drift(
    models: Mapping[str, LoadedModel],
    uris: Mapping[str, str],
    features: pd.DataFrame,
    local_dir: Path,
    *,
    as_of: pd.Timestamp,
    data_start: pd.Timestamp | None,
) -> DriftResult:
    """The drift verdict of each model's input features against its training run's reference."""
    from custml import tracking
    from custml.scoring.drift import model_drift

    references = {
        task: tracking.load_drift_reference(m[2].run_id, uris[task], local_dir) for task, m in models.items()
    }
    return model_drift(
        references,
        features,
        {t: m[1].input_columns for t, m in models.items()},
        as_of=as_of,
        data_start=data_start,
    )


def _accounting_and_meta(
    scores: pd.DataFrame,
    clean: CleanResult,
    models: Mapping[str, LoadedModel],
    drift: DriftResult,
    params: ScoreParams,
    *,
    as_of: pd.Timestamp,
    scored_at: pd.Timestamp,
    rows_in: int,
    engine: str,
    data_end: pd.Timestamp | None,
) -> tuple[dict[str, int], ScoreMeta]:
    """Why records got no score (rows in = scored + not scored) and the scores' ``.meta.json`` sidecar."""
    from custml.models.params import DEFAULT_HORIZON_DAYS
    from custml.scoring.accounting import quality_meta, rows_not_scored, scores_meta
    from custml.scoring.outlook import churn_outlook

    report, n_clean = clean.report, n_rows(clean.tables["customers"])
    not_scored = rows_not_scored(
        report, clean.quarantine, rows_in=rows_in, n_clean=n_clean, n_scored=len(scores)
    )
    if "other" in not_scored:
        logger.warning("scoring: %d input rows neither scored nor accounted for", not_scored["other"])
    meta = scores_meta(
        scores,
        as_of=as_of,
        scored_at=scored_at,
        rows_in=rows_in,
        rows_quarantined=rows_in - len(scores),
        quality=quality_meta(report, clean.quarantine, data_end),
        models={task: m[2] for task, m in models.items()},
        drift=drift.table,
        extra={
            "drift_verdict": drift.to_meta(),
            "rows_not_scored": not_scored,
            "engine": engine,
            "reason_policy": params.reasons,
            "actions": params.actions.model_dump(mode="json"),
            "churn_outlook": churn_outlook(
                scores,
                clean.tables["orders"],
                as_of,
                models["churn"][2].horizon_days or DEFAULT_HORIZON_DAYS["churn"],
            ),
        },
    )
    return not_scored, meta


def _cleaned(
    data_dir: Path,
    as_of: pd.Timestamp,
    *,
    root: Path | str | None,
    raw_inputs: tuple[dict[str, pd.DataFrame], SourcesInfo | None] | None,
    mapping: Path | str | None,
    allow_demo_key: bool,
) -> tuple[CleanResult, SourcesInfo | None, int | None, pd.Timestamp | None]:
    """The raw tables of ``data_dir`` cleaned as of ``as_of`` (not written): result, sources report, raw rows
    and the day after the data ends (``None`` if the orders tell no date)."""
    raw, sources = raw_inputs if raw_inputs is not None else read_inputs(data_dir, mapping)
    raw_rows = len(raw["customers"]) if "customers" in raw else None
    clean = run_clean(data_dir, as_of=as_of, root=root, allow_demo_key=allow_demo_key, raw=raw, write=False)
    attach_sources(clean, sources)
    try:
        data_end: pd.Timestamp | None = default_as_of(data_dir, raw.get("orders"))
    except CustmlError:
        data_end = None
    return clean, sources, raw_rows, data_end


def score_params(s: ScoreSettings) -> ScoreParams:
    """The scoring settings of a score step: the built-in ones with the fields ``s`` sets (a YAML action table)."""
    from custml.config import load_params
    from custml.scoring import ActionTable, ScoreParams

    update: dict[str, object] = {
        k: v
        for k, v in {
            "chunk_size": s.chunk_size,
            "reasons": s.reasons,
            "max_explained": s.max_explained,
        }.items()
        if v is not None
    }
    if s.actions is not None:
        update["actions"] = load_params(s.actions, ActionTable)
    return ScoreParams.model_validate({**ScoreParams().model_dump(), **update})


@dataclass
class _Inputs:
    """The cleaned inputs of a scoring run and what they say about rows and dates."""

    clean: CleanResult
    sources: SourcesInfo | None
    rows_in: int
    data_end: pd.Timestamp | None


def _inputs(
    s: ScoreSettings,
    data_dir: Path,
    as_of: pd.Timestamp,
    raw: tuple[dict[str, pd.DataFrame], SourcesInfo | None] | None,
    given: tuple[CleanResult | None, int | None, Path | str | None],
) -> _Inputs:
    clean, raw_rows, root = given
    sources, data_end = None, None
    if clean is None:
        clean, sources, raw_rows, data_end = _cleaned(
            data_dir, as_of, root=root, raw_inputs=raw, mapping=s.mapping, allow_demo_key=s.allow_demo_key
        )
    rows_in = int(raw_rows if raw_rows is not None else clean.report.tables["customers"].rows_in)
    return _Inputs(clean, sources, rows_in, data_end)


def run_score(
    settings: ScoreSettings | None = None,
    *,
    root: Path | str | None = None,
    clean: CleanResult | None = None,
    raw_rows: int | None = None,
    say: Progress | None = None,
) -> ScoreRun:
    """Score every customer of a raw data folder as of a date (the ``score`` step, ``custml score``).

    Steps: read and clean the raw tables with the quality stage (or take ``clean``, already done), build the
    features as of the as-of date (DuckDB or Spark), load both models (registry aliases by default), compute the
    drift of the model features against the training reference, segments and cluster names, the expected
    12-month value (BTYD fitted at the as-of date; its purchase model chosen on a held-out period,
    :func:`custml.scoring.score.chosen_expected_value_12m`, named with its figures in ``meta.value_model``),
    probabilities, actions and reasons; then write the scores atomically (parquet, optional CSV) and the
    ``.meta.json`` sidecar. With a randomised campaign in the data, the uplift model learnt from it adds
    ``uplift``, ``expected_profit`` and ``chosen_action`` (:func:`custml.uplift.scoring.add_uplift_columns`;
    without one ``chosen_action`` is the rule-based ``recommended_action``), and Pareto/NBD adds ``p_alive``.
    The uplift model is ``settings.uplift_model`` (``None`` disables it); when none is registered the
    rule-based actions stand and ``meta.uplift.status`` says why.

    Rows in = rows scored + rows not scored, where rows in are the raw customer records and rows not scored
    are those quarantined by the quality stage, merged into another record as duplicates, not yet a customer
    (signed up, or with orders only: first ordered, after the as-of date), or without features at the as-of
    date; ``meta.rows_not_scored`` gives the split. ``settings.mapping`` reads any export through a source
    mapping (:mod:`custml.sources`); without a customers table, customers are derived from orders.

    Raises
    ------
    DriftError
        With ``settings.fail_on_drift``, after writing the scores, if the drift verdict
        (:func:`custml.scoring.drift.drift_verdict`, the one monitoring uses) is ``drift``.
    """
    from custml.pipeline.settings import ScoreSettings

    s = settings or ScoreSettings()
    paths = project_paths(root)
    timings: dict[str, float] = {}
    data_dir = Path(s.data) if s.data is not None else paths.raw
    raw = None
    if s.as_of is None and clean is None:
        raw = read_inputs(data_dir, s.mapping)
        as_of = default_as_of(data_dir, raw[0].get("orders"))
    else:
        as_of = as_day(s.as_of) if s.as_of is not None else default_as_of(data_dir)
    uris = {"churn": s.churn_model, "repurchase": s.repurchase_model}
    # Models first: a wrong URI should fail before minutes of cleaning.
    tell(say, f"loading {s.churn_model} and {s.repurchase_model}")
    with timed(timings, "load_models_s"):
        configure_tracking(paths)
        models = {task: load_scoring_model(uris[task]) for task in _TASKS}
    tell(say, f"cleaning the input tables of {data_dir}" if clean is None else "using the cleaned tables")
    with timed(timings, "clean_s"):
        inputs = _inputs(s, data_dir, as_of, raw, (clean, raw_rows, root))
    run = _score_tables(s, inputs, models, as_of, paths, timings, say)
    run.out = Path(s.out) if s.out is not None else scores_path_for(as_of, root)
    _write(run, inputs, s, say)
    if s.fail_on_drift and run.drift_result is not None and run.drift_result.verdict == "drift":
        raise DriftError(f"drift: {run.drift_result.reason}")
    return run


def _score_tables(
    s: ScoreSettings,
    inputs: _Inputs,
    models: Mapping[str, LoadedModel],
    as_of: pd.Timestamp,
    paths: ProjectPaths,
    timings: dict[str, float],
    say: Progress | None,
) -> ScoreRun:
    """Features, drift, segments, value, probabilities, actions and uplift of the cleaned tables (not written)."""
    from custml.scoring.score import chosen_expected_value_12m, score_customers
    from custml.uplift.scoring import uplift_and_alive

    clean, params = inputs.clean, score_params(s)
    uris = {"churn": s.churn_model, "repurchase": s.repurchase_model}
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    scored_at = as_day(s.scored_at) if s.scored_at is not None else now
    tell(say, f"features as of {as_of.date()} ({s.engine})")
    with timed(timings, "features_s"):
        features = run_features(as_of, root=paths.root, tables=clean.tables, engine=s.engine, write=False)
    tell(say, "drift, segments, clusters and expected value")
    with timed(timings, "drift_s"):
        drift = _drift(
            models,
            uris,
            features,
            paths.drift_references,
            as_of=as_of,
            data_start=data_start_of(clean.tables),
        )
    with timed(timings, "segments_s"):
        segments, clusters = segments_and_clusters(features, load_segmentation(paths))
    with timed(timings, "clv_s"):
        clv, value_meta = chosen_expected_value_12m(
            features,
            clean.tables["orders"],
            as_of,
            customers=clean.tables.get("customers"),
            campaigns=clean.tables.get("campaigns"),
        )
    probabilities = None
    if s.engine == "spark":
        with timed(timings, "spark_predict_s"):
            probabilities = _predict_spark(features, uris, {t: m[1] for t, m in models.items()})
    with timed(timings, "score_s"):
        scores = score_customers(
            features, models["churn"][0], models["repurchase"][0], segments, clv, clusters, as_of=as_of,
            scored_at=scored_at, params=params.model_copy(update={"progress": not s.quiet}),
            probabilities=probabilities,
        )  # fmt: skip
    with timed(timings, "uplift_s"):
        uplift, uplift_info, why = _uplift_model(s.uplift_model, clean.tables)
        scores, uplift_meta = uplift_and_alive(
            scores,
            features,
            uplift,
            budget=s.uplift_budget,
            reason=why,
            info=uplift_info,
        )
    not_scored, meta = _accounting_and_meta(
        scores, clean, models, drift, params, as_of=as_of, scored_at=scored_at, rows_in=inputs.rows_in,
        engine=s.engine, data_end=inputs.data_end,
    )  # fmt: skip
    meta.currency = (inputs.sources.currency if inputs.sources else None) or params.currency
    meta.uplift = uplift_meta
    meta.value_model = value_meta
    return ScoreRun(scores, meta, drift.table, Path(), Path(), None, not_scored, timings, drift)


def _write(run: ScoreRun, inputs: _Inputs, s: ScoreSettings, say: Progress | None) -> None:
    tell(say, f"writing {run.out}")
    with timed(run.timings, "write_s"):
        write_table(run.scores, run.out, csv_copy=s.csv)
        run.meta_path = run.meta.write_json(ProjectPaths.sidecar(run.out))
    run.csv_path = run.out.with_suffix(".csv") if s.csv else None
