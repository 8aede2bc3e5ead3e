"""Report content from a scores table: headline figures, tables and plain-word findings, independent of language.

:func:`build_report_data` is pure: it reads the scores frame (contracts section 7) and its meta dict, and returns a
:class:`ReportData` whose sentences are :class:`Message` objects (an i18n key plus typed values) so that the same
content renders in any language. It never reads models: model quality comes from the meta the scorer wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field

from custml.errors import SchemaError
from custml.frames import isin
from custml.settings import Settings

__all__ = [
    "ChurnOutlook",
    "ACTION_ORDER",
    "HEALTH_HISTORY_COLUMNS",
    "LIFECYCLE_ORDER",
    "NO_ACTION",
    "RISK_BANDS",
    "SCORES_REQUIRED_COLUMNS",
    "SEGMENT_ORDER",
    "VALUE_TIER_ORDER",
    "WhoToSave",
    "Category",
    "Count",
    "DataQuality",
    "DateValue",
    "Kpis",
    "Message",
    "ModelHealth",
    "ModelQuality",
    "Money",
    "Movement",
    "Percent",
    "Points",
    "Ratio",
    "ReportData",
    "ReportParams",
    "Text",
    "build_report_data",
    "compute_kpis",
    "model_health",
]

logger = logging.getLogger(__name__)

SCORES_REQUIRED_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "churn_probability",
    "expected_value_12m",
    "revenue_at_risk",
    "rfm_segment",
    "value_tier",
    "lifecycle_stage",
    "recommended_action",
)
SEGMENT_ORDER: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Cannot lose",
    "Hibernating",
    "Lost",
    "Prospect",
)
LIFECYCLE_ORDER: tuple[str, ...] = ("prospect", "new", "active", "loyal", "at risk", "churned")
VALUE_TIER_ORDER: tuple[str, ...] = ("high", "medium", "low")
ACTION_ORDER: tuple[str, ...] = (
    "personal outreach",
    "retention offer",
    "win-back offer",
    "low-cost reactivation",
    "onboarding offer",
    "loyalty reward",
    "no action",
)
NO_ACTION = "no action"
NO_SEGMENT = "(none)"
# Risk bands for the value x risk matrix: [lower, upper) of the churn probability, with the label key.
RISK_BANDS: tuple[tuple[str, float, float], ...] = (
    ("risk_low", 0.0, 0.2),
    ("risk_medium", 0.2, 0.5),
    ("risk_high", 0.5, 1.0000001),
)
_NOT_ACTIVE = frozenset({"prospect", "churned"})


# --- typed values inside messages (the renderer formats each kind for the language) -------------------------
@dataclass(frozen=True)
class Count:
    """A number of customers or rows."""

    value: int


@dataclass(frozen=True)
class Money:
    """An amount in the report's currency."""

    value: float


@dataclass(frozen=True)
class Percent:
    """A share or probability in [0, 1], shown as a percentage with ``digits`` decimals."""

    value: float
    digits: int = 1


@dataclass(frozen=True)
class Points:
    """A difference of two percentages, in percentage points (0.012 -> '+1.2 points'; unsigned for a gap)."""

    value: float
    signed: bool = True


@dataclass(frozen=True)
class Ratio:
    """A multiple, such as a lift of 3.1x."""

    value: float


@dataclass(frozen=True)
class Category:
    """A category value from the scores (segment, stage, action) that the renderer may translate."""

    value: str


@dataclass(frozen=True)
class DateValue:
    """A date."""

    value: pd.Timestamp


@dataclass(frozen=True)
class Text:
    """Free text from the data, shown as is (for example a feature description)."""

    value: str


MessageValue = Count | Money | Percent | Points | Ratio | Category | DateValue | Text


@dataclass(frozen=True)
class Message:
    """A sentence to show: an i18n template key and the typed values it needs."""

    key: str
    params: Mapping[str, MessageValue] = field(default_factory=dict)


class ReportParams(Settings):
    """Settings of the report's content.

    Parameters
    ----------
    high_risk_threshold : float
        Churn probability from which a customer counts as high risk.
    top_customers : int
        How many at-risk high-value customers the action list shows.
    top_transitions : int
        How many segment moves the movement section lists.
    currency : str or None
        ISO code of the amounts (``None``: ``meta["currency"]``, else EUR).
    churn_horizon_days : int or None
        Horizon of the churn probability (``None``: the churn model's ``horizon_days`` in meta, else 90).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    high_risk_threshold: float = Field(0.5, gt=0, lt=1)
    top_customers: int = Field(15, ge=1)
    top_transitions: int = Field(8, ge=1)
    currency: str | None = None
    churn_horizon_days: int | None = Field(None, ge=1)


@dataclass(frozen=True)
class Kpis:
    """Headline figures of one scoring."""

    n_customers: int
    n_active: int
    n_high_risk: int
    churn_rate: float
    revenue_at_risk: float
    expected_value_12m: float
    high_risk_value_12m: float
    #: High-risk customers who are still customers (:func:`active_at_risk_mask`) and their 12-month value;
    #: the other high-risk customers have most likely lapsed already.
    n_active_high_risk: int = 0
    active_high_risk_value_12m: float = 0.0
    n_lapsed_high_risk: int = 0


@dataclass(frozen=True)
class Movement:
    """What changed since the previous scoring."""

    previous_as_of: pd.Timestamp | None
    previous: Kpis
    n_new: int
    n_gone: int
    n_stayed: int
    n_moved: int
    transitions: pd.DataFrame  # from_segment, to_segment, customers, revenue_at_risk
    segment_change: pd.DataFrame  # segment, previous, current, change


@dataclass(frozen=True)
class ModelQuality:
    """How good one model is, from the scorer's meta."""

    task: str
    name: str
    version: str
    metrics: Mapping[str, float]
    test_cutoff: pd.Timestamp | None
    calibration: pd.DataFrame  # mean_predicted, observed_rate, n
    calibration_gap: float | None  # mean |predicted - observed|, weighted by n
    top_drivers: pd.DataFrame  # feature, description, mean_abs_shap, share


