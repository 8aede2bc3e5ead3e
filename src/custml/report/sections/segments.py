"""Customer segments (RFM): customers, risk, value and revenue at risk per segment, with two bar charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.report import plots
from custml.report.format import Chart, Fmt, Room, Table, Words
from custml.report.scores_table import SEGMENT_ORDER, group_table

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "SegmentsView", "segment_table", "view"]


def segment_table(scores: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """One row per RFM segment (:func:`custml.report.scores_table.group_table`, column ``segment``)."""
    return group_table(scores, "rfm_segment", SEGMENT_ORDER, threshold, "segment")


@dataclass(frozen=True)
class SegmentsView:
    """The table (with totals) and the two charts."""

    table: Table
    charts: tuple[Chart, ...]


def view(data: ReportData, fmt: Fmt) -> SegmentsView:
    """The section in ``fmt``'s language."""
    seg = data.segments
    totals = {
        "customers": int(seg["customers"].sum()),
        "share_customers": 1.0,
        "churn_risk": float((seg["churn_risk"] * seg["customers"]).sum() / max(seg["customers"].sum(), 1)),
        "high_risk": int(seg["high_risk"].sum()),
        "expected_value_12m": float(seg["expected_value_12m"].sum()),
        "revenue_at_risk": float(seg["revenue_at_risk"].sum()),
        "share_revenue_at_risk": 1.0,
    }
    table = fmt.table(
        seg,
        [
            ("segment", "col_segment", "category"),
            ("customers", "col_customers", "count"),
            ("share_customers", "col_share_customers", "percent"),
            ("churn_risk", "col_churn_risk", "risk"),
            ("high_risk", "col_high_risk", "count"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
            ("share_revenue_at_risk", "col_share_revenue_at_risk", "percent"),
        ],
        totals,
    )
    sizes = plots.plot_bars(
        fmt.labelled(seg, "segment", "customers"),
        title=fmt.t("chart_segment_sizes"),
        axis_label=fmt.t("axis_customers"),
        value_format=lambda v: f"{v:,.0f}",
    )
    revenue = plots.plot_bars(
        fmt.labelled(seg, "segment", "revenue_at_risk"),
        title=fmt.t("chart_segment_revenue"),
        axis_label=fmt.t("axis_revenue", currency=data.currency),
        value_format=fmt.money,
        colors=[plots.risk_color(p) for p in seg["churn_risk"]],
    )
    charts = (
        fmt.chart(sizes, "segment-sizes", "chart_segment_sizes"),
        fmt.chart(revenue, "segment-revenue", "chart_segment_revenue"),
    )
    return SegmentsView(table, charts)


WORDS: Words = {
    "en": {
        "sec_segments": "Customer segments",
        "intro_segments": "Customers grouped by how recently, how often and how much they buy (RFM segments).",
        "col_high_risk": "High risk",
        "col_share_revenue_at_risk": "Share of revenue at risk",
        "chart_segment_sizes": "Customers by segment",
        "chart_segment_revenue": "Revenue at risk by segment",
    },
    "zh": {
        "sec_segments": "客户分群",
        "intro_segments": "按最近购买时间、购买频次和消费金额划分的客户群（RFM 分群）。",
        "col_high_risk": "高风险",
        "col_share_revenue_at_risk": "风险收入占比",
        "chart_segment_sizes": "各分群客户数",
        "chart_segment_revenue": "各分群风险收入",
    },
}

ROOM = Room("segments", WORDS, view, toc="sec_segments")
