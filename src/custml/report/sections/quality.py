"""Data quality: rows in and quarantined (and why), the export's own lines, duplicates merged, customers not
scored, and the scoring run's drift verdict per input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.contracts import DriftRow, QualityBlock, SourceAccounting
from custml.report.format import (
    Category,
    Count,
    Fact,
    Fmt,
    Message,
    MessageValue,
    Money,
    Percent,
    Room,
    Table,
    Text,
    Words,
    format_count,
)
from custml.report.meta import drift_table

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "DataQuality", "QualityView", "data_quality", "quality_messages", "view"]


@dataclass(frozen=True)
class DataQuality:
    """Rows in and quarantined (all input tables), customers scored, duplicates merged, drift.

    ``rows_in``/``rows_quarantined`` count rows of every input table that the quality stage validated
    (``meta.quality``; unknown without a meta); ``not_scored`` explains customer records that got no score
    (``meta.rows_not_scored``: quarantined, merged duplicates, no history yet).
    """

    rows_in: int | None
    rows_scored: int
    rows_quarantined: int | None
    duplicates_merged: int | None
    by_table: pd.DataFrame  # table, rows
    by_reason: pd.DataFrame  # reason, rows
    # feature, psi, status, drifted (one row per feature: the largest shift over models); drifted is the scoring
    # run's drift verdict per feature (PSI and its test, custml.scoring.drift.drift_verdict)
    drift: pd.DataFrame
    not_scored: pd.DataFrame  # reason, rows
    # rows quarantined only because they are dated after the as-of date (later sign-ups and orders): not a
    # quality loss, so not in rows_quarantined; None when there are none
    after_as_of: int | None = None
    # the orders' source in its own lines (custml.sources.line_items.source_accounting); None without a source
    # mapping
    source: SourceAccounting | None = None


def _count_frame(counts: Mapping[str, int], key: str) -> pd.DataFrame:
    df = pd.DataFrame(list(counts.items()), columns=[key, "rows"])
    return df.sort_values(["rows", key], ascending=[False, True]).reset_index(drop=True)


def _drift_by_feature(drift: pd.DataFrame) -> pd.DataFrame:
    """The scorer may list a feature once per model: keep its largest shift. A missing psi sorts last."""
    if not len(drift):
        return drift
    return (
        drift.sort_values(["psi", "feature"], ascending=[False, True], na_position="last")
        .drop_duplicates("feature")
        .reset_index(drop=True)
    )


def data_quality(
    quality: QualityBlock | None, drift: Sequence[DriftRow], not_scored: Mapping[str, int], rows_scored: int
) -> DataQuality:
    """The section's figures from the sidecar's quality block, drift rows and customers not scored (``quality``
    None: the report has no meta; the counts are then unknown)."""
    q = quality
    after = sum(q.rows_after_as_of.values()) if q is not None else 0
    return DataQuality(
        rows_in=q.rows_in if q is not None else None,
        rows_scored=rows_scored,
        rows_quarantined=q.rows_quarantined if q is not None else None,
        duplicates_merged=q.duplicates_merged if q is not None else None,
        by_table=_count_frame(q.quarantined_by_table if q is not None else {}, "table"),
        by_reason=_count_frame(q.quarantined_by_reason if q is not None else {}, "reason"),
        drift=_drift_by_feature(drift_table(drift)),
        not_scored=_count_frame({k: v for k, v in not_scored.items() if v}, "reason"),
        after_as_of=after or None,
        source=q.source_accounting.get("orders") if q is not None else None,
    )


def _source_messages(source: SourceAccounting | None) -> list[Message]:
    """The export in its own lines: those without a customer id (and their share of revenue), exact duplicate
    lines and the policy applied, rows left out by the mapping's filter."""
    if source is None:
        return []
    out: list[Message] = []
    n, none = source.units_in, source.without_customer if source.unit == "lines" else None
    if none:
        total, money = source.net_amount_in or 0.0, source.net_amount_without_customer or 0.0
        out.append(Message("msg_source_lines", {
            "n": Count(n), "n_none": Count(none), "share": Percent(none / n if n else 0.0),
            "money": Money(money), "money_share": Percent(money / total if total else 0.0)}))  # fmt: skip
    elif none is not None:
        out.append(Message("msg_source_lines_all", {"n": Count(n)}))
    if source.unit == "lines" and source.exact_duplicates:
        dropped = (source.exact_duplicates_policy or "").startswith("dropped")
        key = "msg_source_duplicates_dropped" if dropped else "msg_source_duplicates_kept"
        dup: dict[str, MessageValue] = {
            "n": Count(source.exact_duplicates),
            "money": Money(source.net_amount_exact_duplicates or 0.0),
        }
        out.append(Message(key, dup))
    if source.excluded_by_filter:
        out.append(Message("msg_source_excluded", {"n": Count(source.excluded_by_filter)}))
    return out


