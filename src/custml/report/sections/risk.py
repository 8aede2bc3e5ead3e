"""Churn risk: average risk per segment, how risk is spread over customers, and value tier x risk band."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custml.report import plots
from custml.report.format import Chart, Fmt, Room, Words, format_percent
from custml.report.scores_table import RISK_BANDS, VALUE_TIER_ORDER, category, ordered

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "RiskView", "risk_histogram", "value_risk", "view"]


def value_risk(scores: pd.DataFrame) -> pd.DataFrame:
    """Customers per value tier (rows) and churn-risk band (columns, :data:`RISK_BANDS` keys)."""
    p = scores["churn_probability"].to_numpy(dtype=float)
    band = np.full(len(p), RISK_BANDS[-1][0], dtype=object)
    for key, lo, hi in reversed(RISK_BANDS):
        band[(p >= lo) & (p < hi)] = key
    tier = category(scores["value_tier"])
    counts = pd.crosstab(tier, pd.Series(band, index=scores.index, name="risk_band"))
    counts = counts.reindex(
        index=ordered(tier.unique().tolist(), VALUE_TIER_ORDER),
        columns=[b[0] for b in RISK_BANDS],
        fill_value=0,
    )
    counts.index.name = "value_tier"
    counts.columns.name = "risk_band"
    return counts.astype(int)


def risk_histogram(scores: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Customers per churn-probability bin: ``lower``, ``upper``, ``customers``."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(scores["churn_probability"].to_numpy(dtype=float), bins=edges)
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "customers": counts.astype(int)})


@dataclass(frozen=True)
class RiskView:
    """Risk by segment (large), beside the histogram and the value x risk matrix (stacked)."""

    days: int
    by_segment: Chart
    stacked: tuple[Chart, ...]


def view(data: ReportData, fmt: Fmt) -> RiskView:
    """The section in ``fmt``'s language."""
    seg = data.segments
    overall = float((seg["churn_risk"] * seg["customers"]).sum() / max(seg["customers"].sum(), 1))
    vr = data.value_risk.copy()
    vr.index = pd.Index([fmt.tv(v) for v in vr.index])
    vr.columns = pd.Index([fmt.tv(c) for c in vr.columns])
    threshold = data.high_risk_threshold
    by_segment = plots.plot_bars(
        fmt.labelled(seg, "segment", "churn_risk"),
        title=fmt.t("chart_segment_risk"),
        axis_label=fmt.t("axis_churn_risk"),
        value_format=lambda v: format_percent(v, 0),
        colors=[plots.risk_color(p) for p in seg["churn_risk"]],
        reference=overall,
        reference_label=fmt.t("legend_overall", value=format_percent(overall, 0)),
        percent_axis=True,
    )
    histogram = plots.plot_risk_histogram(
        data.risk_histogram,
        title=fmt.t("chart_risk_hist"),
        xlabel=fmt.t("axis_churn_probability"),
        ylabel=fmt.t("axis_customers"),
        threshold=threshold,
        threshold_label=fmt.t("legend_threshold", threshold=format_percent(threshold, 0)),
    )
    matrix = plots.plot_value_risk_matrix(
        vr, title=fmt.t("chart_value_risk"), xlabel=fmt.t("axis_risk_band"), ylabel=fmt.t("axis_value_tier")
    )
    return RiskView(
        data.churn_horizon_days,
        fmt.chart(by_segment, "segment-risk", "chart_segment_risk"),
        (
            fmt.chart(histogram, "risk-histogram", "chart_risk_hist"),
            fmt.chart(matrix, "value-risk", "chart_value_risk"),
        ),
    )


WORDS: Words = {
    "en": {
        "sec_risk": "Churn risk",
        "intro_risk": "Churn risk is the probability that a customer makes no purchase in the next {days} days.",
        "chart_segment_risk": "Average churn risk by segment",
        "chart_value_risk": "Customers by value tier and churn risk",
        "chart_risk_hist": "How churn risk is spread across customers",
        "axis_churn_risk": "Average churn risk (%)",
        "axis_risk_band": "Churn risk",
        "axis_value_tier": "Value tier",
        "axis_churn_probability": "Churn risk (%)",
        "legend_overall": "All customers: {value}",
        "legend_threshold": "High risk from {threshold}",
    },
    "zh": {
        "sec_risk": "流失风险",
        "intro_risk": "流失风险指客户在未来 {days} 天内不再购买的概率。",
        "chart_segment_risk": "各分群平均流失风险",
        "chart_value_risk": "按价值层级和流失风险划分的客户",
        "chart_risk_hist": "客户流失风险分布",
        "axis_churn_risk": "平均流失风险（%）",
        "axis_risk_band": "流失风险",
        "axis_value_tier": "价值层级",
        "axis_churn_probability": "流失风险（%）",
        "legend_overall": "全部客户：{value}",
        "legend_threshold": "高风险阈值 {threshold}",
    },
}

ROOM = Room("risk", WORDS, view, toc="sec_risk")
