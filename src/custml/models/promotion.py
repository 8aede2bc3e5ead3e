"""The promotion rule as data: what a challenger model must show before it becomes the champion.

One pure rule for every registered model (churn, repurchase, the snapshot classifier, the campaign uplift
model): :func:`decide` takes the challenger's :class:`Evidence`, the champion's (or ``None``) and the
:class:`GateThresholds`, and returns a :class:`custml.contracts.GateDecision` with its reasons as sentences. It reads no registry;
:mod:`custml.tracking` gathers the evidence from the logged runs and applies the decision (aliases, tags).

The rule, in order:

1. **No printed baseline beats the model beyond noise.** For each baseline the evidence holds the paired
   bootstrap 95 % interval of the challenger's score minus the baseline's (positive: the challenger is
   better; ROC AUC on the test cut-off, :func:`custml.models.train.baseline_intervals`). An interval entirely
   below 0 refuses the model, champion or not. A model below a baseline *within* noise (interval containing 0)
   is not refused by default: the test set cannot tell the two apart, the shipped model was chosen on the
   validation cut-offs, and a refusal would leave scoring without a model for a difference the data does not
   show; the reason says so, with the interval (``GateThresholds.refuse_within_noise`` makes it a refusal).
2. **An uplift model beats random targeting beyond noise.** Its held-out Qini AUC (the area over random
   targeting) must be above 0 and its bootstrap 95 % interval must lie above 0; without a logged interval it
   is refused. Scoring then keeps the rule-based actions (:func:`custml.tracking.load_uplift_model` says
   that the gate kept the model, and why).
3. **Against the champion.** No champion yet: promoted. Uplift models: a later campaign wins (the newest
   randomised evidence), an older one is kept, the same campaign needs a held-out Qini AUC at least the
   champion's plus ``margin``. Other models: the two scores must come from the same holdout (the same digest,
   or both scored on a holdout passed to the gate), and the challenger must beat the champion by ``margin``
   (lower is better for ``brier``, ``log_loss`` and ``ece``); otherwise the champion is kept.

Examples
--------
>>> weak = Evidence("roc_auc", 0.71, baselines={"logistic": BaselineComparison(-0.05, -0.01, -0.03)})
>>> d = decide(weak, None, GateThresholds())
>>> d.promoted, d.reason.startswith("the printed baseline logistic beats this model beyond noise")
(False, True)
>>> decide(Evidence("roc_auc", 0.80), None, GateThresholds()).reason
'no champion yet'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from custml.contracts import GateDecision

__all__ = [
    "LOWER_IS_BETTER",
    "QINI_METRIC",
    "BaselineComparison",
    "Evidence",
    "GateThresholds",
    "Interval",
    "baseline_comparisons",
    "classifier_evidence",
    "decide",
    "uplift_evidence",
]

#: Metrics where a lower value is better (the champion comparison flips for them).
LOWER_IS_BETTER = frozenset({"brier", "log_loss", "ece"})
#: The metric an uplift model is judged on (logged by :func:`custml.tracking.log_uplift_run`).
QINI_METRIC = "holdout_qini_auc"

_DIFF_KEY = re.compile(r"auc_diff_(lo|hi)_vs_(.+)")


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[lo, hi]`` (95 % unless the producer says otherwise)."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or self.lo > self.hi:
            raise ValueError(f"interval needs finite lo <= hi, got [{self.lo}, {self.hi}]")

    def __str__(self) -> str:
        return f"[{self.lo:+.4f}, {self.hi:+.4f}]"


@dataclass(frozen=True)
class BaselineComparison(Interval):
    """Challenger minus one baseline (positive: the challenger is better): the interval and, when logged, the
    point difference on the whole test set (``auc_gain_vs_<baseline>``; else ``None``)."""

    diff: float | None = None

    @property
    def beats_challenger(self) -> bool:
        """The baseline is better beyond noise: the whole interval lies below 0."""
        return self.hi < 0

    @property
    def ahead_within_noise(self) -> bool:
        """The baseline is ahead on the point estimate (or the interval's middle), but the interval holds 0."""
        centre = self.diff if self.diff is not None else (self.lo + self.hi) / 2
        return not self.beats_challenger and centre < 0


@dataclass(frozen=True)
class Evidence:
    """What one model version shows: its score on the gate's metric and how it compares with references.

    Parameters
    ----------
    metric : str
        The metric of ``score`` (``roc_auc``, ``brier``, ..., or :data:`QINI_METRIC` for uplift models).
    score : float or None
        ``None``: not measured (the model cannot be compared on it).
    holdout_digest : str or None
        Identifies the data ``score`` was measured on; scores compare only on the same digest.
    baselines : mapping
        Baseline name (as logged) -> :class:`BaselineComparison` of this model minus the baseline.
    kind : {"classifier", "uplift"}
    qini_interval : Interval or None
        Uplift models: bootstrap 95 % interval of the held-out Qini AUC (``score``).
    campaign_day : date or None
        Uplift models: the send day of the campaign the model learnt from.
    version : str or None
        The registry version, for the reasons' wording.
    """

    metric: str
    score: float | None
    holdout_digest: str | None = None
    baselines: Mapping[str, BaselineComparison] = field(default_factory=dict)
    kind: Literal["classifier", "uplift"] = "classifier"
    qini_interval: Interval | None = None
    campaign_day: date | None = None
    version: str | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER


@dataclass(frozen=True)
class GateThresholds:
    """The promotion rule's settings.

    ``margin``: improvement over the champion needed to replace it, in the metric's units (0 for equal
    scores to be enough). ``refuse_within_noise``: also refuse a model that a baseline leads on the point
    estimate while the interval holds 0 (default: promote, and say so in the reason).
    """

    margin: float = 0.002
    refuse_within_noise: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.margin) and self.margin >= 0):
            raise ValueError(f"margin must be finite and >= 0, got {self.margin}")


