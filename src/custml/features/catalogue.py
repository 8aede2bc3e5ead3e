"""The feature catalogue: every feature's name, meaning, window, SQL definition and reason-code wording.

One :class:`FeatureSpec` per output column. The code (:mod:`custml.features.sql` builds the query from the
``sql`` expressions here), the documentation (:func:`catalogue_markdown`, committed as ``docs/features.md``) and
the reason codes of the reports (``reason_high``/``reason_low``, via :func:`reason_text`) all read this one list,
so a feature cannot be documented one way and computed another.

The conventions every definition follows are in :data:`CONVENTIONS` (and at the top of the docs).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

__all__ = [
    "FEATURE_CATALOGUE",
    "CONVENTIONS",
    "FEATURE_GROUPS",
    "PERIOD_DAYS",
    "RECENT_DAYS",
    "SOURCE_TABLE",
    "SLOPE_PERIODS",
    "WINDOWS",
    "FeatureSpec",
    "catalogue_markdown",
    "feature_catalogue_frame",
    "get_feature",
    "reason_text",
    "time_growing_features",
]

#: Windows (days) of the window features.
WINDOWS: tuple[int, ...] = (30, 90, 180, 365)
#: Monthly spend slope: number of 30-day periods before the cutoff that the slope is fitted on.
SLOPE_PERIODS = 12
PERIOD_DAYS = 30
#: Rows of the ``recent_orders`` source: order rows at most this many days before the cutoff.
RECENT_DAYS = 180

#: Conventions every definition follows (Markdown; the head of docs/features.md).
CONVENTIONS = """\
- **Point in time.** Only events strictly before the cutoff are seen (`ts < cutoff`). `age` is the time from an
  event to the cutoff in days (always > 0); a window of `w` days keeps events with `age <= w`, i.e.
  `cutoff - w days <= ts < cutoff`. Interactions known only later are read as they were at the cutoff: a
  complaint resolved after the cutoff is open at the cutoff, and its resolution time is not used.
- **Refunds.** Refund rows (`is_refund`) lower net revenue (`revenue_*`, `monetary_total`, spend slope and
  trend) and are counted in `refunds_*`, but they are not orders: they never count in frequency, recency, tenure,
  items, discount share, channel or category mix, purchase days or BTYD inputs.
- **Purchase days and BTYD.** A purchase day is a UTC calendar day with at least one order. BTYD inputs are in
  days, as a BG/NBD, Pareto/NBD or Gamma-Gamma fit expects: frequency = purchase days - 1, recency = first to
  last purchase day, T = first purchase day to the last day before the cutoff, monetary = mean net value of the
  repeat purchase days (the same as `custml.models.btyd.rfm_summary(freq="D")` with the observation ending on the
  day before the cutoff; on CDNOW they reproduce the published summary).
- **Population.** One row per customer signed up before the cutoff (when a `customers` table is given) and per
  customer with an order row before it. Customers without orders (prospects) get 0 counts and sums and null
  recency, ratios and BTYD inputs.
- **Missing values.** Counts and sums are 0 for a customer without events of that kind; means, ratios and
  days-since are null. A missing optional table or column leaves its features out (the column is absent), never
  an error.
