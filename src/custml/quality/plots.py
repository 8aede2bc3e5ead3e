"""Figures and truth checks of the quality stage: quarantine by reason, and match probabilities of the de-duplication.

``plot_*`` functions take ``ax=None`` and return the figure. :func:`label_pairs` marks scored candidate pairs as
true or false matches with a synthetic world's ``truth/duplicates`` table (evaluation only: the cleaner never
sees the truth).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custml.contracts import QualityReport
from custml.errors import SchemaError
from custml.plotting import figure_and_axes

__all__ = ["label_pairs", "plot_match_probabilities", "plot_quarantine_by_reason", "quarantine_counts"]


def quarantine_counts(report: QualityReport) -> pd.DataFrame:
    """Quarantined rows per reason (rows) and table (columns) from a quality report (``CleanResult.report``).

    Examples
    --------
    >>> rep = QualityReport.model_validate({"as_of": "2025-01-01", "mode": "raw", "rows_in": 8, "rows_kept": 5,
    ...     "rows_quarantined": 3, "quarantined_by_table": {"orders": 3}, "quarantined_by_reason": {},
    ...     "tables": {"orders": {"rows_in": 5, "rows_kept": 2, "rows_quarantined": 3, "rows_out": 2,
    ...                           "quarantined_by_reason": {"future_timestamp": 3}},
    ...                "customers": {"rows_in": 3, "rows_kept": 3, "rows_quarantined": 0, "rows_out": 3}}})
    >>> quarantine_counts(rep).to_dict()
    {'orders': {'future_timestamp': 3}, 'customers': {'future_timestamp': 0}}
    """
    if not report.tables:
        raise SchemaError("quality_report", "tables", "is empty (pass CleanResult.report)")
    per = {t: dict(v.quarantined_by_reason) for t, v in report.tables.items()}
    out = pd.DataFrame(per).fillna(0).astype(np.int64)
    out.index.name = "reason"
    return out.sort_index()


def plot_quarantine_by_reason(report: QualityReport, ax: Any = None, title: str | None = None) -> Any:
    """Horizontal bars of quarantined rows per reason, stacked by table."""
    counts = quarantine_counts(report)
    counts = counts.loc[counts.sum(axis=1).sort_values().index, counts.sum(axis=0) > 0]
    fig, ax = figure_and_axes(ax, (7, 0.45 * max(len(counts), 2) + 1.2))
    left = np.zeros(len(counts))
    for table in counts.columns:
        ax.barh(counts.index, counts[table], left=left, label=table)
        left += counts[table].to_numpy()
    for y, total in enumerate(left):
        ax.text(total, y, f" {int(total):,}", va="center", fontsize=8)
    ax.set_xlim(0, max(float(left.max()) if len(left) else 0.0, 1.0) * 1.12)  # room for the totals
    ax.set_xlabel("rows quarantined")
    ax.set_title(title or "Quarantine by reason")
    if len(counts.columns):
        ax.legend(title="table")
    return fig


def label_pairs(pairs: pd.DataFrame, duplicates: pd.DataFrame) -> pd.Series:
    """True where both records of a scored pair (``id_a``, ``id_b``) belong to the same person.

    ``duplicates`` is ``truth/duplicates`` (``customer_id``, ``person_id`` of every record of a person with more
    than one record); records not listed are their own person.

    Examples
    --------
    >>> p = pd.DataFrame({"id_a": ["a", "a"], "id_b": ["b", "c"]})
    >>> label_pairs(p, pd.DataFrame({"customer_id": ["a", "b"], "person_id": ["P1", "P1"]})).tolist()
    [True, False]
    """
    for col in ("id_a", "id_b"):
        if col not in pairs.columns:
            raise SchemaError("dedup_pairs", col, "is missing")
    person = duplicates.assign(customer_id=duplicates["customer_id"].astype(str)).set_index("customer_id")[
        "person_id"
    ]
    a = person.reindex(pairs["id_a"].astype(str)).astype(object).to_numpy()
    b = person.reindex(pairs["id_b"].astype(str)).astype(object).to_numpy()
    known = ~(pd.isna(a) | pd.isna(b))
    same = np.zeros(len(pairs), dtype=bool)
    same[known] = a[known] == b[known]
    return pd.Series(same, index=pairs.index, name="same_person")


def plot_match_probabilities(
    pairs: pd.DataFrame, same_person: pd.Series, threshold: float | None = None, ax: Any = None
) -> Any:
    """Histogram of the candidate pairs' match weights (log2 Bayes factor + prior), true vs false matches."""
    fig, ax = figure_and_axes(ax, (7, 3.5))
    w = pairs["weight"].to_numpy(dtype=float)
    bins = np.linspace(np.nanmin(w), np.nanmax(w), 50) if len(w) else 10
    same = same_person.to_numpy(dtype=bool)
    ax.hist(w[~same], bins=bins, alpha=0.6, label=f"different persons ({(~same).sum():,})", color="tab:grey")
    ax.hist(w[same], bins=bins, alpha=0.7, label=f"same person ({same.sum():,})", color="tab:green")
    if threshold is not None:
        cut = float(np.log2(threshold / (1 - threshold)))
        ax.axvline(cut, color="tab:red", linestyle="--", label=f"threshold p={threshold:g}")
    ax.set_yscale("log")
    ax.set_xlabel("match weight (log2 odds)")
    ax.set_ylabel("candidate pairs")
    ax.set_title("De-duplication: candidate pairs by match weight")
    ax.legend(fontsize=8)
    return fig
