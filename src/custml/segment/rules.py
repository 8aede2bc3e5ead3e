"""Rule-based customer groups: RFM scores and named segments, value and activity tiers, lifecycle stages, tags.

Every rule below is data (a pydantic model loadable from YAML) and every customer gets exactly one RFM
segment, one value tier, one activity tier and one lifecycle stage, plus zero or more tags.

Rules, in the order they are applied (all thresholds are fields of :class:`SegmentParams`):

**Prospects.** A customer with no order before the cutoff (``frequency_orders`` missing or ``<= 0``, or
``recency_days`` missing) is a prospect: RFM scores are missing, ``rfm_segment`` is ``"Prospect"``, value tier
``"low"``, activity tier ``"no orders"`` and lifecycle stage ``"prospect"``.

**RFM scores** (customers with orders only). Each of R, F and M is a quintile score 1..5 computed from the
mid-rank percentile ``p = (average rank - 0.5) / n`` as ``score = floor(5 p) + 1``; tied values always share a
score. R is scored on ``-recency_days`` (recent = 5), F on ``frequency_orders``, M on ``monetary_total``. With
``method="fixed"`` the scores come from four ascending cut points per measure instead (a value equal to a cut
point goes to the higher score; for recency the cut points are in days and a lower recency scores higher).
``rfm_score`` is the string ``f"{R}{F}{M}"``.

**Named RFM segment.** ``FM = floor((F + M) / 2 + 0.5)`` and the (R, FM) grid cell is looked up in
:attr:`RfmParams.segments`, a list of rectangles that must tile the 5 x 5 grid exactly (checked when the
parameters are built). The default is the classic grid: Champions (R5, FM4-5), Loyal (R3-4, FM4-5),
Potential loyalist (R4-5, FM2-3), New (R5, FM1), Promising (R4, FM1), Need attention (R3, FM3), About to sleep
(R3, FM1-2), At risk (R1-2, FM3-4), Cannot lose (R1-2, FM5), Hibernating (R2, FM1-2), Lost (R1, FM1-2).

**Value tier** from 12-month value (``revenue_365d``): ``quantile`` (default) puts the top 20 % of customers
with a *positive* value in ``high`` and the next 30 % in ``medium`` (a value equal to a threshold goes to the
higher tier); ``share`` ranks customers by value and puts those that make up the first 50 % of total value in
``high`` and up to 80 % in ``medium`` (Pareto); ``absolute`` uses currency thresholds. A missing, zero or
negative value is always ``low``.

**Activity tier** against the customer's own cadence: ``ratio = recency_days / expected_gap`` where the
expected gap is the customer's ``gap_mean_days`` when they have at least two orders, otherwise the
population cadence (median ``gap_mean_days`` of repeat customers; ``default_gap_days`` if there are none); the
gap is floored at ``min_gap_days``. ``active`` if ``ratio <= 1.5``, ``normal`` if ``ratio <= 3``, ``dormant``
otherwise.

**Lifecycle stage**, first match wins: ``prospect`` (no order); ``new`` (first order at most
``new_max_tenure_days`` = 90 days before the cutoff and at most ``new_max_orders`` = 2 orders); ``churned``
(``recency_days > churned_recency_days`` = 365, or cadence ratio above ``churned_ratio`` = 6 with recency
above ``churned_min_recency_days`` = 180); ``at risk`` (activity tier dormant); ``loyal`` (at least
``loyal_min_orders`` = 5 orders and first order at least ``loyal_min_tenure_days`` = 365 days ago);
``active`` otherwise.

**Tags** are :class:`TagRule` objects: a tag applies when all its conditions hold; a condition on a missing
value is false and a rule naming a column that the frame does not have is skipped (optional tables may be
absent). Conditions may also use the derived columns ``r_score``, ``f_score``, ``m_score``, ``rfm_segment``,
``value_tier``, ``activity_tier``, ``lifecycle_stage``, ``cadence_ratio`` and ``value_percentile``. Tags are
joined with ``";"`` in rule order (an empty string when none applies).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, field_validator, model_validator

from custml.conditions import Condition
from custml.errors import SchemaError
from custml.settings import Settings

__all__ = [
    "DEFAULT_RFM_SEGMENTS",
    "DEFAULT_TAG_RULES",
    "LIFECYCLE_STAGES",
    "ActivityParams",
    "LifecycleParams",
    "RfmParams",
    "RfmSegmentRule",
    "SegmentParams",
    "Condition",
    "TagCondition",
    "TagRule",
    "ValueTierParams",
    "activity_tiers",
    "assign_segments",
    "cadence_ratio",
    "customer_tags",
    "has_orders",
    "lifecycle_stages",
    "quintile_scores",
    "rfm_grid_frame",
    "rfm_scores",
    "rfm_segments",
    "segment_rules_frame",
    "value_tiers",
]

logger = logging.getLogger(__name__)

TABLE = "features"
LIFECYCLE_STAGES: tuple[str, ...] = ("prospect", "new", "active", "loyal", "at risk", "churned")
VALUE_TIERS: tuple[str, ...] = ("high", "medium", "low")


# --------------------------------------------------------------------------------------------------------
# Parameters (all rules as data)
# --------------------------------------------------------------------------------------------------------


class _Params(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RfmSegmentRule(_Params):
    """One rectangle of the (R, FM) grid: ``r`` and ``fm`` are inclusive score ranges (1..5)."""

    segment: str
    r: tuple[int, int]
    fm: tuple[int, int]

    @field_validator("r", "fm")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        lo, hi = v
        if not (1 <= lo <= hi <= 5):
            raise ValueError(f"score range must satisfy 1 <= low <= high <= 5, got {list(v)}")
        return v


DEFAULT_RFM_SEGMENTS: tuple[RfmSegmentRule, ...] = (
    RfmSegmentRule(segment="Champions", r=(5, 5), fm=(4, 5)),
    RfmSegmentRule(segment="Loyal", r=(3, 4), fm=(4, 5)),
    RfmSegmentRule(segment="Potential loyalist", r=(4, 5), fm=(2, 3)),
    RfmSegmentRule(segment="New", r=(5, 5), fm=(1, 1)),
    RfmSegmentRule(segment="Promising", r=(4, 4), fm=(1, 1)),
    RfmSegmentRule(segment="Need attention", r=(3, 3), fm=(3, 3)),
    RfmSegmentRule(segment="About to sleep", r=(3, 3), fm=(1, 2)),
    RfmSegmentRule(segment="At risk", r=(1, 2), fm=(3, 4)),
    RfmSegmentRule(segment="Cannot lose", r=(1, 2), fm=(5, 5)),
    RfmSegmentRule(segment="Hibernating", r=(2, 2), fm=(1, 2)),
    RfmSegmentRule(segment="Lost", r=(1, 1), fm=(1, 2)),
)


class RfmParams(_Params):
    """How R, F and M are scored and how (R, FM) cells map to named segments."""

    recency_column: str = "recency_days"
    frequency_column: str = "frequency_orders"
    monetary_column: str = "monetary_total"
    method: Literal["quantile", "fixed"] = "quantile"
    # Four ascending cut points per measure, used when method == "fixed".
    recency_edges: tuple[float, float, float, float] = (30.0, 90.0, 180.0, 365.0)
    frequency_edges: tuple[float, float, float, float] = (2.0, 3.0, 5.0, 10.0)
    monetary_edges: tuple[float, float, float, float] = (100.0, 250.0, 500.0, 1000.0)
    segments: tuple[RfmSegmentRule, ...] = DEFAULT_RFM_SEGMENTS
    prospect_segment: str = "Prospect"

    @field_validator("recency_edges", "frequency_edges", "monetary_edges")
    @classmethod
    def _ascending(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"cut points must be strictly ascending, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _tiles_grid(self) -> RfmParams:
        owner: dict[tuple[int, int], str] = {}
        for rule in self.segments:
            for r in range(rule.r[0], rule.r[1] + 1):
                for fm in range(rule.fm[0], rule.fm[1] + 1):
                    if (r, fm) in owner:
                        raise ValueError(
                            f"RFM cell R={r}, FM={fm} is claimed by both '{owner[(r, fm)]}' and '{rule.segment}'"
                        )
                    owner[(r, fm)] = rule.segment
        missing = [f"R={r}, FM={fm}" for r in range(1, 6) for fm in range(1, 6) if (r, fm) not in owner]
        if missing:
            raise ValueError(f"RFM segment rules leave cells without a segment: {', '.join(missing)}")
        return self

    def grid(self) -> dict[tuple[int, int], str]:
        """``{(r, fm): segment}`` for all 25 cells."""
        return {
            (r, fm): rule.segment
            for rule in self.segments
            for r in range(rule.r[0], rule.r[1] + 1)
            for fm in range(rule.fm[0], rule.fm[1] + 1)
        }


class ValueTierParams(_Params):
    """Value tiers (high / medium / low) from one value column (see module docstring)."""

    column: str = "revenue_365d"
    method: Literal["quantile", "share", "absolute"] = "quantile"
    # quantile: share of positive-value customers in the high tier, and in high + medium together.
    high_top_fraction: float = Field(0.2, gt=0, lt=1)
    medium_top_fraction: float = Field(0.5, gt=0, le=1)
    # share: cumulative share of total value covered by the high tier, and by high + medium together.
    high_value_share: float = Field(0.5, gt=0, lt=1)
    medium_value_share: float = Field(0.8, gt=0, le=1)
    # absolute: minimum value (currency) for high and for medium.
    high_min_value: float = 1000.0
    medium_min_value: float = 250.0

    @model_validator(mode="after")
    def _ordered(self) -> ValueTierParams:
        if self.medium_top_fraction <= self.high_top_fraction:
            raise ValueError("medium_top_fraction must be larger than high_top_fraction")
        if self.medium_value_share <= self.high_value_share:
            raise ValueError("medium_value_share must be larger than high_value_share")
        if self.medium_min_value >= self.high_min_value:
            raise ValueError("medium_min_value must be smaller than high_min_value")
        return self


class ActivityParams(_Params):
    """Activity tier from recency relative to the customer's own purchase cadence."""

    gap_column: str = "gap_mean_days"
    active_max_ratio: float = Field(1.5, gt=0)
    normal_max_ratio: float = Field(3.0, gt=0)
    min_gap_days: float = Field(7.0, gt=0)
    default_gap_days: float = Field(90.0, gt=0)
    no_orders_label: str = "no orders"

    @model_validator(mode="after")
    def _ordered(self) -> ActivityParams:
        if self.normal_max_ratio <= self.active_max_ratio:
            raise ValueError("normal_max_ratio must be larger than active_max_ratio")
        return self