"""

Source = Literal[
    "orders",
    "recent_orders",
    "purchase_days",
    "categories",
    "service_events",
    "engagement_events",
    "customers",
]

#: Feature groups in catalogue (and output column) order, with a one-line description for the docs.
FEATURE_GROUPS: dict[str, str] = {
    "rfm": "Recency, frequency, monetary value and tenure.",
    "window": "Activity in the last 30, 90, 180 and 365 days.",
    "trend": "Is the customer speeding up or slowing down?",
    "mix": "What and where the customer buys.",
    "service": "Support tickets, complaints, satisfaction, e-mail engagement and app use.",
    "profile": "Coarse profile attributes (no direct personal data).",
    "btyd": "Inputs of buy-till-you-die models (BG/NBD, Pareto/NBD, Gamma-Gamma), in days.",
}


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the catalogue.

    Parameters
    ----------
    name : str
        Output column name.
    group : str
        One of :data:`FEATURE_GROUPS`.
    description : str
        One line in plain words (used in docs and model explanations).
    window_days : int or None
        Look-back window in days, or None for all history before the cutoff.
    dtype : {"numeric", "categorical"}
        Numeric features are float64; categorical ones pandas ``category``.
    reason_high, reason_low : str
        Plain-word reason when the feature pushes a prediction up because it is high (low); ``{value}`` is
        replaced by the customer's value, e.g. ``"no order for {value:.1f}x the usual gap"``.
    sql : str
        Aggregate expression (DuckDB dialect) over the rows of ``source``, grouped by customer.
    source : str
        Which staged rows ``sql`` aggregates (each has ``customer_id``; times are ``age`` in days before the
        cutoff): ``orders`` (order and refund rows: ``net``, ``is_refund``, ``n_items``, ``gross``, ``discount``,
        ``category``, ``channel``), ``recent_orders`` (the same, ``age <= 180``), ``purchase_days`` (one row per
        non-refund order in day order: ``pday`` (UTC day number), ``net``, ``age``, ``gap`` in days to the previous
        order (null for the first, 0 on the same day) and ``first_pday``),
        ``categories`` (orders ``n`` per customer and ``category``), ``service_events`` (interactions of kind
        support_ticket, complaint or survey: ``kind``, ``score``, ``resolved``, ``resolution_hours``),
        ``engagement_events`` (e-mail and app-session interactions, ``age <= 365``) or ``customers``
        (``signup_age`` and the profile columns). Narrow sources keep each aggregation small.
    requires : tuple of str
        ``"table.column"`` inputs; when one is absent the feature is left out of the output (never an error).
    fill : float or None
        Value for customers with no rows in ``source`` (0 for counts and sums, None otherwise).
    grows_with_time : bool
        The feature is the time from a one-off event (first order, sign-up) to the cutoff: it grows with the
        age of the data by construction, so drift checks compare it relative to the days of history at the
        cutoff (:mod:`custml.scoring.drift`). "Days since the last X" features are not: each new X resets them.
    """

    name: str
    group: str
    description: str
    window_days: int | None
    dtype: Literal["numeric", "categorical"]
    reason_high: str
    reason_low: str
    sql: str
    source: Source
    requires: tuple[str, ...] = ()
    fill: float | None = None
    grows_with_time: bool = False


def _num(
    name: str,
    group: str,
    description: str,
    sql: str,
    source: Source,
    *,
    high: str,
    low: str,
    window: int | None = None,
    requires: tuple[str, ...] = (),
    fill: float | None = None,
    grows_with_time: bool = False,
) -> FeatureSpec:
    return FeatureSpec(
        name, group, description, window, "numeric", high, low, sql, source, requires, fill, grows_with_time
    )


def _cat(name: str, description: str, sql: str, requires: tuple[str, ...]) -> FeatureSpec:
    label = name.replace("_", " ")
    return FeatureSpec(
        name,
        "profile",
        description,
        None,
        "categorical",
        f"{label}: {{value}}",
        f"{label}: {{value}}",
        sql,
        "customers",
        requires,
        None,
    )


_ORDER = "NOT is_refund"
# Rows of `purchase_days` are orders sorted by day; a new purchase day starts where the gap is null or > 0.
_DAY_COUNT = "count(*) FILTER (WHERE gap IS NULL OR gap > 0)"


def _windows() -> list[FeatureSpec]:
    out: list[FeatureSpec] = []
    for w in WINDOWS:
        win = f"age <= {w}"
        # Windows up to RECENT_DAYS aggregate the (smaller) recent rows; longer ones all order rows.
        src: Source = "recent_orders" if w <= RECENT_DAYS else "orders"
        out += [
            _num(
                f"orders_{w}d",
                "window",
                f"Orders in the last {w} days (refunds excluded).",
                f"count(*) FILTER (WHERE {_ORDER} AND {win})",
                src,
                high=f"{{value:.0f}} orders in the last {w} days",
                low=f"only {{value:.0f}} orders in the last {w} days",
                window=w,
                fill=0.0,
            ),
            _num(
                f"revenue_{w}d",
                "window",
                f"Net revenue in the last {w} days (orders minus refunds).",
                f"sum(net) FILTER (WHERE {win})",
                src,
                high=f"spent {{value:,.0f}} in the last {w} days",
                low=f"spent only {{value:,.0f}} in the last {w} days",
                window=w,
                fill=0.0,
            ),
            _num(
                f"items_{w}d",
                "window",
                f"Items bought in the last {w} days.",
                f"sum(n_items) FILTER (WHERE {_ORDER} AND {win})",
                src,
                high=f"bought {{value:.0f}} items in the last {w} days",
                low=f"bought only {{value:.0f}} items in the last {w} days",
                window=w,
                requires=("orders.n_items",),
                fill=0.0,
            ),
            _num(
                f"discount_share_{w}d",
                "window",
                f"Discount as a share of gross amount of the orders of the last {w} days (null without orders).",
                f"sum(discount) FILTER (WHERE {_ORDER} AND {win}) "
                f"/ nullif(sum(gross) FILTER (WHERE {_ORDER} AND {win}), 0)",
                src,
                high=f"{{value:.0%}} of the last {w} days' spend was discounted",
                low=f"little discount use in the last {w} days ({{value:.0%}})",
                window=w,
                requires=("orders.gross_amount", "orders.discount_amount"),
            ),
            _num(
                f"refunds_{w}d",
                "window",
                f"Refunds and returns in the last {w} days.",
                f"count(*) FILTER (WHERE is_refund AND {win})",
                src,
                high=f"{{value:.0f}} refunds or returns in the last {w} days",
                low=f"{{value:.0f}} refunds or returns in the last {w} days",
                window=w,
                requires=("orders.is_refund",),
                fill=0.0,
            ),
        ]
    return out


