"""Report content from a scores table: each section's figures and findings, independent of language.

:func:`build_report_data` is pure and thin: it reads the scores frame (contracts section 7) and its meta
(:func:`custml.report.meta.read_meta`, the one reader of the sidecar) and asks each section of
:mod:`custml.report.sections` for its typed model. Sentences are :class:`~custml.report.format.Message` objects
(a label key plus typed values) so that the same content renders in any language. It never reads models: model
quality comes from the meta the scorer wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from pydantic import ConfigDict, Field

from custml.contracts import ChurnOutlook, ScoreMeta
from custml.report.format import Message
from custml.report.meta import read_meta
from custml.report.scores_table import Kpis, check_scores, compute_kpis, first_timestamp, timestamp
from custml.report.sections import (
    actions,
    drivers,
    lifecycle,
    model,
    movement,
    quality,
    risk,
    segments,
    summary,
    who,
)
from custml.report.sections.health import ModelHealth
from custml.report.sections.model import ModelQuality
from custml.report.sections.movement import Movement
from custml.report.sections.quality import DataQuality
from custml.report.sections.who import WhoToSave
from custml.settings import Settings

__all__ = ["ReportData", "ReportParams", "build_report_data"]


class ReportParams(Settings):
    """Settings of the report's content.

    Parameters
    ----------
    high_risk_threshold : float
        Churn probability from which a customer counts as high risk.
    top_customers : int
        How many at-risk high-value customers the action list shows.
    top_transitions : int
        How many segment moves the movement section lists.
    currency : str or None
        ISO code of the amounts (``None``: the meta's currency, else EUR).
    churn_horizon_days : int or None
        Horizon of the churn probability (``None``: the churn model's ``horizon_days`` in meta, else 90).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    high_risk_threshold: float = Field(0.5, gt=0, lt=1)
    top_customers: int = Field(15, ge=1)
    top_transitions: int = Field(8, ge=1)
    currency: str | None = None
    churn_horizon_days: int | None = Field(None, ge=1)


@dataclass(frozen=True)
class ReportData:
    """Everything the management report shows, before translation and formatting: one field (or two, with its
    sentences) per section of :mod:`custml.report.sections`."""

    as_of: pd.Timestamp | None
    scored_at: pd.Timestamp | None
    currency: str
    churn_horizon_days: int
    high_risk_threshold: float
    kpis: Kpis
    highlights: tuple[Message, ...]
    segments: pd.DataFrame
    lifecycle: pd.DataFrame
    value_risk: pd.DataFrame  # value_tier x risk band: customers
    risk_histogram: pd.DataFrame  # lower, upper, customers
    actions: pd.DataFrame
    top_customers: pd.DataFrame
    churn_model: ModelQuality | None
    repurchase_model: ModelQuality | None
    model_messages: tuple[Message, ...]
    driver_messages: tuple[Message, ...]
    data_quality: DataQuality
    quality_messages: tuple[Message, ...]
    movement: Movement | None = None
    movement_messages: tuple[Message, ...] = ()
    health: ModelHealth | None = None
    who_to_save: WhoToSave | None = None
    who_messages: tuple[Message, ...] = ()
    outlook: ChurnOutlook | None = None


def _data_quality(meta: ScoreMeta | None, n_scored: int) -> DataQuality:
    if meta is None:
        return quality.data_quality(None, [], {}, n_scored)
    return quality.data_quality(meta.quality, meta.drift, meta.rows_not_scored, meta.rows_scored)


def _outlook(meta: ScoreMeta | None) -> ChurnOutlook | None:
    """The scorer's churn outlook, when it wrote one with an expected rate (it had active customers)."""
    outlook = meta.churn_outlook if meta is not None else None
    return outlook if outlook is not None and outlook.expected_rate is not None else None


def _movement(
    scores: pd.DataFrame, previous: pd.DataFrame | None, kpis: Kpis, params: ReportParams
) -> tuple[Movement | None, tuple[Message, ...]]:
    if previous is None:
        return None, ()
    mv = movement.movement(scores, previous, params.high_risk_threshold, params.top_transitions)
    return mv, tuple(movement.movement_messages(kpis, mv))


def _horizon(params: ReportParams, meta: ScoreMeta | None) -> int:
    churn = meta.models.get("churn") if meta is not None else None
    return params.churn_horizon_days or (churn.horizon_days if churn else None) or 90


def build_report_data(
    scores: pd.DataFrame,
    meta: ScoreMeta | Mapping[str, object] | None = None,
    previous: pd.DataFrame | None = None,
    *,
    params: ReportParams | None = None,
    health: ModelHealth | None = None,
) -> ReportData:
    """Compute the management report's figures, tables and findings from a scores table.

    Parameters
    ----------
    scores : DataFrame
        One row per customer, contracts section 7 (:data:`~custml.report.scores_table.SCORES_REQUIRED_COLUMNS`).
    meta : ScoreMeta or its JSON object, optional
        The scores' sidecar (:class:`custml.contracts.ScoreMeta`); without it its sections are left out.
    previous : DataFrame, optional
        The previous scoring, for the movement section.
    params : ReportParams, optional
        Threshold, list lengths, currency.
    health : ModelHealth, optional
        Monitoring of earlier scorings (:func:`custml.report.model_health`), shown as the "Model health" section.

    Raises
    ------
    SchemaError
        A required column is missing, the table is empty, probabilities leave [0, 1] or ids repeat.
    DataFileError
        The meta is of another schema version or does not match the contract (one line, no fallback).

    Examples
    --------
    >>> from custml.report.sample import sample_scores
    >>> scores, meta = sample_scores(300, seed=1)
    >>> data = build_report_data(scores, meta)
    >>> data.kpis.n_customers
    300
    """
    params = params or ReportParams()
    check_scores(scores, "scores")
    m = read_meta(meta)
    threshold, horizon = params.high_risk_threshold, _horizon(params, m)
    models = m.models if m is not None else {}
    kpis = compute_kpis(scores, threshold)
    seg, acts = segments.segment_table(scores, threshold), actions.action_table(scores)
    churn = model.model_quality("churn", models.get("churn"))
    dq = _data_quality(m, len(scores))
    mv, mv_messages = _movement(scores, previous, kpis, params)
    who_to_save, who_messages = who.who_to_save(
        scores, m.uplift if m else None, threshold, params.top_customers
    )
    outlook = _outlook(m)
    return ReportData(
        as_of=first_timestamp(scores, timestamp(m.as_of) if m else None, "as_of"),
        scored_at=first_timestamp(scores, timestamp(m.scored_at) if m else None, "scored_at"),
        currency=(params.currency or (m.currency if m else None) or "EUR").upper(),
        churn_horizon_days=horizon,
        high_risk_threshold=threshold,
        kpis=kpis,
        highlights=tuple(summary.highlights(scores, kpis, seg, acts, threshold)),
        segments=seg,
        lifecycle=lifecycle.lifecycle_table(scores, threshold),
        value_risk=risk.value_risk(scores),
        risk_histogram=risk.risk_histogram(scores),
        actions=acts,
        top_customers=actions.top_customers(scores, threshold, params.top_customers),
        churn_model=churn,
        repurchase_model=model.model_quality("repurchase", models.get("repurchase")),
        model_messages=tuple(model.outlook_messages(outlook, horizon) + model.model_messages(churn)),
        driver_messages=tuple(drivers.driver_messages(churn.top_drivers) if churn else ()),
        data_quality=dq,
        quality_messages=tuple(quality.quality_messages(dq)),
        movement=mv,
        movement_messages=mv_messages,
        health=health,
        who_to_save=who_to_save,
        who_messages=tuple(who_messages),
        outlook=outlook,
    )
