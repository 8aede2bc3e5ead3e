"""Step ``score``: every customer of a data folder scored as of a date -> ``data/scores/scores_<as_of>.parquet``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custml.errors import CustmlError
from custml.io import write_json, write_table
from custml.pipeline._wiring import (
    Engine,
    Progress,
    as_day,
    configure_tracking,
    default_as_of,
    n_rows,
    pipeline_feature_params,
    project_paths,
    stamp,
    tell,
    timed,
)
from custml.pipeline.clean import _attach_sources, read_inputs, run_clean
from custml.pipeline.features import run_features
from custml.pipeline.segment import load_segmentation, segments_and_clusters
from custml.pipeline.train import _load_drift_reference

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.quality.pipeline import CleanResult
    from custml.scoring.score import ScoreParams, ScoringModel
    from custml.uplift.campaign import UpliftParams

__all__ = [
    "DEFAULT_CHURN_MODEL",
    "DEFAULT_REPURCHASE_MODEL",
    "DriftError",
    "ScoreRun",
    "load_scoring_model",
    "run_score",
    "scores_path_for",
]

logger = logging.getLogger(__name__)

DEFAULT_CHURN_MODEL = "models:/custml-churn@champion"
DEFAULT_REPURCHASE_MODEL = "models:/custml-repurchase@champion"


class DriftError(CustmlError):
    """Scoring found features that drifted from the training reference and was asked to fail on drift."""


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
    return project_paths(root).scores / f"scores_{stamp(as_day(as_of))}.parquet"


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
    if enabled and (campaigns is None or n_rows(campaigns) == 0):
        summary = {"status": "no campaign data: rule-based actions"}
    elif enabled:
        try:
            frames = {k: (v.to_pandas() if hasattr(v, "to_pandas") else v) for k, v in tables.items()}
            model = fit_from_tables(frames, params, feature_params=pipeline_feature_params())
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

    paths = project_paths(root)
    timings: dict[str, float] = {}
    params = params or ScoreParams()
    data_dir = Path(data) if data is not None else paths.raw
    raw_inputs: tuple[dict[str, pd.DataFrame], dict[str, Any] | None] | None = None
    if as_of is None and clean is None:
        raw_inputs = read_inputs(data_dir, mapping)
        as_of = default_as_of(data_dir, raw_inputs[0].get("orders"))
    as_of = as_day(as_of) if as_of is not None else default_as_of(data_dir)
    out_path = Path(out) if out is not None else scores_path_for(as_of, root)
    scored_at = (
        as_day(scored_at)
        if scored_at is not None
        else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    )

    # Models first: a wrong URI should fail before minutes of cleaning.
    tell(say, f"loading {churn_model} and {repurchase_model}")
    with timed(timings, "load_models_s"):
        configure_tracking(paths)
        churn, churn_cm, churn_info = load_scoring_model(churn_model)
        repurchase, rep_cm, rep_info = load_scoring_model(repurchase_model)
    tell(say, f"cleaning the input tables of {data_dir}" if clean is None else "using the cleaned tables")
    with timed(timings, "clean_s"):
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
    tell(say, f"features as of {as_of.date()} ({engine})")
    with timed(timings, "features_s"):
        features = run_features(as_of, root=root, tables=clean.tables, engine=engine, write=False)
    tell(say, "drift, segments, clusters and expected value")
    with timed(timings, "drift_s"):
        references = {
            "churn": _load_drift_reference(churn_info.get("run_id"), churn_model, paths),
            "repurchase": _load_drift_reference(rep_info.get("run_id"), repurchase_model, paths),
        }
        drift = _drift_table(references, features, {"churn": churn_cm, "repurchase": rep_cm})
    with timed(timings, "segments_s"):
        segments, clusters = segments_and_clusters(features, load_segmentation(paths))
    with timed(timings, "clv_s"):
        clv = expected_value_12m(features)
    probabilities = None
    if engine == "spark":
        with timed(timings, "spark_predict_s"):
            probs = _predict_spark(
                features,
                {"churn": churn_model, "repurchase": repurchase_model},
                {"churn": churn_cm, "repurchase": rep_cm},
            )
            probabilities = probs
    with timed(timings, "score_s"):
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
    with timed(timings, "uplift_s"):
        scores, uplift_meta = _uplift_and_alive(scores, features, clean.tables, uplift, campaign_uplift)

    customers_report = report["tables"]["customers"]  # type: ignore[index]
    not_yet = _not_yet_customers(clean.quarantine)
    quarantined = int(customers_report["rows_quarantined"]) - not_yet
    merged = int(report.get("duplicates_merged", 0))
    n_clean = n_rows(clean.tables["customers"])
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
    tell(say, f"writing {out_path}")
    with timed(timings, "write_s"):
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