def _slope_sql() -> str:
    # OLS slope of net spend per 30-day period on the period index (time increasing), over the last
    # min(12, periods since the first order) periods, periods without orders counting as 0. With j the period
    # of an order (0 = the latest), n periods and x = -j, the slope is sum((n-1)/2 - j) * net / (n(n^2-1)/12):
    # two sums over order rows, no per-period table needed.
    p, k = PERIOD_DAYS, SLOPE_PERIODS
    # CASE, not least(): least() skips nulls in DuckDB and Spark, which would give refund-only customers a slope.
    first = f"max(age) FILTER (WHERE {_ORDER})"
    n = f"(CASE WHEN {first} > {k * p} THEN {k}e0 ELSE ceil({first} / {p}e0) END)"
    s0 = f"coalesce(sum(net) FILTER (WHERE age <= {k * p}), 0)"
    s1 = f"coalesce(sum(net * (ceil(age / {p}e0) - 1)) FILTER (WHERE age <= {k * p}), 0)"
    return f"CASE WHEN {n} >= 2 THEN (({n} - 1) / 2e0 * {s0} - {s1}) / ({n} * ({n} * {n} - 1) / 12e0) END"


def _rate(kind: str, w: int) -> str:
    sent = f"count(*) FILTER (WHERE kind = 'email_sent' AND age <= {w})"
    got = f"count(*) FILTER (WHERE kind = '{kind}' AND age <= {w})"
    return f"CASE WHEN {sent} > 0 THEN least(1e0, {got} / {sent}) END"


