"""Who to save: the expected-profit plan from the scores' uplift columns, its profit curve, the plan against
other ways of choosing as many customers (:mod:`custml.uplift.targeting`, the one definition) and its list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.contracts import UpliftSummary
from custml.report import plots
from custml.report.format import (
    Chart,
    Count,
    Fact,
    Fmt,
    Message,
    Money,
    Percent,
    Points,
    Ratio,
    Room,
    Table,
    Text,
    Words,
    format_count,
)
from custml.report.scores_table import NO_ACTION, still_customer_mask
from custml.uplift.targeting import policy_table, profit_curve

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = [
    "POLICIES",
    "ROOM",
    "UPLIFT_COLUMNS",
    "WhoToSave",
    "WhoView",
    "plan_policies",
    "view",
    "who_to_save",
]

_WIDE = 8.0
#: Scores columns the section needs (``custml score`` with an uplift model writes them).
UPLIFT_COLUMNS = ("uplift", "expected_profit", "chosen_action")
#: Rows of :func:`custml.uplift.targeting.policy_table` the section shows, and their label keys.
POLICIES = {
    "expected profit": "policy_plan",
    "churn risk": "policy_risk",
    "value x risk": "policy_value_risk",
    "random": "policy_random",
}
_CONTACT_COLUMNS = ["customer_id", "rfm_segment", "churn_probability", "uplift", "expected_value_12m",
                    "expected_profit", "chosen_action"]  # fmt: skip


@dataclass(frozen=True)
class WhoToSave:
    """The "Who to save" section: the expected-profit plan from the scores' uplift columns.

    ``n_active_at_risk``: customers likely still customers (``p_alive`` >= 0.5) with a churn risk at or above
    the threshold; ``n_lapsed_at_risk``: the high-risk customers who have probably already gone (``p_alive`` <
    0.5), for whom an offer is mostly wasted. ``curve``: expected profit by share contacted in the plan's order
    (highest expected profit first); ``policies``: the plan against churn-risk, value x risk and random
    targeting of as many customers as the plan's spend buys (:func:`plan_policies`).
    """

    n_active_at_risk: int | None
    n_lapsed_at_risk: int | None
    contacted: int
    spend: float
    expected_profit: float
    offer_cost: float | None
    margin: float | None
    budget: float | None
    average_uplift: float | None
    curve: pd.DataFrame  # share, contacted, cost, profit
    policies: pd.DataFrame  # policy (label key), contacted, cost, expected_profit
    contacts: pd.DataFrame  # the plan's list, highest expected profit first
    fallback: bool  # no campaign data: the rule-based actions stand


def plan_policies(scores: pd.DataFrame, contacted: int, cost: float, margin: float) -> pd.DataFrame:
    """The plan against churn-risk, value x risk and random targeting of ``contacted`` customers: the rows of
    :func:`custml.uplift.targeting.policy_table` at the plan's spend, ``policy`` as label keys."""
    if cost <= 0:
        return pd.DataFrame(columns=["policy", "contacted", "cost", "expected_profit"])
    table = policy_table(scores.reset_index(drop=True), contacted * cost, cost, margin=margin)
    table = table[table["policy"].isin(list(POLICIES))].reset_index(drop=True)
    return table.assign(policy=table["policy"].map(POLICIES))


def _alive_counts(scores: pd.DataFrame, threshold: float) -> tuple[int | None, int | None]:
    if "p_alive" not in scores.columns:
        return None, None
    high = scores["churn_probability"].to_numpy(dtype=float) >= threshold
    still = still_customer_mask(scores).to_numpy()
    return int((high & still).sum()), int((high & ~still).sum())


def _fallback_message(status: str) -> Message:
    # a campaign whose model was not used (e.g. the promotion gate kept it): say why, not "no campaign"
    if status.startswith("no uplift model ("):
        why = status.removeprefix("no uplift model (").removesuffix(": rule-based actions").removesuffix(")")
        return Message("msg_who_no_model", {"why": Text(why)})
    return Message("msg_who_fallback")


