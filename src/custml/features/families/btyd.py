"""Inputs of buy-till-you-die models (BG/NBD, Pareto/NBD, Gamma-Gamma), in days."""

from __future__ import annotations

from custml.features.spec import DAY_COUNT, Family, FeatureSpec

__all__ = ["FEATURES"]

_BTYD = Family("btyd")

FEATURES: tuple[FeatureSpec, ...] = (
    _BTYD.numeric(
        "btyd_frequency",
        "Repeat purchase days: distinct purchase days minus one.",
        f"{DAY_COUNT} - 1",
        "purchase_days",
        high="{value:.0f} repeat purchase days",
        low="only {value:.0f} repeat purchase days",
    ),
    _BTYD.numeric(
        "btyd_recency_days",
        "Days from the first to the last purchase day (0 without repeats).",
        "max(pday) - min(pday)",
        "purchase_days",
        high="bought over a span of {value:.0f} days",
        low="bought over a span of only {value:.0f} days",
    ),
    _BTYD.numeric(
        "btyd_T_days",
        "Days from the first purchase day to the last day before the cutoff.",
        "{last_day} - min(pday)",
        "purchase_days",
        high="first purchase {value:.0f} days ago",
        low="first purchase only {value:.0f} days ago",
        grows_with_time=True,
    ),
    _BTYD.numeric(
        "btyd_monetary",
        "Mean net value of the repeat purchase days, the first purchase day excluded (0 without repeats).",
        "coalesce(sum(net) FILTER (WHERE pday > first_pday) / nullif(count(*) FILTER (WHERE gap > 0), 0), 0)",
        "purchase_days",
        high="repeat purchases worth {value:,.0f} on average",
        low="repeat purchases worth only {value:,.0f} on average",
    ),
)