class LifecycleParams(_Params):
    """Thresholds of the lifecycle stages (see module docstring for the order of the rules)."""

    tenure_column: str = "tenure_days"
    new_max_tenure_days: float = 90.0
    new_max_orders: int = 2
    churned_recency_days: float = 365.0
    churned_ratio: float = 6.0
    churned_min_recency_days: float = 180.0
    loyal_min_orders: int = 5
    loyal_min_tenure_days: float = 365.0


# The condition of a tag rule (the name the segment API has always used).
TagCondition = Condition


class TagRule(_Params):
    """A tag and the conditions (all must hold) under which a customer gets it."""

    tag: str
    when: tuple[TagCondition, ...]
    description: str = ""

    @field_validator("tag")
    @classmethod
    def _no_separator(cls, v: str) -> str:
        if ";" in v or not v.strip():
            raise ValueError(f"tag must be non-empty and must not contain ';', got {v!r}")
        return v


def _cond(column: str, op: str, value: Any) -> TagCondition:
    return TagCondition(column=column, op=op, value=value)


DEFAULT_TAG_RULES: tuple[TagRule, ...] = (
    TagRule(tag="new", when=(_cond("lifecycle_stage", "==", "new"),), description="lifecycle stage is new"),
    TagRule(tag="one-time", when=(_cond("frequency_orders", "==", 1),), description="exactly one order"),
    TagRule(tag="returning", when=(_cond("frequency_orders", ">=", 2),), description="two or more orders"),
    TagRule(
        tag="VIP",
        when=(_cond("value_percentile", ">=", 0.95),),
        description="top 5 % of customers with a positive 12-month value",
    ),
    TagRule(
        tag="complainer",
        when=(_cond("complaints_365d", ">=", 2),),
        description="two or more complaints in the last 365 days",
    ),
    TagRule(
        tag="open complaint",
        when=(_cond("open_complaints", ">=", 1),),
        description="at least one complaint still open",
    ),
    TagRule(
        tag="discount-driven",
        when=(_cond("discount_share_365d", ">=", 0.5), _cond("orders_365d", ">=", 2)),
        description="at least half of the last year's orders used a discount (two orders or more)",
    ),
    TagRule(
        tag="unhappy",
        when=(_cond("satisfaction_mean", "<=", 2.0),),
        description="mean satisfaction score of 2 or less",
    ),
    TagRule(
        tag="app-first",
        when=(_cond("share_channel_app", ">=", 0.5),),
        description="at least half of the orders through the app",
    ),
    TagRule(
        tag="email-engaged",
        when=(_cond("email_open_rate_90d", ">=", 0.5),),
        description="opened at least half of the emails of the last 90 days",
    ),
    TagRule(
        tag="lapsed high-value",
        when=(_cond("m_score", ">=", 4), _cond("activity_tier", "==", "dormant")),
        description="M score 4-5 and dormant",
    ),
)