@dataclass(frozen=True)
class DataQuality:
    """Rows in and quarantined (all input tables), customers scored, duplicates merged, drift.

    ``rows_in``/``rows_quarantined`` count rows of every input table that the quality stage validated (from
    ``meta["quality"]`` when it has them, else the top-level counts); ``not_scored`` explains customer records
    that got no score (``meta["rows_not_scored"]``: quarantined, merged duplicates, no history yet).
    """

    rows_in: int | None
    rows_scored: int
    rows_quarantined: int | None
    duplicates_merged: int | None
    by_table: pd.DataFrame  # table, rows
    by_reason: pd.DataFrame  # reason, rows
    # feature, psi, status, drifted (one row per feature: the largest shift over models); drifted is the scoring
    # run's drift verdict per feature (PSI and its test, custml.scoring.drift), or status "drift" in older metas
    drift: pd.DataFrame
    not_scored: pd.DataFrame  # reason, rows
    # rows quarantined only because they are dated after the as-of date (later sign-ups and orders): not a
    # quality loss, so not in rows_quarantined; None when there are none (or the meta predates the count)
    after_as_of: int | None = None
    # the orders' source in its own units (custml.sources.line_items.source_accounting): lines in, lines without
    # a customer id and their revenue, exact duplicate lines, rows excluded by the mapping's filter; None
    # without a source mapping
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ModelHealth:
    """The "Model health" section: verdict, its reasons and the history of one model's scorings.

    Built from the health table of :mod:`custml.monitoring` (``custml monitor``) by :func:`model_health`.
    """

    verdict: str  # healthy / watch / retrain
    reasons: tuple[tuple[str, str, str, str], ...]  # (date, check, value, level)
    history: pd.DataFrame  # HEALTH_HISTORY_COLUMNS, one row per scoring, oldest first
    horizon_days: int


#: Columns of :attr:`ModelHealth.history` (a subset of the monitoring health table).
HEALTH_HISTORY_COLUMNS = (
    "as_of",
    "matured",
    "promised_roc_auc",
    "realised_roc_auc",
    "estimated_roc_auc",
    "promised_rate",
    "realised_rate",
    "expected_rate",
    "score_psi",
    "verdict",
)


def model_health(table: pd.DataFrame, verdict: str, reasons: Sequence[str] = ()) -> ModelHealth:
    """The report's Model health content from a monitoring health table and its overall verdict.

    ``reasons`` are the monitoring reasons (``"DATE: check=value (level); ..."``); they are split into parts so
    that the report can say them in either language.

    Raises
    ------
    SchemaError
        If a column of :data:`HEALTH_HISTORY_COLUMNS` is missing, the table is empty or the verdict is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"as_of": pd.to_datetime(["2025-01-01"]), "matured": [True], "promised_roc_auc": [0.8],
    ...     "realised_roc_auc": [0.79], "estimated_roc_auc": [0.8], "promised_rate": [0.3], "realised_rate": [0.31],
    ...     "expected_rate": [0.3], "score_psi": [0.01], "verdict": ["healthy"]})
    >>> model_health(t, "healthy").verdict
    'healthy'
    """
    missing = [c for c in HEALTH_HISTORY_COLUMNS if c not in table.columns]
    if missing:
        raise SchemaError(
            "health", missing[0], f"required column is missing (all missing: {', '.join(missing)})"
        )
    if len(table) == 0:
        raise SchemaError("health", None, "table is empty")
    if verdict not in ("healthy", "watch", "retrain"):
        raise SchemaError("health", "verdict", f"unknown verdict {verdict!r}")
    parsed = []
    for reason in reasons:
        date, _, rest = str(reason).partition(": ")
        for part in rest.split("; "):
            check, _, tail = part.partition("=")
            value, _, level = tail.partition(" (")
            if check and value:
                parsed.append((date, check, value, level.rstrip(")")))
    history = table[list(HEALTH_HISTORY_COLUMNS)].sort_values("as_of", kind="stable").reset_index(drop=True)
    horizon = int(table["horizon_days"].iloc[-1]) if "horizon_days" in table.columns else 90
    return ModelHealth(verdict, tuple(parsed), history, horizon)


@dataclass(frozen=True)
class WhoToSave:
    """The "Who to save" section: the expected-profit plan from the scores' uplift columns.

    ``n_active_at_risk``: customers likely still customers (``p_alive`` >= 0.5) with a churn risk at or above
    the threshold; ``n_lapsed_at_risk``: the high-risk customers who have probably already gone (``p_alive`` <
    0.5), for whom an offer is mostly wasted. ``curve``: expected profit by share contacted in the plan's order
    (highest expected profit first); ``policies``: the plan against churn-risk, value x risk and random
    targeting of as many customers as the plan's spend buys (expected profits, from the same uplift).
    """

    n_active_at_risk: int | None
    n_lapsed_at_risk: int | None
    contacted: int
    spend: float
    expected_profit: float
    offer_cost: float | None
    margin: float | None
    budget: float | None
    average_uplift: float | None
    curve: pd.DataFrame  # share, contacted, cost, profit
    policies: pd.DataFrame  # policy, contacted, cost, expected_profit
    contacts: pd.DataFrame  # the plan's list, highest expected profit first
    fallback: bool  # no campaign data: the rule-based actions stand


