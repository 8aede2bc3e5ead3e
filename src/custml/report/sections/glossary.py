"""How to read this report: churn and its horizon, value, revenue at risk, lift, calibration, drift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from custml.report.format import Fmt, Room, Words

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "GlossaryView", "view"]

_TERMS = ("gl_churn", "gl_value", "gl_risk", "gl_lift", "gl_calibration", "gl_psi")


@dataclass(frozen=True)
class GlossaryView:
    """One sentence per term."""

    terms: tuple[str, ...]


def view(data: ReportData, fmt: Fmt) -> GlossaryView:
    """The glossary in ``fmt``'s language."""
    return GlossaryView(tuple(fmt.t(key, days=data.churn_horizon_days) for key in _TERMS))


WORDS: Words = {
    "en": {
        "sec_glossary": "How to read this report",
        "gl_churn": "Churn risk: the model's probability that a customer buys nothing in the next {days} days. Churn means leaving: no purchase within {days} days of the scoring date, for a customer who bought in the year before it. {days} days is the churn model's horizon, set when it was trained: 90 days unless the training config says otherwise, or, with horizon_days: auto, the gap within which 90% of the customers' repeat purchases happen, rounded to a month (a longer silence is leaving, not a pause).",
        "gl_value": "Expected 12-month value: what a customer is expected to spend in the next 12 months.",
        "gl_risk": "Revenue at risk: expected 12-month value multiplied by churn risk, summed over customers.",
        "gl_lift": "Lift: how many times more churners the model finds among its top-risk customers than a random pick would.",
        "gl_calibration": "Calibration: whether predicted risks match what actually happened.",
        "gl_psi": "Shift (PSI): how much an input has changed since the model was trained; above 0.25 is a large shift.",
    },
    "zh": {
        "sec_glossary": "如何阅读本报告",
        "gl_churn": "流失风险：模型预测客户在未来 {days} 天内不再购买的概率。流失指离开：过去一年有购买的客户在评分日后 {days} 天内没有任何购买。{days} 天是流失模型训练时设定的期限：默认 90 天，或在训练配置中设为 horizon_days: auto，即 90% 的复购间隔所在的天数（取整到月；比这更长的沉默意味着离开，而不是正常停顿）。",
        "gl_value": "预计 12 个月价值：客户在未来 12 个月预计的消费额。",
        "gl_risk": "风险收入：预计 12 个月价值乘以流失风险，对客户求和。",
        "gl_lift": "提升度：模型选出的最高风险客户中流失客户的数量，是随机挑选的多少倍。",
        "gl_calibration": "校准：预测的风险是否与实际发生的情况一致。",
        "gl_psi": "偏移（PSI）：输入数据自模型训练以来的变化程度；高于 0.25 表示变化很大。",
    },
}

ROOM = Room("glossary", WORDS, view)
