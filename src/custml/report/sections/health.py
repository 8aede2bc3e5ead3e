"""Model health (``custml monitor``): did the scores come true? Verdict, reasons, promised vs realised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.errors import SchemaError
from custml.report import plots
from custml.report.format import Chart, Fmt, Room, Table, Words, format_count

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["HEALTH_HISTORY_COLUMNS", "ROOM", "HealthView", "ModelHealth", "model_health", "view"]

#: Columns of :attr:`ModelHealth.history` (a subset of the monitoring health table).
HEALTH_HISTORY_COLUMNS = (
    "as_of",
    "matured",
    "promised_roc_auc",
    "realised_roc_auc",
    "estimated_roc_auc",
    "promised_rate",
    "realised_rate",
    "expected_rate",
    "score_psi",
    "verdict",
)


@dataclass(frozen=True)
class ModelHealth:
    """The "Model health" section: verdict, its reasons and the history of one model's scorings.

    Built from the health table of :mod:`custml.monitoring` (``custml monitor``) by :func:`model_health`.
    """

    verdict: str  # healthy / watch / retrain
    reasons: tuple[tuple[str, str, str, str], ...]  # (date, check, value, level)
    history: pd.DataFrame  # HEALTH_HISTORY_COLUMNS, one row per scoring, oldest first
    horizon_days: int


def _parse_reasons(reasons: Sequence[str]) -> tuple[tuple[str, str, str, str], ...]:
    parsed = []
    for reason in reasons:
        date, _, rest = str(reason).partition(": ")
        for part in rest.split("; "):
            check, _, tail = part.partition("=")
            value, _, level = tail.partition(" (")
            if check and value:
                parsed.append((date, check, value, level.rstrip(")")))
    return tuple(parsed)


def model_health(table: pd.DataFrame, verdict: str, reasons: Sequence[str] = ()) -> ModelHealth:
    """The report's Model health content from a monitoring health table and its overall verdict.

    ``reasons`` are the monitoring reasons (``"DATE: check=value (level); ..."``); they are split into parts so
    that the report can say them in either language.

    Raises
    ------
    SchemaError
        If a column of :data:`HEALTH_HISTORY_COLUMNS` is missing, the table is empty or the verdict is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"as_of": pd.to_datetime(["2025-01-01"]), "matured": [True], "promised_roc_auc": [0.8],
    ...     "realised_roc_auc": [0.79], "estimated_roc_auc": [0.8], "promised_rate": [0.3], "realised_rate": [0.31],
    ...     "expected_rate": [0.3], "score_psi": [0.01], "verdict": ["healthy"]})
    >>> model_health(t, "healthy").verdict
    'healthy'
    """
    missing = [c for c in HEALTH_HISTORY_COLUMNS if c not in table.columns]
    if missing:
        raise SchemaError(
            "health", missing[0], f"required column is missing (all missing: {', '.join(missing)})"
        )
    if len(table) == 0:
        raise SchemaError("health", None, "table is empty")
    if verdict not in ("healthy", "watch", "retrain"):
        raise SchemaError("health", "verdict", f"unknown verdict {verdict!r}")
    history = table[list(HEALTH_HISTORY_COLUMNS)].sort_values("as_of", kind="stable").reset_index(drop=True)
    horizon = int(table["horizon_days"].iloc[-1]) if "horizon_days" in table.columns else 90
    return ModelHealth(verdict, _parse_reasons(reasons), history, horizon)


@dataclass(frozen=True)
class HealthView:
    """The section as shown."""

    verdict: str
    headline: str
    intro: str
    reasons: tuple[str, ...]
    table: Table
    charts: tuple[Chart, ...]


def _reason(date: str, check: str, value: str, level: str, fmt: Fmt) -> str:
    return fmt.t(
        "health_reason",
        date=fmt.date(pd.Timestamp(date)) if date else "",
        check=fmt.t(f"check_{check}") if fmt.has(f"check_{check}") else check,
        value=value,
        level=fmt.t(f"level_{level}") if fmt.has(f"level_{level}") else level,
    )


def _charts(h: pd.DataFrame, fmt: Fmt) -> tuple[Chart, ...]:
    auc = plots.plot_health_history(
        h,
        [
            ("promised_roc_auc", fmt.t("legend_promised"), "dashed"),
            ("realised_roc_auc", fmt.t("legend_realised"), "solid"),
            ("estimated_roc_auc", fmt.t("legend_estimated"), "dotted"),
        ],
        title=fmt.t("chart_health_auc"),
        ylabel=fmt.t("axis_auc"),
    )
    rate = plots.plot_health_history(
        h,
        [
            ("promised_rate", fmt.t("legend_promised"), "dashed"),
            ("realised_rate", fmt.t("legend_realised"), "solid"),
            ("expected_rate", fmt.t("legend_expected"), "dotted"),
        ],
        title=fmt.t("chart_health_rate"),
        ylabel=fmt.t("axis_churn_rate"),
        percent=True,
    )
    return fmt.chart(auc, "health-auc", "chart_health_auc"), fmt.chart(
        rate, "health-rate", "chart_health_rate"
    )


def _table(h: pd.DataFrame, fmt: Fmt) -> Table:
    frame = h.assign(
        scoring=[fmt.date(v) for v in h["as_of"]],
        outcome=[fmt.t("outcome_known" if m else "outcome_maturing") for m in h["matured"]],
        verdict_text=[fmt.t(f"level_{v}") for v in h["verdict"]],
    )
    return fmt.table(
        frame,
        [
            ("scoring", "col_scoring", "text"),
            ("outcome", "col_outcome", "text"),
            ("realised_roc_auc", "col_realised_auc", "float"),
            ("estimated_roc_auc", "col_estimated_auc", "float"),
            ("realised_rate", "col_churn_rate", "percent"),
            ("expected_rate", "col_expected_rate", "percent"),
            ("score_psi", "col_score_psi", "float"),
            ("verdict_text", "col_verdict", "text"),
        ],
    )


def view(data: ReportData, fmt: Fmt) -> HealthView | None:
    """The section in ``fmt``'s language; None when the report has no monitoring."""
    health = data.health
    if health is None:
        return None
    h = health.history
    matured = int(h["matured"].sum())
    intro = fmt.t(
        "health_intro",
        n=format_count(len(h)),
        now=fmt.date(h["as_of"].max()),
        matured=format_count(matured),
        maturing=format_count(len(h) - matured),
        days=format_count(health.horizon_days),
    )
    return HealthView(
        verdict=health.verdict,
        headline=fmt.t(f"health_verdict_{health.verdict}"),
        intro=intro,
        reasons=tuple(_reason(*r, fmt) for r in health.reasons),
        table=_table(h, fmt),
        charts=_charts(h, fmt),
    )


