"""The feature catalogue: every feature's name, meaning, window, SQL definition and reason-code wording.

One :class:`FeatureSpec` per output column, written as data by group in :mod:`custml.features.families`
(the shape and the helpers are in :mod:`custml.features.spec`). The code (:mod:`custml.features.sql` builds the query from the
``sql`` expressions here), the documentation (:func:`catalogue_markdown`, committed as ``docs/features.md``) and
the reason codes of the reports (``reason_high``/``reason_low``, via :func:`reason_text`) all read this one list,
so a feature cannot be documented one way and computed another.

The conventions every definition follows are in :data:`CONVENTIONS` (and at the top of the docs).
"""

from __future__ import annotations

import string
from typing import Any, Literal

import pandas as pd

from custml.features.families import FAMILIES
from custml.features.spec import (
    FEATURE_GROUPS,
    PERIOD_DAYS,
    RECENT_DAYS,
    SLOPE_PERIODS,
    WINDOWS,
    FeatureSpec,
)

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


def _catalogue() -> tuple[FeatureSpec, ...]:
    specs = tuple(spec for family in FAMILIES.values() for spec in family)
    names = [s.name for s in specs]
    assert len(names) == len(set(names)), "duplicate feature names in the catalogue"
    assert list(FAMILIES) == list(FEATURE_GROUPS), "the families are the feature groups, in order"
    return specs


#: Every feature custml computes, in output column order.
FEATURE_CATALOGUE: tuple[FeatureSpec, ...] = _catalogue()
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