@dataclass(frozen=True)
class ChurnOutlook:
    """The headline churn rate as scoring computed it (``meta["churn_outlook"]``) and its season a year earlier."""

    expected_rate: float
    population: int
    short_history: bool
    last_year_rate: float | None = None
    last_year_cutoff: str | None = None

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> ChurnOutlook | None:
        """The outlook of a scores sidecar, or ``None`` when scoring wrote none (or had no active customer)."""
        raw = meta.get("churn_outlook")
        if not isinstance(raw, Mapping) or raw.get("expected_rate") is None:
            return None
        last = raw.get("same_season_last_year") or {}
        return cls(
            expected_rate=float(raw["expected_rate"]),
            population=int(raw.get("population", 0)),
            short_history=bool(raw.get("short_history", False)),
            last_year_rate=float(last["realised_rate"]) if "realised_rate" in last else None,
            last_year_cutoff=str(last["cutoff"]) if "cutoff" in last else None,
        )


def _outlook_messages(outlook: ChurnOutlook | None, horizon: int) -> list[Message]:
    if outlook is None:
        return []
    out = []
    if outlook.short_history:
        out.append(Message("msg_outlook_short_history", {"days": Count(horizon)}))
    if outlook.last_year_rate is not None:
        return [
            *out,
            Message(
                "msg_outlook_last_year",
                {
                    "rate": Percent(outlook.expected_rate),
                    "last": Percent(outlook.last_year_rate),
                    "days": Count(horizon),
                },
            ),
        ]
    return out


@dataclass(frozen=True)
class ReportData:
    """Everything the management report shows, before translation and formatting."""

    as_of: pd.Timestamp | None
    scored_at: pd.Timestamp | None
    currency: str
    churn_horizon_days: int
    high_risk_threshold: float
    kpis: Kpis
    highlights: tuple[Message, ...]
    segments: pd.DataFrame
    lifecycle: pd.DataFrame
    value_risk: pd.DataFrame  # value_tier x risk band: customers
    risk_histogram: pd.DataFrame  # lower, upper, customers
    actions: pd.DataFrame
    top_customers: pd.DataFrame
    churn_model: ModelQuality | None
    repurchase_model: ModelQuality | None
    model_messages: tuple[Message, ...]
    driver_messages: tuple[Message, ...]
    data_quality: DataQuality
    quality_messages: tuple[Message, ...]
    movement: Movement | None
    movement_messages: tuple[Message, ...]
    health: ModelHealth | None = None
    who_to_save: WhoToSave | None = None
    who_messages: tuple[Message, ...] = ()
    outlook: ChurnOutlook | None = None


# --- helpers ---------------------------------------------------------------------------------------------------
def _check_scores(scores: pd.DataFrame, table: str) -> None:
    if not isinstance(scores, pd.DataFrame):
        raise SchemaError(table, None, f"expected a pandas DataFrame, got {type(scores).__name__}")
    missing = [c for c in SCORES_REQUIRED_COLUMNS if c not in scores.columns]
    if missing:
        raise SchemaError(
            table, missing[0], f"required column is missing (all missing: {', '.join(missing)})"
        )
    if len(scores) == 0:
        raise SchemaError(table, None, "table is empty")
    for col in ("churn_probability", "expected_value_12m", "revenue_at_risk"):
        if not pd.api.types.is_numeric_dtype(scores[col]):
            raise SchemaError(table, col, f"has dtype {scores[col].dtype}, expected float", len(scores))
    p = scores["churn_probability"]
    bad = int(((p < 0) | (p > 1)).sum())
    if bad:
        raise SchemaError(table, "churn_probability", "has values outside [0, 1]", bad)
    dup = int(scores["customer_id"].duplicated().sum())
    if dup:
        raise SchemaError(table, "customer_id", "repeats a customer already seen in an earlier row", dup)


def _ordered(values: Sequence[str], order: Sequence[str]) -> list[str]:
    """Known values in ``order``, then the others alphabetically (so new categories are never dropped)."""
    present = list(dict.fromkeys(values))
    known = [v for v in order if v in present]
    return known + sorted(v for v in present if v not in order)


def _category(s: pd.Series) -> pd.Series:
    return s.astype("object").where(s.notna(), NO_SEGMENT).astype(str)


def _timestamp(value: Any) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def _first_timestamp(scores: pd.DataFrame, meta: Mapping[str, Any], key: str) -> pd.Timestamp | None:
    ts = _timestamp(meta.get(key))
    if ts is None and key in scores.columns and scores[key].notna().any():
        ts = _timestamp(pd.to_datetime(scores[key]).max())
    return ts


def _active_mask(scores: pd.DataFrame) -> pd.Series:
    return ~_category(scores["lifecycle_stage"]).str.lower().isin(_NOT_ACTIVE)


#: P(still a customer) at or above which a customer counts as active in the headline (with ``p_alive``).
ALIVE_THRESHOLD = 0.5


def still_customer_mask(scores: pd.DataFrame) -> pd.Series:
    """Customers who are most likely still customers: lifecycle stage neither ``prospect`` nor ``churned``
    (bought in the last year and not past their own buying rhythm, as the churn model's population) and, when
    the scores carry ``p_alive`` (Pareto/NBD), a probability of still being a customer of at least
    :data:`ALIVE_THRESHOLD`."""
    active = _active_mask(scores)
    if "p_alive" in scores.columns:
        alive = pd.to_numeric(scores["p_alive"], errors="coerce")
        active = active & (alive >= ALIVE_THRESHOLD).fillna(False)
    return active