WORDS: Words = {
    "en": {
        "sec_health": "Model health: did the scores come true?",
        "health_verdict_healthy": "Healthy: the model keeps what it promised at training.",
        "health_verdict_watch": "Watch: something moved; look again at the next scoring.",
        "health_verdict_retrain": "Retrain: the model no longer keeps what it promised.",
        "health_intro": "Checked {n} scorings up to {now}: {matured} with known outcomes, {maturing} still within their {days}-day horizon (their quality is estimated from the probabilities, assuming they are calibrated).",
        "health_reason": "{date}: {check} {value} ({level})",
        "chart_health_auc": "Promised vs realised ROC AUC by scoring month",
        "chart_health_rate": "Churn rate by scoring month",
        "axis_auc": "ROC AUC",
        "axis_churn_rate": "Churn rate",
        "legend_promised": "Promised at training",
        "legend_realised": "Realised",
        "legend_estimated": "Estimated (no labels yet)",
        "legend_expected": "Expected (mean probability)",
        "col_scoring": "Scoring",
        "col_outcome": "Outcome",
        "col_realised_auc": "Realised AUC",
        "col_estimated_auc": "Estimated AUC",
        "col_churn_rate": "Churn rate",
        "col_expected_rate": "Expected",
        "col_score_psi": "Score shift (PSI)",
        "col_verdict": "Verdict",
        "outcome_known": "known",
        "outcome_maturing": "maturing",
        "check_auc_drop": "AUC below promise, beyond noise, by",
        "check_estimated_auc_drop": "estimated AUC below promise, beyond noise, by",
        "check_ece_excess": "calibration error above noise by",
        "check_rate_gap": "churn rate off the prediction, beyond noise, by",
        "check_early_return_gap": "fewer customers ordered again than expected, beyond noise, by",
        "check_score_psi": "score distribution shifted, PSI",
        "check_inputs_drifted": "model inputs drifted:",
        "level_healthy": "healthy",
        "level_watch": "watch",
        "level_retrain": "retrain",
    },
    "zh": {
        "sec_health": "模型健康：预测是否应验？",
        "health_verdict_healthy": "健康：模型保持了训练时承诺的效果。",
        "health_verdict_watch": "关注：出现了变化，下次评分时请再查看。",
        "health_verdict_retrain": "需重新训练：模型已达不到训练时承诺的效果。",
        "health_intro": "已检查截至 {now} 的 {n} 次评分：{matured} 次结果已知，{maturing} 次仍在 {days} 天观察期内（其效果根据概率估计，前提是概率已校准）。",
        "health_reason": "{date}：{check} {value}（{level}）",
        "chart_health_auc": "各评分月份承诺与实际 ROC AUC",
        "chart_health_rate": "各评分月份流失率",
        "axis_auc": "ROC AUC",
        "axis_churn_rate": "流失率",
        "legend_promised": "训练时承诺",
        "legend_realised": "实际",
        "legend_estimated": "估计（尚无标签）",
        "legend_expected": "预期（平均概率）",
        "col_scoring": "评分日期",
        "col_outcome": "结果",
        "col_realised_auc": "实际 AUC",
        "col_estimated_auc": "估计 AUC",
        "col_churn_rate": "流失率",
        "col_expected_rate": "预期",
        "col_score_psi": "分数偏移（PSI）",
        "col_verdict": "结论",
        "outcome_known": "已知",
        "outcome_maturing": "观察中",
        "check_auc_drop": "AUC 低于承诺（超出噪声部分）",
        "check_estimated_auc_drop": "估计 AUC 低于承诺（超出噪声部分）",
        "check_ece_excess": "校准误差超出噪声",
        "check_rate_gap": "流失率偏离预测（超出噪声部分）",
        "check_early_return_gap": "再次下单的客户少于预期（超出噪声部分）",
        "check_score_psi": "分数分布偏移，PSI",
        "check_inputs_drifted": "模型输入漂移：",
        "level_healthy": "健康",
        "level_watch": "关注",
        "level_retrain": "需重新训练",
    },
}

ROOM = Room("health", WORDS, view, toc="sec_health")
