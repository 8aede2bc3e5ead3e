"""Row accounting of a scoring run: rows in = rows scored + rows not scored, and the quality block of the meta.

Scoring as of a date before the data ends makes the quality stage quarantine what lies after that date as
``future_timestamp``: customers who signed up later, orders placed later, later interactions (support tickets,
visits) and later campaign sends. None of them is a quality loss, so every timestamped table's later rows are
counted apart (``rows_after_as_of`` per table; ``customers_not_yet`` and ``orders_after_as_of`` as before)
instead of as quarantined, and the quality block reconciles
``rows_in == rows_kept + rows_quarantined + sum(rows_after_as_of)``. A timestamp at or after the data's end, or
one the quality stage found later than the current date (a 2099 typo), stays a quality loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = [
    "AFTER_AS_OF_EXPLAINED",
    "TIMESTAMP_COLUMNS",
    "not_yet_customers",
    "orders_after_as_of",
    "quality_meta",
    "rows_after_as_of",
    "rows_not_scored",
]

# The required timestamp of each contract table: rows later than the as-of date are the data's later rows.
TIMESTAMP_COLUMNS = {
    "customers": "signup_date",
    "orders": "order_ts",
    "interactions": "ts",
    "campaigns": "sent_ts",
}
AFTER_AS_OF_EXPLAINED = (
    "rows dated after the scoring date but within the data (later sign-ups, orders, interactions, campaign "
    "sends): left out of this scoring run, not a data-quality loss"
)


def _later_than_as_of(quarantine: pd.DataFrame, table: str) -> pd.Series:
    """Detail texts of ``table``'s rows quarantined only for a timestamp later than the as-of date (not those
    later than the current date: typos)."""
    if not len(quarantine):
        return pd.Series([], dtype="str")
    q = quarantine
    column = TIMESTAMP_COLUMNS[table]
    detail = q["detail"].astype("str")
    mask = (q["table"] == table) & (q["reason"] == "future_timestamp")
    mask &= detail.str.startswith(f"{column}: is later than as_of")
    return detail[mask]


def _before(details: pd.Series, data_end: Any) -> int:
    # the detail ends with the parsed value, e.g. "order_ts: is later than as_of ... (Timestamp('2011-12-09 12:50:00'))"
    ts = details.str.extract(r"Timestamp\('([^']+)'", expand=False)
    parsed = pd.to_datetime(ts, errors="coerce", utc=True).dt.tz_localize(None)
    end = pd.Timestamp(data_end)
    end = end.tz_convert("UTC").tz_localize(None) if end.tzinfo is not None else end
    return int((parsed < end).sum())


def not_yet_customers(quarantine: pd.DataFrame) -> int:
    """Customer records quarantined only because they signed up (or first ordered) after the as-of date (not
    those dated after the current date: typos)."""
    return len(_later_than_as_of(quarantine, "customers"))


def orders_after_as_of(quarantine: pd.DataFrame, data_end: Any) -> int:
    """Orders quarantined only because they were placed after the as-of date but before ``data_end`` (the day
    after the data ends): the data's own later orders when scoring as of an earlier day. A timestamp at or after
    ``data_end`` (e.g. a year 2099 typo) stays a quality loss."""
    return rows_after_as_of(quarantine, data_end)["orders"]


def rows_after_as_of(quarantine: pd.DataFrame, data_end: Any = None) -> dict[str, int]:
    """Per contract table, the rows quarantined only because they are dated after the as-of date but before
    ``data_end`` (the day after the data ends). Customers count without ``data_end`` (a later sign-up is not yet
    a customer); the other tables count none without it.

    Examples
    --------
    >>> q = pd.DataFrame({"table": ["interactions", "interactions", "campaigns"], "reason": ["future_timestamp"] * 3,
    ...     "detail": ["ts: is later than as_of 2011-10-01 00:00:00 (Timestamp('2011-11-02 10:00:00'))",
    ...                "ts: is later than the current date 2026-12-03 (Timestamp('2099-01-01 00:00:00'))",
    ...                "sent_ts: is later than as_of 2011-10-01 00:00:00 (Timestamp('2011-11-15 00:00:00'))"]})
    >>> rows_after_as_of(q, "2011-12-10")
    {'customers': 0, 'orders': 0, 'interactions': 1, 'campaigns': 1}
    """
    out = {}
    for table in TIMESTAMP_COLUMNS:
        details = _later_than_as_of(quarantine, table)
        if table == "customers":
            out[table] = len(details)
        else:
            out[table] = _before(details, data_end) if data_end is not None and len(details) else 0
    return out


def quality_meta(report: Mapping[str, Any], quarantine: pd.DataFrame, data_end: Any = None) -> dict[str, Any]:
    """The quality block of the scores' meta from a quality report and its quarantine.

    Rows dated after the as-of date are not a quality loss (:func:`rows_after_as_of`: sign-ups, and with
    ``data_end``, the day after the data ends, orders, interactions and campaign sends before it): they are
    counted apart (``rows_after_as_of`` per table, ``customers_not_yet``, ``orders_after_as_of``) and left out
    of the quarantine counts, so that ``rows_in == rows_kept + rows_quarantined + sum(rows_after_as_of)``.
    """
    later = rows_after_as_of(quarantine, data_end)
    by_table = dict(report.get("quarantined_by_table", {}))
    by_reason = dict(report.get("quarantined_by_reason", {}))
    for table, n in later.items():
        if n:
            by_table[table] = int(by_table.get(table, 0)) - n
            by_reason["future_timestamp"] = int(by_reason.get("future_timestamp", 0)) - n
    by_reason = {k: v for k, v in by_reason.items() if v} if any(later.values()) else by_reason
    rows_in = int(report.get("rows_in", 0))
    rows_quarantined = int(report.get("rows_quarantined", 0)) - sum(later.values())
    rows_kept = int(report.get("rows_kept", rows_in - int(report.get("rows_quarantined", 0))))
    meta: dict[str, Any] = {
        "quarantined_by_table": by_table,
        "quarantined_by_reason": by_reason,
        "duplicates_merged": int(report.get("duplicates_merged", 0)),
        "rows_in": rows_in,
        "rows_kept": rows_kept,
        "rows_quarantined": rows_quarantined,
        "rows_after_as_of": {t: n for t, n in later.items() if n},
        "customers_not_yet": later["customers"],
        "orders_after_as_of": later["orders"],
    }
    if any(later.values()):
        meta["after_as_of_explained"] = AFTER_AS_OF_EXPLAINED
    if report.get("source_accounting"):
        # the export's own lines (without a customer, exact duplicates, excluded by a filter) for the report
        meta["source_accounting"] = dict(report["source_accounting"])
    if rows_in != rows_kept + rows_quarantined + sum(later.values()):  # pragma: no cover - by construction
        raise ValueError(
            f"quality: {rows_in:,} rows in != {rows_kept:,} kept + {rows_quarantined:,} quarantined + "
            f"{sum(later.values()):,} after the as-of date"
        )
    return meta


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
