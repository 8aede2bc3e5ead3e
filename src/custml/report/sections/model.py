"""How reliable are the predictions: the models' test metrics, calibration and the outlook, in plain words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custml.contracts import ChurnOutlook, ModelVersionInfo
from custml.report import plots
from custml.report.format import (
    Chart,
    Count,
    DateValue,
    Fmt,
    Message,
    MessageValue,
    Percent,
    Points,
    Ratio,
    Room,
    Words,
    format_percent,
)
from custml.report.scores_table import timestamp
from custml.report.sections.drivers import driver_table

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = [
    "ROOM",
    "MetricRow",
    "ModelQuality",
    "ModelView",
    "model_messages",
    "model_quality",
    "outlook_messages",
    "view",
]

_METRIC_ROWS = ("roc_auc", "lift_top10", "capture_top10", "base_rate", "brier", "ece", "test_cutoff")


@dataclass(frozen=True)
class ModelQuality:
    """How good one model is, from the scorer's meta."""

    task: str
    name: str
    version: str
    metrics: Mapping[str, float]
    test_cutoff: pd.Timestamp | None
    calibration: pd.DataFrame  # mean_predicted, observed_rate, n
    calibration_gap: float | None  # mean |predicted - observed|, weighted by n
    top_drivers: pd.DataFrame  # feature, description, mean_abs_shap, share


def _metrics(info: ModelVersionInfo) -> dict[str, float]:
    raw = info.metrics.model_dump(exclude={"test_cutoff"}, exclude_none=True)
    return {k: float(v) for k, v in raw.items() if np.isfinite(v)}


def model_quality(task: str, info: ModelVersionInfo | None) -> ModelQuality | None:
    """One model's quality (calibration sorted, its weighted gap, drivers with shares); None without meta."""
    if info is None:
        return None
    cal = pd.DataFrame(
        [b.model_dump() for b in info.calibration], columns=["mean_predicted", "observed_rate", "n"]
    )
    cal = cal.dropna(subset=["mean_predicted", "observed_rate"]).astype(float)
    cal = cal.sort_values("mean_predicted").reset_index(drop=True)
    gap = None
    if len(cal):
        w = cal["n"].fillna(1.0).clip(lower=0)
        diff = (cal["mean_predicted"] - cal["observed_rate"]).abs()
        gap = float((diff * w).sum() / w.sum()) if w.sum() > 0 else float(diff.mean())
    drivers = pd.DataFrame(
        [d.model_dump() for d in info.top_drivers], columns=["feature", "description", "mean_abs_shap"]
    )
    return ModelQuality(
        task,
        info.name,
        info.version,
        _metrics(info),
        timestamp(info.metrics.test_cutoff),
        cal,
        gap,
        driver_table(drivers),
    )


def outlook_messages(outlook: ChurnOutlook | None, horizon: int) -> list[Message]:
    """The outlook's caveats: a history shorter than a year, and the same season a year earlier."""
    if outlook is None or outlook.expected_rate is None:
        return []
    out = []
    if outlook.short_history:
        out.append(Message("msg_outlook_short_history", {"days": Count(horizon)}))
    if outlook.same_season_last_year is not None:
        last: dict[str, MessageValue] = {
            "rate": Percent(outlook.expected_rate),
            "last": Percent(outlook.same_season_last_year.realised_rate),
            "days": Count(horizon),
        }
        out.append(Message("msg_outlook_last_year", last))
    return out


def _lift_messages(m: Mapping[str, float]) -> list[Message]:
    if "capture_top10" not in m:
        return [Message("msg_lift_only", {"lift": Ratio(m["lift_top10"])})] if "lift_top10" in m else []
    params: dict[str, MessageValue] = {"capture": Percent(m["capture_top10"])}
    if "lift_top10" in m:
        params["lift"] = Ratio(m["lift_top10"])
    out = [Message("msg_lift" if "lift_top10" in m else "msg_capture", params)]
    # When most customers churn, even a perfect top 10% holds only a small share of them: say so.
    base = m.get("base_rate", 0.0)
    if base > 0.2:
        ceiling: dict[str, MessageValue] = {
            "rate": Percent(base),
            "max": Percent(min(1.0, 0.1 / base)),
            "lift": Ratio(1 / base),
        }
        out.append(Message("msg_lift_ceiling", ceiling))
    return out