def compute_kpis(scores: pd.DataFrame, high_risk_threshold: float = 0.5) -> Kpis:
    """Headline figures of a scores table.

    Active customers are those whose lifecycle stage is neither ``prospect`` nor ``churned``; the churn rate is the
    mean churn probability over them (over everyone when none is active), i.e. the share expected to churn.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"churn_probability": [0.1, 0.6, 0.9], "expected_value_12m": [100.0, 50.0, 0.0],
    ...                   "revenue_at_risk": [10.0, 30.0, 0.0], "lifecycle_stage": ["active", "at risk", "churned"]})
    >>> k = compute_kpis(s)
    >>> (k.n_customers, k.n_active, k.n_high_risk, round(k.churn_rate, 2), k.revenue_at_risk)
    (3, 2, 2, 0.35, 40.0)
    >>> (k.n_active_high_risk, k.n_lapsed_high_risk)
    (1, 1)
    """
    active = _active_mask(scores)
    p = scores["churn_probability"].astype(float)
    base = p[active] if active.any() else p
    high = p >= high_risk_threshold
    still = still_customer_mask(scores)
    return Kpis(
        n_customers=len(scores),
        n_active=int(active.sum()),
        n_high_risk=int(high.sum()),
        churn_rate=float(base.mean()) if len(base) else float("nan"),
        revenue_at_risk=float(scores["revenue_at_risk"].sum()),
        expected_value_12m=float(scores["expected_value_12m"].sum()),
        high_risk_value_12m=float(scores.loc[high, "expected_value_12m"].sum()),
        n_active_high_risk=int((high & still).sum()),
        active_high_risk_value_12m=float(scores.loc[high & still, "expected_value_12m"].sum()),
        n_lapsed_high_risk=int((high & ~still).sum()),
    )


def _group_table(
    scores: pd.DataFrame, by: str, order: Sequence[str], high_risk_threshold: float, name: str
) -> pd.DataFrame:
    key = _category(scores[by])
    df = scores.assign(
        _key=key,
        _high=(scores["churn_probability"] >= high_risk_threshold).astype(int),
    )
    g = df.groupby("_key", sort=False).agg(
        customers=("customer_id", "size"),
        churn_risk=("churn_probability", "mean"),
        high_risk=("_high", "sum"),
        expected_value_12m=("expected_value_12m", "sum"),
        revenue_at_risk=("revenue_at_risk", "sum"),
    )
    g = g.reindex(_ordered(g.index.tolist(), order))
    g["share_customers"] = g["customers"] / g["customers"].sum()
    total_risk = g["revenue_at_risk"].sum()
    g["share_revenue_at_risk"] = g["revenue_at_risk"] / total_risk if total_risk > 0 else 0.0
    g.index.name = name
    out = g.reset_index()
    out["customers"] = out["customers"].astype(int)
    out["high_risk"] = out["high_risk"].astype(int)
    return out[
        [
            name,
            "customers",
            "share_customers",
            "churn_risk",
            "high_risk",
            "expected_value_12m",
            "revenue_at_risk",
            "share_revenue_at_risk",
        ]
    ]


def _value_risk(scores: pd.DataFrame) -> pd.DataFrame:
    p = scores["churn_probability"].to_numpy(dtype=float)
    band = np.full(len(p), RISK_BANDS[-1][0], dtype=object)
    for key, lo, hi in reversed(RISK_BANDS):
        band[(p >= lo) & (p < hi)] = key
    tier = _category(scores["value_tier"])
    counts = pd.crosstab(tier, pd.Series(band, index=scores.index, name="risk_band"))
    counts = counts.reindex(
        index=_ordered(tier.unique().tolist(), VALUE_TIER_ORDER),
        columns=[b[0] for b in RISK_BANDS],
        fill_value=0,
    )
    counts.index.name = "value_tier"
    counts.columns.name = "risk_band"
    return counts.astype(int)


def _risk_histogram(scores: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(scores["churn_probability"].to_numpy(dtype=float), bins=edges)
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "customers": counts.astype(int)})


def _actions(scores: pd.DataFrame) -> pd.DataFrame:
    key = scores["recommended_action"].astype("object").where(scores["recommended_action"].notna(), NO_ACTION)
    g = (
        scores.assign(_action=key.astype(str))
        .groupby("_action", sort=False)
        .agg(
            customers=("customer_id", "size"),
            churn_risk=("churn_probability", "mean"),
            expected_value_12m=("expected_value_12m", "sum"),
            revenue_at_risk=("revenue_at_risk", "sum"),
        )
    )
    # Most value at stake first; "no action" always last.
    order = (
        g.drop(index=NO_ACTION, errors="ignore")
        .sort_values("revenue_at_risk", ascending=False)
        .index.tolist()
    )
    if NO_ACTION in g.index:
        order.append(NO_ACTION)
    g = g.reindex(order)
    g.index.name = "action"
    out = g.reset_index()
    out["customers"] = out["customers"].astype(int)
    return out


def _top_customers(scores: pd.DataFrame, threshold: float, n: int) -> pd.DataFrame:
    at_risk = scores[
        (scores["churn_probability"] >= threshold) & (_category(scores["value_tier"]).str.lower() == "high")
    ]
    cols = [
        "customer_id",
        "rfm_segment",
        "churn_probability",
        "expected_value_12m",
        "revenue_at_risk",
        "recommended_action",
        "reason_1",
    ]
    top = at_risk.sort_values(["revenue_at_risk", "customer_id"], ascending=[False, True]).head(n)
    top = top.reindex(columns=cols)
    return top.reset_index(drop=True)


