"""The feature query: built once, in DuckDB's SQL dialect, from the catalogue; transpiled to Spark SQL by sqlglot.

:func:`feature_sql` assembles one statement: staging views that keep only events strictly before the cutoff
(``o`` orders, ``i`` interactions, ``c`` customers signed up before it), one ``GROUP BY customer_id`` per
feature source (order rows, purchase days, categories, interactions, customers) whose select list is the
catalogue's ``sql`` expressions, and a final left join onto the customer base. The engines register the input
tables as ``src_orders``, ``src_customers`` and ``src_interactions`` and run the text as is (DuckDB) or after
``sqlglot.transpile(..., read="duckdb", write="spark")`` (Spark): there is no second copy of any definition.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

import pandas as pd
import sqlglot

from custml.features.catalogue import FEATURE_CATALOGUE, RECENT_DAYS, SOURCE_TABLE, WINDOWS, FeatureSpec

__all__ = [
    "SOURCE_VIEWS",
    "available_features",
    "cutoff_literal",
    "feature_sql",
    "to_dialect",
]

#: Name under which each input table must be registered with the engine.
SOURCE_VIEWS: dict[str, str] = {
    "orders": "src_orders",
    "customers": "src_customers",
    "interactions": "src_interactions",
}

_US_PER_DAY = 86_400_000_000
_EPOCH = "TIMESTAMP '1970-01-01 00:00:00'"

# Optional input columns: (staged name, SQL type) -- absent ones become typed NULLs so every expression
# stays valid; the features needing them are left out by `available_features`.
_ORDER_OPTIONAL = {
    "n_items": ("n_items", "DOUBLE"),
    "gross_amount": ("gross", "DOUBLE"),
    "discount_amount": ("discount", "DOUBLE"),
    "category": ("category", "VARCHAR"),
    "channel": ("channel", "VARCHAR"),
}
_INTERACTION_OPTIONAL = {
    "score": ("score", "DOUBLE"),
    "resolved": ("resolved", "BOOLEAN"),
    "resolution_hours": ("resolution_hours", "DOUBLE"),
}
_CUSTOMER_OPTIONAL = {
    "age_band": ("age_band", "VARCHAR"),
    "region": ("region", "VARCHAR"),
    "acquisition_channel": ("acquisition_channel", "VARCHAR"),
    "loyalty_member": ("loyalty_member", "BOOLEAN"),
}


def cutoff_literal(cutoff: object) -> tuple[pd.Timestamp, str]:
    """Normalise a cutoff to a naive UTC :class:`pandas.Timestamp` and its SQL ``TIMESTAMP`` literal."""
    ts = pd.Timestamp(cutoff)
    if ts is pd.NaT:
        raise ValueError(f"cutoff must be a date or timestamp, got {cutoff!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    ts = ts.floor("us")
    return ts, f"TIMESTAMP '{ts.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def available_features(columns: Mapping[str, Collection[str]]) -> tuple[FeatureSpec, ...]:
    """The catalogue features computable from the given tables and their columns, in catalogue order.

    ``columns`` maps table name (``orders``, ``customers``, ``interactions``) to its column names; a table that
    is absent (or not in the mapping) disables its features.

    Examples
    --------
    >>> specs = available_features({"orders": ["order_id", "customer_id", "order_ts", "net_amount"]})
    >>> [s.name for s in specs][:4]
    ['recency_days', 'frequency_orders', 'frequency_days', 'monetary_total']
    >>> "n_categories" in [s.name for s in specs]
    False
    """
    have = {f"{t}.{c}" for t, cols in columns.items() for c in cols}
    tables = set(columns)
    out = []
    for spec in FEATURE_CATALOGUE:
        if SOURCE_TABLE[spec.source] not in tables:
            continue
        if all(r in have for r in spec.requires):
            out.append(spec)
    return tuple(out)


def _age(ts_expr: str, cut: str) -> str:
    """Days from a timestamp to the cutoff, as DOUBLE (exact microsecond arithmetic, then one division)."""
    return f"CAST(date_diff('microsecond', {ts_expr}, {cut}) AS DOUBLE) / {_US_PER_DAY}"


def _optional(cols: Collection[str], mapping: dict[str, tuple[str, str]]) -> list[str]:
    out = []
    for col, (name, typ) in mapping.items():
        out.append(f"CAST({col} AS {typ}) AS {name}" if col in cols else f"CAST(NULL AS {typ}) AS {name}")
    return out


def _stage_orders(cols: Collection[str], cut: str) -> str:
    ts = "CAST(order_ts AS TIMESTAMP)"
    refund = "coalesce(CAST(is_refund AS BOOLEAN), FALSE)" if "is_refund" in cols else "FALSE"
    select = [
        "CAST(customer_id AS VARCHAR) AS customer_id",
        f"{_age(ts, cut)} AS age",
        f"floor(CAST(date_diff('microsecond', {_EPOCH}, {ts}) AS DOUBLE) / {_US_PER_DAY}) AS pday",
        "CAST(net_amount AS DOUBLE) AS net",
        f"{refund} AS is_refund",
        *_optional(cols, _ORDER_OPTIONAL),
    ]
    return (
        "SELECT "
        + ", ".join(select)
        + f" FROM {SOURCE_VIEWS['orders']} WHERE {ts} < {cut} AND customer_id IS NOT NULL"
    )


def _stage_interactions(cols: Collection[str], cut: str) -> str:
    ts = "CAST(ts AS TIMESTAMP)"
    select = [
        "CAST(customer_id AS VARCHAR) AS customer_id",
        "CAST(kind AS VARCHAR) AS kind",
        f"{_age(ts, cut)} AS age",
        *_optional(cols, _INTERACTION_OPTIONAL),
    ]
    return (
        "SELECT "
        + ", ".join(select)
        + f" FROM {SOURCE_VIEWS['interactions']} WHERE {ts} < {cut} AND customer_id IS NOT NULL"
    )


def _stage_customers(cols: Collection[str], cut: str) -> str:
    select = ["CAST(customer_id AS VARCHAR) AS customer_id"]
    where = "customer_id IS NOT NULL"
    if "signup_date" in cols:
        ts = "CAST(signup_date AS TIMESTAMP)"
        select.append(f"{_age(ts, cut)} AS signup_age")
        where += f" AND {ts} < {cut}"
    else:
        select.append("CAST(NULL AS DOUBLE) AS signup_age")
    select += _optional(cols, _CUSTOMER_OPTIONAL)
    return "SELECT " + ", ".join(select) + f" FROM {SOURCE_VIEWS['customers']} WHERE {where}"


_SERVICE_KINDS = "('support_ticket', 'complaint', 'survey')"
_ENGAGEMENT_KINDS = "('email_sent', 'email_open', 'email_click', 'app_session')"

# The rows each feature source aggregates (a CTE on the staged views), and the CTE of its aggregate.
_SOURCE_ROWS: dict[str, str] = {
    "orders": "o",
    "recent_orders": f"SELECT * FROM o WHERE age <= {RECENT_DAYS}",
    # One sort by (customer, day) serves gaps, purchase-day counts and the first purchase day: no per-day
    # GROUP BY is needed (same-day orders have gap 0).
    "purchase_days": (
        "SELECT customer_id, pday, net, age, "
        "pday - lag(pday) OVER (PARTITION BY customer_id ORDER BY pday) AS gap, "
        "min(pday) OVER (PARTITION BY customer_id ORDER BY pday) AS first_pday "
        "FROM o WHERE NOT is_refund"
    ),
    "categories": (
        "SELECT customer_id, category, CAST(count(*) AS DOUBLE) AS n FROM o "
        "WHERE NOT is_refund AND category IS NOT NULL GROUP BY customer_id, category"
    ),
    "service_events": f"SELECT * FROM i WHERE kind IN {_SERVICE_KINDS}",
    "engagement_events": f"SELECT * FROM i WHERE kind IN {_ENGAGEMENT_KINDS} AND age <= {max(WINDOWS)}",
    "customers": "c",
}


def feature_sql(
    columns: Mapping[str, Collection[str]],
    cutoff: object,
    *,
    dialect: Literal["duckdb", "spark"] = "duckdb",
    features: Collection[str] | None = None,
) -> str:
    """The SQL statement computing the catalogue at ``cutoff`` from tables with the given columns.

    Parameters
    ----------
    columns : mapping of str to collection of str
        Column names of each input table present (``orders`` is required).
    cutoff : date-like
        Only events strictly before it are used.
    dialect : {"duckdb", "spark"}
        Output dialect; ``"spark"`` is the DuckDB text transpiled by sqlglot.
    features : collection of str, optional
        Restrict to these catalogue features (default: every available one).

    Returns
    -------
    str
        One ``SELECT`` returning ``customer_id`` and the feature columns, ordered by ``customer_id``.

    Examples
    --------
    >>> sql = feature_sql({"orders": ["customer_id", "order_ts", "net_amount"]}, "2025-10-01")
    >>> "FROM src_orders" in sql and "recency_days" in sql
    True
    """
    if "orders" not in columns:
        raise ValueError("orders: the orders table is required to compute features")
    _, cut = cutoff_literal(cutoff)
    specs = available_features(columns)
    if features is not None:
        wanted = set(features)
        unknown = wanted - {s.name for s in FEATURE_CATALOGUE}
        if unknown:
            raise ValueError(f"unknown features: {', '.join(sorted(unknown))}")
        specs = tuple(s for s in specs if s.name in wanted)
    cutoff_ts, _ = cutoff_literal(cutoff)
    # Last observed day (UTC day number) for btyd_T_days: the day of the last instant before the cutoff.
    last_day = (cutoff_ts.value // 1000 - 1) // _US_PER_DAY

    ctes = [f"o AS ({_stage_orders(columns['orders'], cut)})"]
    if "interactions" in columns:
        ctes.append(f"i AS ({_stage_interactions(columns['interactions'], cut)})")
    if "customers" in columns:
        ctes.append(f"c AS ({_stage_customers(columns['customers'], cut)})")
    by_source = _by_source(specs)
    ctes += _aggregates(by_source, last_day)
    base = "SELECT customer_id FROM f_orders"
    if "customers" in columns:
        base += " UNION SELECT customer_id FROM c"
    ctes.append(f"base AS ({base})")
    return to_dialect(_final_select(ctes, specs, by_source), dialect)


def _by_source(specs: Collection[FeatureSpec]) -> dict[str, list[FeatureSpec]]:
    """The features grouped by the staged rows they aggregate, in catalogue order of first appearance."""
    by_source: dict[str, list[FeatureSpec]] = {}
    for spec in specs:
        by_source.setdefault(spec.source, []).append(spec)
    # The orders aggregate always exists: it also defines who has order history.
    by_source.setdefault("orders", [])
    return by_source


def _aggregates(by_source: dict[str, list[FeatureSpec]], last_day: int) -> list[str]:
    """One CTE ``f_<source>`` per source aggregating its features per customer (with its rows' CTE if needed)."""
    ctes: list[str] = []
    for source, group in by_source.items():
        rows = _SOURCE_ROWS[source]
        if rows not in ("o", "i", "c"):
            ctes.append(f"r_{source} AS ({rows})")
            rows = f"r_{source}"
        exprs = ["customer_id"] + [f"{s.sql.format(last_day=last_day)} AS {s.name}" for s in group]
        ctes.append(f"f_{source} AS (SELECT {', '.join(exprs)} FROM {rows} GROUP BY customer_id)")
    return ctes


def _final_select(
    ctes: list[str], specs: Collection[FeatureSpec], by_source: dict[str, list[FeatureSpec]]
) -> str:
    """The statement: the CTEs, then every customer of ``base`` with its features (fills for the missing)."""
    select = ["base.customer_id AS customer_id"]
    for spec in specs:
        ref = f"f_{spec.source}.{spec.name}"
        select.append(f"coalesce({ref}, {spec.fill:g}) AS {spec.name}" if spec.fill is not None else ref)
    joins = " ".join(
        f"LEFT JOIN f_{source} ON f_{source}.customer_id = base.customer_id" for source in by_source
    )
    return (
        "WITH "
        + ",\n".join(ctes)
        + "\nSELECT "
        + ", ".join(select)
        + f"\nFROM base {joins}\nORDER BY base.customer_id"
    )


def to_dialect(sql: str, dialect: Literal["duckdb", "spark"]) -> str:
    """Return DuckDB-dialect ``sql`` unchanged, or transpiled to Spark SQL with sqlglot."""
    if dialect == "duckdb":
        return sql
    if dialect == "spark":
        return sqlglot.transpile(sql, read="duckdb", write="spark")[0]
    raise ValueError(f"unknown SQL dialect {dialect!r} (expected 'duckdb' or 'spark')")