def model_messages(churn: ModelQuality | None) -> list[Message]:
    """The churn model's quality in sentences: lift, calibration, ranking, the base rate."""
    if churn is None:
        return [Message("msg_no_model_meta")]
    m = churn.metrics
    out = _lift_messages(m)
    if churn.calibration_gap is not None:
        gap = churn.calibration_gap
        key = (
            "msg_calibration_good"
            if gap <= 0.03
            else "msg_calibration_ok"
            if gap <= 0.07
            else "msg_calibration_poor"
        )
        out.append(Message(key, {"gap": Points(gap, signed=False)}))
    if "roc_auc" in m:
        auc = m["roc_auc"]
        key = "msg_auc_strong" if auc >= 0.8 else "msg_auc_useful" if auc >= 0.7 else "msg_auc_weak"
        out.append(Message(key, {"auc": Ratio(auc)}))
    if "base_rate" in m:
        if churn.test_cutoff is not None:
            at: dict[str, MessageValue] = {
                "rate": Percent(m["base_rate"]),
                "date": DateValue(churn.test_cutoff),
            }
            out.append(Message("msg_base_rate_at", at))
        else:
            out.append(Message("msg_base_rate", {"rate": Percent(m["base_rate"])}))
    return out


@dataclass(frozen=True)
class MetricRow:
    """One measure, one cell per model."""

    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class ModelView:
    """Sentences, the metric table (a column per model) and the calibration chart."""

    messages: tuple[str, ...]
    headers: tuple[str, ...]
    metric_rows: tuple[MetricRow, ...]
    charts: tuple[Chart, ...]


def _metric_cell(model: ModelQuality, key: str, fmt: Fmt) -> str:
    v = model.metrics.get(key)
    if key == "test_cutoff":
        return fmt.date(model.test_cutoff)
    if v is None:
        return "–"
    if key in ("capture_top10", "base_rate"):
        return format_percent(v)
    if key == "lift_top10":
        return fmt.times(v)
    return f"{v:.3f}"


def _metric_rows(models: list[ModelQuality], fmt: Fmt) -> tuple[MetricRow, ...]:
    if not models:
        return ()
    rows = [
        MetricRow(
            fmt.t("metric_model"), tuple(f"{m.name} (v{m.version})" if m.version else m.name for m in models)
        )
    ]
    for key in _METRIC_ROWS:
        cells = tuple(_metric_cell(m, key, fmt) for m in models)
        if any(c != "–" for c in cells):
            rows.append(MetricRow(fmt.t(f"metric_{key}"), cells))
    return tuple(rows)


def view(data: ReportData, fmt: Fmt) -> ModelView:
    """The section in ``fmt``'s language."""
    models = [m for m in (data.churn_model, data.repurchase_model) if m is not None]
    charts: tuple[Chart, ...] = ()
    churn = data.churn_model
    if churn is not None and len(churn.calibration):
        fig = plots.plot_calibration(
            churn.calibration,
            title=fmt.t("chart_calibration"),
            xlabel=fmt.t("axis_predicted"),
            ylabel=fmt.t("axis_observed"),
            model_label=fmt.t("legend_model"),
            perfect_label=fmt.t("legend_perfect"),
        )
        charts = (fmt.chart(fig, "calibration", "chart_calibration"),)
    return ModelView(
        messages=tuple(fmt.messages(data.model_messages)),
        headers=tuple(fmt.t(f"{m.task}_model") for m in models),
        metric_rows=_metric_rows(models, fmt),
        charts=charts,
    )