def _model_quality(task: str, model_meta: Mapping[str, Any] | None) -> ModelQuality | None:
    if not model_meta:
        return None
    metrics = {
        k: float(v)
        for k, v in (model_meta.get("metrics") or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)
    }
    cal = pd.DataFrame(model_meta.get("calibration") or [], columns=["mean_predicted", "observed_rate", "n"])
    cal = cal.dropna(subset=["mean_predicted", "observed_rate"]).astype(float)
    cal = cal.sort_values("mean_predicted").reset_index(drop=True)
    gap = None
    if len(cal):
        w = cal["n"].fillna(1.0).clip(lower=0)
        diff = (cal["mean_predicted"] - cal["observed_rate"]).abs()
        gap = float((diff * w).sum() / w.sum()) if w.sum() > 0 else float(diff.mean())
    drivers = pd.DataFrame(
        model_meta.get("top_drivers") or [], columns=["feature", "description", "mean_abs_shap"]
    )
    if len(drivers):
        drivers["description"] = drivers["description"].where(
            drivers["description"].notna() & (drivers["description"].astype(str).str.strip() != ""),
            drivers["feature"],
        )
        drivers["mean_abs_shap"] = pd.to_numeric(drivers["mean_abs_shap"], errors="coerce").fillna(0.0)
        drivers = drivers.sort_values("mean_abs_shap", ascending=False).reset_index(drop=True)
        total = drivers["mean_abs_shap"].sum()
        drivers["share"] = drivers["mean_abs_shap"] / total if total > 0 else 0.0
    else:
        drivers["share"] = pd.Series(dtype=float)
    return ModelQuality(
        task=task,
        name=str(model_meta.get("name", "")),
        version=str(model_meta.get("version", "")),
        metrics=metrics,
        test_cutoff=_timestamp((model_meta.get("metrics") or {}).get("test_cutoff")),
        calibration=cal,
        calibration_gap=gap,
        top_drivers=drivers,
    )


def _count_frame(mapping: Mapping[str, Any] | None, key: str) -> pd.DataFrame:
    items = [(str(k), int(v)) for k, v in (mapping or {}).items() if v is not None]
    df = pd.DataFrame(items, columns=[key, "rows"])
    return df.sort_values(["rows", key], ascending=[False, True]).reset_index(drop=True)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _after_as_of(quality: Mapping[str, Any]) -> int | None:
    """Rows dated after the scoring date, all tables (``rows_after_as_of``; older metas: sign-ups and orders)."""
    per_table = quality.get("rows_after_as_of")
    if per_table is not None:
        n = sum(int(v) for v in per_table.values())
    else:
        n = int(quality.get("customers_not_yet", 0)) + int(quality.get("orders_after_as_of", 0))
    return n or None


def _data_quality(meta: Mapping[str, Any], n_scored: int) -> DataQuality:
    quality = meta.get("quality") or {}
    rows = meta.get("drift") or []
    drift = pd.DataFrame(rows).reindex(columns=["feature", "psi", "status", "drifted"])
    if len(drift):
        # Metas written before the shared verdict have no ``drifted``: their status band decided.
        drifted = drift["drifted"] if all("drifted" in r for r in rows) else drift["status"] == "drift"
        drift["drifted"] = drifted.fillna(False).astype(bool)
        # The scorer may list a feature once per model: keep its largest shift. A missing psi sorts last.
        drift["psi"] = pd.to_numeric(drift["psi"], errors="coerce")
        drift = (
            drift.sort_values(["psi", "feature"], ascending=[False, True], na_position="last")
            .drop_duplicates("feature")
            .reset_index(drop=True)
        )
    return DataQuality(
        rows_in=_optional_int(quality.get("rows_in", meta.get("rows_in"))),
        rows_scored=int(meta.get("rows_scored", n_scored)),
        rows_quarantined=_optional_int(quality.get("rows_quarantined", meta.get("rows_quarantined"))),
        duplicates_merged=_optional_int(quality.get("duplicates_merged")),
        by_table=_count_frame(quality.get("quarantined_by_table"), "table"),
        by_reason=_count_frame(quality.get("quarantined_by_reason"), "reason"),
        drift=drift,
        not_scored=_count_frame(
            {k: v for k, v in (meta.get("rows_not_scored") or {}).items() if v}, "reason"
        ),
        after_as_of=_after_as_of(quality),
        source=(quality.get("source_accounting") or {}).get("orders"),
    )


def _movement(scores: pd.DataFrame, previous: pd.DataFrame, threshold: float, n_transitions: int) -> Movement:
    _check_scores(previous, "previous scores")
    prev_kpis = compute_kpis(previous, threshold)
    cur = scores[["customer_id", "rfm_segment", "revenue_at_risk"]].assign(
        to_segment=_category(scores["rfm_segment"])
    )
    prev = previous[["customer_id"]].assign(from_segment=_category(previous["rfm_segment"]))
    both = cur.merge(prev, on="customer_id", how="inner")
    moved = both[both["from_segment"] != both["to_segment"]]
    transitions = (
        moved.groupby(["from_segment", "to_segment"], sort=False)
        .agg(customers=("customer_id", "size"), revenue_at_risk=("revenue_at_risk", "sum"))
        .reset_index()
        .sort_values(["customers", "from_segment", "to_segment"], ascending=[False, True, True])
        .head(n_transitions)
        .reset_index(drop=True)
    )
    before = _category(previous["rfm_segment"]).value_counts()
    after = _category(scores["rfm_segment"]).value_counts()
    segs = _ordered(list(before.index) + list(after.index), SEGMENT_ORDER)
    change = pd.DataFrame(
        {
            "segment": segs,
            "previous": before.reindex(segs, fill_value=0).to_numpy(dtype=int),
            "current": after.reindex(segs, fill_value=0).to_numpy(dtype=int),
        }
    )
    change["change"] = change["current"] - change["previous"]
    return Movement(
        previous_as_of=_first_timestamp(previous, {}, "as_of"),
        previous=prev_kpis,
        n_new=int((~isin(scores["customer_id"], previous["customer_id"])).sum()),
        n_gone=int((~isin(previous["customer_id"], scores["customer_id"])).sum()),
        n_stayed=len(both),
        n_moved=len(moved),
        transitions=transitions,
        segment_change=change,
    )