def _plan_messages(k: int, spend: float, expected: float, cost: float, info: UpliftSummary) -> list[Message]:
    if k:
        ret = Ratio(expected / spend if spend > 0 else 0.0)
        out = [
            Message(
                "msg_who_plan", {"n": Count(k), "spend": Money(spend), "profit": Money(expected), "ret": ret}
            )
        ]
    else:
        out = [Message("msg_who_nobody", {"cost": Money(cost)})]
    if info.average_uplift is not None:
        out.append(
            Message(
                "msg_who_campaign", {"uplift": Points(info.average_uplift), "n": Count(info.n_treated or 0)}
            )
        )
    if info.outcome_window_days is not None and info.horizon_days is not None:
        window = {"window": Count(info.outcome_window_days), "horizon": Count(info.horizon_days)}
        out.append(Message("msg_who_churn_window", window))
    return out


def who_to_save(
    scores: pd.DataFrame, info: UpliftSummary | None, threshold: float, top_n: int
) -> tuple[WhoToSave | None, list[Message]]:
    """The plan's figures and sentences, or ``None`` when the scores carry no uplift columns (older scores).

    ``info`` is the scores meta's uplift summary (``None``: the meta has none, as without a campaign)."""
    if any(c not in scores.columns for c in UPLIFT_COLUMNS):
        return None, []
    n_active, n_lapsed = _alive_counts(scores, threshold)
    msgs: list[Message] = []
    if n_active is not None:
        msgs.append(Message("msg_active_at_risk", {"n": Count(n_active), "threshold": Percent(threshold, 0),
                                                   "lapsed": Count(n_lapsed or 0)}))  # fmt: skip
    profit = pd.to_numeric(scores["expected_profit"], errors="coerce")
    info = info or UpliftSummary(status="no uplift model: rule-based actions")
    cost, margin = info.offer_cost, info.margin
    if bool(profit.isna().all()) or cost is None or margin is None:
        empty = WhoToSave(n_active, n_lapsed, 0, 0.0, 0.0, None, None, None, None,
                          pd.DataFrame(columns=["share", "contacted", "cost", "profit"]),
                          pd.DataFrame(columns=["policy", "contacted", "cost", "expected_profit"]), scores.head(0), True)  # fmt: skip
        return empty, [*msgs, _fallback_message(info.status)]
    chosen = (scores["chosen_action"].astype(object) != NO_ACTION).to_numpy() & profit.notna().to_numpy()
    k = int(chosen.sum())
    spend, expected = float(k * cost), float(profit[chosen].sum())
    contacts = (
        scores.loc[chosen]
        .sort_values(["expected_profit", "customer_id"], ascending=[False, True])
        .head(top_n)
        .reindex(columns=_CONTACT_COLUMNS)
        .reset_index(drop=True)
    )
    who = WhoToSave(n_active, n_lapsed, k, spend, expected, cost, margin, info.budget, info.average_uplift,
                    profit_curve(scores.reset_index(drop=True), cost, margin=margin),
                    plan_policies(scores, k, cost, margin), contacts, False)  # fmt: skip
    return who, [*msgs, *_plan_messages(k, spend, expected, cost, info)]


@dataclass(frozen=True)
class WhoView:
    """The section as shown (only sentences when the rule-based actions stand)."""

    messages: tuple[str, ...]
    facts: tuple[Fact, ...] = ()
    charts: tuple[Chart, ...] = ()
    policies: Table | None = None
    contacts: Table | None = None


def _facts(who: WhoToSave, fmt: Fmt) -> tuple[Fact, ...]:
    facts = [
        Fact(fmt.t("who_contacted"), format_count(who.contacted)),
        Fact(fmt.t("who_spend"), fmt.money(who.spend)),
        Fact(fmt.t("who_expected_profit"), fmt.money(who.expected_profit)),
        Fact(fmt.t("who_return"), f"{who.expected_profit / who.spend:.2f}" if who.spend > 0 else "–"),
    ]
    if who.offer_cost is not None:
        facts.append(Fact(fmt.t("who_offer_cost"), fmt.money_full(who.offer_cost)))
    return tuple(facts)