def _build_catalogue() -> tuple[FeatureSpec, ...]:
    rfm = [
        _num(
            "recency_days",
            "rfm",
            "Days since the last order.",
            f"min(age) FILTER (WHERE {_ORDER})",
            "orders",
            high="no order for {value:.0f} days",
            low="ordered {value:.0f} days ago",
        ),
        _num(
            "frequency_orders",
            "rfm",
            "Orders before the cutoff (refunds excluded).",
            f"count(*) FILTER (WHERE {_ORDER})",
            "orders",
            high="{value:.0f} orders so far",
            low="only {value:.0f} orders so far",
            fill=0.0,
        ),
        _num(
            "frequency_days",
            "rfm",
            "Distinct days with an order.",
            _DAY_COUNT,
            "purchase_days",
            high="bought on {value:.0f} different days",
            low="bought on only {value:.0f} different days",
            fill=0.0,
        ),
        _num(
            "monetary_total",
            "rfm",
            "Net revenue before the cutoff (orders minus refunds).",
            "sum(net)",
            "orders",
            high="spent {value:,.0f} in total",
            low="spent only {value:,.0f} in total",
            fill=0.0,
        ),
        _num(
            "monetary_mean",
            "rfm",
            "Mean net amount of an order (refunds excluded).",
            f"avg(net) FILTER (WHERE {_ORDER})",
            "orders",
            high="large orders (average {value:,.0f})",
            low="small orders (average {value:,.0f})",
        ),
        _num(
            "tenure_days",
            "rfm",
            "Days since the first order.",
            f"max(age) FILTER (WHERE {_ORDER})",
            "orders",
            high="customer for {value:.0f} days",
            low="new customer (first order {value:.0f} days ago)",
            grows_with_time=True,
        ),
        _num(
            "days_since_signup",
            "rfm",
            "Days since the customer record was created.",
            "min(signup_age)",
            "customers",
            high="signed up {value:.0f} days ago",
            low="signed up only {value:.0f} days ago",
            requires=("customers.signup_date",),
            grows_with_time=True,
        ),
    ]
    trend = [
        _num(
            "revenue_30d_vs_prev90d",
            "trend",
            "Net revenue of the last 30 days over the 30-day average of the 90 days before (null if that was 0).",
            "CASE WHEN sum(net) FILTER (WHERE age > 30 AND age <= 120) > 0 THEN "
            "coalesce(sum(net) FILTER (WHERE age <= 30), 0) "
            "/ (sum(net) FILTER (WHERE age > 30 AND age <= 120) / 3e0) END",
            "recent_orders",
            high="spending {value:.1f}x the usual monthly amount lately",
            low="spending only {value:.1f}x the usual monthly amount lately",
            window=120,
        ),
        _num(
            "monthly_spend_slope",
            "trend",
            f"Slope of net spend per {PERIOD_DAYS}-day period over the last {SLOPE_PERIODS} periods "
            "(or since the first order), change per period.",
            _slope_sql(),
            "orders",
            high="monthly spend rising by {value:,.0f} per month",
            low="monthly spend falling by {value:,.0f} per month",
            window=SLOPE_PERIODS * PERIOD_DAYS,
        ),
        _num(
            "gap_mean_days",
            "trend",
            "Mean days between consecutive purchase days (null with fewer than 2).",
            "avg(gap) FILTER (WHERE gap > 0)",
            "purchase_days",
            high="buys rarely (every {value:.0f} days on average)",
            low="buys often (every {value:.0f} days on average)",
        ),
        _num(
            "gap_std_days",
            "trend",
            "Standard deviation (population) of the days between consecutive purchase days.",
            "stddev_pop(gap) FILTER (WHERE gap > 0)",
            "purchase_days",
            high="irregular buying rhythm (gap spread {value:.0f} days)",
            low="regular buying rhythm (gap spread {value:.0f} days)",
        ),
        _num(
            "overdue_ratio",
            "trend",
            "Days since the last order over the mean gap between purchase days (null with fewer than 2).",
            "min(age) / avg(gap) FILTER (WHERE gap > 0)",
            "purchase_days",
            high="no order for {value:.1f}x the usual gap",
            low="ordered within {value:.1f}x the usual gap",
        ),
    ]
    mix = [
        _num(
            "n_categories",
            "mix",
            "Distinct product categories ordered.",
            "count(*)",
            "categories",
            high="buys across {value:.0f} categories",
            low="buys in only {value:.0f} categories",
            requires=("orders.category",),
            fill=0.0,
        ),
        _num(
            "category_entropy",
            "mix",
            "Entropy (nats) of the customer's orders over categories: 0 = a single category.",
            "greatest(0e0, ln(sum(n)) - sum(n * ln(n)) / sum(n))",
            "categories",
            high="varied basket (category entropy {value:.2f})",
            low="narrow basket (category entropy {value:.2f})",
            requires=("orders.category",),
        ),
        _num(
            "top_category_share",
            "mix",
            "Share of orders in the customer's most ordered category.",
            "max(n) / sum(n)",
            "categories",
            high="{value:.0%} of orders in one category",
            low="only {value:.0%} of orders in the top category",
            requires=("orders.category",),
        ),
    ]
    for ch in ("web", "app", "store", "marketplace"):
        mix.append(
            _num(
                f"share_channel_{ch}",
                "mix",
                f"Share of orders placed via {ch}.",
                f"count(*) FILTER (WHERE {_ORDER} AND channel = '{ch}') "
                f"/ nullif(count(*) FILTER (WHERE {_ORDER}), 0)",
                "orders",
                high=f"{{value:.0%}} of orders via {ch}",
                low=f"only {{value:.0%}} of orders via {ch}",
                requires=("orders.channel",),
            )
        )
    service: list[FeatureSpec] = []
    for kind, label in (("support_ticket", "tickets"), ("complaint", "complaints")):
        for w in (90, 365):
            service.append(
                _num(
                    f"{label}_{w}d",
                    "service",
                    f"{label.capitalize()} opened in the last {w} days.",
                    f"count(*) FILTER (WHERE kind = '{kind}' AND age <= {w})",
                    "service_events",
                    high=f"{{value:.0f}} {label} in the last {w} days",
                    low=f"{{value:.0f}} {label} in the last {w} days",
                    window=w,
                    requires=("interactions.kind",),
                    fill=0.0,
                )
            )
    for kind, label in (("support_ticket", "ticket"), ("complaint", "complaint")):
        service.append(
            _num(
                f"days_since_last_{label}",
                "service",
                f"Days since the last {label} (null if none).",
                f"min(age) FILTER (WHERE kind = '{kind}')",
                "service_events",
                high=f"last {label} {{value:.0f}} days ago",
                low=f"{label} only {{value:.0f}} days ago",
                requires=("interactions.kind",),
            )
        )
    service += [
        _num(
            "open_complaints",
            "service",
            "Complaints not resolved at the cutoff (resolved later, or never, count as open).",
            "count(*) FILTER (WHERE kind = 'complaint' AND NOT (coalesce(resolved, FALSE) "
            "AND coalesce(resolution_hours < age * 24, TRUE)))",
            "service_events",
            high="{value:.0f} unresolved complaints",
            low="no unresolved complaint",
            requires=("interactions.kind", "interactions.resolved"),
            fill=0.0,
        ),
        _num(
            "resolution_hours_mean",
            "service",
            "Mean hours to resolve the tickets and complaints resolved before the cutoff.",
            "avg(resolution_hours) FILTER (WHERE kind IN ('support_ticket', 'complaint') AND resolved "
            "AND resolution_hours < age * 24)",
            "service_events",
            high="slow service (issues took {value:.0f} hours to resolve)",
            low="fast service (issues resolved in {value:.0f} hours)",
            requires=("interactions.kind", "interactions.resolved", "interactions.resolution_hours"),
        ),
        _num(
            "satisfaction_last",
            "service",
            "Score (1-5) of the latest satisfaction survey.",
            "arg_min(score, age) FILTER (WHERE kind = 'survey' AND score IS NOT NULL)",
            "service_events",
            high="last satisfaction score {value:.0f} of 5",
            low="last satisfaction score only {value:.0f} of 5",
            requires=("interactions.kind", "interactions.score"),
        ),
        _num(
            "satisfaction_mean",
            "service",
            "Mean score (1-5) of the satisfaction surveys.",
            "avg(score) FILTER (WHERE kind = 'survey')",
            "service_events",
            high="satisfied (mean score {value:.1f} of 5)",
            low="unsatisfied (mean score {value:.1f} of 5)",
            requires=("interactions.kind", "interactions.score"),
        ),
    ]
    for w in (30, 90, 365):
        service += [
            _num(
                f"email_open_rate_{w}d",
                "service",
                f"E-mails opened over e-mails sent in the last {w} days (null if none sent; at most 1).",
                _rate("email_open", w),
                "engagement_events",
                high=f"opens {{value:.0%}} of e-mails (last {w} days)",
                low=f"opens only {{value:.0%}} of e-mails (last {w} days)",
                window=w,
                requires=("interactions.kind",),
            ),
            _num(
                f"email_click_rate_{w}d",
                "service",
                f"E-mail clicks over e-mails sent in the last {w} days (null if none sent; at most 1).",
                _rate("email_click", w),
                "engagement_events",
                high=f"clicks {{value:.0%}} of e-mails (last {w} days)",
                low=f"clicks only {{value:.0%}} of e-mails (last {w} days)",
                window=w,
                requires=("interactions.kind",),
            ),
        ]
    for w in (30, 90, 365):
        service.append(
            _num(
                f"app_sessions_{w}d",
                "service",
                f"App sessions in the last {w} days.",
                f"count(*) FILTER (WHERE kind = 'app_session' AND age <= {w})",
                "engagement_events",
                high=f"{{value:.0f}} app sessions in the last {w} days",
                low=f"only {{value:.0f}} app sessions in the last {w} days",
                window=w,
                requires=("interactions.kind",),
                fill=0.0,
            )
        )
    profile = [
        _cat(
            "age_band",
            "Age band (e.g. 35-44); never the birth date.",
            "max(age_band)",
            ("customers.age_band",),
        ),
        _cat("region", "Region (state or province).", "max(region)", ("customers.region",)),
        _cat(
            "acquisition_channel",
            "How the customer was acquired.",
            "max(acquisition_channel)",
            ("customers.acquisition_channel",),
        ),
        _cat(
            "loyalty_member",
            "Loyalty programme member: yes or no.",
            "max(CASE WHEN loyalty_member THEN 'yes' WHEN NOT loyalty_member THEN 'no' END)",
            ("customers.loyalty_member",),
        ),
    ]
    btyd = [
        _num(
            "btyd_frequency",
            "btyd",
            "Repeat purchase days: distinct purchase days minus one.",
            f"{_DAY_COUNT} - 1",
            "purchase_days",
            high="{value:.0f} repeat purchase days",
            low="only {value:.0f} repeat purchase days",
        ),
        _num(
            "btyd_recency_days",
            "btyd",
            "Days from the first to the last purchase day (0 without repeats).",
            "max(pday) - min(pday)",
            "purchase_days",
            high="bought over a span of {value:.0f} days",
            low="bought over a span of only {value:.0f} days",
        ),
        _num(
            "btyd_T_days",
            "btyd",
            "Days from the first purchase day to the last day before the cutoff.",
            "{last_day} - min(pday)",
            "purchase_days",
            high="first purchase {value:.0f} days ago",
            low="first purchase only {value:.0f} days ago",
            grows_with_time=True,
        ),
        _num(
            "btyd_monetary",
            "btyd",
            "Mean net value of the repeat purchase days, the first purchase day excluded (0 without repeats).",
            "coalesce(sum(net) FILTER (WHERE pday > first_pday) / nullif(count(*) FILTER (WHERE gap > 0), 0), 0)",
            "purchase_days",
            high="repeat purchases worth {value:,.0f} on average",
            low="repeat purchases worth only {value:,.0f} on average",
        ),
    ]
    specs = rfm + _windows() + trend + mix + service + profile + btyd
    names = [s.name for s in specs]
    assert len(names) == len(set(names)), "duplicate feature names in the catalogue"
    return tuple(specs)