# --- sentences -------------------------------------------------------------------------------------------------
def _highlights(
    scores: pd.DataFrame, kpis: Kpis, segments: pd.DataFrame, actions: pd.DataFrame, threshold: float
) -> list[Message]:
    out: list[Message] = []
    # the headline counts the customers worth saving: still customers (see still_customer_mask) at high risk
    n_still = int(still_customer_mask(scores).sum())
    out.append(
        Message(
            "msg_active_high_risk",
            {
                "n": Count(kpis.n_active_high_risk),
                "share": Percent(kpis.n_active_high_risk / n_still if n_still else 0.0),
                "threshold": Percent(threshold, 0),
                "value": Money(kpis.active_high_risk_value_12m),
            },
        )
    )
    if kpis.n_lapsed_high_risk:
        out.append(Message("msg_lapsed_high_risk", {"n": Count(kpis.n_lapsed_high_risk)}))
    seg = segments[segments["customers"] > 0]
    if len(seg) and seg["revenue_at_risk"].sum() > 0:
        top = seg.sort_values("revenue_at_risk", ascending=False).iloc[0]
        out.append(
            Message(
                "msg_top_risk_segment",
                {
                    "segment": Category(str(top["segment"])),
                    "value": Money(float(top["revenue_at_risk"])),
                    "share": Percent(float(top["share_revenue_at_risk"])),
                },
            )
        )
    hv = scores[
        (scores["churn_probability"] >= threshold) & (_category(scores["value_tier"]).str.lower() == "high")
    ]
    if len(hv):
        out.append(
            Message(
                "msg_high_value_at_risk",
                {
                    "n": Count(len(hv)),
                    "threshold": Percent(threshold, 0),
                    "value": Money(float(hv["revenue_at_risk"].sum())),
                },
            )
        )
    acts = actions[actions["action"] != NO_ACTION]
    if len(acts):
        out.append(
            Message(
                "msg_actions",
                {
                    "n": Count(int(acts["customers"].sum())),
                    "value": Money(float(acts["revenue_at_risk"].sum())),
                    "share": Percent(
                        float(acts["revenue_at_risk"].sum() / kpis.revenue_at_risk)
                        if kpis.revenue_at_risk > 0
                        else 0.0
                    ),
                },
            )
        )
        first = acts.iloc[0]  # actions are sorted by revenue at risk
        out.append(
            Message(
                "msg_first_action",
                {
                    "action": Category(str(first["action"])),
                    "n": Count(int(first["customers"])),
                    "value": Money(float(first["revenue_at_risk"])),
                },
            )
        )
    return out


def _model_messages(churn: ModelQuality | None) -> tuple[list[Message], list[Message]]:
    model: list[Message] = []
    drivers: list[Message] = []
    if churn is None:
        return [Message("msg_no_model_meta")], drivers
    m = churn.metrics
    if "capture_top10" in m:
        params: dict[str, MessageValue] = {"capture": Percent(m["capture_top10"])}
        if "lift_top10" in m:
            params["lift"] = Ratio(m["lift_top10"])
            model.append(Message("msg_lift", params))
        else:
            model.append(Message("msg_capture", params))
        # When most customers churn, even a perfect top 10% holds only a small share of them: say so.
        base = m.get("base_rate", 0.0)
        if base > 0.2:
            model.append(
                Message(
                    "msg_lift_ceiling",
                    {"rate": Percent(base), "max": Percent(min(1.0, 0.1 / base)), "lift": Ratio(1 / base)},
                )
            )
    elif "lift_top10" in m:
        model.append(Message("msg_lift_only", {"lift": Ratio(m["lift_top10"])}))
    if churn.calibration_gap is not None:
        gap = churn.calibration_gap
        key = (
            "msg_calibration_good"
            if gap <= 0.03
            else "msg_calibration_ok"
            if gap <= 0.07
            else "msg_calibration_poor"
        )
        model.append(Message(key, {"gap": Points(gap, signed=False)}))
    if "roc_auc" in m:
        auc = m["roc_auc"]
        key = "msg_auc_strong" if auc >= 0.8 else "msg_auc_useful" if auc >= 0.7 else "msg_auc_weak"
        model.append(Message(key, {"auc": Ratio(auc)}))
    if "base_rate" in m:
        if churn.test_cutoff is not None:
            model.append(
                Message(
                    "msg_base_rate_at",
                    {"rate": Percent(m["base_rate"]), "date": DateValue(churn.test_cutoff)},
                )
            )
        else:
            model.append(Message("msg_base_rate", {"rate": Percent(m["base_rate"])}))
    d = churn.top_drivers
    if len(d):
        drivers.append(
            Message(
                "msg_top_driver",
                {
                    "driver": Text(str(d.iloc[0]["description"]).strip().rstrip(".")),
                    "share": Percent(float(d.iloc[0]["share"])),
                },
            )
        )
        if len(d) >= 3:
            drivers.append(Message("msg_top3_drivers", {"share": Percent(float(d["share"].head(3).sum()))}))
    return model, drivers


def _quality_messages(dq: DataQuality) -> list[Message]:
    out: list[Message] = []
    if dq.rows_quarantined is not None:
        share = dq.rows_quarantined / dq.rows_in if dq.rows_in else 0.0
        out.append(Message("msg_quarantined", {"n": Count(dq.rows_quarantined), "share": Percent(share)}))
        if len(dq.by_reason) and dq.rows_quarantined > 0:
            top = dq.by_reason.iloc[0]
            out.append(
                Message(
                    "msg_top_reason", {"reason": Category(str(top["reason"])), "n": Count(int(top["rows"]))}
                )
            )
    out.extend(_source_messages(dq.source or {}))
    if dq.duplicates_merged is not None:
        out.append(Message("msg_duplicates", {"n": Count(dq.duplicates_merged)}))
    if len(dq.drift):
        drifted = dq.drift[dq.drift["drifted"]] if "drifted" in dq.drift else dq.drift.iloc[0:0]
        compared = dq.drift[dq.drift["status"] != "left out"]
        if len(drifted):
            out.append(
                Message(
                    "msg_drift", {"n": Count(len(drifted)), "feature": Text(str(drifted.iloc[0]["feature"]))}
                )
            )
        else:
            out.append(Message("msg_no_drift", {"n": Count(len(compared))}))
    return out