class SegmentParams(_Params):
    """All rule-based segmentation parameters; load from YAML with :func:`custml.config.load_params`."""

    rfm: RfmParams = RfmParams()
    value: ValueTierParams = ValueTierParams()
    activity: ActivityParams = ActivityParams()
    lifecycle: LifecycleParams = LifecycleParams()
    tags: tuple[TagRule, ...] = Field(DEFAULT_TAG_RULES, max_length=62)


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------


def _require(features: pd.DataFrame, columns: Sequence[str]) -> None:
    for col in columns:
        if col not in features.columns:
            raise SchemaError(TABLE, col, "required column is missing", n_rows=0)


def _numeric(features: pd.DataFrame, column: str) -> pd.Series:
    """Column as float (nullable ints/NA -> NaN), raising if it is not numeric."""
    col = features[column]
    num = col.astype(float) if pd.api.types.is_bool_dtype(col) else pd.to_numeric(col, errors="coerce")
    bad = num.isna() & col.notna()
    if bad.any():
        raise SchemaError(TABLE, column, f"must be numeric (dtype {col.dtype})", n_rows=int(bad.sum()))
    return pd.Series(np.asarray(num.to_numpy(dtype=float, na_value=np.nan)), index=col.index)


def has_orders(features: pd.DataFrame, params: RfmParams | None = None) -> pd.Series:
    """Boolean Series: True where the customer has at least one order (not a prospect)."""
    params = params or RfmParams()
    _require(features, [params.recency_column, params.frequency_column])
    freq = _numeric(features, params.frequency_column)
    rec = _numeric(features, params.recency_column)
    return (freq > 0) & rec.notna()


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Quintile scores 1..5 from mid-rank percentiles; ties share a score, NaN stays missing.

    Examples
    --------
    >>> quintile_scores(pd.Series([10.0, 20, 30, 40, 50])).tolist()
    [1, 2, 3, 4, 5]
    >>> quintile_scores(pd.Series([1.0, 1, 1, 9])).tolist()
    [2, 2, 2, 5]
    """
    v = values.astype(float)
    if not higher_is_better:
        v = -v
    n = int(v.notna().sum())
    out = pd.Series(pd.NA, index=values.index, dtype="Int8")
    if n == 0:
        return out
    pct = (v.rank(method="average") - 0.5) / n
    score = np.floor(pct * 5).clip(0, 4) + 1
    out[score.notna()] = score[score.notna()].astype("int8")
    return out


def _fixed_scores(values: pd.Series, edges: Sequence[float], *, higher_is_better: bool) -> pd.Series:
    binned = np.searchsorted(np.asarray(edges, dtype=float), values.to_numpy(dtype=float), side="right")
    score = binned + 1 if higher_is_better else 5 - binned
    if not higher_is_better:
        # A recency equal to a cut point belongs to the better (higher) score.
        at_edge = np.isin(values.to_numpy(dtype=float), np.asarray(edges, dtype=float))
        score = np.where(at_edge, score + 1, score)
    out = pd.Series(score, index=values.index).astype("Int8")
    out[values.isna()] = pd.NA
    return out


# --------------------------------------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------------------------------------


def rfm_scores(features: pd.DataFrame, params: RfmParams | None = None) -> pd.DataFrame:
    """R, F and M scores (1..5, nullable ``Int8``) and ``rfm_score`` string; prospects get missing values.

    Quantiles are computed over customers with orders only, so adding prospects never shifts a score.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [5.0, 200.0],
    ...                   "frequency_orders": [4, 1], "monetary_total": [400.0, 20.0]})
    >>> rfm_scores(f)["rfm_score"].tolist()
    ['444', '222']
    """
    params = params or RfmParams()
    _require(features, [params.recency_column, params.frequency_column, params.monetary_column])
    buyer = has_orders(features, params)
    rec = _numeric(features, params.recency_column).where(buyer)
    freq = _numeric(features, params.frequency_column).where(buyer)
    mon = _numeric(features, params.monetary_column).where(buyer)
    # A buyer whose monetary value is missing scores as zero value rather than dropping out.
    mon = mon.where(~(buyer & mon.isna()), 0.0)
    if params.method == "quantile":
        r = quintile_scores(rec, higher_is_better=False)
        f = quintile_scores(freq)
        m = quintile_scores(mon)
    else:
        r = _fixed_scores(rec, params.recency_edges, higher_is_better=False)
        f = _fixed_scores(freq, params.frequency_edges, higher_is_better=True)
        m = _fixed_scores(mon, params.monetary_edges, higher_is_better=True)
    code = r.astype(str) + f.astype(str) + m.astype(str)
    code = code.astype(object)
    code[~buyer] = None
    return pd.DataFrame({"rfm_score": code, "r_score": r, "f_score": f, "m_score": m}, index=features.index)


def rfm_segments(scores: pd.DataFrame, params: RfmParams | None = None) -> pd.Series:
    """Named RFM segment per row of :func:`rfm_scores` output (``prospect_segment`` where scores are missing)."""
    params = params or RfmParams()
    grid = params.grid()
    r = scores["r_score"]
    fm = np.floor((scores["f_score"].astype(float) + scores["m_score"].astype(float)) / 2 + 0.5)
    lookup = np.full((6, 6), None, dtype=object)
    for (ri, fmi), name in grid.items():
        lookup[ri, fmi] = name
    ok = r.notna() & fm.notna()
    out = pd.Series(params.prospect_segment, index=scores.index, dtype=object)
    if ok.any():
        out[ok] = lookup[r[ok].astype(int).to_numpy(), fm[ok].astype(int).to_numpy()]
    return out


def rfm_grid_frame(params: RfmParams | None = None) -> pd.DataFrame:
    """The (R, FM) -> segment mapping as a 5 x 5 frame (rows R 5..1, columns FM 1..5), for docs and plots."""
    params = params or RfmParams()
    grid = params.grid()
    return pd.DataFrame(
        [[grid[(r, fm)] for fm in range(1, 6)] for r in range(5, 0, -1)],
        index=pd.Index(range(5, 0, -1), name="R"),
        columns=pd.Index(range(1, 6), name="FM"),
    )


# --------------------------------------------------------------------------------------------------------
# Tiers and stages
# --------------------------------------------------------------------------------------------------------


def _value_percentile(value: pd.Series) -> pd.Series:
    """Percentile (0..1, max-rank so ties share the top) among customers with a positive value; else NaN."""
    pos = value.where(value > 0)
    n = int(pos.notna().sum())
    if n == 0:
        return pos
    return pos.rank(method="max") / n


def value_tiers(features: pd.DataFrame, params: ValueTierParams | None = None) -> pd.Series:
    """``high`` / ``medium`` / ``low`` per customer (see module docstring); missing or <= 0 value is ``low``.

    Examples
    --------
    >>> f = pd.DataFrame({"revenue_365d": [0.0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]})
    >>> value_tiers(f).tolist()
    ['low', 'low', 'low', 'low', 'low', 'low', 'medium', 'medium', 'medium', 'high', 'high']
    """
    params = params or ValueTierParams()
    _require(features, [params.column])
    value = _numeric(features, params.column)
    pos = value > 0
    tier = pd.Series("low", index=features.index, dtype=object)
    if not pos.any():
        return tier
    if params.method == "absolute":
        tier[pos & (value >= params.medium_min_value)] = "medium"
        tier[pos & (value >= params.high_min_value)] = "high"
        return tier
    if params.method == "quantile":
        vals = value[pos]
        high_cut = vals.quantile(1 - params.high_top_fraction, interpolation="higher")
        medium_cut = vals.quantile(1 - params.medium_top_fraction, interpolation="higher")
        tier[pos & (value >= medium_cut)] = "medium"
        tier[pos & (value >= high_cut)] = "high"
        return tier
    # share: descending value, share of total covered by the customers ranked strictly above each one.
    vals = value[pos].sort_values(ascending=False, kind="mergesort")
    before = (vals.cumsum() - vals) / vals.sum()
    tier[before.index[(before < params.medium_value_share).to_numpy()]] = "medium"
    tier[before.index[(before < params.high_value_share).to_numpy()]] = "high"
    return tier


def cadence_ratio(
    features: pd.DataFrame, params: ActivityParams | None = None, rfm: RfmParams | None = None
) -> pd.Series:
    """``recency_days / expected gap`` per customer (NaN for prospects); see module docstring.

    The population cadence used for one-order customers is the median ``gap_mean_days`` of customers with
    two or more orders in ``features`` itself.
    """
    params = params or ActivityParams()
    rfm = rfm or RfmParams()
    buyer = has_orders(features, rfm)
    rec = _numeric(features, rfm.recency_column)
    freq = _numeric(features, rfm.frequency_column)
    if params.gap_column in features.columns:
        gap = _numeric(features, params.gap_column)
    else:
        logger.info("features: no '%s' column; every customer uses the default cadence", params.gap_column)
        gap = pd.Series(np.nan, index=features.index)
    own = gap.where((freq >= 2) & (gap > 0))
    population = float(own[buyer].median()) if own[buyer].notna().any() else params.default_gap_days
    expected = own.fillna(population).clip(lower=params.min_gap_days)
    return (rec / expected).where(buyer)


def activity_tiers(
    features: pd.DataFrame,
    params: ActivityParams | None = None,
    rfm: RfmParams | None = None,
    *,
    ratio: pd.Series | None = None,
) -> pd.Series:
    """``active`` / ``normal`` / ``dormant`` from :func:`cadence_ratio`; prospects get ``no_orders_label``.

    Examples
    --------
    >>> f = pd.DataFrame({"recency_days": [30.0, 60, 61, 200, None], "frequency_orders": [3, 3, 3, 3, 0],
    ...                   "gap_mean_days": [20.0, 20, 20, 20, None]})
    >>> activity_tiers(f).tolist()
    ['active', 'normal', 'dormant', 'dormant', 'no orders']
    """
    params = params or ActivityParams()
    ratio = cadence_ratio(features, params, rfm) if ratio is None else ratio
    tier = pd.Series(params.no_orders_label, index=features.index, dtype=object)
    buyer = ratio.notna()
    tier[buyer] = "dormant"
    tier[buyer & (ratio <= params.normal_max_ratio)] = "normal"
    tier[buyer & (ratio <= params.active_max_ratio)] = "active"
    return tier


def lifecycle_stages(
    features: pd.DataFrame,
    params: LifecycleParams | None = None,
    rfm: RfmParams | None = None,
    activity: ActivityParams | None = None,
    *,
    ratio: pd.Series | None = None,
) -> pd.Series:
    """One lifecycle stage per customer (first matching rule wins; see module docstring).

    If the tenure column is missing, no customer is ``new`` and ``loyal`` needs only the order count.
    """
    params = params or LifecycleParams()
    rfm = rfm or RfmParams()
    activity = activity or ActivityParams()
    ratio = cadence_ratio(features, activity, rfm) if ratio is None else ratio
    buyer = has_orders(features, rfm)
    rec = _numeric(features, rfm.recency_column)
    freq = _numeric(features, rfm.frequency_column)
    if params.tenure_column in features.columns:
        tenure = _numeric(features, params.tenure_column)
        is_new = (tenure <= params.new_max_tenure_days) & (freq <= params.new_max_orders)
        long_tenure = tenure >= params.loyal_min_tenure_days
    else:
        logger.info("features: no '%s' column; lifecycle stages skip 'new'", params.tenure_column)
        is_new = pd.Series(False, index=features.index)
        long_tenure = pd.Series(True, index=features.index)
    churned = (rec > params.churned_recency_days) | (
        (ratio > params.churned_ratio) & (rec > params.churned_min_recency_days)
    )
    at_risk = ratio > activity.normal_max_ratio
    loyal = (freq >= params.loyal_min_orders) & long_tenure
    conditions = [~buyer, buyer & is_new, buyer & churned, buyer & at_risk, buyer & loyal]
    choices = ["prospect", "new", "churned", "at risk", "loyal"]
    stage = np.select([c.fillna(False).to_numpy(dtype=bool) for c in conditions], choices, default="active")
    return pd.Series(stage, index=features.index, dtype=object)


def customer_tags(frame: pd.DataFrame, rules: Sequence[TagRule] = DEFAULT_TAG_RULES) -> pd.Series:
    """``";"``-joined tags per row (``""`` when none); rules naming an absent column are skipped.

    Examples
    --------
    >>> f = pd.DataFrame({"frequency_orders": [1, 3], "complaints_365d": [0, 4]})
    >>> customer_tags(f).tolist()
    ['one-time', 'returning;complainer']
    """
    hits: list[np.ndarray] = []
    names: list[str] = []
    for rule in rules:
        missing = [c.column for c in rule.when if c.column not in frame.columns]
        if missing:
            logger.info("tag '%s' skipped: column(s) %s not in features", rule.tag, ", ".join(missing))
            continue
        hit = np.ones(len(frame), dtype=bool)
        for cond in rule.when:
            hit &= cond.mask(frame)
        hits.append(hit)
        names.append(rule.tag)
    if not hits:
        return pd.Series("", index=frame.index, dtype=object)
    # Join per distinct combination of tags, not per row: a million rows share a few hundred combinations.
    codes = np.zeros(len(frame), dtype=np.int64)
    for bit, hit in enumerate(hits):
        codes |= hit.astype(np.int64) << bit
    combos, inverse = np.unique(codes, return_inverse=True)
    labels = np.array(
        [";".join(n for bit, n in enumerate(names) if (code >> bit) & 1) for code in combos.tolist()],
        dtype=object,
    )
    return pd.Series(labels[inverse.ravel()], index=frame.index, dtype=object)


# --------------------------------------------------------------------------------------------------------
# All at once
# --------------------------------------------------------------------------------------------------------


def assign_segments(features: pd.DataFrame, params: SegmentParams | None = None) -> pd.DataFrame:
    """RFM scores and segment, value tier, activity tier, lifecycle stage and tags for every customer.

    Parameters
    ----------
    features : DataFrame
        One row per customer with ``customer_id`` and the feature columns (``recency_days``,
        ``frequency_orders``, ``monetary_total``, ``revenue_365d``; optional ``gap_mean_days``,
        ``tenure_days`` and the columns tag rules use). Prospects (no orders) have missing order features.
    params : SegmentParams, optional
        Rule thresholds and mappings.

    Returns
    -------
    DataFrame
        ``customer_id, rfm_score, r_score, f_score, m_score, rfm_segment, value_tier, activity_tier,
        lifecycle_stage, tags`` in the row order of ``features`` (index reset).

    Raises
    ------
    SchemaError
        If a required column is missing or non-numeric, or ``customer_id`` has missing or duplicated values.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "recency_days": [3.0, 400, 60, None],
    ...     "frequency_orders": [6, 1, 2, None], "monetary_total": [900.0, 30, 200, None],
    ...     "revenue_365d": [500.0, 0, 200, None], "tenure_days": [700.0, 500, 80, None],
    ...     "gap_mean_days": [40.0, None, 30, None]})
    >>> out = assign_segments(f)
    >>> out[["rfm_score", "rfm_segment", "value_tier", "lifecycle_stage"]].values.tolist()
    [['555', 'Champions', 'high', 'loyal'], ['111', 'Lost', 'low', 'churned'], ['333', 'Need attention', 'low', 'new'], [None, 'Prospect', 'low', 'prospect']]
    >>> out["tags"].tolist()
    ['returning;VIP', 'one-time', 'new;returning', '']
    """
    params = params or SegmentParams()
    _require(features, ["customer_id"])
    ids = features["customer_id"]
    if ids.isna().any():
        raise SchemaError(TABLE, "customer_id", "has missing values", n_rows=int(ids.isna().sum()))
    dup = ids.duplicated()
    if dup.any():
        raise SchemaError(TABLE, "customer_id", "has duplicated values", n_rows=int(dup.sum()))
    feats = features.reset_index(drop=True)
    scores = rfm_scores(feats, params.rfm)
    segment = rfm_segments(scores, params.rfm)
    value = value_tiers(feats, params.value)
    ratio = cadence_ratio(feats, params.activity, params.rfm)
    activity = activity_tiers(feats, params.activity, params.rfm, ratio=ratio)
    stage = lifecycle_stages(feats, params.lifecycle, params.rfm, params.activity, ratio=ratio)
    out = pd.DataFrame(
        {
            "customer_id": feats["customer_id"],
            "rfm_score": scores["rfm_score"],
            "r_score": scores["r_score"],
            "f_score": scores["f_score"],
            "m_score": scores["m_score"],
            "rfm_segment": segment,
            "value_tier": value,
            "activity_tier": activity,
            "lifecycle_stage": stage,
        }
    )
    derived = pd.DataFrame(
        {
            "cadence_ratio": ratio,
            "value_percentile": _value_percentile(_numeric(feats, params.value.column)),
        }
    )
    extra = feats.drop(columns=[c for c in (*out.columns, *derived.columns) if c in feats.columns])
    tag_frame = pd.concat([extra, out, derived], axis=1)
    out["tags"] = customer_tags(tag_frame, params.tags)
    logger.info("segments assigned: %d customers, %d prospects", len(out), int((stage == "prospect").sum()))
    return out


def segment_rules_frame(params: SegmentParams | None = None) -> pd.DataFrame:
    """Every rule as one row (kind, label, rule in words), for documentation and reports."""
    params = params or SegmentParams()
    rows: list[dict[str, str]] = []
    for rule in params.rfm.segments:
        rows.append(
            {
                "kind": "rfm_segment",
                "label": rule.segment,
                "rule": f"R in {rule.r[0]}..{rule.r[1]} and FM in {rule.fm[0]}..{rule.fm[1]}",
            }
        )
    rows.append({"kind": "rfm_segment", "label": params.rfm.prospect_segment, "rule": "no order"})
    v = params.value
    if v.method == "quantile":
        vr = (
            f"top {v.high_top_fraction:.0%} of positive {v.column}",
            f"next to top {v.medium_top_fraction:.0%} of positive {v.column}",
        )
    elif v.method == "share":
        vr = (
            f"first {v.high_value_share:.0%} of total {v.column}",
            f"up to {v.medium_value_share:.0%} of total {v.column}",
        )
    else:
        vr = (f"{v.column} >= {v.high_min_value:g}", f"{v.column} >= {v.medium_min_value:g}")
    rows += [
        {"kind": "value_tier", "label": "high", "rule": vr[0]},
        {"kind": "value_tier", "label": "medium", "rule": vr[1]},
        {"kind": "value_tier", "label": "low", "rule": "otherwise (incl. missing or <= 0)"},
    ]
    a = params.activity
    rows += [
        {
            "kind": "activity_tier",
            "label": "active",
            "rule": f"recency / own cadence <= {a.active_max_ratio:g}",
        },
        {
            "kind": "activity_tier",
            "label": "normal",
            "rule": f"recency / own cadence <= {a.normal_max_ratio:g}",
        },
        {"kind": "activity_tier", "label": "dormant", "rule": "otherwise"},
        {"kind": "activity_tier", "label": a.no_orders_label, "rule": "no order"},
    ]
    lc = params.lifecycle
    rows += [
        {"kind": "lifecycle_stage", "label": "prospect", "rule": "no order"},
        {
            "kind": "lifecycle_stage",
            "label": "new",
            "rule": f"first order <= {lc.new_max_tenure_days:g} days ago and <= {lc.new_max_orders} orders",
        },
        {
            "kind": "lifecycle_stage",
            "label": "churned",
            "rule": f"recency > {lc.churned_recency_days:g} days, or cadence ratio > {lc.churned_ratio:g} "
            f"and recency > {lc.churned_min_recency_days:g} days",
        },
        {"kind": "lifecycle_stage", "label": "at risk", "rule": "activity tier dormant"},
        {
            "kind": "lifecycle_stage",
            "label": "loyal",
            "rule": f">= {lc.loyal_min_orders} orders and first order >= {lc.loyal_min_tenure_days:g} days ago",
        },
        {"kind": "lifecycle_stage", "label": "active", "rule": "otherwise"},
    ]
    for t in params.tags:
        cond = " and ".join(f"{c.column} {c.op} {c.value}" for c in t.when)
        rows.append({"kind": "tag", "label": t.tag, "rule": cond})
    return pd.DataFrame(rows)
