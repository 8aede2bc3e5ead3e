"""Row accounting of a scoring run: rows in = rows scored + rows not scored, and the quality block of the meta.

Scoring as of a date before the data ends makes the quality stage quarantine what lies after that date as
``future_timestamp``: customers who signed up later and orders placed later. Neither is a quality loss, so
both are counted apart (``customers_not_yet``, ``orders_after_as_of``) instead of as quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["not_yet_customers", "orders_after_as_of", "quality_meta", "rows_not_scored"]


def _after_as_of(quarantine: pd.DataFrame, table: str, column: str) -> int:
    if not len(quarantine):
        return 0
    q = quarantine
    mask = (q["table"] == table) & (q["reason"] == "future_timestamp")
    mask &= q["detail"].astype("str").str.startswith(f"{column}:")
    return int(mask.sum())


def not_yet_customers(quarantine: pd.DataFrame) -> int:
    """Customer records quarantined only because they signed up (or first ordered) after the as-of date."""
    return _after_as_of(quarantine, "customers", "signup_date")


def orders_after_as_of(quarantine: pd.DataFrame, data_end: Any) -> int:
    """Orders quarantined only because they were placed after the as-of date but before ``data_end`` (the day
    after the data ends): the data's own later orders when scoring as of an earlier day. A timestamp at or after
    ``data_end`` (e.g. a year 2099 typo) stays a quality loss."""
    if not len(quarantine):
        return 0
    q = quarantine
    mask = (q["table"] == "orders") & (q["reason"] == "future_timestamp")
    mask &= q["detail"].astype("str").str.startswith("order_ts:")
    # the detail ends with the parsed value, e.g. "order_ts: is later than as_of ... (Timestamp('2011-12-09 12:50:00'))"
    ts = q.loc[mask, "detail"].astype("str").str.extract(r"Timestamp\('([^']+)'", expand=False)
    parsed = pd.to_datetime(ts, errors="coerce", utc=True).dt.tz_localize(None)
    end = pd.Timestamp(data_end)
    end = end.tz_convert("UTC").tz_localize(None) if end.tzinfo is not None else end
    return int((parsed < end).sum())


def quality_meta(report: Mapping[str, Any], quarantine: pd.DataFrame, data_end: Any = None) -> dict[str, Any]:
    """The quality block of the scores' meta from a quality report and its quarantine.

    Customers who signed up and orders placed after the as-of date are not a quality loss: they are counted
    apart (``customers_not_yet``, ``orders_after_as_of``: orders before ``data_end``, the day after the data
    ends; none without it) and left out of the quarantine counts.
    """
    n_orders = orders_after_as_of(quarantine, data_end) if data_end is not None else 0
    later = {"customers": not_yet_customers(quarantine), "orders": n_orders}
    by_table = dict(report.get("quarantined_by_table", {}))
    by_reason = dict(report.get("quarantined_by_reason", {}))
    for table, n in later.items():
        if n:
            by_table[table] = int(by_table.get(table, 0)) - n
            by_reason["future_timestamp"] = int(by_reason.get("future_timestamp", 0)) - n
    by_reason = {k: v for k, v in by_reason.items() if v} if any(later.values()) else by_reason
    return {
        "quarantined_by_table": by_table,
        "quarantined_by_reason": by_reason,
        "duplicates_merged": int(report.get("duplicates_merged", 0)),
        "rows_in": int(report.get("rows_in", 0)),
        "rows_quarantined": int(report.get("rows_quarantined", 0)) - sum(later.values()),
        "customers_not_yet": later["customers"],
        "orders_after_as_of": later["orders"],
    }


def rows_not_scored(
    report: Mapping[str, Any],
    quarantine: pd.DataFrame,
    *,
    rows_in: int,
    n_clean: int,
    n_scored: int,
) -> dict[str, int]:
    """Why customer records got no score: ``quarantined_by_quality``, ``not_yet_a_customer``,
    ``merged_duplicates``, ``no_features_at_as_of`` and, if the counts do not add up to ``rows_in``, ``other``.

    ``n_clean`` is the number of clean customer records, ``n_scored`` the number of scores.
    """
    not_yet = not_yet_customers(quarantine)
    not_scored = {
        "quarantined_by_quality": int(report["tables"]["customers"]["rows_quarantined"]) - not_yet,
        "not_yet_a_customer": not_yet,
        "merged_duplicates": int(report.get("duplicates_merged", 0)),
        "no_features_at_as_of": n_clean - n_scored,
    }
    unexplained = rows_in - n_scored - sum(not_scored.values())
    if unexplained:
        not_scored["other"] = unexplained
    return not_scored