#: Every feature custml computes, in output column order.
FEATURE_CATALOGUE: tuple[FeatureSpec, ...] = _build_catalogue()
_BY_NAME = {s.name: s for s in FEATURE_CATALOGUE}


def get_feature(name: str) -> FeatureSpec:
    """The :class:`FeatureSpec` called ``name``.

    Raises
    ------
    KeyError
        If no feature has that name.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no feature '{name}' in the catalogue") from None


def time_growing_features() -> tuple[str, ...]:
    """Features that grow with the age of the data by construction (``FeatureSpec.grows_with_time``).

    Examples
    --------
    >>> time_growing_features()
    ('tenure_days', 'days_since_signup', 'btyd_T_days')
    """
    return tuple(s.name for s in FEATURE_CATALOGUE if s.grows_with_time)


def reason_text(name: str, value: Any, direction: Literal["high", "low"] = "high") -> str:
    """A plain-word reason for a feature value, from the catalogue's templates.

    Examples
    --------
    >>> reason_text("overdue_ratio", 2.345)
    'no order for 2.3x the usual gap'
    >>> reason_text("open_complaints", 2.0)
    '2 unresolved complaints'
    >>> reason_text("region", "north")
    'region: north'
    >>> reason_text("items_180d", 0.0, "low")  # not "bought only 0 items"
    'bought 0 items in the last 180 days'
    >>> reason_text("email_open_rate_30d", 0.004, "low")  # shown as 0%
    'opens 0% of e-mails (last 30 days)'
    """
    spec = get_feature(name)
    template = spec.reason_high if direction == "high" else spec.reason_low
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return f"{spec.description.rstrip('.')}: unknown"
    if spec.dtype == "numeric":
        value = abs(float(value)) if name == "monthly_spend_slope" else float(value)
        if "only " in template and _shown_as_nothing(template, value):
            # "only" reads as a small positive amount; at zero (or below) it misleads.
            return template.replace("only ", "", 1).format(value=value)
    return template.format(value=value)


def _shown_as_nothing(template: str, value: float) -> bool:
    """Whether ``{value}`` in ``template`` renders as zero or less (``0.004`` as ``0%``, ``-5`` as ``-5``)."""
    for _, field, spec, _ in string.Formatter().parse(template):
        if field == "value":
            shown = format(value, spec or "")
            try:
                return float(shown.replace(",", "").rstrip("%")) <= 0
            except ValueError:
                return value <= 0
    return False


def feature_catalogue_frame() -> pd.DataFrame:
    """The catalogue as a table: name, group, description, window_days, dtype, source, requires, reasons,
    grows_with_time."""
    return pd.DataFrame(
        {
            "name": [s.name for s in FEATURE_CATALOGUE],
            "group": [s.group for s in FEATURE_CATALOGUE],
            "description": [s.description for s in FEATURE_CATALOGUE],
            "window_days": pd.array([s.window_days for s in FEATURE_CATALOGUE], dtype="Int64"),
            "dtype": [s.dtype for s in FEATURE_CATALOGUE],
            "source": [s.source for s in FEATURE_CATALOGUE],
            "requires": [", ".join(s.requires) for s in FEATURE_CATALOGUE],
            "reason_high": [s.reason_high for s in FEATURE_CATALOGUE],
            "reason_low": [s.reason_low for s in FEATURE_CATALOGUE],
            "grows_with_time": [s.grows_with_time for s in FEATURE_CATALOGUE],
        }
    )


def catalogue_markdown() -> str:
    """The feature catalogue as Markdown (the source of ``docs/features.md``)."""
    lines = [
        "# Feature catalogue",
        "",
        "<!-- Generated by custml.features.catalogue_markdown(); do not edit by hand. -->",
        "",
        "One row per (customer, cutoff). `custml features --data DIR --cutoff DATE [--engine duckdb|spark]` writes "
        "it; `custml.features.build_features(tables, cutoff)` returns it. Every feature below is one SQL "
        "aggregate (DuckDB dialect) in `custml.features.catalogue`; DuckDB runs the assembled query by default "
        "and Spark runs the same text transpiled by sqlglot, so the two engines share one definition.",
        "",
        "## Conventions",
        "",
        CONVENTIONS.rstrip(),
        "",
        "## Labels and training sets",
        "",
        "- `churn_labels(orders, cutoff, horizon_days=90, active_days=365)`: among customers with an order in "
        "`[cutoff - active_days, cutoff)`, churned = no order in `[cutoff, cutoff + horizon_days)`.",
        "- `repurchase_labels(orders, cutoff, horizon_days=30)`: among customers with an order before the cutoff, "
        "repurchased = any order in `[cutoff, cutoff + horizon_days)`.",
        "- `rolling_cutoffs(data_end, n, step_days, horizon_days)` picks cutoffs whose horizon ends inside the data; "
        "`build_training_set(tables, cutoffs, task)` stacks features and `label` over them and refuses a cutoff "
        "whose horizon crosses the end of the data; `split_by_cutoff` trains on earlier cutoffs and tests on the "
        "latest; `join_oracle` adds the synthetic world's true probabilities.",
        "",
        f"## The {len(FEATURE_CATALOGUE)} features",
    ]
    for group, blurb in FEATURE_GROUPS.items():
        specs = [s for s in FEATURE_CATALOGUE if s.group == group]
        lines += [
            "",
            f"### {group}",
            "",
            blurb,
            "",
            "| feature | description | window (days) | type | needs | reason (high) |",
            "|---|---|---|---|---|---|",
        ]
        for s in specs:
            needs = ", ".join(f"`{r}`" for r in s.requires) or f"`{SOURCE_TABLE[s.source]}`"
            window = "" if s.window_days is None else str(s.window_days)
            lines.append(
                f"| `{s.name}` | {s.description} | {window} | {s.dtype} | {needs} | {s.reason_high} |"
            )
    lines += [
        "",
        "## Definitions",
        "",
        "Each feature is an aggregate over the rows of its source, grouped by customer (see `FeatureSpec.source`); "
        "`{last_day}` is the UTC day number of the last day before the cutoff.",
        "",
        "| feature | source | SQL (DuckDB dialect) |",
        "|---|---|---|",
    ]
    for s in FEATURE_CATALOGUE:
        sql = s.sql.replace("|", "\\|")
        lines.append(f"| `{s.name}` | {s.source} | `{sql}` |")
    return "\n".join(lines) + "\n"


#: The input table each source's rows come from.
SOURCE_TABLE: dict[str, str] = {
    "orders": "orders",
    "recent_orders": "orders",
    "purchase_days": "orders",
    "categories": "orders",
    "service_events": "interactions",
    "engagement_events": "interactions",
    "customers": "customers",
}
