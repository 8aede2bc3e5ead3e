"""Typed views of what the stages hand the wiring as JSON: the parts the steps and the CLI read, by key.

The quality report (:func:`custml.quality.clean_tables`), the champion gate's decision
(:func:`custml.tracking.register_and_gate`) and a source mapping's report are JSON objects; these
``TypedDict`` views name the keys the wiring reads (``total=False``: a key may be absent), so that a typo is a
type error rather than a silent ``None``. The objects themselves are built, and written, by their stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from custml.types import JSONObject

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DedupSummary", "GateDecision", "QualityReportView", "SourcesInfo", "TableCounts"]


class GateDecision(TypedDict, total=False):
    """The champion gate's decision on a new model version."""

    name: str
    version: str
    promoted: bool
    reason: str
    metric: str
    challenger_score: float | None
    champion_version: str | None


class TableCounts(TypedDict, total=False):
    """Rows (and, for orders, money) in, kept, quarantined and out of one table."""

    rows_in: int
    rows_kept: int
    rows_quarantined: int
    rows_out: int
    net_amount_in: float
    net_amount_kept: float
    net_amount_quarantined: float
    refunds_inferred_from_sign: int


class DedupSummary(TypedDict, total=False):
    """The de-duplication's figures in the quality report."""

    threshold: float
    threshold_estimated: bool
    blocking: str
    scored_pairs: int
    matched_pairs: int
    match_prior: float
    uncertain_pairs: int
    seconds: float
    golden_ids_kept: int
    golden_merges: int


class QualityReportView(TypedDict, total=False):
    """The keys of the quality report the clean step and ``custml clean`` read."""

    as_of: str
    mode: str
    tables: dict[str, TableCounts]
    quarantined_by_reason: dict[str, int]
    reasons_explained: dict[str, str]
    hints: list[str]
    normalisation: dict[str, int]
    duplicates_merged: int
    dedup: DedupSummary
    sources: JSONObject


@dataclass(frozen=True)
class SourcesInfo:
    """What reading an export through a source mapping reported (:class:`custml.sources.Sources`): the mapping,
    each table's report as the sources stage wrote it, the currency, and the line items behind each order."""

    mapping: str
    tables: Mapping[str, Mapping[str, object]]
    currency: str | None
    line_counts: Mapping[str, np.ndarray] = field(default_factory=dict)
