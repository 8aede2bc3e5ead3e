"""What drives churn: the churn model's top drivers (share of mean |SHAP|) in plain words and one chart."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custml.report import plots
from custml.report.format import Chart, Fmt, Message, Percent, Room, Text, Words, format_percent

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = ["ROOM", "DriversView", "driver_messages", "driver_table", "view"]

_WIDE = 8.0


def driver_table(top_drivers: pd.DataFrame) -> pd.DataFrame:
    """Drivers as the scorer listed them (``feature``, ``description``, ``mean_abs_shap``), strongest first, with
    ``share`` of the total influence; a missing description falls back to the feature's name."""
    drivers = top_drivers.reindex(columns=["feature", "description", "mean_abs_shap"]).copy()
    if not len(drivers):
        return drivers.assign(share=pd.Series(dtype=float))
    described = drivers["description"].notna() & (drivers["description"].astype(str).str.strip() != "")
    drivers["description"] = drivers["description"].where(described, drivers["feature"])
    drivers["mean_abs_shap"] = pd.to_numeric(drivers["mean_abs_shap"], errors="coerce").fillna(0.0)
    drivers = drivers.sort_values("mean_abs_shap", ascending=False).reset_index(drop=True)
    total = drivers["mean_abs_shap"].sum()
    drivers["share"] = drivers["mean_abs_shap"] / total if total > 0 else 0.0
    return drivers


def driver_messages(drivers: pd.DataFrame) -> list[Message]:
    """The strongest driver and the top three's share, in sentences."""
    if not len(drivers):
        return []
    top = drivers.iloc[0]
    out = [
        Message(
            "msg_top_driver",
            {
                "driver": Text(str(top["description"]).strip().rstrip(".")),
                "share": Percent(float(top["share"])),
            },
        )
    ]
    if len(drivers) >= 3:
        out.append(Message("msg_top3_drivers", {"share": Percent(float(drivers["share"].head(3).sum()))}))
    return out


def _wrap_labels(labels: pd.Series, width: int) -> list[str]:
    """Chart labels of at most two lines: trailing full stop dropped, an ellipsis where text was cut."""
    out = []
    for text in labels:
        text = text.strip().rstrip(".")
        lines = textwrap.wrap(text, width)
        if len(lines) > 2:
            lines = [lines[0], lines[1].rstrip(" ,;:(") + "…"]
        out.append("\n".join(lines))
    return out


@dataclass(frozen=True)
class DriversView:
    """The sentences and the chart (none when the scoring run recorded no drivers)."""

    messages: tuple[str, ...]
    charts: tuple[Chart, ...]


def view(data: ReportData, fmt: Fmt) -> DriversView:
    """The section in ``fmt``'s language."""
    model = data.churn_model
    if model is None or not len(model.top_drivers):
        return DriversView((), ())
    d = model.top_drivers.head(8)
    fig = plots.plot_bars(
        pd.Series(d["share"].to_numpy(), index=_wrap_labels(d["description"].astype(str), 38)),
        title=fmt.t("chart_drivers"),
        axis_label=fmt.t("axis_influence"),
        value_format=lambda v: format_percent(v, 0),
        percent_axis=True,
        colors=[plots.PALETTE["risk"]] * len(d),
        width=_WIDE,
    )
    return DriversView(
        tuple(fmt.messages(data.driver_messages)), (fmt.chart(fig, "drivers", "chart_drivers"),)
    )


WORDS: Words = {
    "en": {
        "sec_drivers": "What drives churn",
        "intro_drivers": "The customer behaviours that most influence the churn prediction, across all customers.",
        "no_drivers": "The scoring run did not record churn drivers.",
        "col_driver": "Driver",
        "col_influence": "Share of influence",
        "chart_drivers": "Top drivers of churn",
        "axis_influence": "Share of influence on the prediction (%)",
        "msg_top_driver": "The strongest signal of churn is “{driver}” ({share} of the model's attention).",
        "msg_top3_drivers": "The top three drivers together account for {share} of the model's attention.",
    },
    "zh": {
        "sec_drivers": "流失的主要原因",
        "intro_drivers": "对流失预测影响最大的客户行为（基于全部客户）。",
        "no_drivers": "本次评分未记录流失驱动因素。",
        "col_driver": "驱动因素",
        "col_influence": "影响占比",
        "chart_drivers": "流失的主要驱动因素",
        "axis_influence": "对预测的影响占比（%）",
        "msg_top_driver": "最强的流失信号是“{driver}”（占模型关注度的 {share}）。",
        "msg_top3_drivers": "前三个驱动因素合计占模型关注度的 {share}。",
    },
}

ROOM = Room("drivers", WORDS, view, toc="sec_drivers")
