"""What changed since the previous scoring: churn, revenue at risk, customers new and gone, segment moves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.frames import isin
from custml.report import plots
from custml.report.format import (
    Category,
    Chart,
    Count,
    Fmt,
    Message,
    Money,
    Percent,
    Points,
    Room,
    Table,
    Words,
    format_count,
    format_percent,
)
from custml.report.scores_table import (
    SEGMENT_ORDER,
    Kpis,
    category,
    check_scores,
    compute_kpis,
    first_timestamp,
    ordered,
)

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "Movement", "MovementView", "movement", "movement_messages", "view"]

_WIDE = 8.0


@dataclass(frozen=True)
class Movement:
    """What changed since the previous scoring."""

    previous_as_of: pd.Timestamp | None
    previous: Kpis
    n_new: int
    n_gone: int
    n_stayed: int
    n_moved: int
    transitions: pd.DataFrame  # from_segment, to_segment, customers, revenue_at_risk
    segment_change: pd.DataFrame  # segment, previous, current, change


def _segment_change(scores: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    before = category(previous["rfm_segment"]).value_counts()
    after = category(scores["rfm_segment"]).value_counts()
    segs = ordered(list(before.index) + list(after.index), SEGMENT_ORDER)
    change = pd.DataFrame(
        {
            "segment": segs,
            "previous": before.reindex(segs, fill_value=0).to_numpy(dtype=int),
            "current": after.reindex(segs, fill_value=0).to_numpy(dtype=int),
        }
    )
    change["change"] = change["current"] - change["previous"]
    return change


def movement(scores: pd.DataFrame, previous: pd.DataFrame, threshold: float, n_transitions: int) -> Movement:
    """Compare a scoring with the previous one (both checked as scores tables).

    Raises
    ------
    SchemaError
        If the previous scores miss a column or break a rule of the scores table.
    """
    check_scores(previous, "previous scores")
    cur = scores[["customer_id", "rfm_segment", "revenue_at_risk"]].assign(
        to_segment=category(scores["rfm_segment"])
    )
    prev = previous[["customer_id"]].assign(from_segment=category(previous["rfm_segment"]))
    both = cur.merge(prev, on="customer_id", how="inner")
    moved = both[both["from_segment"] != both["to_segment"]]
    transitions = (
        moved.groupby(["from_segment", "to_segment"], sort=False)
        .agg(customers=("customer_id", "size"), revenue_at_risk=("revenue_at_risk", "sum"))
        .reset_index()
        .sort_values(["customers", "from_segment", "to_segment"], ascending=[False, True, True])
        .head(n_transitions)
        .reset_index(drop=True)
    )
    return Movement(
        previous_as_of=first_timestamp(previous, None, "as_of"),
        previous=compute_kpis(previous, threshold),
        n_new=int((~isin(scores["customer_id"], previous["customer_id"])).sum()),
        n_gone=int((~isin(previous["customer_id"], scores["customer_id"])).sum()),
        n_stayed=len(both),
        n_moved=len(moved),
        transitions=transitions,
        segment_change=_segment_change(scores, previous),
    )


def movement_messages(kpis: Kpis, mv: Movement) -> list[Message]:
    """The movement in sentences."""
    prev = mv.previous
    out = [
        Message("msg_move_churn", {"before": Percent(prev.churn_rate), "after": Percent(kpis.churn_rate),
                                   "delta": Points(kpis.churn_rate - prev.churn_rate)}),
        Message("msg_move_risk", {"before": Money(prev.revenue_at_risk), "after": Money(kpis.revenue_at_risk),
                                  "n_before": Count(prev.n_high_risk), "n_after": Count(kpis.n_high_risk)}),
        Message("msg_move_customers", {"moved": Count(mv.n_moved), "stayed": Count(mv.n_stayed),
                                       "share": Percent(mv.n_moved / mv.n_stayed if mv.n_stayed else 0.0),
                                       "new": Count(mv.n_new), "gone": Count(mv.n_gone)}),
    ]  # fmt: skip
    if len(mv.transitions):
        t = mv.transitions.iloc[0]
        out.append(
            Message(
                "msg_top_move",
                {
                    "from": Category(str(t["from_segment"])),
                    "to": Category(str(t["to_segment"])),
                    "n": Count(int(t["customers"])),
                },
            )
        )
    return out


@dataclass(frozen=True)
class Comparison:
    """One measure before and now."""

    label: str
    before: str
    after: str
    change: str
    cls: str


@dataclass(frozen=True)
class MovementView:
    """The section as shown."""

    intro: str
    compare: tuple[Comparison, ...]
    messages: tuple[str, ...]
    charts: tuple[Chart, ...]
    transitions: Table | None


def _compare(k: Kpis, p: Kpis, fmt: Fmt) -> tuple[Comparison, ...]:
    def cls(now: float, before: float) -> str:
        return "bad" if now > before else "good"

    return (
        Comparison(fmt.t("mv_churn_rate"), format_percent(p.churn_rate), format_percent(k.churn_rate),
                   fmt.points(k.churn_rate - p.churn_rate), cls(k.churn_rate, p.churn_rate)),
        Comparison(fmt.t("mv_revenue_at_risk"), fmt.money(p.revenue_at_risk), fmt.money(k.revenue_at_risk),
                   fmt.signed_money(k.revenue_at_risk - p.revenue_at_risk),
                   cls(k.revenue_at_risk, p.revenue_at_risk)),
        Comparison(fmt.t("mv_high_risk"), format_count(p.n_high_risk), format_count(k.n_high_risk),
                   f"{k.n_high_risk - p.n_high_risk:+,d}", cls(k.n_high_risk, p.n_high_risk)),
    )  # fmt: skip


def view(data: ReportData, fmt: Fmt) -> MovementView | None:
    """The section in ``fmt``'s language; None without a previous scoring."""
    mv = data.movement
    if mv is None:
        return None
    change = mv.segment_change
    chart = fmt.chart(
        plots.plot_change(
            pd.Series(change["change"].to_numpy(), index=[fmt.tv(s) for s in change["segment"]]),
            title=fmt.t("chart_movement"),
            axis_label=fmt.t("axis_change"),
            width=_WIDE,
        ),
        "movement",
        "chart_movement",
    )
    transitions = fmt.table(
        mv.transitions,
        [
            ("from_segment", "col_from", "category"),
            ("to_segment", "col_to", "category"),
            ("customers", "col_customers", "count"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
        ],
    )
    return MovementView(
        intro=fmt.t("intro_movement", date=fmt.date(mv.previous_as_of)),
        compare=_compare(data.kpis, mv.previous, fmt),
        messages=tuple(fmt.messages(data.movement_messages)),
        charts=(chart,),
        transitions=transitions if len(mv.transitions) else None,
    )


WORDS: Words = {
    "en": {
        "sec_movement": "What changed since the previous scoring",
        "intro_movement": "Compared with the scoring of {date}.",
        "no_previous": "No previous scoring was given, so no changes are shown.",
        "col_from": "From segment",
        "col_to": "To segment",
        "col_previous": "Previous",
        "col_current": "Now",
        "col_change": "Change",
        "mv_churn_rate": "Expected churn rate",
        "mv_revenue_at_risk": "Revenue at risk",
        "mv_high_risk": "High-risk customers",
        "mv_transitions": "Largest moves between segments",
        "chart_movement": "Change in customers per segment",
        "axis_change": "Change in customers",
        "msg_move_churn": "The expected churn rate went from {before} to {after} ({delta}).",
        "msg_move_risk": "Revenue at risk went from {before} to {after}; high-risk customers from {n_before} to {n_after}.",
        "msg_move_customers": "{moved} of {stayed} returning customers ({share}) changed segment; {new} customers are new and {gone} are no longer scored.",
        "msg_top_move": "The largest move: {n} customers went from “{from}” to “{to}”.",
    },
    "zh": {
        "sec_movement": "与上次评分相比的变化",
        "intro_movement": "与 {date} 的评分相比。",
        "no_previous": "未提供上次评分，因此不显示变化。",
        "col_from": "原分群",
        "col_to": "新分群",
        "col_previous": "上次",
        "col_current": "本次",
        "col_change": "变化",
        "mv_churn_rate": "预计流失率",
        "mv_revenue_at_risk": "风险收入",
        "mv_high_risk": "高风险客户",
        "mv_transitions": "分群间最大的流动",
        "chart_movement": "各分群客户数变化",
        "axis_change": "客户数变化",
        "msg_move_churn": "预计流失率从 {before} 变为 {after}（{delta}）。",
        "msg_move_risk": "风险收入从 {before} 变为 {after}；高风险客户从 {n_before} 变为 {n_after}。",
        "msg_move_customers": "{stayed} 位持续客户中有 {moved} 位（{share}）更换了分群；新增 {new} 位客户，{gone} 位客户不再参与评分。",
        "msg_top_move": "最大的流动：{n} 位客户从“{from}”转到“{to}”。",
    },
}

ROOM = Room("movement", WORDS, view, toc="sec_movement")