def _source_messages(source: Mapping[str, Any]) -> list[Message]:
    """The export in its own lines: those without a customer id (and their share of revenue), exact duplicate
    lines and the policy applied, rows left out by the mapping's filter."""
    out: list[Message] = []
    if source.get("unit") == "lines" and "without_customer" in source:
        n, none = int(source["in"]), int(source["without_customer"])
        if none:
            total = float(source.get("net_amount_in", 0.0))
            money = float(source.get("net_amount_without_customer", 0.0))
            out.append(
                Message(
                    "msg_source_lines",
                    {
                        "n": Count(n),
                        "n_none": Count(none),
                        "share": Percent(none / n if n else 0.0),
                        "money": Money(money),
                        "money_share": Percent(money / total if total else 0.0),
                    },
                )
            )
        else:
            out.append(Message("msg_source_lines_all", {"n": Count(n)}))
    if source.get("unit") == "lines" and source.get("exact_duplicates"):
        dropped = str(source.get("exact_duplicates_policy", "")).startswith("dropped")
        out.append(
            Message(
                "msg_source_duplicates_dropped" if dropped else "msg_source_duplicates_kept",
                {
                    "n": Count(int(source["exact_duplicates"])),
                    "money": Money(float(source.get("net_amount_exact_duplicates", 0.0))),
                },
            )
        )
    if source.get("excluded_by_filter"):
        out.append(Message("msg_source_excluded", {"n": Count(int(source["excluded_by_filter"]))}))
    return out


def _movement_messages(kpis: Kpis, mv: Movement) -> list[Message]:
    prev = mv.previous
    out = [
        Message(
            "msg_move_churn",
            {
                "before": Percent(prev.churn_rate),
                "after": Percent(kpis.churn_rate),
                "delta": Points(kpis.churn_rate - prev.churn_rate),
            },
        ),
        Message(
            "msg_move_risk",
            {
                "before": Money(prev.revenue_at_risk),
                "after": Money(kpis.revenue_at_risk),
                "n_before": Count(prev.n_high_risk),
                "n_after": Count(kpis.n_high_risk),
            },
        ),
        Message(
            "msg_move_customers",
            {
                "moved": Count(mv.n_moved),
                "stayed": Count(mv.n_stayed),
                "share": Percent(mv.n_moved / mv.n_stayed if mv.n_stayed else 0.0),
                "new": Count(mv.n_new),
                "gone": Count(mv.n_gone),
            },
        ),
    ]
    if len(mv.transitions):
        t = mv.transitions.iloc[0]
        out.append(
            Message(
                "msg_top_move",
                {
                    "from": Category(str(t["from_segment"])),
                    "to": Category(str(t["to_segment"])),
                    "n": Count(int(t["customers"])),
                },
            )
        )
    return out


def _alive_counts(scores: pd.DataFrame, threshold: float) -> tuple[int | None, int | None]:
    if "p_alive" not in scores.columns:
        return None, None
    high = scores["churn_probability"].to_numpy(dtype=float) >= threshold
    still = still_customer_mask(scores).to_numpy()
    return int((high & still).sum()), int((high & ~still).sum())


def _who_to_save(
    scores: pd.DataFrame, meta: Mapping[str, Any], threshold: float, top_n: int
) -> tuple[WhoToSave | None, list[Message]]:
    """The plan's figures, or ``None`` when the scores carry no uplift columns (older scores)."""
    if "chosen_action" not in scores.columns or "expected_profit" not in scores.columns:
        return None, []
    info = meta.get("uplift") or {}
    n_active, n_lapsed = _alive_counts(scores, threshold)
    profit = pd.to_numeric(scores["expected_profit"], errors="coerce")
    fallback = bool(profit.isna().all())
    cost = info.get("offer_cost")
    margin = info.get("margin")
    msgs: list[Message] = []
    if n_active is not None:
        msgs.append(
            Message(
                "msg_active_at_risk",
                {"n": Count(n_active), "threshold": Percent(threshold, 0), "lapsed": Count(n_lapsed or 0)},
            )
        )
    empty_curve = pd.DataFrame(columns=["share", "contacted", "cost", "profit"])
    if fallback or cost is None:
        # a campaign whose model was not used (e.g. the promotion gate kept it): say why, not "no campaign"
        status = str(info.get("status", ""))
        if status.startswith("no uplift model ("):
            why = (
                status.removeprefix("no uplift model (")
                .removesuffix(": rule-based actions")
                .removesuffix(")")
            )
            msgs.append(Message("msg_who_no_model", {"why": Text(why)}))
        else:
            msgs.append(Message("msg_who_fallback"))
        return (
            WhoToSave(n_active, n_lapsed, 0, 0.0, 0.0, None, None, None, None, empty_curve,
                      pd.DataFrame(columns=["policy", "contacted", "cost", "expected_profit"]),
                      scores.head(0), True),
            msgs,
        )  # fmt: skip
    cost = float(cost)
    chosen = (scores["chosen_action"].astype(object) != NO_ACTION).to_numpy() & profit.notna().to_numpy()
    spend = float(chosen.sum() * cost)
    expected = float(profit[chosen].sum())
    order = np.argsort(-profit.fillna(-np.inf).to_numpy(), kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(profit.fillna(-cost).to_numpy()[order])])
    n = len(scores)
    counts = np.unique(np.round(np.linspace(0, n, 101)).astype(int))
    curve = pd.DataFrame(
        {"share": counts / n, "contacted": counts, "cost": counts * cost, "profit": cum[counts]}
    )
    # the same number of offers, chosen by other rules (expected profit from the same uplift estimates)
    k = int(chosen.sum())
    p = profit.to_numpy(dtype=float)
    risk = scores["churn_probability"].to_numpy(dtype=float)
    ranked = {
        "policy_plan": chosen,
        "policy_risk": _top_mask(risk, k),
        "policy_value_risk": _top_mask(scores["revenue_at_risk"].to_numpy(dtype=float), k),
    }
    policies = pd.DataFrame(
        [
            {
                "policy": key,
                "contacted": int(m.sum()),
                "cost": float(m.sum() * cost),
                "expected_profit": float(np.nansum(p[m])),
            }
            for key, m in ranked.items()
        ]  # fmt: skip
    )
    policies = pd.concat(
        [policies, pd.DataFrame([{"policy": "policy_random", "contacted": k, "cost": k * cost,
                                  "expected_profit": float(np.nanmean(p)) * k if k else 0.0}])],
        ignore_index=True,
    )  # fmt: skip
    cols = ["customer_id", "rfm_segment", "churn_probability", "uplift", "expected_value_12m", "expected_profit",
            "chosen_action"]  # fmt: skip
    contacts = (
        scores.loc[chosen]
        .sort_values(["expected_profit", "customer_id"], ascending=[False, True])
        .head(top_n)
        .reindex(columns=cols)
        .reset_index(drop=True)
    )
    avg = info.get("average_uplift")
    if k:
        msgs.append(
            Message(
                "msg_who_plan",
                {"n": Count(k), "spend": Money(spend), "profit": Money(expected),
                 "ret": Ratio(expected / spend if spend > 0 else 0.0)},
            )
        )  # fmt: skip
    else:
        msgs.append(Message("msg_who_nobody", {"cost": Money(cost)}))
    if avg is not None:
        msgs.append(
            Message(
                "msg_who_campaign", {"uplift": Points(float(avg)), "n": Count(int(info.get("n_treated", 0)))}
            )
        )
    window, horizon = info.get("outcome_window_days"), info.get("horizon_days")
    if window is not None and horizon is not None:
        msgs.append(
            Message("msg_who_churn_window", {"window": Count(int(window)), "horizon": Count(int(horizon))})
        )
    return (
        WhoToSave(n_active, n_lapsed, k, spend, expected, cost, None if margin is None else float(margin),
                  info.get("budget"), None if avg is None else float(avg), curve, policies, contacts, False),
        msgs,
    )  # fmt: skip