def baseline_comparisons(metrics: Mapping[str, float]) -> dict[str, BaselineComparison]:
    """The per-baseline intervals in a run's logged metrics, keyed by the baseline's name as logged.

    Reads ``auc_diff_lo_vs_<name>`` / ``auc_diff_hi_vs_<name>`` (both needed and finite) and the point
    difference ``auc_gain_vs_<name>`` when present; names are taken from the keys, never from a fixed list.

    Examples
    --------
    >>> m = {"roc_auc": 0.8, "auc_diff_lo_vs_bgnbd": -0.01, "auc_diff_hi_vs_bgnbd": 0.02,
    ...      "auc_gain_vs_bgnbd": 0.005, "auc_diff_lo_vs_half": 0.1}
    >>> baseline_comparisons(m)
    {'bgnbd': BaselineComparison(lo=-0.01, hi=0.02, diff=0.005)}
    """
    bounds: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        m = _DIFF_KEY.fullmatch(key)
        if m:
            bounds.setdefault(m.group(2), {})[m.group(1)] = float(value)
    out: dict[str, BaselineComparison] = {}
    for name in sorted(bounds):
        b = bounds[name]
        if {"lo", "hi"} <= set(b) and math.isfinite(b["lo"]) and math.isfinite(b["hi"]):
            gain = metrics.get(f"auc_gain_vs_{name}")
            diff = float(gain) if gain is not None and math.isfinite(gain) else None
            out[name] = BaselineComparison(min(b["lo"], b["hi"]), max(b["lo"], b["hi"]), diff)
    return out


def classifier_evidence(
    metrics: Mapping[str, float],
    metric: str,
    *,
    holdout_digest: str | None,
    score: float | None = None,
    version: str | None = None,
) -> Evidence:
    """Evidence of a probability model from its run's logged metrics.

    ``score`` overrides the logged ``metrics[metric]`` (a score computed on a holdout passed to the gate; give
    that holdout's digest as ``holdout_digest`` then).
    """
    if score is None:
        logged = metrics.get(metric)
        score = float(logged) if logged is not None and math.isfinite(logged) else None
    return Evidence(
        metric,
        score,
        holdout_digest=holdout_digest or None,
        baselines=baseline_comparisons(metrics),
        version=version,
    )


def uplift_evidence(
    metrics: Mapping[str, float], send_day: str | date | None, *, version: str | None = None
) -> Evidence:
    """Evidence of an uplift model from its run's logged metrics (``holdout_qini_auc[_lo|_hi]``).

    ``send_day``: the campaign's send day (ISO string as tagged, or a date; empty/``None``: unknown).
    """

    def finite(key: str) -> float | None:
        v = metrics.get(key)
        return float(v) if v is not None and math.isfinite(v) else None

    lo, hi = finite(f"{QINI_METRIC}_lo"), finite(f"{QINI_METRIC}_hi")
    day = date.fromisoformat(send_day[:10]) if isinstance(send_day, str) and send_day else send_day
    return Evidence(
        QINI_METRIC,
        finite(QINI_METRIC),
        baselines=baseline_comparisons(metrics),
        kind="uplift",
        qini_interval=Interval(min(lo, hi), max(lo, hi)) if lo is not None and hi is not None else None,
        campaign_day=day or None,
        version=version,
    )