WORDS: Words = {
    "en": {
        "msg_outlook_last_year": "The model expects {rate} of the customers with an order in the last year to place no order in the next {days} days; in the same season a year earlier {last} did not. Churn moves with the calendar: compare like with like.",
        "msg_outlook_short_history": "The data covers less than a year and a {days}-day horizon: the model has not seen this season before, so its expected churn rate may be off by the season's swing. Read it as a ranking first.",
        "sec_model": "How reliable are the predictions?",
        "metric_roc_auc": "Ranking quality (ROC AUC; 0.5 = random, 1 = perfect)",
        "metric_pr_auc": "Precision-recall AUC",
        "metric_brier": "Brier score (lower is better)",
        "metric_ece": "Calibration error (lower is better)",
        "metric_lift_top10": "Lift in the top 10%",
        "metric_capture_top10": "Churners found in the top 10%",
        "metric_base_rate": "Actual rate in the test period (churn or repurchase)",
        "metric_test_cutoff": "Test period starts",
        "metric_model": "Model (version)",
        "churn_model": "Churn model",
        "repurchase_model": "Repurchase model",
        "chart_calibration": "Predicted vs actual churn (calibration)",
        "axis_predicted": "Predicted churn risk (%)",
        "axis_observed": "Actual churn rate (%)",
        "legend_perfect": "Perfect calibration",
        "legend_model": "Model",
        "msg_no_model_meta": "The scoring run did not record model quality.",
        "msg_lift": "The top 10% of customers by risk hold {capture} of the churners — {lift} as many as a random 10% would.",
        "msg_capture": "The top 10% of customers by risk hold {capture} of the churners.",
        "msg_lift_ceiling": "Because {rate} of customers churn, even a perfect model could put at most {max} of the churners in its top 10% (a lift of {lift}).",
        "msg_lift_only": "The top 10% of customers by risk contain {lift} as many churners as a random 10%.",
        "msg_calibration_good": "Predicted risks are well calibrated: on average they are within {gap} of the churn rate that actually followed.",
        "msg_calibration_ok": "Predicted risks are roughly calibrated: on average they are {gap} away from the churn rate that actually followed.",
        "msg_calibration_poor": "Predicted risks are off by {gap} on average: use them to rank customers rather than as exact probabilities.",
        "msg_auc_strong": "The model ranks customers well (ROC AUC {auc}).",
        "msg_auc_useful": "The model ranks customers usefully but not perfectly (ROC AUC {auc}).",
        "msg_auc_weak": "The model ranks customers only weakly (ROC AUC {auc}); treat its risks with caution.",
        "msg_base_rate": "In the test period, {rate} of customers churned.",
        "msg_base_rate_at": "In the test period starting {date}, {rate} of customers churned.",
    },
    "zh": {
        "msg_outlook_last_year": "模型预计过去一年有订单的客户中 {rate} 在未来 {days} 天内不会下单；一年前同一季节，{last} 的客户没有下单。流失率随日历变化：请与同期相比。",
        "msg_outlook_short_history": "数据不足一年加 {days} 天的预测期：模型没有见过这个季节，预计流失率可能偏离季节波动的幅度。请先把它当作排序来看。",
        "sec_model": "预测有多可靠？",
        "metric_roc_auc": "排序能力（ROC AUC；0.5 = 随机，1 = 完美）",
        "metric_pr_auc": "精确率-召回率 AUC",
        "metric_brier": "Brier 分数（越低越好）",
        "metric_ece": "校准误差（越低越好）",
        "metric_lift_top10": "前 10% 的提升度",
        "metric_capture_top10": "前 10% 覆盖的流失客户",
        "metric_base_rate": "测试期实际发生率（流失或复购）",
        "metric_test_cutoff": "测试期开始",
        "metric_model": "模型（版本）",
        "churn_model": "流失模型",
        "repurchase_model": "复购模型",
        "chart_calibration": "预测与实际流失对比（校准）",
        "axis_predicted": "预测流失风险（%）",
        "axis_observed": "实际流失率（%）",
        "legend_perfect": "完美校准",
        "legend_model": "模型",
        "msg_no_model_meta": "本次评分未记录模型质量。",
        "msg_lift": "按风险排序的前 10% 客户包含了 {capture} 的流失客户——是随机选取 10% 的 {lift}。",
        "msg_capture": "按风险排序的前 10% 客户包含了 {capture} 的流失客户。",
        "msg_lift_ceiling": "由于 {rate} 的客户会流失，即使完美的模型，其前 10% 也最多只能包含 {max} 的流失客户（提升度 {lift}）。",
        "msg_lift_only": "按风险排序的前 10% 客户中的流失客户数是随机选取 10% 的 {lift}。",
        "msg_calibration_good": "预测风险校准良好：与随后实际流失率的平均差距在 {gap} 以内。",
        "msg_calibration_ok": "预测风险大致校准：与随后实际流失率平均相差 {gap}。",
        "msg_calibration_poor": "预测风险平均偏差 {gap}：请用于客户排序，而非精确概率。",
        "msg_auc_strong": "模型对客户的排序能力强（ROC AUC {auc}）。",
        "msg_auc_useful": "模型的排序有用但不完美（ROC AUC {auc}）。",
        "msg_auc_weak": "模型的排序能力较弱（ROC AUC {auc}），请谨慎使用其风险值。",
        "msg_base_rate": "测试期内有 {rate} 的客户流失。",
        "msg_base_rate_at": "在 {date} 开始的测试期内，有 {rate} 的客户流失。",
    },
}

ROOM = Room("model", WORDS, view, toc="sec_model")
