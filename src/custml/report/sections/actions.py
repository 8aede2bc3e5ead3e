"""The action list: customers and value at stake per recommended action, and the high-value customers at risk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.report import plots
from custml.report.format import Chart, Fmt, Room, Table, Words, format_count, format_percent
from custml.report.scores_table import NO_ACTION, category

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "TOP_CUSTOMER_COLUMNS", "ActionsView", "action_table", "top_customers", "view"]

_WIDE = 8.0
#: Columns of :func:`top_customers`: the report shows these and no other column of the scores.
TOP_CUSTOMER_COLUMNS = (
    "customer_id",
    "rfm_segment",
    "churn_probability",
    "expected_value_12m",
    "revenue_at_risk",
    "recommended_action",
    "reason_1",
)


def action_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Customers, mean risk, value and revenue at risk per recommended action (missing: ``no action``), most
    revenue at risk first and ``no action`` last."""
    key = scores["recommended_action"].astype("object").where(scores["recommended_action"].notna(), NO_ACTION)
    g = (
        scores.assign(_action=key.astype(str))
        .groupby("_action", sort=False)
        .agg(
            customers=("customer_id", "size"),
            churn_risk=("churn_probability", "mean"),
            expected_value_12m=("expected_value_12m", "sum"),
            revenue_at_risk=("revenue_at_risk", "sum"),
        )
    )
    order = (
        g.drop(index=NO_ACTION, errors="ignore")
        .sort_values("revenue_at_risk", ascending=False)
        .index.tolist()
    )
    if NO_ACTION in g.index:
        order.append(NO_ACTION)
    g = g.reindex(order)
    g.index.name = "action"
    out = g.reset_index()
    out["customers"] = out["customers"].astype(int)
    return out


def top_customers(scores: pd.DataFrame, threshold: float, n: int) -> pd.DataFrame:
    """The ``n`` high-value customers at or above the risk threshold with most revenue at risk."""
    high_value = category(scores["value_tier"]).str.lower() == "high"
    at_risk = scores[(scores["churn_probability"] >= threshold) & high_value]
    top = at_risk.sort_values(["revenue_at_risk", "customer_id"], ascending=[False, True]).head(n)
    return top.reindex(columns=list(TOP_CUSTOMER_COLUMNS)).reset_index(drop=True)


@dataclass(frozen=True)
class ActionsView:
    """The action table, its chart, and the list of high-value customers at risk (None when empty)."""

    threshold: str
    table: Table
    charts: tuple[Chart, ...]
    top: Table | None


def view(data: ReportData, fmt: Fmt) -> ActionsView:
    """The section in ``fmt``'s language."""
    acts = data.actions
    totals = {
        "customers": int(acts["customers"].sum()),
        "expected_value_12m": float(acts["expected_value_12m"].sum()),
        "revenue_at_risk": float(acts["revenue_at_risk"].sum()),
    }
    table = fmt.table(
        acts,
        [
            ("action", "col_action", "category"),
            ("customers", "col_customers", "count"),
            ("churn_risk", "col_churn_risk", "risk"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
        ],
        totals,
    )
    labels = [
        f"{fmt.tv(a)} ({fmt.t('legend_customers_n', n=format_count(n))})"
        for a, n in zip(acts["action"], acts["customers"], strict=True)
    ]
    fig = plots.plot_bars(
        pd.Series(acts["revenue_at_risk"].to_numpy(), index=labels),
        title=fmt.t("chart_actions"),
        axis_label=fmt.t("axis_revenue", currency=data.currency),
        value_format=fmt.money,
        colors=[plots.risk_color(p) for p in acts["churn_risk"]],
        width=_WIDE,
    )
    top = fmt.table(
        data.top_customers,
        [
            ("customer_id", "col_customer_id", "id"),
            ("rfm_segment", "col_segment", "category"),
            ("churn_probability", "col_churn_probability", "risk"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
            ("recommended_action", "col_action", "category"),
            ("reason_1", "col_reason_1", "text"),
        ],
    )
    return ActionsView(
        threshold=format_percent(data.high_risk_threshold, 0),
        table=table,
        charts=(fmt.chart(fig, "actions", "chart_actions"),),
        top=top if len(data.top_customers) else None,
    )


WORDS: Words = {
    "en": {
        "sec_actions": "Action list",
        "sec_top_customers": "High-value customers at risk",
        "intro_actions": "Recommended actions, with the number of customers and the value at stake for each.",
        "intro_top_customers": "Customers with high expected value and a churn risk of {threshold} or more, ordered by revenue at risk. Ids are pseudonymised; look them up in the CRM through the secure id map.",
        "no_top_customers": "No high-value customer is above the risk threshold.",
        "col_reason_1": "Main reason",
        "chart_actions": "Revenue at risk by recommended action",
        "legend_customers_n": "{n} customers",
    },
    "zh": {
        "sec_actions": "行动清单",
        "sec_top_customers": "高价值高风险客户",
        "intro_actions": "建议行动，以及每项行动涉及的客户数和价值。",
        "intro_top_customers": "预计价值高且流失风险不低于 {threshold} 的客户，按风险收入排序。编号已假名化；请通过安全的编号映射在 CRM 中查找。",
        "no_top_customers": "没有高价值客户超过风险阈值。",
        "col_reason_1": "主要原因",
        "chart_actions": "各建议行动的风险收入",
        "legend_customers_n": "{n} 位客户",
    },
}

ROOM = Room("actions", WORDS, view, toc="sec_actions")