def _tables(who: WhoToSave, fmt: Fmt) -> tuple[Table, Table]:
    policies = fmt.table(
        who.policies.assign(policy=[fmt.t(p) for p in who.policies["policy"]]),
        [
            ("policy", "col_policy", "text"),
            ("contacted", "col_customers", "count"),
            ("cost", "col_cost", "money"),
            ("expected_profit", "col_expected_profit", "money"),
        ],
    )
    contacts = fmt.table(
        who.contacts,
        [
            ("customer_id", "col_customer_id", "id"),
            ("rfm_segment", "col_segment", "category"),
            ("churn_probability", "col_churn_probability", "risk"),
            ("uplift", "col_uplift", "percent"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("expected_profit", "col_expected_profit", "money"),
            ("chosen_action", "col_chosen_action", "category"),
        ],
    )
    return policies, contacts


def view(data: ReportData, fmt: Fmt) -> WhoView | None:
    """The section in ``fmt``'s language; None for scores without uplift columns."""
    who = data.who_to_save
    if who is None:
        return None
    messages = tuple(fmt.messages(data.who_messages))
    if who.fallback:
        return WhoView(messages)
    n = int(who.curve["contacted"].max()) if len(who.curve) else 0
    fig = plots.plot_profit_curve(
        who.curve,
        title=fmt.t("chart_profit_curve"),
        xlabel=fmt.t("axis_share_contacted"),
        ylabel=fmt.t("axis_expected_profit", currency=data.currency),
        plan_share=who.contacted / n if n else None,
        plan_label=fmt.t("legend_plan"),
        value_format=fmt.money,
        width=_WIDE,
    )
    policies, contacts = _tables(who, fmt)
    return WhoView(
        messages=messages,
        facts=_facts(who, fmt),
        charts=(fmt.chart(fig, "profit-curve", "chart_profit_curve"),),
        policies=policies if who.contacted else None,
        contacts=contacts if len(who.contacts) else None,
    )


WORDS: Words = {
    "en": {
        "sec_who": "Who to save",
        "intro_who": "Who the retention offer is worth sending to: the offer's estimated effect on each customer's churn (learnt from the last randomised campaign, offer against control) × the customer's expected 12-month value × the margin, minus the offer's cost. Customers are taken highest expected profit first, only where the profit is positive, until the budget is spent.",
        "msg_active_at_risk": "{n} customers who are most likely still customers (Pareto/NBD probability of still being a customer of 50% or more) have a churn risk of {threshold} or more: these are the ones worth saving. {lapsed} more high-risk customers have most likely already left.",
        "msg_who_plan": "The plan contacts {n} customers for {spend}; it is expected to earn {profit} of profit after the offers' cost ({ret} per unit spent).",
        "msg_who_nobody": "No customer is expected to repay an offer costing {cost}: the last campaign changed too little for anyone whose value we know. Spend the budget elsewhere, or test a cheaper or stronger offer.",
        "msg_who_campaign": "In the last campaign the offer changed the churn rate by {uplift} on average, over {n} treated customers against a randomised control group.",
        "msg_who_churn_window": "Churn in this section means no order in the last {window} days of the {horizon} days after the offer (the customer has stopped buying by the end), not the churn model's definition.",
        "msg_who_fallback": "No randomised campaign in the data: the rule-based action list above stands. Run a campaign with a control group to learn whom an offer really changes.",
        "msg_who_no_model": "The campaign's uplift model is not used ({why}): the rule-based action list above stands.",
        "who_contacted": "Customers to contact",
        "who_spend": "Spend",
        "who_expected_profit": "Expected profit",
        "who_return": "Expected profit per unit spent",
        "who_offer_cost": "Cost of one offer",
        "chart_profit_curve": "Expected profit by share of customers contacted",
        "axis_share_contacted": "Share of customers contacted (highest expected profit first)",
        "axis_expected_profit": "Expected profit ({currency})",
        "legend_plan": "the plan",
        "sec_who_policies": "The plan against other ways of choosing",
        "intro_who_policies": "The same number of offers given by churn risk, by revenue at risk or at random, valued with the same effect estimates.",
        "sec_who_list": "The contact list",
        "intro_who_list": "The customers the plan contacts, highest expected profit first (the full list: custml campaign plan --scores FILE --budget AMOUNT).",
        "policy_plan": "Expected profit (the plan)",
        "policy_risk": "Highest churn risk",
        "policy_value_risk": "Highest revenue at risk",
        "policy_random": "At random",
        "col_policy": "How customers are chosen",
        "col_cost": "Cost",
        "col_expected_profit": "Expected profit",
        "col_uplift": "Churn reduced by",
        "col_chosen_action": "Chosen action",
    },
    "zh": {
        "sec_who": "挽留谁",
        "intro_who": "挽留优惠值得发给谁：优惠对每位客户流失概率的估计影响（从上一次随机对照活动中学到：发优惠组对比对照组）× 客户未来 12 个月的期望价值 × 毛利率，再减去优惠成本。按期望利润从高到低选择客户，只选利润为正者，直到预算用完。",
        "msg_active_at_risk": "{n} 位很可能仍是客户的人（Pareto/NBD 仍是客户的概率不低于 50%）流失风险不低于 {threshold}：他们才值得挽留。另有 {lapsed} 位高风险客户很可能已经离开。",
        "msg_who_plan": "计划联系 {n} 位客户，花费 {spend}；扣除优惠成本后预计获利 {profit}（每花 1 元获利 {ret}）。",
        "msg_who_nobody": "没有客户预计能收回一份成本为 {cost} 的优惠：上一次活动的效果太小。把预算用在别处，或测试更便宜或更有力的优惠。",
        "msg_who_campaign": "上一次活动中，与随机对照组相比，优惠使 {n} 位受优惠客户的流失率平均变化了 {uplift}。",
        "msg_who_churn_window": "本节中的流失指：发出优惠后的 {horizon} 天里，最后 {window} 天没有任何订单（到期末已停止购买），与流失模型的定义不同。",
        "msg_who_fallback": "数据中没有随机对照活动：沿用上面的规则行动清单。开展一次带对照组的活动，才能知道优惠真正改变了谁。",
        "msg_who_no_model": "未使用活动的增益模型（{why}）：沿用上面的规则行动清单。",
        "who_contacted": "需联系客户",
        "who_spend": "花费",
        "who_expected_profit": "期望利润",
        "who_return": "每单位花费的期望利润",
        "who_offer_cost": "单份优惠成本",
        "chart_profit_curve": "按联系客户比例的期望利润",
        "axis_share_contacted": "联系客户的比例（期望利润从高到低）",
        "axis_expected_profit": "期望利润（{currency}）",
        "legend_plan": "计划",
        "sec_who_policies": "计划与其他选择方式的比较",
        "intro_who_policies": "同样数量的优惠，按流失风险、按风险收入或随机发放，用同一套效果估计计算价值。",
        "sec_who_list": "联系名单",
        "intro_who_list": "计划联系的客户，按期望利润从高到低（完整名单：custml campaign plan --scores FILE --budget AMOUNT）。",
        "policy_plan": "期望利润（本计划）",
        "policy_risk": "流失风险最高",
        "policy_value_risk": "风险收入最高",
        "policy_random": "随机",
        "col_policy": "选择方式",
        "col_cost": "成本",
        "col_expected_profit": "期望利润",
        "col_uplift": "流失概率降低",
        "col_chosen_action": "选定行动",
    },
}

ROOM = Room("who", WORDS, view, toc="sec_who", anchor="who-to-save")