def _drift_messages(drift: pd.DataFrame) -> list[Message]:
    if not len(drift):
        return []
    drifted = drift[drift["drifted"]]
    if len(drifted):
        return [
            Message("msg_drift", {"n": Count(len(drifted)), "feature": Text(str(drifted.iloc[0]["feature"]))})
        ]
    compared = drift[drift["status"] != "left out"]
    return [Message("msg_no_drift", {"n": Count(len(compared))})]


def quality_messages(dq: DataQuality) -> list[Message]:
    """The section's sentences: quarantine and its top reason, the export's lines, duplicates, drift."""
    out: list[Message] = []
    if dq.rows_quarantined is not None:
        share = dq.rows_quarantined / dq.rows_in if dq.rows_in else 0.0
        out.append(Message("msg_quarantined", {"n": Count(dq.rows_quarantined), "share": Percent(share)}))
        if len(dq.by_reason) and dq.rows_quarantined > 0:
            top = dq.by_reason.iloc[0]
            reason: dict[str, MessageValue] = {
                "reason": Category(str(top["reason"])),
                "n": Count(int(top["rows"])),
            }
            out.append(Message("msg_top_reason", reason))
    out.extend(_source_messages(dq.source))
    if dq.duplicates_merged is not None:
        out.append(Message("msg_duplicates", {"n": Count(dq.duplicates_merged)}))
    return out + _drift_messages(dq.drift)


@dataclass(frozen=True)
class QualityView:
    """The section as shown."""

    facts: tuple[Fact, ...]
    messages: tuple[str, ...]
    by_table: Table | None
    by_reason: Table | None
    not_scored: Table | None
    drift: Table | None


def _facts(dq: DataQuality, fmt: Fmt) -> tuple[Fact, ...]:
    counts = [
        ("dq_rows_in", dq.rows_in),
        ("dq_rows_scored", dq.rows_scored),
        ("dq_rows_quarantined", dq.rows_quarantined),
        ("dq_after_as_of", dq.after_as_of),
        ("dq_duplicates", dq.duplicates_merged),
    ]
    facts = [Fact(fmt.t(key), format_count(v)) for key, v in counts if v is not None]
    source = dq.source
    if source is not None and source.unit == "lines":
        facts.insert(1, Fact(fmt.t("dq_source_lines_in"), format_count(source.units_in)))
        if source.without_customer is not None:
            facts.insert(2, Fact(fmt.t("dq_source_without_customer"), format_count(source.without_customer)))
            money = fmt.money(source.net_amount_without_customer or 0.0)
            facts.insert(3, Fact(fmt.t("dq_source_revenue_without_customer"), money))
        if source.exact_duplicates is not None:
            facts.append(Fact(fmt.t("dq_source_duplicates"), format_count(source.exact_duplicates)))
    if source is not None and source.excluded_by_filter:
        facts.append(Fact(fmt.t("dq_source_excluded"), format_count(source.excluded_by_filter)))
    return tuple(facts)


def view(data: ReportData, fmt: Fmt) -> QualityView:
    """The section in ``fmt``'s language."""
    dq = data.data_quality

    def table(df: pd.DataFrame, key: str, label: str, rows_label: str = "col_rows") -> Table | None:
        return fmt.table(df, [(key, label, "category"), ("rows", rows_label, "count")]) if len(df) else None

    drift = [
        ("feature", "col_feature", "text"),
        ("psi", "col_psi", "float"),
        ("status", "col_status", "category"),
    ]
    return QualityView(
        facts=_facts(dq, fmt),
        messages=tuple(fmt.messages(data.quality_messages)),
        by_table=table(dq.by_table, "table", "col_table"),
        by_reason=table(dq.by_reason, "reason", "col_reason"),
        not_scored=table(dq.not_scored, "reason", "col_reason", "col_customers"),
        drift=fmt.table(dq.drift, drift) if len(dq.drift) else None,
    )


