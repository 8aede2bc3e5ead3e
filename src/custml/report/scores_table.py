"""The scores table as the report reads it (contracts section 7): required columns, category orders, checks,
and the headline figures every section shares (who is active, who is still a customer, the KPIs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custml.errors import SchemaError

__all__ = [
    "ACTION_ORDER",
    "ALIVE_THRESHOLD",
    "GROUP_COLUMNS",
    "LIFECYCLE_ORDER",
    "NO_ACTION",
    "NO_SEGMENT",
    "RISK_BANDS",
    "SCORES_REQUIRED_COLUMNS",
    "SEGMENT_ORDER",
    "VALUE_TIER_ORDER",
    "Kpis",
    "active_mask",
    "category",
    "check_scores",
    "compute_kpis",
    "first_timestamp",
    "group_table",
    "ordered",
    "still_customer_mask",
    "timestamp",
]

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
#: P(still a customer) at or above which a customer counts as active in the headline (with ``p_alive``).
ALIVE_THRESHOLD = 0.5


def check_scores(scores: pd.DataFrame, table: str) -> None:
    """Fail fast, naming ``table`` and the column, on a frame the report cannot read.

    Raises
    ------
    SchemaError
        If a required column is missing, the table is empty, a figure is not numeric, probabilities leave
        [0, 1] or customer ids repeat.
    """
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


def ordered(values: Sequence[str], order: Sequence[str]) -> list[str]:
    """Known values in ``order``, then the others alphabetically (so new categories are never dropped)."""
    present = list(dict.fromkeys(values))
    known = [v for v in order if v in present]
    return known + sorted(v for v in present if v not in order)


def category(s: pd.Series) -> pd.Series:
    """A category column as strings, missing values as :data:`NO_SEGMENT`."""
    return s.astype("object").where(s.notna(), NO_SEGMENT).astype(str)


def timestamp(value: object) -> pd.Timestamp | None:
    """``value`` as a naive timestamp, or None when it is missing or not a date."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        ts = pd.Timestamp(value)  # anything pandas can read, checked below
    except (ValueError, TypeError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def first_timestamp(scores: pd.DataFrame, given: pd.Timestamp | None, column: str) -> pd.Timestamp | None:
    """``given`` (from the meta), else the latest value of ``column`` in the scores."""
    if given is None and column in scores.columns and scores[column].notna().any():
        return timestamp(pd.to_datetime(scores[column]).max())
    return given


def active_mask(scores: pd.DataFrame) -> pd.Series:
    """Customers whose lifecycle stage is neither ``prospect`` nor ``churned``."""
    return ~category(scores["lifecycle_stage"]).str.lower().isin(_NOT_ACTIVE)


def still_customer_mask(scores: pd.DataFrame) -> pd.Series:
    """Customers who are most likely still customers: lifecycle stage neither ``prospect`` nor ``churned``
    (bought in the last year and not past their own buying rhythm, as the churn model's population) and, when
    the scores carry ``p_alive`` (Pareto/NBD), a probability of still being a customer of at least
    :data:`ALIVE_THRESHOLD`."""
    active = active_mask(scores)
    if "p_alive" in scores.columns:
        alive = pd.to_numeric(scores["p_alive"], errors="coerce")
        active = active & (alive >= ALIVE_THRESHOLD).fillna(False)
    return active


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
    #: High-risk customers who are still customers (:func:`still_customer_mask`) and their 12-month value;
    #: the other high-risk customers have most likely lapsed already.
    n_active_high_risk: int = 0
    active_high_risk_value_12m: float = 0.0
    n_lapsed_high_risk: int = 0


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
    active = active_mask(scores)
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


#: Columns of :func:`group_table` after the group's own column.
GROUP_COLUMNS = (
    "customers",
    "share_customers",
    "churn_risk",
    "high_risk",
    "expected_value_12m",
    "revenue_at_risk",
    "share_revenue_at_risk",
)


def group_table(
    scores: pd.DataFrame, by: str, order: Sequence[str], high_risk_threshold: float, name: str
) -> pd.DataFrame:
    """Customers, mean churn risk, high-risk count, value and revenue at risk (with shares) per value of ``by``,
    in ``order`` (other values after, alphabetically); the group column is called ``name``."""
    df = scores.assign(
        _key=category(scores[by]), _high=(scores["churn_probability"] >= high_risk_threshold).astype(int)
    )
    g = df.groupby("_key", sort=False).agg(
        customers=("customer_id", "size"),
        churn_risk=("churn_probability", "mean"),
        high_risk=("_high", "sum"),
        expected_value_12m=("expected_value_12m", "sum"),
        revenue_at_risk=("revenue_at_risk", "sum"),
    )
    g = g.reindex(ordered(g.index.tolist(), order))
    g["share_customers"] = g["customers"] / g["customers"].sum()
    total_risk = g["revenue_at_risk"].sum()
    g["share_revenue_at_risk"] = g["revenue_at_risk"] / total_risk if total_risk > 0 else 0.0
    g.index.name = name
    out = g.reset_index()
    out["customers"] = out["customers"].astype(int)
    out["high_risk"] = out["high_risk"].astype(int)
    return out[[name, *GROUP_COLUMNS]]
