"""Model health over a series of scores files: realised vs promised, label-free estimates, drift, and a verdict.

:func:`monitor_scores` is pure: it takes the scores files as :class:`ScoresSnapshot` (the scores table, its as-of
date, the model that made it, what that model promised at training, its score reference and the input drift at
that date) and the indexed orders, and returns a :class:`MonitoringTables` with

- ``health``: one row per scores file (:data:`HEALTH_COLUMNS`): promised, realised (when the horizon has passed)
  and estimated (always) ROC AUC, lift at 10 %, ECE and churn rate, the outcome so far (share of customers who
  ordered again since the as-of date, against what the model expects by now), score and input drift, a verdict
  and its reasons;
- ``groups``: the same per segment, lifecycle stage, cluster and recommended action;
- ``drift``: every input column and the score distribution, per file, with PSI and its test;
- the overall ``verdict`` (``healthy`` / ``watch`` / ``retrain``) and its reasons.

The verdict's thresholds are data (:class:`HealthThresholds`, YAML-able): each check gives ``watch`` or
``retrain`` past its threshold, a file's verdict is its worst check, and the overall verdict is the worst over
the latest file whose labels have matured and every file after it (what is known now about the model in use).

**The outcome so far.** Before a file's horizon has passed, part of its outcome is already known: a customer
who ordered again since the as-of date has not churned. From the matured files, monitoring learns the return
timing (of those who ordered again within the horizon, the share who had done so ``d`` days after the as-of
date); the model's probabilities then say how many customers should have ordered again by now:
``expected_returned = timing(d) x (1 - mean churn probability)``. A shortfall beyond the 95 % noise band
(``early_return_gap``) is the earliest sign that customers leave faster than the model thinks, weeks before
the realised metrics exist; it assumes the return timing of the matured months still holds (seasonality
moves it a little) and needs at least one matured file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, model_validator

from custml.contracts import ModelMetrics
from custml.errors import SchemaError
from custml.monitoring.drift import DRIFT_COLUMNS, distribution_drift
from custml.monitoring.performance import (
    OrderEvents,
    estimate_performance,
    grouped_performance,
    performance_metrics,
)
from custml.scoring.drift import DriftThresholds
from custml.settings import Settings

__all__ = [
    "GROUP_COLUMNS",
    "HEALTH_COLUMNS",
    "VERDICTS",
    "HealthThresholds",
    "MonitoringTables",
    "ScoresSnapshot",
    "assess",
    "monitor_scores",
]

VERDICTS = ("healthy", "watch", "retrain")
#: Columns of a scores file that monitoring breaks results down by, when present.
GROUP_COLUMNS = (
    "rfm_segment",
    "value_tier",
    "activity_tier",
    "lifecycle_stage",
    "cluster_name",
    "recommended_action",
)
HEALTH_COLUMNS = (
    "as_of",
    "source",
    "model_name",
    "model_version",
    "horizon_days",
    "matured",
    "n_scored",
    "n_population",
    "promised_roc_auc",
    "promised_lift_top10",
    "promised_ece",
    "promised_rate",
    "realised_roc_auc",
    "realised_roc_auc_se",
    "realised_lift_top10",
    "realised_ece",
    "realised_rate",
    "mean_predicted",
    "estimated_roc_auc",
    "estimated_roc_auc_se",
    "estimated_lift_top10",
    "expected_rate",
    "expected_rate_low",
    "expected_rate_high",
    "expected_ece_noise",
    "elapsed_days",
    "returned_so_far",
    "expected_returned",
    "early_return_gap",
    "score_psi",
    "score_ks",
    "score_p_value",
    "inputs_checked",
    "inputs_drifted",
    "verdict",
    "reasons",
)


class HealthThresholds(Settings):
    """When a check says ``watch`` and when ``retrain`` (at or past the value).

    ``auc_drop_*``: promised minus realised ROC AUC (or minus the label-free estimate before the labels exist),
    beyond its 95 % sampling band (1.96 Hanley-McNeil standard errors).
    ``ece_excess_*``: realised ECE above the noise floor a calibrated model would show on the same population.
    ``rate_gap_*``: realised churn rate minus mean predicted probability, in absolute value, beyond the 95 %
    noise band. ``early_return_*``: before the horizon has passed, how far the share of customers who ordered
    again so far falls short of what the model's probabilities and the return timing of earlier, matured
    scorings expect, beyond the 95 % noise band. ``score_psi_*``: PSI of the churn probabilities against training. ``inputs_drifted_watch``:
    number of drifted model inputs (``drift``: the one definition scoring uses too,
    :class:`custml.config.DriftThresholds`: PSI >= ``drift.drift`` and the test rejecting at
    ``drift.alpha``; a top-level ``alpha`` of older settings files is read as ``drift.alpha``);
    ``inputs_drifted_share_retrain``: share of the inputs checked.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    auc_drop_watch: float = Field(0.02, ge=0)
    auc_drop_retrain: float = Field(0.05, ge=0)
    ece_excess_watch: float = Field(0.03, ge=0)
    ece_excess_retrain: float = Field(0.06, ge=0)
    rate_gap_watch: float = Field(0.03, ge=0)
    rate_gap_retrain: float = Field(0.06, ge=0)
    early_return_watch: float = Field(0.02, ge=0)
    early_return_retrain: float = Field(0.05, ge=0)
    score_psi_watch: float = Field(0.1, ge=0)
    score_psi_retrain: float = Field(0.25, ge=0)
    inputs_drifted_watch: int = Field(1, ge=1)
    inputs_drifted_share_retrain: float = Field(0.2, gt=0, le=1)
    min_group: int = Field(50, ge=1, description="smallest segment reported in the breakdown")
    drift: DriftThresholds = Field(default_factory=DriftThresholds)

    @model_validator(mode="before")
    @classmethod
    def _alpha_is_a_drift_setting(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "alpha" in data:
            data = dict(data)
            drift = data.get("drift")
            drift = drift.model_dump() if isinstance(drift, DriftThresholds) else dict(drift or {})
            data["drift"] = {**drift, "alpha": data.pop("alpha")}
        return data

    @property
    def alpha(self) -> float:
        """Significance level of the drift tests (``drift.alpha``)."""
        return self.drift.alpha


@dataclass(frozen=True)
class ScoresSnapshot:
    """One scores file as monitoring needs it.

    Parameters
    ----------
    scores : pandas.DataFrame
        At least ``customer_id`` and ``churn_probability``; segment and action columns are used when present,
        any other column is ignored.
    as_of : Timestamp
    model_name, model_version : str
        The churn model that made the scores.
    horizon_days : int
        The model's label horizon.
    promised : ModelMetrics
        Test-cut-off metrics of the model logged at training (``roc_auc``, ``lift_top10``, ``ece``,
        ``base_rate``); missing ones are NaN.
    score_reference : mapping, optional
        :func:`custml.monitoring.score_reference` of the training test predictions.
    input_drift : pandas.DataFrame, optional
        :func:`custml.monitoring.distribution_drift` of the model inputs at ``as_of`` (or PSI-only rows from the
        scores' sidecar, with NaN tests).
    source : str
        File name, for the table.
    """

    scores: pd.DataFrame
    as_of: pd.Timestamp
    model_name: str
    model_version: str
    horizon_days: int
    promised: ModelMetrics = field(default_factory=ModelMetrics)
    score_reference: Mapping[str, Any] | None = None
    input_drift: pd.DataFrame | None = None
    source: str = ""


@dataclass(frozen=True)
class MonitoringTables:
    """What :func:`monitor_scores` found: its tables, verdict and reasons (see the module docstring); the verdict
    as written to disk is :class:`custml.contracts.MonitoringResult`."""

    health: pd.DataFrame
    groups: pd.DataFrame
    drift: pd.DataFrame
    verdict: str
    reasons: tuple[str, ...]
    thresholds: HealthThresholds

    @property
    def latest(self) -> pd.Series:
        """The health row of the most recent scores file."""
        return self.health.iloc[-1]


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _level(value: float, watch: float, retrain: float) -> str | None:
    if not np.isfinite(value):
        return None
    if value >= retrain:
        return "retrain"
    if value >= watch:
        return "watch"
    return None


def assess(row: Mapping[str, Any], thresholds: HealthThresholds | None = None) -> tuple[str, list[str]]:
    """Verdict of one health row and the checks that led to it (``"check=value (level)"``), worst first.

    The value of a check is what is compared with its thresholds: for the AUC, ECE, churn-rate and
    outcome-so-far checks the shortfall *beyond* the 95 % noise band (see :class:`HealthThresholds`).

    Examples
    --------
    >>> assess({"matured": True, "promised_roc_auc": 0.82, "realised_roc_auc": 0.75})
    ('retrain', ['auc_drop=0.070 (retrain)'])
    >>> assess({"matured": False, "score_psi": 0.12})
    ('watch', ['score_psi=0.120 (watch)'])
    """
    th = thresholds or HealthThresholds()
    checks: list[tuple[str, float]] = []
    promised_auc = _num(row.get("promised_roc_auc"))
    if row.get("matured"):
        se = _num(row.get("realised_roc_auc_se"))
        drop = promised_auc - _num(row.get("realised_roc_auc"))
        checks.append(("auc_drop", drop - (1.96 * se if np.isfinite(se) else 0.0)))
        excess = _num(row.get("realised_ece")) - _num(row.get("expected_ece_noise", 0.0))
        checks.append(("ece_excess", excess))
        gap = abs(_num(row.get("realised_rate")) - _num(row.get("mean_predicted")))
        band = (_num(row.get("expected_rate_high")) - _num(row.get("expected_rate_low"))) / 2
        checks.append(("rate_gap", gap - (band if np.isfinite(band) else 0.0)))
    else:
        se = _num(row.get("estimated_roc_auc_se"))
        drop = promised_auc - _num(row.get("estimated_roc_auc"))
        checks.append(("estimated_auc_drop", drop - (1.96 * se if np.isfinite(se) else 0.0)))
        expected = _num(row.get("expected_returned"))
        n = _num(row.get("n_population"))
        noise = 1.96 * np.sqrt(expected * (1 - expected) / n) if n > 0 and 0 <= expected <= 1 else np.nan
        checks.append(("early_return_gap", _num(row.get("early_return_gap")) - noise))
    checks.append(("score_psi", _num(row.get("score_psi"))))
    drifted = _num(row.get("inputs_drifted"))
    checked = _num(row.get("inputs_checked"))
    share = drifted / checked if checked and np.isfinite(checked) and checked > 0 else float("nan")
    limits = {
        "auc_drop": (th.auc_drop_watch, th.auc_drop_retrain),
        "estimated_auc_drop": (th.auc_drop_watch, th.auc_drop_retrain),
        "ece_excess": (th.ece_excess_watch, th.ece_excess_retrain),
        "rate_gap": (th.rate_gap_watch, th.rate_gap_retrain),
        "early_return_gap": (th.early_return_watch, th.early_return_retrain),
        "score_psi": (th.score_psi_watch, th.score_psi_retrain),
    }
    found: list[tuple[int, str]] = []
    for name, value in checks:
        level = _level(value, *limits[name])
        if level is not None:
            found.append((VERDICTS.index(level), f"{name}={value:.3f} ({level})"))
    if np.isfinite(drifted) and drifted >= th.inputs_drifted_watch:
        level = "retrain" if np.isfinite(share) and share >= th.inputs_drifted_share_retrain else "watch"
        found.append((VERDICTS.index(level), f"inputs_drifted={int(drifted)}/{int(checked)} ({level})"))
    found.sort(key=lambda t: -t[0])
    verdict = VERDICTS[found[0][0]] if found else "healthy"
    return verdict, [text for _, text in found]


def _check_snapshot(snap: ScoresSnapshot) -> None:
    for col in ("customer_id", "churn_probability"):
        if col not in snap.scores.columns:
            raise SchemaError(f"scores {snap.source}".strip(), col, "required column is missing")
    dup = int(snap.scores["customer_id"].duplicated().sum())
    if dup:
        raise SchemaError(f"scores {snap.source}".strip(), "customer_id", "repeats customers", dup)
    if snap.horizon_days <= 0:
        raise SchemaError(
            f"scores {snap.source}".strip(), None, f"horizon_days must be positive, got {snap.horizon_days}"
        )


#: One health row (:data:`HEALTH_COLUMNS`): a record of mixed cells (dates, names, counts, measures).
HealthRow = dict[str, object]


def _realised(frame: pd.DataFrame, p: np.ndarray, churned: np.ndarray | None) -> dict[str, float]:
    """Realised measures (NaN before the horizon has passed: ``churned`` is None) and the mean prediction."""
    realised = dict.fromkeys(("roc_auc", "roc_auc_se", "lift_top10", "ece", "realised_rate"), np.nan)
    if churned is not None:
        realised = performance_metrics(churned.astype(float), p)
    return {
        "realised_roc_auc": realised["roc_auc"],
        "realised_roc_auc_se": realised["roc_auc_se"],
        "realised_lift_top10": realised["lift_top10"],
        "realised_ece": realised["ece"],
        "realised_rate": realised["realised_rate"],
        "mean_predicted": float(p.mean()) if len(p) else float("nan"),
    }


def _score_drift(
    snap: ScoresSnapshot, frame: pd.DataFrame, th: HealthThresholds
) -> tuple[dict[str, float], pd.DataFrame | None]:
    """PSI, KS statistic and p-value of the churn probabilities against training, and its drift row."""
    if snap.score_reference is None or not len(frame):
        return {"score_psi": np.nan, "score_ks": np.nan, "score_p_value": np.nan}, None
    sd = distribution_drift(
        {"churn_probability": snap.score_reference},
        frame,
        n_reference=int(snap.score_reference.get("n_rows") or len(frame)),
        thresholds=th.drift,
    )
    measures = {
        "score_psi": sd["psi"].iloc[0],
        "score_ks": sd["statistic"].iloc[0],
        "score_p_value": sd["p_value"].iloc[0],
    }
    return measures, sd.assign(source="score")


def _input_drift(snap: ScoresSnapshot) -> tuple[dict[str, float | int], pd.DataFrame | None]:
    """Model inputs checked and drifted at the file's date, and their drift rows."""
    if snap.input_drift is None or not len(snap.input_drift):
        return {"inputs_checked": np.nan, "inputs_drifted": np.nan}, None
    inputs = snap.input_drift.copy()
    for col in DRIFT_COLUMNS:
        if col not in inputs.columns:
            inputs[col] = np.nan if col not in {"drifted"} else False
    inputs["drifted"] = inputs["drifted"].fillna(False).astype(bool)
    counts: dict[str, float | int] = {
        "inputs_checked": len(inputs),
        "inputs_drifted": int(inputs["drifted"].sum()),
    }
    return counts, inputs[list(DRIFT_COLUMNS)].assign(source="input")


def _one_file(
    snap: ScoresSnapshot, events: OrderEvents, th: HealthThresholds
) -> tuple[HealthRow, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """One file's health row (before the outcome-so-far expectation and the verdict), groups, drift rows, and
    the days to each active customer's next order."""
    _check_snapshot(snap)
    as_of = pd.Timestamp(snap.as_of)
    where = events.positions(snap.scores["customer_id"])
    in_population = (where >= 0) & events.active(as_of)[np.maximum(where, 0)]
    keep = ["customer_id", *(c for c in GROUP_COLUMNS if c in snap.scores.columns)]
    positions = where[in_population]
    p = snap.scores["churn_probability"].to_numpy(dtype=float)[in_population]
    frame = snap.scores.loc[in_population, keep].assign(churn_probability=p)
    matured = events.matured(as_of, snap.horizon_days)
    days_next = events.days_to_next_order(as_of, snap.horizon_days)[positions]
    elapsed = min(int((events.end - as_of) / pd.Timedelta(days=1)), int(snap.horizon_days))
    promised = snap.promised
    row: HealthRow = {
        "as_of": as_of,
        "source": snap.source,
        "model_name": snap.model_name,
        "model_version": snap.model_version,
        "horizon_days": int(snap.horizon_days),
        "matured": bool(matured),
        "n_scored": len(snap.scores),
        "n_population": len(frame),
        "promised_roc_auc": _num(promised.roc_auc),
        "promised_lift_top10": _num(promised.lift_top10),
        "promised_ece": _num(promised.ece),
        "promised_rate": _num(promised.base_rate),
        **{k: v for k, v in estimate_performance(p).items() if k != "n"},
        "elapsed_days": elapsed,
        "returned_so_far": float(np.mean(days_next < elapsed)) if len(p) else np.nan,
        "expected_returned": np.nan,
        "early_return_gap": np.nan,
    }
    label: str | None = None
    if matured:  # the same outcome as realised_churn(events, as_of, horizon) for these active customers
        frame = frame.assign(churned=~events.bought(as_of, snap.horizon_days)[positions])
        label = "churned"
    row.update(_realised(frame, p, frame["churned"].to_numpy() if label else None))
    score_measures, score_rows = _score_drift(snap, frame, th)
    input_counts, input_rows = _input_drift(snap)
    row.update({**score_measures, **input_counts})
    groups = grouped_performance(frame, GROUP_COLUMNS, label=label, min_group=th.min_group)
    groups.insert(0, "as_of", as_of)
    parts = [d for d in (score_rows, input_rows) if d is not None]
    drift = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*DRIFT_COLUMNS, "source"])
    drift.insert(0, "as_of", as_of)
    return row, groups, drift, days_next


