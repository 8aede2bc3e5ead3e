"""Is the customer speeding up or slowing down? Spend ratios, the monthly spend slope and purchase gaps."""

from __future__ import annotations

from custml.features.spec import NOT_REFUND, PERIOD_DAYS, SLOPE_PERIODS, Family, FeatureSpec

__all__ = ["FEATURES"]

_TREND = Family("trend")


def _slope_sql() -> str:
    # OLS slope of net spend per 30-day period on the period index (time increasing), over the last
    # min(12, periods since the first order) periods, periods without orders counting as 0. With j the period
    # of an order (0 = the latest), n periods and x = -j, the slope is sum((n-1)/2 - j) * net / (n(n^2-1)/12):
    # two sums over order rows, no per-period table needed.
    p, k = PERIOD_DAYS, SLOPE_PERIODS
    # CASE, not least(): least() skips nulls in DuckDB and Spark, which would give refund-only customers a slope.
    first = f"max(age) FILTER (WHERE {NOT_REFUND})"
    n = f"(CASE WHEN {first} > {k * p} THEN {k}e0 ELSE ceil({first} / {p}e0) END)"
    s0 = f"coalesce(sum(net) FILTER (WHERE age <= {k * p}), 0)"
    s1 = f"coalesce(sum(net * (ceil(age / {p}e0) - 1)) FILTER (WHERE age <= {k * p}), 0)"
    return f"CASE WHEN {n} >= 2 THEN (({n} - 1) / 2e0 * {s0} - {s1}) / ({n} * ({n} * {n} - 1) / 12e0) END"


FEATURES: tuple[FeatureSpec, ...] = (
    _TREND.numeric(
        "revenue_30d_vs_prev90d",
        "Net revenue of the last 30 days over the 30-day average of the 90 days before (null if that was 0).",
        "CASE WHEN sum(net) FILTER (WHERE age > 30 AND age <= 120) > 0 THEN "
        "coalesce(sum(net) FILTER (WHERE age <= 30), 0) "
        "/ (sum(net) FILTER (WHERE age > 30 AND age <= 120) / 3e0) END",
        "recent_orders",
        high="spending {value:.1f}x the usual monthly amount lately",
        low="spending only {value:.1f}x the usual monthly amount lately",
        window=120,
    ),
    _TREND.numeric(
        "monthly_spend_slope",
        f"Slope of net spend per {PERIOD_DAYS}-day period over the last {SLOPE_PERIODS} periods "
        "(or since the first order), change per period.",
        _slope_sql(),
        "orders",
        high="monthly spend rising by {value:,.0f} per month",
        low="monthly spend falling by {value:,.0f} per month",
        window=SLOPE_PERIODS * PERIOD_DAYS,
    ),
    _TREND.numeric(
        "gap_mean_days",
        "Mean days between consecutive purchase days (null with fewer than 2).",
        "avg(gap) FILTER (WHERE gap > 0)",
        "purchase_days",
        high="buys rarely (every {value:.0f} days on average)",
        low="buys often (every {value:.0f} days on average)",
    ),
    _TREND.numeric(
        "gap_std_days",
        "Standard deviation (population) of the days between consecutive purchase days.",
        "stddev_pop(gap) FILTER (WHERE gap > 0)",
        "purchase_days",
        high="irregular buying rhythm (gap spread {value:.0f} days)",
        low="regular buying rhythm (gap spread {value:.0f} days)",
    ),
    _TREND.numeric(
        "overdue_ratio",
        "Days since the last order over the mean gap between purchase days (null with fewer than 2).",
        "min(age) / avg(gap) FILTER (WHERE gap > 0)",
        "purchase_days",
        high="no order for {value:.1f}x the usual gap",
        low="ordered within {value:.1f}x the usual gap",
    ),
)
