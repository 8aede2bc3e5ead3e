"""Render :class:`~custml.report.build.ReportData` as one self-contained HTML page (English or Chinese).

The page needs nothing from the network and runs no script: styles are inline, charts are inline SVG drawn by
:mod:`custml.report.plots`, numbers are formatted per language by :mod:`custml.report.i18n`.
"""

from __future__ import annotations

import logging
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from matplotlib import rc_context
from matplotlib.figure import Figure

from custml import __version__
from custml.report import plots
from custml.report.build import (
    RISK_BANDS,
    Category,
    Count,
    DateValue,
    Kpis,
    Message,
    ModelQuality,
    Money,
    Percent,
    Points,
    Ratio,
    ReportData,
    Text,
)
from custml.report.i18n import (
    LABELS,
    LANGUAGES,
    format_count,
    format_money,
    format_percent,
    format_points,
    t,
    tv,
)

__all__ = ["TEMPLATE_NAME", "render_html"]

logger = logging.getLogger(__name__)

TEMPLATE_NAME = "report.html.j2"
# Chart widths in inches: a half-width slot and a full-width one at a 1,160 px page (charts render 1:1 there).
_WIDE = 8.0


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("custml", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class _Fmt:
    """Formatting of numbers, dates and categories for one language and currency."""

    lang: str
    currency: str

    def money(self, v: float) -> str:
        return format_money(v, self.currency, self.lang)

    def money_full(self, v: float) -> str:
        return format_money(v, self.currency, self.lang, compact=False)

    def date(self, ts: pd.Timestamp | None) -> str:
        if ts is None:
            return "–"
        if self.lang == "zh":
            return f"{ts.year}年{ts.month}月{ts.day}日"
        return f"{ts.day} {ts.strftime('%b')} {ts.year}"

    def value(self, v: Any) -> str:
        if isinstance(v, Count):
            return format_count(v.value)
        if isinstance(v, Money):
            return self.money(v.value)
        if isinstance(v, Percent):
            return format_percent(v.value, v.digits)
        if isinstance(v, Points):
            return format_points(v.value, self.lang, signed=v.signed)
        if isinstance(v, Ratio):
            return t("times", self.lang, value=f"{v.value:.1f}") if v.value >= 1.5 else f"{v.value:.2f}"
        if isinstance(v, Category):
            return tv(v.value, self.lang)
        if isinstance(v, DateValue):
            return self.date(v.value)
        if isinstance(v, Text):
            return v.value
        return str(v)

    def message(self, m: Message) -> str:
        return t(m.key, self.lang, **{k: self.value(v) for k, v in m.params.items()})

    def cell(self, kind: str, v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return "–"
        if kind == "count":
            return format_count(v)
        if kind == "money":
            return self.money_full(v)
        if kind in ("percent", "risk"):
            return format_percent(v)
        if kind == "category":
            return tv(v, self.lang)
        if kind == "float":
            return f"{v:.2f}"
        if kind == "signed":
            return f"{v:+,d}"
        return str(v)


_NUMERIC = {"count", "money", "percent", "risk", "float", "signed"}


def _risk_class(kind: str, v: Any) -> str:
    """CSS class colouring a churn-risk cell by its band (see :data:`custml.report.build.RISK_BANDS`)."""
    if kind != "risk" or not isinstance(v, int | float) or math.isnan(v):
        return ""
    return next((f"band-{key}" for key, lo, hi in RISK_BANDS if lo <= v < hi), "")


def _table(
    df: pd.DataFrame,
    columns: Sequence[tuple[str, str, str]],
    fmt: _Fmt,
    totals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A table for the template: ``columns`` are (frame column, label key, kind)."""
    head = [{"text": t(label, fmt.lang), "num": kind in _NUMERIC} for _, label, kind in columns]
    rows = [
        [
            {
                "text": fmt.cell(kind, rec[col]),
                "num": kind in _NUMERIC,
                "kind": kind,
                "cls": _risk_class(kind, rec[col]),
            }
            for col, _, kind in columns
        ]
        for rec in df.to_dict("records")
    ]
    foot = None
    if totals is not None:
        foot = [
            {
                "text": t("total", fmt.lang)
                if i == 0
                else (fmt.cell(kind, totals[col]) if col in totals else ""),
                "num": kind in _NUMERIC,
            }
            for i, (col, _, kind) in enumerate(columns)
        ]
    return {"head": head, "rows": rows, "foot": foot}


def _chart(fig: Figure, chart_id: str, title: str) -> dict[str, Any]:
    svg = plots.figure_to_svg(fig, id_prefix=chart_id, title=title)
    # The SVG is our own matplotlib output (labels escaped by matplotlib), safe to embed unescaped.
    return {"id": chart_id, "title": title, "svg": Markup(svg)}


def _churn_note(data: ReportData, lang: str) -> str:
    """The headline churn card's note: its population and horizon, and the same season a year earlier."""
    outlook = data.outlook
    if outlook is None:
        return t("kpi_churn_rate_note", lang, days=data.churn_horizon_days)
    note = t("kpi_churn_rate_note_outlook", lang, days=data.churn_horizon_days)
    if outlook.last_year_rate is not None:
        note += t("kpi_churn_rate_last_year", lang, rate=format_percent(outlook.last_year_rate))
    return note


def _kpi_cards(data: ReportData, fmt: _Fmt) -> list[dict[str, Any]]:
    k, lang = data.kpis, fmt.lang
    prev: Kpis | None = data.movement.previous if data.movement else None

    def delta(cur: float, before: float | None, kind: str, up_is_bad: bool) -> dict[str, Any] | None:
        if before is None:
            return None
        d = cur - before
        if kind == "points":
            text = format_points(d, lang)
        elif kind == "money":
            text = ("+" if d >= 0 else "-") + fmt.money(abs(d))
        else:
            text = f"{d:+,.0f}"
        bad = (d > 0) == up_is_bad and abs(d) > 1e-12
        return {"text": t("vs_previous", lang, delta=text), "cls": "bad" if bad else "good"}

    return [
        {
            "label": t("kpi_customers", lang),
            "value": format_count(k.n_customers),
            "note": t("kpi_customers_note", lang),
            "delta": delta(k.n_customers, prev.n_customers if prev else None, "count", False),
        },
        {
            "label": t("kpi_active", lang),
            "value": format_count(k.n_active),
            "note": t(
                "kpi_active_note",
                lang,
                share=format_percent(k.n_active / k.n_customers if k.n_customers else 0),
            ),
            "delta": delta(k.n_active, prev.n_active if prev else None, "count", False),
        },
        {
            "label": t("kpi_churn_rate", lang),
            "value": format_percent(data.outlook.expected_rate if data.outlook else k.churn_rate),
            "note": _churn_note(data, lang),
            # The outlook's population (an order in the last year) is not the previous scores' lifecycle
            # population: no arrow rather than a change between two definitions.
            "delta": None
            if data.outlook is not None
            else delta(k.churn_rate, prev.churn_rate if prev else None, "points", True),
            "cls": "risk",
        },
        {
            "label": t("kpi_revenue_at_risk", lang),
            "value": fmt.money(k.revenue_at_risk),
            "note": t("kpi_revenue_at_risk_note", lang),
            "delta": delta(k.revenue_at_risk, prev.revenue_at_risk if prev else None, "money", True),
            "cls": "risk",
        },
        {
            "label": t("kpi_expected_value", lang),
            "value": fmt.money(k.expected_value_12m),
            "note": t("kpi_expected_value_note", lang),
            "delta": delta(k.expected_value_12m, prev.expected_value_12m if prev else None, "money", False),
        },
        {
            "label": t("kpi_high_risk", lang),
            "value": format_count(k.n_high_risk),
            "note": t("kpi_high_risk_note", lang, threshold=format_percent(data.high_risk_threshold, 0)),
            "delta": delta(k.n_high_risk, prev.n_high_risk if prev else None, "count", True),
            "cls": "risk",
        },
    ]


def _labelled(df: pd.DataFrame, key: str, col: str, fmt: _Fmt) -> pd.Series:
    return pd.Series(df[col].to_numpy(), index=[tv(v, fmt.lang) for v in df[key]])


def _segment_section(data: ReportData, fmt: _Fmt) -> dict[str, Any]:
    lang, seg = fmt.lang, data.segments
    totals = {
        "customers": int(seg["customers"].sum()),
        "share_customers": 1.0,
        "churn_risk": float((seg["churn_risk"] * seg["customers"]).sum() / max(seg["customers"].sum(), 1)),
        "high_risk": int(seg["high_risk"].sum()),
        "expected_value_12m": float(seg["expected_value_12m"].sum()),
        "revenue_at_risk": float(seg["revenue_at_risk"].sum()),
        "share_revenue_at_risk": 1.0,
    }
    table = _table(
        seg,
        [
            ("segment", "col_segment", "category"),
            ("customers", "col_customers", "count"),
            ("share_customers", "col_share_customers", "percent"),
            ("churn_risk", "col_churn_risk", "risk"),
            ("high_risk", "col_high_risk", "count"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
            ("share_revenue_at_risk", "col_share_revenue_at_risk", "percent"),
        ],
        fmt,
        totals,
    )
    charts = [
        _chart(
            plots.plot_bars(
                _labelled(seg, "segment", "customers", fmt),
                title=t("chart_segment_sizes", lang),
                axis_label=t("axis_customers", lang),
                value_format=lambda v: f"{v:,.0f}",
            ),
            "segment-sizes",
            t("chart_segment_sizes", lang),
        ),
        _chart(
            plots.plot_bars(
                _labelled(seg, "segment", "revenue_at_risk", fmt),
                title=t("chart_segment_revenue", lang),
                axis_label=t("axis_revenue", lang, currency=data.currency),
                value_format=fmt.money,
                colors=[plots.risk_color(p) for p in seg["churn_risk"]],
            ),
            "segment-revenue",
            t("chart_segment_revenue", lang),
        ),
    ]
    return {"table": table, "charts": charts}


def _lifecycle_section(data: ReportData, fmt: _Fmt) -> dict[str, Any]:
    lang, lc = fmt.lang, data.lifecycle
    table = _table(
        lc,
        [
            ("stage", "col_stage", "category"),
            ("customers", "col_customers", "count"),
            ("share_customers", "col_share_customers", "percent"),
            ("churn_risk", "col_churn_risk", "risk"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
        ],
        fmt,
    )
    charts = [
        _chart(
            plots.plot_bars(
                _labelled(lc, "stage", "customers", fmt),
                title=t("chart_lifecycle", lang),
                axis_label=t("axis_customers", lang),
            ),
            "lifecycle",
            t("chart_lifecycle", lang),
        ),
        _chart(
            plots.plot_bars(
                _labelled(lc, "stage", "revenue_at_risk", fmt),
                title=t("chart_lifecycle_revenue", lang),
                axis_label=t("axis_revenue", lang, currency=data.currency),
                value_format=fmt.money,
                colors=[plots.risk_color(p) for p in lc["churn_risk"]],
            ),
            "lifecycle-revenue",
            t("chart_lifecycle_revenue", lang),
        ),
    ]
    return {"table": table, "charts": charts}


def _risk_section(data: ReportData, fmt: _Fmt) -> dict[str, Any]:
    lang, seg = fmt.lang, data.segments
    overall = float((seg["churn_risk"] * seg["customers"]).sum() / max(seg["customers"].sum(), 1))
    vr = data.value_risk.copy()
    vr.index = [tv(v, lang) for v in vr.index]
    vr.columns = [tv(c, lang) for c in vr.columns]
    charts = [
        _chart(
            plots.plot_bars(
                _labelled(seg, "segment", "churn_risk", fmt),
                title=t("chart_segment_risk", lang),
                axis_label=t("axis_churn_risk", lang),
                value_format=lambda v: format_percent(v, 0),
                colors=[plots.risk_color(p) for p in seg["churn_risk"]],
                reference=overall,
                reference_label=t("legend_overall", lang, value=format_percent(overall, 0)),
                percent_axis=True,
            ),
            "segment-risk",
            t("chart_segment_risk", lang),
        ),
        _chart(
            plots.plot_risk_histogram(
                data.risk_histogram,
                title=t("chart_risk_hist", lang),
                xlabel=t("axis_churn_probability", lang),
                ylabel=t("axis_customers", lang),
                threshold=data.high_risk_threshold,
                threshold_label=t(
                    "legend_threshold", lang, threshold=format_percent(data.high_risk_threshold, 0)
                ),
            ),
            "risk-histogram",
            t("chart_risk_hist", lang),
        ),
        _chart(
            plots.plot_value_risk_matrix(
                vr,
                title=t("chart_value_risk", lang),
                xlabel=t("axis_risk_band", lang),
                ylabel=t("axis_value_tier", lang),
            ),
            "value-risk",
            t("chart_value_risk", lang),
        ),
    ]
    return {"charts": charts}


def _driver_section(model: ModelQuality | None, fmt: _Fmt) -> dict[str, Any]:
    lang = fmt.lang
    if model is None or not len(model.top_drivers):
        return {"charts": [], "table": None}
    d = model.top_drivers.head(8)
    chart = _chart(
        plots.plot_bars(
            pd.Series(d["share"].to_numpy(), index=_wrap_labels(d["description"].astype(str), 38)),
            title=t("chart_drivers", lang),
            axis_label=t("axis_influence", lang),
            value_format=lambda v: format_percent(v, 0),
            percent_axis=True,
            colors=[plots.PALETTE["risk"]] * len(d),
            width=_WIDE,
        ),
        "drivers",
        t("chart_drivers", lang),
    )
    return {"charts": [chart]}


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


def _model_section(data: ReportData, fmt: _Fmt) -> dict[str, Any]:
    lang = fmt.lang
    models = [m for m in (data.churn_model, data.repurchase_model) if m is not None]
    rows_spec = ("roc_auc", "lift_top10", "capture_top10", "base_rate", "brier", "ece", "test_cutoff")
    metric_rows = []
    if models:
        metric_rows.append(
            {
                "label": t("metric_model", lang),
                "cells": [f"{m.name} (v{m.version})" if m.version else m.name for m in models],
            }
        )
        for key in rows_spec:
            vals = []
            for m in models:
                v = m.metrics.get(key)
                if key == "test_cutoff":
                    vals.append(fmt.date(m.test_cutoff))
                elif v is None:
                    vals.append("–")
                elif key in ("capture_top10", "base_rate"):
                    vals.append(format_percent(v))
                elif key == "lift_top10":
                    vals.append(t("times", lang, value=f"{v:.1f}"))
                else:
                    vals.append(f"{v:.3f}")
            if any(v != "–" for v in vals):
                metric_rows.append({"label": t(f"metric_{key}", lang), "cells": vals})
    charts = []
    churn = data.churn_model
    if churn is not None and len(churn.calibration):
        charts.append(
            _chart(
                plots.plot_calibration(
                    churn.calibration,
                    title=t("chart_calibration", lang),
                    xlabel=t("axis_predicted", lang),
                    ylabel=t("axis_observed", lang),
                    model_label=t("legend_model", lang),
                    perfect_label=t("legend_perfect", lang),
                ),
                "calibration",
                t("chart_calibration", lang),
            )
        )
    return {
        "headers": [t(f"{m.task}_model", lang) for m in models],
        "metric_rows": metric_rows,
        "charts": charts,
    }


def _action_section(data: ReportData, fmt: _Fmt) -> dict[str, Any]:
    lang, acts = fmt.lang, data.actions
    table = _table(
        acts,
        [
            ("action", "col_action", "category"),
            ("customers", "col_customers", "count"),
            ("churn_risk", "col_churn_risk", "risk"),
            ("expected_value_12m", "col_expected_value_12m", "money"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
        ],
        fmt,
        {
            "customers": int(acts["customers"].sum()),
            "expected_value_12m": float(acts["expected_value_12m"].sum()),
            "revenue_at_risk": float(acts["revenue_at_risk"].sum()),
        },
    )
    labels = [
        f"{tv(a, lang)} ({t('legend_customers_n', lang, n=format_count(n))})"
        for a, n in zip(acts["action"], acts["customers"], strict=True)
    ]
    chart = _chart(
        plots.plot_bars(
            pd.Series(acts["revenue_at_risk"].to_numpy(), index=labels),
            title=t("chart_actions", lang),
            axis_label=t("axis_revenue", lang, currency=data.currency),
            value_format=fmt.money,
            colors=[plots.risk_color(p) for p in acts["churn_risk"]],
            width=_WIDE,
        ),
        "actions",
        t("chart_actions", lang),
    )
    top = _table(
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
        fmt,
    )
    return {"table": table, "charts": [chart], "top": top if len(data.top_customers) else None}


def _quality_section(data: ReportData, fmt: _Fmt) -> dict[str, Any]:
    dq, lang = data.data_quality, fmt.lang
    facts = [
        (t("dq_rows_in", lang), dq.rows_in),
        (t("dq_rows_scored", lang), dq.rows_scored),
        (t("dq_rows_quarantined", lang), dq.rows_quarantined),
        (t("dq_after_as_of", lang), dq.after_as_of),
        (t("dq_duplicates", lang), dq.duplicates_merged),
    ]
    facts_out = [{"label": label, "value": format_count(v)} for label, v in facts if v is not None]
    source = dq.source or {}
    if source.get("unit") == "lines":
        facts_out.insert(
            1, {"label": t("dq_source_lines_in", lang), "value": format_count(int(source.get("in", 0)))}
        )
        if "without_customer" in source:
            facts_out.insert(
                2,
                {
                    "label": t("dq_source_without_customer", lang),
                    "value": format_count(source["without_customer"]),
                },
            )
            facts_out.insert(
                3,
                {
                    "label": t("dq_source_revenue_without_customer", lang),
                    "value": fmt.money(float(source.get("net_amount_without_customer", 0.0))),
                },
            )
        if source.get("exact_duplicates") is not None:
            facts_out.append(
                {"label": t("dq_source_duplicates", lang), "value": format_count(source["exact_duplicates"])}
            )
    if source.get("excluded_by_filter"):
        facts_out.append(
            {"label": t("dq_source_excluded", lang), "value": format_count(source["excluded_by_filter"])}
        )
    return {
        "facts": facts_out,
        "by_table": _table(
            dq.by_table, [("table", "col_table", "category"), ("rows", "col_rows", "count")], fmt
        )
        if len(dq.by_table)
        else None,
        "by_reason": _table(
            dq.by_reason, [("reason", "col_reason", "category"), ("rows", "col_rows", "count")], fmt
        )
        if len(dq.by_reason)
        else None,
        "not_scored": _table(
            dq.not_scored, [("reason", "col_reason", "category"), ("rows", "col_customers", "count")], fmt
        )
        if len(dq.not_scored)
        else None,
        "drift": _table(
            dq.drift,
            [
                ("feature", "col_feature", "text"),
                ("psi", "col_psi", "float"),
                ("status", "col_status", "category"),
            ],
            fmt,
        )
        if len(dq.drift)
        else None,
    }


def _movement_section(data: ReportData, fmt: _Fmt) -> dict[str, Any] | None:
    mv, lang = data.movement, fmt.lang
    if mv is None:
        return None
    k, p = data.kpis, mv.previous
    compare = [
        {
            "label": t("mv_churn_rate", lang),
            "before": format_percent(p.churn_rate),
            "after": format_percent(k.churn_rate),
            "change": format_points(k.churn_rate - p.churn_rate, lang),
            "cls": "bad" if k.churn_rate > p.churn_rate else "good",
        },
        {
            "label": t("mv_revenue_at_risk", lang),
            "before": fmt.money(p.revenue_at_risk),
            "after": fmt.money(k.revenue_at_risk),
            "change": ("+" if k.revenue_at_risk >= p.revenue_at_risk else "-")
            + fmt.money(abs(k.revenue_at_risk - p.revenue_at_risk)),
            "cls": "bad" if k.revenue_at_risk > p.revenue_at_risk else "good",
        },
        {
            "label": t("mv_high_risk", lang),
            "before": format_count(p.n_high_risk),
            "after": format_count(k.n_high_risk),
            "change": f"{k.n_high_risk - p.n_high_risk:+,d}",
            "cls": "bad" if k.n_high_risk > p.n_high_risk else "good",
        },
    ]
    change = mv.segment_change
    chart = _chart(
        plots.plot_change(
            pd.Series(change["change"].to_numpy(), index=[tv(s, lang) for s in change["segment"]]),
            title=t("chart_movement", lang),
            axis_label=t("axis_change", lang),
            width=_WIDE,
        ),
        "movement",
        t("chart_movement", lang),
    )
    transitions = _table(
        mv.transitions,
        [
            ("from_segment", "col_from", "category"),
            ("to_segment", "col_to", "category"),
            ("customers", "col_customers", "count"),
            ("revenue_at_risk", "col_revenue_at_risk", "money"),
        ],
        fmt,
    )
    return {
        "intro": t("intro_movement", lang, date=fmt.date(mv.previous_as_of)),
        "compare": compare,
        "messages": [fmt.message(m) for m in data.movement_messages],
        "charts": [chart],
        "transitions": transitions if len(mv.transitions) else None,
    }


def _health_section(data: ReportData, fmt: _Fmt) -> dict[str, Any] | None:
    """The Model health section (custml monitor), or None when the report has no monitoring."""
    health = data.health
    if health is None:
        return None
    lang = fmt.lang
    h = health.history
    matured = int(h["matured"].sum())
    intro = t(
        "health_intro",
        lang,
        n=format_count(len(h)),
        now=fmt.date(h["as_of"].max()),
        matured=format_count(matured),
        maturing=format_count(len(h) - matured),
        days=format_count(health.horizon_days),
    )
    reasons = [
        t(
            "health_reason",
            lang,
            date=fmt.date(pd.Timestamp(date)) if date else "",
            check=t(f"check_{check}", lang) if f"check_{check}" in LABELS[lang] else check,
            value=value,
            level=t(f"level_{level}", lang) if f"level_{level}" in LABELS[lang] else level,
        )
        for date, check, value, level in health.reasons
    ]
    auc = plots.plot_health_history(
        h,
        [
            ("promised_roc_auc", t("legend_promised", lang), "dashed"),
            ("realised_roc_auc", t("legend_realised", lang), "solid"),
            ("estimated_roc_auc", t("legend_estimated", lang), "dotted"),
        ],
        title=t("chart_health_auc", lang),
        ylabel=t("axis_auc", lang),
    )
    rate = plots.plot_health_history(
        h,
        [
            ("promised_rate", t("legend_promised", lang), "dashed"),
            ("realised_rate", t("legend_realised", lang), "solid"),
            ("expected_rate", t("legend_expected", lang), "dotted"),
        ],
        title=t("chart_health_rate", lang),
        ylabel=t("axis_churn_rate", lang),
        percent=True,
    )
    frame = h.assign(
        scoring=[fmt.date(v) for v in h["as_of"]],
        outcome=[t("outcome_known" if m else "outcome_maturing", lang) for m in h["matured"]],
        verdict_text=[t(f"level_{v}", lang) for v in h["verdict"]],
    )
    table = _table(
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
        fmt,
    )
    return {
        "verdict": health.verdict,
        "headline": t(f"health_verdict_{health.verdict}", lang),
        "intro": intro,
        "reasons": reasons,
        "table": table,
        "charts": [
            _chart(auc, "health-auc", t("chart_health_auc", lang)),
            _chart(rate, "health-rate", t("chart_health_rate", lang)),
        ],
    }


def _who_section(data: ReportData, fmt: _Fmt) -> dict[str, Any] | None:
    """The "Who to save" section (None for scores without uplift columns)."""
    who, lang = data.who_to_save, fmt.lang
    if who is None:
        return None
    messages = [fmt.message(m) for m in data.who_messages]
    if who.fallback:
        return {"messages": messages, "facts": [], "charts": [], "policies": None, "contacts": None}
    facts = [
        (t("who_contacted", lang), format_count(who.contacted)),
        (t("who_spend", lang), fmt.money(who.spend)),
        (t("who_expected_profit", lang), fmt.money(who.expected_profit)),
        (t("who_return", lang), f"{who.expected_profit / who.spend:.2f}" if who.spend > 0 else "–"),
    ]
    if who.offer_cost is not None:
        facts.append((t("who_offer_cost", lang), fmt.money_full(who.offer_cost)))
    n = int(who.curve["contacted"].max()) if len(who.curve) else 0
    chart = _chart(
        plots.plot_profit_curve(
            who.curve,
            title=t("chart_profit_curve", lang),
            xlabel=t("axis_share_contacted", lang),
            ylabel=t("axis_expected_profit", lang, currency=data.currency),
            plan_share=who.contacted / n if n else None,
            plan_label=t("legend_plan", lang),
            value_format=fmt.money,
            width=_WIDE,
        ),
        "profit-curve",
        t("chart_profit_curve", lang),
    )
    policies = who.policies.assign(policy=[t(p, lang) for p in who.policies["policy"]])
    policy_table = _table(
        policies,
        [
            ("policy", "col_policy", "text"),
            ("contacted", "col_customers", "count"),
            ("cost", "col_cost", "money"),
            ("expected_profit", "col_expected_profit", "money"),
        ],
        fmt,
    )
    contacts = _table(
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
        fmt,
    )
    return {
        "messages": messages,
        "facts": [{"label": label, "value": value} for label, value in facts],
        "charts": [chart],
        "policies": policy_table if who.contacted else None,
        "contacts": contacts if len(who.contacts) else None,
    }


def render_html(data: ReportData, lang: str = "en") -> str:
    """The management report as one self-contained HTML document.

    Parameters
    ----------
    data : ReportData
        From :func:`custml.report.build_report_data`.
    lang : {"en", "zh"}
        Language of every label, sentence and chart text.

    Returns
    -------
    str
        HTML with inline CSS and inline SVG charts; no script, no external resource.

    Examples
    --------
    >>> from custml.report import build_report_data, sample_scores
    >>> html = render_html(build_report_data(*sample_scores(200, seed=0)), lang="zh")
    >>> "客户报告" in html and "<script" not in html
    True
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    fmt = _Fmt(lang=lang, currency=data.currency)
    if lang == "zh" and not plots.cjk_font_available():
        logger.warning(
            "no CJK font found (install fonts-noto-cjk): Chinese chart labels are sized approximately and the "
            "browser needs its own Chinese font to draw them"
        )
    models_used = ", ".join(
        f"{m.name} v{m.version}" if m.version else m.name
        for m in (data.churn_model, data.repurchase_model)
        if m is not None and m.name
    )
    with rc_context(cast(Any, plots.chart_style())):  # matplotlib types rc keys as literals
        context: dict[str, Any] = {
            "lang": lang,
            "L": lambda key, **kw: t(key, lang, **kw),
            "as_of": fmt.date(data.as_of),
            "scored_at": fmt.date(data.scored_at),
            "models_used": models_used,
            "currency": data.currency,
            "version": __version__,
            "days": data.churn_horizon_days,
            "threshold": format_percent(data.high_risk_threshold, 0),
            "kpis": _kpi_cards(data, fmt),
            "highlights": [fmt.message(m) for m in data.highlights],
            "movement": _movement_section(data, fmt),
            "segments": _segment_section(data, fmt),
            "lifecycle": _lifecycle_section(data, fmt),
            "risk": _risk_section(data, fmt),
            "drivers": _driver_section(data.churn_model, fmt),
            "driver_messages": [fmt.message(m) for m in data.driver_messages],
            "model": _model_section(data, fmt),
            "model_messages": [fmt.message(m) for m in data.model_messages],
            "health": _health_section(data, fmt),
            "actions": _action_section(data, fmt),
            "who": _who_section(data, fmt),
            "quality": _quality_section(data, fmt),
            "quality_messages": [fmt.message(m) for m in data.quality_messages],
            "risk_bands": [tv(b[0], lang) for b in RISK_BANDS],
        }
    return _env().get_template(TEMPLATE_NAME).render(**context)
