"""Headline cards: customers, active customers, expected churn, revenue at risk, 12-month value, high risk;
each with its change since the previous scoring when there is one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from custml.report.format import Fmt, Room, Words, format_count, format_percent

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "Card", "Delta", "HeadlineView", "view"]


@dataclass(frozen=True)
class Delta:
    """A change since the previous scoring: its text and whether it is good or bad news."""

    text: str
    cls: str


@dataclass(frozen=True)
class Card:
    """One headline figure."""

    label: str
    value: str
    note: str
    delta: Delta | None = None
    cls: str = ""


@dataclass(frozen=True)
class HeadlineView:
    """The six cards."""

    cards: tuple[Card, ...]


def _delta(fmt: Fmt, cur: float, before: float | None, kind: str, up_is_bad: bool) -> Delta | None:
    if before is None:
        return None
    d = cur - before
    if kind == "points":
        text = fmt.points(d)
    elif kind == "money":
        text = fmt.signed_money(d)
    else:
        text = f"{d:+,.0f}"
    bad = (d > 0) == up_is_bad and abs(d) > 1e-12
    return Delta(fmt.t("vs_previous", delta=text), "bad" if bad else "good")


def _churn_card(data: ReportData, fmt: Fmt) -> Card:
    """The expected churn rate: the scorer's outlook (beside the same season a year earlier) when it wrote one,
    else the mean churn probability of the active customers."""
    k, outlook, days = data.kpis, data.outlook, data.churn_horizon_days
    prev = data.movement.previous if data.movement else None
    if outlook is None or outlook.expected_rate is None:
        note = fmt.t("kpi_churn_rate_note", days=days)
        # The outlook's population (an order in the last year) is not the previous scores' lifecycle
        # population: an arrow only without an outlook, rather than a change between two definitions.
        delta = _delta(fmt, k.churn_rate, prev.churn_rate if prev else None, "points", True)
        return Card(fmt.t("kpi_churn_rate"), format_percent(k.churn_rate), note, delta, "risk")
    note = fmt.t("kpi_churn_rate_note_outlook", days=days)
    if outlook.same_season_last_year is not None:
        note += fmt.t(
            "kpi_churn_rate_last_year", rate=format_percent(outlook.same_season_last_year.realised_rate)
        )
    return Card(fmt.t("kpi_churn_rate"), format_percent(outlook.expected_rate), note, None, "risk")


def view(data: ReportData, fmt: Fmt) -> HeadlineView:
    """The headline cards in ``fmt``'s language."""
    k = data.kpis
    prev = data.movement.previous if data.movement else None
    active_share = format_percent(k.n_active / k.n_customers if k.n_customers else 0)
    threshold = format_percent(data.high_risk_threshold, 0)
    return HeadlineView(
        (
            Card(fmt.t("kpi_customers"), format_count(k.n_customers), fmt.t("kpi_customers_note"),
                 _delta(fmt, k.n_customers, prev.n_customers if prev else None, "count", False)),
            Card(fmt.t("kpi_active"), format_count(k.n_active), fmt.t("kpi_active_note", share=active_share),
                 _delta(fmt, k.n_active, prev.n_active if prev else None, "count", False)),
            _churn_card(data, fmt),
            Card(fmt.t("kpi_revenue_at_risk"), fmt.money(k.revenue_at_risk), fmt.t("kpi_revenue_at_risk_note"),
                 _delta(fmt, k.revenue_at_risk, prev.revenue_at_risk if prev else None, "money", True), "risk"),
            Card(fmt.t("kpi_expected_value"), fmt.money(k.expected_value_12m), fmt.t("kpi_expected_value_note"),
                 _delta(fmt, k.expected_value_12m, prev.expected_value_12m if prev else None, "money", False)),
            Card(fmt.t("kpi_high_risk"), format_count(k.n_high_risk), fmt.t("kpi_high_risk_note", threshold=threshold),
                 _delta(fmt, k.n_high_risk, prev.n_high_risk if prev else None, "count", True), "risk"),
        )
    )  # fmt: skip


WORDS: Words = {
    "en": {
        "kpi_customers": "Customers",
        "kpi_customers_note": "scored in this run",
        "kpi_active": "Active customers",
        "kpi_active_note": "{share} of all; excludes prospects and churned",
        "kpi_churn_rate": "Expected churn rate",
        "kpi_churn_rate_note": "of active customers, next {days} days",
        "kpi_churn_rate_last_year": "; a year earlier {rate} churned",
        "kpi_churn_rate_note_outlook": "of customers with an order in the last year, next {days} days",
        "kpi_revenue_at_risk": "Revenue at risk",
        "kpi_revenue_at_risk_note": "expected 12-month value × churn risk",
        "kpi_expected_value": "Expected 12-month value",
        "kpi_expected_value_note": "all customers, next 12 months",
        "kpi_high_risk": "High-risk customers",
        "kpi_high_risk_note": "churn risk of {threshold} or more",
        "vs_previous": "{delta} vs previous",
    },
    "zh": {
        "kpi_customers": "客户数",
        "kpi_customers_note": "本次评分的客户",
        "kpi_active": "活跃客户",
        "kpi_active_note": "占全部的 {share}；不含潜在客户和已流失客户",
        "kpi_churn_rate": "预计流失率",
        "kpi_churn_rate_note": "活跃客户，未来 {days} 天",
        "kpi_churn_rate_last_year": "；一年前同期 {rate} 流失",
        "kpi_churn_rate_note_outlook": "过去一年有订单的客户，未来 {days} 天",
        "kpi_revenue_at_risk": "风险收入",
        "kpi_revenue_at_risk_note": "预计 12 个月价值 × 流失风险",
        "kpi_expected_value": "预计 12 个月价值",
        "kpi_expected_value_note": "全部客户，未来 12 个月",
        "kpi_high_risk": "高风险客户",
        "kpi_high_risk_note": "流失风险不低于 {threshold}",
        "vs_previous": "较上次 {delta}",
    },
}

ROOM = Room("headline", WORDS, view)
