"""What a scoring run records: rows in = rows scored + rows not scored, the quality block, the scores' meta.

Scoring as of a date before the data ends makes the quality stage quarantine what lies after that date as
``future_timestamp``: customers who signed up later, orders placed later, later interactions (support tickets,
visits) and later campaign sends. None of them is a quality loss, so every timestamped table's later rows are
counted apart (``rows_after_as_of`` per table; ``customers_not_yet`` and ``orders_after_as_of`` as before)
instead of as quarantined, and the quality block reconciles
``rows_in == rows_kept + rows_quarantined + sum(rows_after_as_of)``. A timestamp at or after the data's end, or
one the quality stage found later than the current date (a 2099 typo), stays a quality loss.

:func:`scores_meta` assembles the scores' sidecar (:class:`custml.contracts.ScoreMeta`) from these parts;
:func:`scores_summary` gives the headline figures of a scores table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from custml.contracts import DriftRow, ModelVersionInfo, QualityBlock, QualityReport, ScoreMeta

__all__ = [
    "AFTER_AS_OF_EXPLAINED",
    "TIMESTAMP_COLUMNS",
    "ScoresSummary",
    "drift_rows",
    "not_yet_customers",
    "orders_after_as_of",
    "quality_meta",
    "rows_after_as_of",
    "rows_not_scored",
    "scores_meta",
    "scores_summary",
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


def quality_meta(report: QualityReport, quarantine: pd.DataFrame, data_end: Any = None) -> QualityBlock:
    """The quality block of the scores' meta from a quality report and its quarantine.

    Rows dated after the as-of date are not a quality loss (:func:`rows_after_as_of`: sign-ups, and with
    ``data_end``, the day after the data ends, orders, interactions and campaign sends before it): they are
    counted apart (``rows_after_as_of`` per table, ``customers_not_yet``, ``orders_after_as_of``) and left out
    of the quarantine counts, so that ``rows_in == rows_kept + rows_quarantined + sum(rows_after_as_of)``.
    """
    later = rows_after_as_of(quarantine, data_end)
    by_table = dict(report.quarantined_by_table)
    by_reason = dict(report.quarantined_by_reason)
    for table, n in later.items():
        if n:
            by_table[table] = by_table.get(table, 0) - n
            by_reason["future_timestamp"] = by_reason.get("future_timestamp", 0) - n
    by_reason = {k: v for k, v in by_reason.items() if v} if any(later.values()) else by_reason
    rows_quarantined = report.rows_quarantined - sum(later.values())
    if report.rows_in != report.rows_kept + rows_quarantined + sum(later.values()):  # pragma: no cover
        raise ValueError(
            f"quality: {report.rows_in:,} rows in != {report.rows_kept:,} kept + {rows_quarantined:,} quarantined + "
            f"{sum(later.values()):,} after the as-of date"
        )
    return QualityBlock(
        quarantined_by_table=by_table,
        quarantined_by_reason=by_reason,
        duplicates_merged=report.duplicates_merged,
        rows_in=report.rows_in,
        rows_kept=report.rows_kept,
        rows_quarantined=rows_quarantined,
        rows_after_as_of={t: n for t, n in later.items() if n},
        customers_not_yet=later["customers"],
        orders_after_as_of=later["orders"],
        after_as_of_explained=AFTER_AS_OF_EXPLAINED if any(later.values()) else None,
        # the export's own lines (without a customer, exact duplicates, excluded by a filter) for the report
        source_accounting=dict(report.source_accounting),
    )


def rows_not_scored(
    report: QualityReport,
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
        "quarantined_by_quality": report.tables["customers"].rows_quarantined - not_yet,
        "not_yet_a_customer": not_yet,
        "merged_duplicates": report.duplicates_merged,
        "no_features_at_as_of": n_clean - n_scored,
    }
    unexplained = rows_in - n_scored - sum(not_scored.values())
    if unexplained:
        not_scored["other"] = unexplained
    return not_scored


class ScoresSummary(TypedDict):
    """Headline figures of a scores table (:func:`scores_summary`)."""

    customers: int
    mean_churn_probability: float
    mean_repurchase_probability: float
    expected_value_12m: float
    revenue_at_risk: float
    with_reasons: int
    actions: dict[str, int]


def scores_summary(scores: pd.DataFrame) -> ScoresSummary:
    """Headline figures of a scores table (for the CLI and logs): counts, means, totals, actions."""
    actions = scores["recommended_action"].value_counts()
    return {
        "customers": len(scores),
        "mean_churn_probability": float(scores["churn_probability"].mean()),
        "mean_repurchase_probability": float(scores["repurchase_probability"].mean()),
        "expected_value_12m": float(scores["expected_value_12m"].sum()),
        "revenue_at_risk": float(scores["revenue_at_risk"].sum()),
        "with_reasons": int(scores["reason_1"].notna().sum()),
        "actions": {str(k): int(v) for k, v in actions.items()},
    }


def _json_value(value: object) -> object:
    """A table cell as plain JSON: numpy scalars as Python values, NaN, inf and NA as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return None if value is pd.NA or value is pd.NaT else value


def drift_rows(drift: pd.DataFrame | None) -> list[DriftRow]:
    """The drift table (``feature``, ``psi``, ``status`` and optionally ``model``, ``kind``, ``test``...) as the
    scores meta records it, one row per feature (and model); ``psi`` inf (a feature missing from the scored
    rows) becomes null."""
    if drift is None:
        return []
    return [
        DriftRow.model_validate({str(k): _json_value(v) for k, v in row.items()})
        for row in drift.to_dict(orient="records")
    ]


def scores_meta(
    scores: pd.DataFrame,
    *,
    as_of: Any,
    scored_at: Any,
    rows_in: int,
    rows_quarantined: int,
    quality: QualityBlock,
    models: Mapping[str, ModelVersionInfo],
    drift: pd.DataFrame | None,
    extra: Mapping[str, object] | None = None,
) -> ScoreMeta:
    """The ``<scores>.meta.json`` sidecar of contract section 7 (:class:`custml.contracts.ScoreMeta`).

    ``drift``: see :func:`drift_rows`. ``extra``: the other fields of :class:`~custml.contracts.ScoreMeta` by
    name (``drift_verdict``, ``rows_not_scored``, ``engine``, ``reason_policy``, ``actions``, ``churn_outlook``,
    ``currency``, ``uplift``, ``value_model``), as models or their JSON; an unknown name is an error.
    """
    return ScoreMeta.model_validate(
        {
            "as_of": pd.Timestamp(as_of).isoformat(),
            "scored_at": pd.Timestamp(scored_at).isoformat(),
            "rows_in": int(rows_in),
            "rows_scored": len(scores),
            "rows_quarantined": int(rows_quarantined),
            "quality": quality,
            "models": dict(models),
            "drift": drift_rows(drift),
            **(extra or {}),
        }
    )
