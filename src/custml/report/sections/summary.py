"""Key findings: the customers worth saving, where the revenue at risk sits, and where to start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.report.format import Category, Count, Fmt, Message, Money, Percent, Room, Words
from custml.report.scores_table import NO_ACTION, Kpis, category, still_customer_mask

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "SummaryView", "highlights", "view"]


def _headline(scores: pd.DataFrame, kpis: Kpis, threshold: float) -> list[Message]:
    # the headline counts the customers worth saving: still customers (see still_customer_mask) at high risk
    n_still = int(still_customer_mask(scores).sum())
    out = [
        Message(
            "msg_active_high_risk",
            {
                "n": Count(kpis.n_active_high_risk),
                "share": Percent(kpis.n_active_high_risk / n_still if n_still else 0.0),
                "threshold": Percent(threshold, 0),
                "value": Money(kpis.active_high_risk_value_12m),
            },
        )
    ]
    if kpis.n_lapsed_high_risk:
        out.append(Message("msg_lapsed_high_risk", {"n": Count(kpis.n_lapsed_high_risk)}))
    return out


def _action_messages(actions: pd.DataFrame, kpis: Kpis) -> list[Message]:
    acts = actions[actions["action"] != NO_ACTION]
    if not len(acts):
        return []
    at_risk = float(acts["revenue_at_risk"].sum())
    first = acts.iloc[0]  # actions are sorted by revenue at risk
    return [
        Message(
            "msg_actions",
            {
                "n": Count(int(acts["customers"].sum())),
                "value": Money(at_risk),
                "share": Percent(at_risk / kpis.revenue_at_risk if kpis.revenue_at_risk > 0 else 0.0),
            },
        ),
        Message(
            "msg_first_action",
            {
                "action": Category(str(first["action"])),
                "n": Count(int(first["customers"])),
                "value": Money(float(first["revenue_at_risk"])),
            },
        ),
    ]


def highlights(
    scores: pd.DataFrame, kpis: Kpis, segments: pd.DataFrame, actions: pd.DataFrame, threshold: float
) -> list[Message]:
    """The key findings of a scoring, from its KPIs, segment table and action table."""
    out = _headline(scores, kpis, threshold)
    seg = segments[segments["customers"] > 0]
    if len(seg) and seg["revenue_at_risk"].sum() > 0:
        top = seg.sort_values("revenue_at_risk", ascending=False).iloc[0]
        out.append(
            Message(
                "msg_top_risk_segment",
                {
                    "segment": Category(str(top["segment"])),
                    "value": Money(float(top["revenue_at_risk"])),
                    "share": Percent(float(top["share_revenue_at_risk"])),
                },
            )
        )
    hv = scores[
        (scores["churn_probability"] >= threshold) & (category(scores["value_tier"]).str.lower() == "high")
    ]
    if len(hv):
        out.append(
            Message(
                "msg_high_value_at_risk",
                {
                    "n": Count(len(hv)),
                    "threshold": Percent(threshold, 0),
                    "value": Money(float(hv["revenue_at_risk"].sum())),
                },
            )
        )
    return out + _action_messages(actions, kpis)


@dataclass(frozen=True)
class SummaryView:
    """The findings, then the model's and the drivers' first sentence."""

    findings: tuple[str, ...]


def view(data: ReportData, fmt: Fmt) -> SummaryView:
    """The key findings in ``fmt``'s language."""
    return SummaryView(
        tuple(fmt.messages([*data.highlights, *data.model_messages[:1], *data.driver_messages[:1]]))
    )


WORDS: Words = {
    "en": {
        "sec_summary": "Key findings",
        "msg_active_high_risk": "{n} active customers ({share} of active customers) have a churn risk of {threshold} or more; together they are expected to spend {value} in the next 12 months. Active means still a customer: bought within the last year and not past their own buying rhythm, with a probability of 50% or more of still being a customer (a Pareto/NBD model of their purchase history).",
        "msg_lapsed_high_risk": "{n} more high-risk customers have most likely already left (not active by the rule above); an offer would mostly reach no one there.",
        "msg_top_risk_segment": "The “{segment}” segment carries the most revenue at risk: {value} ({share} of the total).",
        "msg_high_value_at_risk": "{n} high-value customers have a churn risk of {threshold} or more and hold {value} of revenue at risk; they are listed by id in the action list.",
        "msg_first_action": "Start with “{action}”: {n} customers, {value} of revenue at risk.",
        "msg_actions": "The action list targets {n} customers holding {value} of revenue at risk ({share} of the total).",
    },
    "zh": {
        "sec_summary": "主要发现",
        "msg_active_high_risk": "{n} 位活跃客户（占活跃客户的 {share}）的流失风险不低于 {threshold}；他们预计在未来 12 个月消费 {value}。活跃指仍是客户：过去一年内有购买、未超出自己的购买节奏，且仍是客户的概率不低于 50%（根据购买历史的 Pareto/NBD 模型）。",
        "msg_lapsed_high_risk": "另有 {n} 位高风险客户很可能已经离开（按上述规则不算活跃）；给他们发优惠多半无人响应。",
        "msg_top_risk_segment": "“{segment}”分群的风险收入最多：{value}（占总额的 {share}）。",
        "msg_high_value_at_risk": "{n} 位高价值客户的流失风险不低于 {threshold}，涉及风险收入 {value}；行动清单中按编号列出了他们。",
        "msg_first_action": "优先执行“{action}”：{n} 位客户，风险收入 {value}。",
        "msg_actions": "行动清单覆盖 {n} 位客户，涉及风险收入 {value}（占 {share}）。",
    },
}

ROOM = Room("summary", WORDS, view, toc="sec_summary")