def _top_mask(score: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
    mask = np.zeros(len(score), dtype=bool)
    mask[order[:k]] = True
    return mask


def build_report_data(
    scores: pd.DataFrame,
    meta: Mapping[str, Any] | None = None,
    previous: pd.DataFrame | None = None,
    *,
    params: ReportParams | None = None,
    health: ModelHealth | None = None,
) -> ReportData:
    """Compute the management report's figures, tables and findings from a scores table.

    Parameters
    ----------
    scores : DataFrame
        One row per customer, columns of contracts section 7 (at least :data:`SCORES_REQUIRED_COLUMNS`).
    meta : dict, optional
        The scores' sidecar meta (as_of, quality counts, model metrics, calibration, drivers, drift). Sections
        missing from it are left out of the report rather than failing.
    previous : DataFrame, optional
        The previous scoring, for the movement section.
    params : ReportParams, optional
        Threshold, list lengths, currency.
    health : ModelHealth, optional
        Monitoring of earlier scorings (:func:`model_health`), shown as the "Model health" section.

    Returns
    -------
    ReportData

    Raises
    ------
    SchemaError
        If a required column is missing, the table is empty, probabilities leave [0, 1] or ids repeat.

    Examples
    --------
    >>> from custml.report.sample import sample_scores
    >>> scores, meta = sample_scores(300, seed=1)
    >>> data = build_report_data(scores, meta)
    >>> data.kpis.n_customers
    300
    """
    params = params or ReportParams()
    meta = dict(meta or {})
    _check_scores(scores, "scores")
    threshold = params.high_risk_threshold
    models = meta.get("models") or {}
    churn_meta = models.get("churn") or {}
    horizon = params.churn_horizon_days or int(churn_meta.get("horizon_days") or 90)

    kpis = compute_kpis(scores, threshold)
    segments = _group_table(scores, "rfm_segment", SEGMENT_ORDER, threshold, "segment")
    lifecycle = _group_table(scores, "lifecycle_stage", LIFECYCLE_ORDER, threshold, "stage")
    actions = _actions(scores)
    churn = _model_quality("churn", churn_meta)
    repurchase = _model_quality("repurchase", models.get("repurchase"))
    dq = _data_quality(meta, len(scores))
    model_msgs, driver_msgs = _model_messages(churn)
    outlook = ChurnOutlook.from_meta(meta)
    model_msgs = _outlook_messages(outlook, horizon) + model_msgs
    movement = None
    if previous is not None:
        movement = _movement(scores, previous, threshold, params.top_transitions)
    who, who_msgs = _who_to_save(scores, meta, threshold, params.top_customers)
    return ReportData(
        as_of=_first_timestamp(scores, meta, "as_of"),
        scored_at=_first_timestamp(scores, meta, "scored_at"),
        currency=(params.currency or meta.get("currency") or "EUR").upper(),
        churn_horizon_days=horizon,
        high_risk_threshold=threshold,
        kpis=kpis,
        highlights=tuple(_highlights(scores, kpis, segments, actions, threshold)),
        segments=segments,
        lifecycle=lifecycle,
        value_risk=_value_risk(scores),
        risk_histogram=_risk_histogram(scores),
        actions=actions,
        top_customers=_top_customers(scores, threshold, params.top_customers),
        churn_model=churn,
        repurchase_model=repurchase,
        model_messages=tuple(model_msgs),
        driver_messages=tuple(driver_msgs),
        data_quality=dq,
        quality_messages=tuple(_quality_messages(dq)),
        movement=movement,
        movement_messages=tuple(_movement_messages(kpis, movement)) if movement is not None else (),
        health=health,
        who_to_save=who,
        who_messages=tuple(who_msgs),
        outlook=outlook,
    )
