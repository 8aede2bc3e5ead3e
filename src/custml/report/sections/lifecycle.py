"""Lifecycle stages: where customers are in their relationship with us, with their risk and value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.report import plots
from custml.report.format import Chart, Fmt, Room, Table, Words
from custml.report.scores_table import LIFECYCLE_ORDER, group_table

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "LifecycleView", "lifecycle_table", "view"]


def lifecycle_table(scores: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """One row per lifecycle stage (:func:`custml.report.scores_table.group_table`, column ``stage``)."""
    return group_table(scores, "lifecycle_stage", LIFECYCLE_ORDER, threshold, "stage")


@dataclass(frozen=True)
class LifecycleView:
    """The table and the two charts."""

    table: Table
    charts: tuple[Chart, ...]


def view(data: ReportData, fmt: Fmt) -> LifecycleView:
    """The section in ``fmt``'s language."""
    lc = data.lifecycle
    table = fmt.table(
        lc,
        [
            ("stage", "col_stage", "category"),
            ("customers", "col_customers", "count"),
            ("share_customers", "col_share_customers", "percent"),
            ("churn_risk", "col_churn_risk", "risk"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
        ],
    )
    sizes = plots.plot_bars(
        fmt.labelled(lc, "stage", "customers"),
        title=fmt.t("chart_lifecycle"),
        axis_label=fmt.t("axis_customers"),
    )
    revenue = plots.plot_bars(
        fmt.labelled(lc, "stage", "revenue_at_risk"),
        title=fmt.t("chart_lifecycle_revenue"),
        axis_label=fmt.t("axis_revenue", currency=data.currency),
        value_format=fmt.money,
        colors=[plots.risk_color(p) for p in lc["churn_risk"]],
    )
    charts = (
        fmt.chart(sizes, "lifecycle", "chart_lifecycle"),
        fmt.chart(revenue, "lifecycle-revenue", "chart_lifecycle_revenue"),
    )
    return LifecycleView(table, charts)


WORDS: Words = {
    "en": {
        "sec_lifecycle": "Lifecycle stages",
        "intro_lifecycle": "Where customers are in their relationship with us.",
        "col_stage": "Stage",
        "chart_lifecycle": "Customers by lifecycle stage",
        "chart_lifecycle_revenue": "Revenue at risk by lifecycle stage",
    },
    "zh": {
        "sec_lifecycle": "生命周期阶段",
        "intro_lifecycle": "客户与我们关系所处的阶段。",
        "col_stage": "阶段",
        "chart_lifecycle": "各生命周期阶段客户数",
        "chart_lifecycle_revenue": "各生命周期阶段风险收入",
    },
}

ROOM = Room("lifecycle", WORDS, view, toc="sec_lifecycle")