def monitor_scores(
    snapshots: Sequence[ScoresSnapshot], events: OrderEvents, thresholds: HealthThresholds | None = None
) -> MonitoringTables:
    """Health of every scores file, the breakdown per segment and action, drift, and the overall verdict.

    Parameters
    ----------
    snapshots : sequence of ScoresSnapshot
        Scores files in any order (sorted by as-of date here); files dated at or after ``events.end`` are
        ignored (nothing about them is known yet).
    events : OrderEvents
        The orders known now (their ``end`` is "now").
    thresholds : HealthThresholds, optional

    Raises
    ------
    SchemaError
        If no snapshot is dated before the end of the orders, or a scores table lacks ``customer_id`` or
        ``churn_probability``.
    """
    th = thresholds or HealthThresholds()
    usable = sorted((s for s in snapshots if pd.Timestamp(s.as_of) < events.end), key=lambda s: s.as_of)
    if not usable:
        raise SchemaError(
            "scores",
            "as_of",
            f"no scores file dated before the end of the orders ({events.end.date()})",
            len(snapshots),
        )
    rows, groups, drifts, returns = [], [], [], []
    for snap in usable:
        row, grp, dr, days_next = _one_file(snap, events, th)
        rows.append(row)
        groups.append(grp)
        drifts.append(dr)
        if row["matured"]:
            returns.append(days_next[np.isfinite(days_next)])
    # Return timing of the matured scorings: share of those who ordered again within the horizon that had
    # done so by day d. It turns the model's probabilities into an expected share returned so far.
    timing = np.sort(np.concatenate(returns)) if returns else np.array([])
    for row in rows:
        if not row["matured"] and len(timing):
            share_by_now = np.searchsorted(timing, _num(row["elapsed_days"]), side="left") / len(timing)
            expected = float(share_by_now * (1.0 - _num(row["mean_predicted"])))
            row["expected_returned"] = expected
            row["early_return_gap"] = expected - _num(row["returned_so_far"])
        verdict, reasons = assess(row, th)
        row["verdict"] = verdict
        row["reasons"] = "; ".join(reasons)
    health = pd.DataFrame(rows, columns=list(HEALTH_COLUMNS))
    current = health[health["model_version"] == health["model_version"].iloc[-1]]
    matured = np.flatnonzero(current["matured"].to_numpy())
    window = current.iloc[matured[-1] :] if len(matured) else current
    worst = max(VERDICTS.index(v) for v in window["verdict"])
    window_reasons = tuple(
        f"{r.as_of.date()}: {r.reasons}" for r in window.itertuples() if r.verdict != "healthy" and r.reasons
    )
    return MonitoringTables(
        health=health,
        groups=pd.concat(groups, ignore_index=True),
        drift=pd.concat([d for d in drifts if len(d)], ignore_index=True)
        if any(len(d) for d in drifts)
        else pd.DataFrame(columns=["as_of", *DRIFT_COLUMNS, "source"]),
        verdict=VERDICTS[worst],
        reasons=window_reasons,
        thresholds=th,
    )