WORDS: Words = {
    "en": {
        "sec_quality": "Data quality",
        "intro_quality": "Rows that failed validation were set aside (quarantined) and duplicate customer records were merged before scoring.",
        "no_quality": "The scoring run did not record data-quality counts.",
        "col_table": "Table",
        "col_feature": "Feature",
        "col_psi": "Shift (PSI)",
        "col_status": "Status",
        "dq_rows_in": "Rows received",
        "dq_rows_scored": "Customers scored",
        "dq_rows_quarantined": "Rows quarantined",
        "dq_after_as_of": "Rows dated after the scoring date (later sign-ups, orders, interactions, campaign sends; not quarantined)",
        "dq_duplicates": "Duplicate records merged",
        "dq_source_lines_in": "Lines in the export",
        "dq_source_without_customer": "Lines without a customer id",
        "dq_source_revenue_without_customer": "Revenue of lines without a customer id",
        "dq_source_duplicates": "Exact duplicate lines",
        "dq_source_excluded": "Source rows excluded by the mapping's filter",
        "dq_by_table": "Quarantined rows by table",
        "dq_by_reason": "Quarantined rows by reason",
        "dq_drift": "Input drift since training",
        "dq_not_scored": "Customer records without a score",
        "msg_quarantined": "{n} rows ({share} of the input) failed validation and were set aside.",
        "msg_top_reason": "The most common problem was “{reason}” ({n} rows).",
        "msg_duplicates": "{n} duplicate customer records were merged into one customer each.",
        "msg_source_lines": "The export held {n} lines; {n_none} of them ({share}) had no customer id and carried {money} ({money_share} of its revenue): they are in no customer's history.",
        "msg_source_lines_all": "The export held {n} lines, every one with a customer id.",
        "msg_source_duplicates_kept": "{n} lines repeated an earlier line in every column ({money}); they were kept and summed into their orders, as the source system counted them.",
        "msg_source_duplicates_dropped": "{n} lines repeated an earlier line in every column ({money}); they were left out.",
        "msg_source_excluded": "{n} source rows were left out by the mapping's filter (for example canceled orders).",
        "msg_drift": "Inputs that shifted strongly since training: {n} (largest: {feature}); consider retraining.",
        "msg_no_drift": "None of the {n} monitored inputs has shifted strongly since training.",
    },
    "zh": {
        "sec_quality": "数据质量",
        "intro_quality": "评分前，未通过校验的数据行已被隔离，重复的客户记录已被合并。",
        "no_quality": "本次评分未记录数据质量统计。",
        "col_table": "数据表",
        "col_feature": "特征",
        "col_psi": "偏移（PSI）",
        "col_status": "状态",
        "dq_rows_in": "接收行数",
        "dq_rows_scored": "已评分客户",
        "dq_rows_quarantined": "隔离行数",
        "dq_after_as_of": "评分日之后的行（之后的注册、订单、互动和营销发送；不计入隔离）",
        "dq_duplicates": "合并的重复记录",
        "dq_source_lines_in": "导出文件中的明细行",
        "dq_source_without_customer": "无客户编号的明细行",
        "dq_source_revenue_without_customer": "无客户编号明细行的收入",
        "dq_source_duplicates": "完全重复的明细行",
        "dq_source_excluded": "被映射筛选条件排除的源数据行",
        "dq_by_table": "按数据表统计的隔离行",
        "dq_by_reason": "按原因统计的隔离行",
        "dq_drift": "训练以来的输入偏移",
        "dq_not_scored": "未评分的客户记录",
        "msg_quarantined": "{n} 行数据（占输入的 {share}）未通过校验，已被隔离。",
        "msg_top_reason": "最常见的问题是“{reason}”（{n} 行）。",
        "msg_duplicates": "{n} 条重复的客户记录已合并。",
        "msg_source_lines": "导出文件共有 {n} 行明细；其中 {n_none} 行（{share}）没有客户编号，金额 {money}（占收入的 {money_share}）：它们不属于任何客户的历史。",
        "msg_source_lines_all": "导出文件共有 {n} 行明细，每行都有客户编号。",
        "msg_source_duplicates_kept": "{n} 行明细与之前某行的所有列完全相同（{money}）；已保留并计入其订单，与源系统的统计一致。",
        "msg_source_duplicates_dropped": "{n} 行明细与之前某行的所有列完全相同（{money}）；已排除。",
        "msg_source_excluded": "{n} 行源数据被映射的筛选条件排除（例如已取消的订单）。",
        "msg_drift": "自训练以来明显偏移的输入：{n} 个（最大：{feature}）；建议重新训练。",
        "msg_no_drift": "监控的 {n} 个输入自训练以来均无明显偏移。",
    },
}

ROOM = Room("quality", WORDS, view, toc="sec_quality")
