"""The rules of the rule-based segmentation as data: RFM grid and cut points, value, activity and lifecycle
thresholds and the tag rules (pydantic models loadable from YAML; :mod:`custml.segment.rules` applies them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from custml.conditions import Condition
from custml.settings import Settings

__all__ = [
    "DEFAULT_RFM_SEGMENTS",
    "DEFAULT_TAG_RULES",
    "ActivityParams",
    "LifecycleParams",
    "RfmParams",
    "RfmSegmentRule",
    "SegmentParams",
    "TagCondition",
    "TagRule",
    "ValueTierParams",
]


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