def _baseline_verdict(challenger: Evidence, thresholds: GateThresholds) -> tuple[str | None, list[str]]:
    """(refusal sentence or None, notes) from the challenger's baseline comparisons."""
    beaten = {n: b for n, b in challenger.baselines.items() if b.beats_challenger}
    close = {n: b for n, b in challenger.baselines.items() if b.ahead_within_noise}
    if beaten:
        names = ", ".join(beaten)
        detail = ", ".join(f"{n} {b}" for n, b in beaten.items())
        return (
            f"the printed baseline {names} beats this model beyond noise (95 % interval of model "
            f"minus baseline entirely below 0: {detail}); ship the baseline or fix the model",
            [],
        )
    notes = []
    for name, b in close.items():
        gap = f"{-b.diff:.4f} " if b.diff is not None else ""
        notes.append(
            f"{gap}below {name} on the test set but within noise (95 % interval of model minus baseline {b} "
            "holds 0)"
        )
    if close and thresholds.refuse_within_noise:
        return "; ".join(notes) + " (refuse_within_noise: refused)", []
    return None, notes


def _uplift_refusal(challenger: Evidence) -> str | None:
    q, ci = challenger.score, challenger.qini_interval
    if q is None:
        return "no held-out Qini AUC was logged (fit with calibration to measure it)"
    if q <= 0:
        return f"held-out Qini AUC {q:.4f} <= 0: the model ranks customers no better than random targeting"
    if ci is None:
        return (
            f"held-out Qini AUC {q:.4f} has no bootstrap interval logged, so it is not shown to beat random "
            "targeting"
        )
    if ci.lo <= 0:
        return (
            f"the 95 % interval of the held-out Qini AUC {ci} does not lie above 0: the model is not shown to "
            "beat random targeting"
        )
    return None


def _better(challenger: float, champion: float, margin: float, lower_is_better: bool) -> bool:
    return challenger <= champion - margin if lower_is_better else challenger >= champion + margin


def decide(challenger: Evidence, champion: Evidence | None, thresholds: GateThresholds) -> GateDecision:
    """Whether ``challenger`` replaces ``champion`` (``None``: none yet), and why; see the module docstring.

    Examples
    --------
    >>> champ = Evidence("brier", 0.150, holdout_digest="h1", version="3")
    >>> decide(Evidence("brier", 0.140, holdout_digest="h1"), champ, GateThresholds(margin=0.005)).reason
    'brier 0.1400 beats champion v3 0.1500 by >= 0.005 (lower is better)'
    >>> decide(Evidence("brier", 0.140, holdout_digest="h2"), champ, GateThresholds()).promoted
    False
    """
    champion_version = champion.version if champion is not None else None
    champion_score = champion.score if champion is not None else None

    def verdict(promote: bool, *reasons: str) -> GateDecision:
        return GateDecision(
            metric=challenger.metric,
            margin=thresholds.margin,
            challenger_score=challenger.score,
            champion_version=champion_version,
            champion_score=champion_score,
            promoted=promote,
            reasons=[r for r in reasons if r],
        )

    refusal, notes = _baseline_verdict(challenger, thresholds)
    if refusal is not None:
        return verdict(False, refusal)
    if challenger.kind == "uplift":
        refusal = _uplift_refusal(challenger)
        if refusal is not None:
            return verdict(False, refusal, *notes)
        assert challenger.qini_interval is not None  # checked by _uplift_refusal
        notes.append(f"held-out Qini AUC {challenger.score:.4f}, 95 % interval {challenger.qini_interval}")
    if champion is None:
        return verdict(True, "no champion yet", *notes)
    who = f"champion v{champion.version}" if champion.version else "the champion"
    if challenger.kind == "uplift":
        mine, theirs = challenger.campaign_day, champion.campaign_day
        if mine is not None and theirs is not None and mine != theirs:
            if mine > theirs:
                return verdict(True, f"learnt from a later campaign ({mine} after {theirs})", *notes)
            return verdict(False, f"learnt from an older campaign ({mine} before {theirs})", *notes)
        if mine is None or theirs is None:
            # no campaign date to go by: the Qini AUCs of different campaigns are not comparable
            return verdict(False, f"the campaign of this model or of {who} is unknown: champion kept", *notes)
    elif challenger.holdout_digest is None or challenger.holdout_digest != champion.holdout_digest:
        return verdict(False, f"{who} was evaluated on a different holdout; pass holdout to compare", *notes)
    if challenger.score is None or champion.score is None:
        return verdict(False, f"no {challenger.metric} to compare with {who}: champion kept", *notes)
    lower = challenger.lower_is_better
    same = "same campaign, " if challenger.kind == "uplift" else ""
    if _better(challenger.score, champion.score, thresholds.margin, lower):
        return verdict(
            True,
            f"{same}{challenger.metric} {challenger.score:.4f} beats {who} {champion.score:.4f} by >= "
            f"{thresholds.margin:g}{' (lower is better)' if lower else ''}",
            *notes,
        )
    return verdict(
        False,
        f"{same}{challenger.metric} {challenger.score:.4f} does not beat {who} {champion.score:.4f} by "
        f"{thresholds.margin:g}{' (lower is better)' if lower else ''}",
        *notes,
    )
