"""The promotion rule as data (:mod:`custml.models.promotion`), without MLflow, and the evidence it reads from
an uplift fit: the bootstrap interval of the held-out Qini AUC (:func:`custml.uplift.metrics.qini_auc_interval`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from custml.contracts import GateDecision
from custml.models.promotion import (
    BaselineComparison,
    Evidence,
    GateThresholds,
    Interval,
    baseline_comparisons,
    classifier_evidence,
    decide,
    uplift_evidence,
)
from custml.uplift import CampaignData, UpliftParams, fit_campaign_uplift, qini_auc_interval, qini_auc_score

GATE = GateThresholds(margin=0.002)
BEATEN = BaselineComparison(-0.030, -0.010, diff=-0.020)  # the baseline is better beyond noise
CLOSE = BaselineComparison(-0.004, 0.0021, diff=-0.0008)  # the baseline leads, within noise
BEHIND = BaselineComparison(0.010, 0.040, diff=0.025)  # the model is better


def _model(score: float = 0.80, digest: str | None = "h1", version: str | None = None, **baselines):
    return Evidence("roc_auc", score, holdout_digest=digest, baselines=baselines, version=version)


def _uplift(qini: float | None, lo: float | None, hi: float | None, day: str = "2025-07-01", version=None):
    metrics = {"holdout_qini_auc": qini, "holdout_qini_auc_lo": lo, "holdout_qini_auc_hi": hi}
    return uplift_evidence({k: v for k, v in metrics.items() if v is not None}, day, version=version)


# --- baselines: beyond noise refuses, champion or not; within noise is said -----------------------------------
def test_a_model_below_a_baseline_beyond_noise_is_refused_even_with_no_champion() -> None:
    d = decide(_model(my_rfm_model=BEATEN, bgnbd=BEHIND), None, GATE)
    assert d.promoted is False
    assert "my_rfm_model beats this model beyond noise" in d.reason and "bgnbd" not in d.reason
    assert "[-0.0300, -0.0100]" in d.reason and d.champion_version is None
    # a champion it would beat by far changes nothing
    champion = _model(0.50, version="4")
    d = decide(_model(0.90, my_rfm_model=BEATEN), champion, GATE)
    assert d.promoted is False and d.champion_version == "4" and d.champion_score == 0.50


def test_with_no_champion_a_model_no_baseline_beats_is_promoted_and_a_close_baseline_is_named() -> None:
    assert decide(_model(bgnbd=BEHIND), None, GATE).reason == "no champion yet"
    d = decide(_model(logistic=CLOSE, bgnbd=BEHIND), None, GATE)
    assert d.promoted is True and d.reasons[0] == "no champion yet"
    assert d.reasons[1] == (
        "0.0008 below logistic on the test set but within noise (95 % interval of model minus baseline "
        "[-0.0040, +0.0021] holds 0)"
    )
    strict = decide(_model(logistic=CLOSE), None, GateThresholds(refuse_within_noise=True))
    assert strict.promoted is False and "within noise" in strict.reason and "refused" in strict.reason


def test_a_baseline_interval_without_a_point_difference_uses_its_middle() -> None:
    lean = BaselineComparison(-0.006, 0.002)
    assert lean.ahead_within_noise and not lean.beats_challenger
    assert "below b on the test set" in decide(_model(b=lean), None, GATE).reason
    assert not BaselineComparison(-0.002, 0.006).ahead_within_noise


# --- uplift: the held-out Qini interval must lie above 0 ------------------------------------------------------
@pytest.mark.parametrize(
    ("qini", "lo", "hi", "words"),
    [
        (-0.001, -0.012, 0.010, "Qini AUC -0.0010 <= 0"),
        (0.0, -0.01, 0.01, "<= 0"),
        (0.004, -0.002, 0.010, "[-0.0020, +0.0100] does not lie above 0"),
        (0.004, 0.0, 0.010, "does not lie above 0"),
        (0.004, None, None, "no bootstrap interval logged"),
        (None, None, None, "no held-out Qini AUC"),
    ],
)
def test_an_uplift_model_not_shown_to_beat_random_targeting_is_refused_with_no_champion(
    qini, lo, hi, words
) -> None:
    d = decide(_uplift(qini, lo, hi), None, GATE)
    assert d.promoted is False and words in d.reason
    assert d.metric == "holdout_qini_auc" and d.challenger_score == qini


def test_an_uplift_model_beating_random_targeting_beyond_noise_is_promoted_with_no_champion() -> None:
    d = decide(_uplift(0.004, 0.001, 0.008), None, GATE)
    assert d.promoted is True and d.reasons == [
        "no champion yet",
        "held-out Qini AUC 0.0040, 95 % interval [+0.0010, +0.0080]",
    ]


def test_uplift_champions_give_way_to_a_later_campaign_or_a_better_qini_on_the_same_one() -> None:
    champion = _uplift(0.006, 0.002, 0.010, "2025-07-01", version="2")
    later = decide(_uplift(0.003, 0.001, 0.005, "2025-10-01"), champion, GateThresholds(margin=0.0))
    assert later.promoted and "later campaign (2025-10-01 after 2025-07-01)" in later.reason
    older = decide(_uplift(0.009, 0.004, 0.012, "2025-01-01"), champion, GateThresholds(margin=0.0))
    assert not older.promoted and "older campaign" in older.reason
    same = decide(_uplift(0.006, 0.002, 0.010), champion, GateThresholds(margin=0.0))
    assert same.promoted and same.reasons[0].startswith(
        "same campaign, holdout_qini_auc 0.0060 beats champion v2"
    )
    worse = decide(_uplift(0.005, 0.002, 0.010), champion, GateThresholds(margin=0.0))
    assert not worse.promoted and "does not beat champion v2" in worse.reason
    # a later campaign whose model does not beat random targeting does not replace a working champion
    noisy_later = decide(_uplift(0.003, -0.001, 0.007, "2025-10-01"), champion, GateThresholds(margin=0.0))
    assert not noisy_later.promoted and "does not lie above 0" in noisy_later.reason
    unknown = decide(_uplift(0.006, 0.002, 0.010, ""), champion, GateThresholds(margin=0.0))
    assert not unknown.promoted and "unknown" in unknown.reason


# --- against the champion: margin, lower is better, same holdout ----------------------------------------------
def test_champion_comparison_needs_the_margin() -> None:
    champion = _model(0.800, version="1")
    assert (
        decide(_model(0.8025), champion, GATE).reason == "roc_auc 0.8025 beats champion v1 0.8000 by >= 0.002"
    )
    kept = decide(_model(0.8015), champion, GATE)
    assert not kept.promoted and kept.reason == "roc_auc 0.8015 does not beat champion v1 0.8000 by 0.002"
    assert kept.challenger_score == 0.8015 and kept.champion_score == 0.800 and kept.champion_version == "1"
    assert decide(_model(0.800), champion, GateThresholds(margin=0.0)).promoted  # equal is enough at 0


def test_champion_comparison_on_a_lower_is_better_metric() -> None:
    champion = Evidence("brier", 0.150, holdout_digest="h1", version="7")
    better = decide(Evidence("brier", 0.147, holdout_digest="h1"), champion, GATE)
    assert better.promoted and better.reason.endswith("(lower is better)")
    worse = decide(Evidence("brier", 0.151, holdout_digest="h1"), champion, GATE)
    assert not worse.promoted and "does not beat" in worse.reason
    assert not decide(Evidence("brier", 0.149, holdout_digest="h1"), champion, GATE).promoted  # < margin


@pytest.mark.parametrize(("mine", "theirs"), [("h2", "h1"), (None, None), ("h1", None)])
def test_a_champion_measured_on_a_different_holdout_is_kept(mine, theirs) -> None:
    d = decide(_model(0.95, digest=mine), _model(0.60, digest=theirs, version="3"), GATE)
    assert not d.promoted and "different holdout" in d.reason and d.champion_version == "3"


def test_a_champion_without_the_metric_is_kept() -> None:
    d = decide(_model(0.9), Evidence("roc_auc", None, holdout_digest="h1", version="2"), GATE)
    assert not d.promoted and "no roc_auc to compare" in d.reason


# --- evidence from logged metrics -----------------------------------------------------------------------------
def test_baselines_are_named_by_the_logged_metric_keys() -> None:
    metrics = {
        "roc_auc": 0.8,
        "auc_diff_lo_vs_logistic": -0.03,
        "auc_diff_hi_vs_logistic": -0.01,
        "auc_gain_vs_logistic": -0.02,
        "auc_diff_lo_vs_covariate_btyd": -0.01,
        "auc_diff_hi_vs_covariate_btyd": 0.02,
        "auc_diff_lo_vs_half_logged": 0.1,  # no hi: ignored
        "auc_diff_lo_vs_broken": float("nan"),
        "auc_diff_hi_vs_broken": 0.1,
        "baseline_beats_model": 1.0,
    }
    found = baseline_comparisons(metrics)
    assert found == {
        "covariate_btyd": BaselineComparison(-0.01, 0.02),
        "logistic": BaselineComparison(-0.03, -0.01, -0.02),
    }
    ev = classifier_evidence(metrics, "roc_auc", holdout_digest="abc", version="5")
    assert ev.score == 0.8 and ev.holdout_digest == "abc" and set(ev.baselines) == set(found)
    assert classifier_evidence(metrics, "roc_auc", holdout_digest="", score=0.7).score == 0.7
    assert classifier_evidence({}, "ece", holdout_digest="x").score is None
    assert classifier_evidence({}, "ece", holdout_digest="x").lower_is_better
    d = decide(ev, None, GATE)
    assert not d.promoted and "baseline logistic beats" in d.reason


def test_uplift_evidence_reads_the_logged_interval_and_send_day() -> None:
    ev = _uplift(0.004, 0.001, 0.008, "2025-07-01T00:00:00")
    assert ev.kind == "uplift" and ev.campaign_day == date(2025, 7, 1)
    assert ev.qini_interval == Interval(0.001, 0.008) and ev.score == 0.004
    assert uplift_evidence({}, None).campaign_day is None


def test_bad_thresholds_and_intervals_fail_with_the_value_named() -> None:
    with pytest.raises(ValueError, match="margin must be finite and >= 0, got -0.1"):
        GateThresholds(margin=-0.1)
    with pytest.raises(ValueError, match=r"finite lo <= hi, got \[0.2, 0.1\]"):
        Interval(0.2, 0.1)
    with pytest.raises(ValueError, match="finite"):
        BaselineComparison(float("nan"), 0.1)


def test_the_decision_is_the_gate_contract_and_its_tags_read_back() -> None:
    d = decide(_model(), None, GATE)
    assert isinstance(d, GateDecision) and d.name is None and d.version is None
    assert {"gate.metric", "gate.promoted", "gate.reason", "gate.reasons"} <= set(d.as_tags())
    assert GateDecision.from_tags(d.as_tags(), "models:/m/1") == d


def test_the_rule_imports_no_mlflow() -> None:
    """No import chain, eager or lazy, leads from the rule to MLflow (a static check of the import graph)."""
    import grimp

    graph = grimp.build_graph("custml", include_external_packages=True, cache_dir=None)
    assert graph.find_modules_that_directly_import("mlflow")  # the graph sees MLflow where it is imported
    assert not graph.chain_exists("custml.models.promotion", "mlflow")


# --- the held-out Qini interval ---------------------------------------------------------------------------------
def _effect(n: int, effect: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    x = rng.random(n)
    y = (rng.random(n) < 0.3 + effect * t * (x > 0.5)).astype(int)
    return y, x, t


def test_one_qini_replicate_is_the_qini_auc_of_customers_resampled_within_each_arm() -> None:
    y, s, t = _effect(500, 0.3)
    lo, hi = qini_auc_interval(y, s, t, n_boot=1, seed=3)
    # the same draws by hand: positions in the ranked order, treated from the treated, control from the control
    order = np.argsort(-s, kind="stable")
    t_sorted = t[order]
    treated, control = np.flatnonzero(t_sorted == 1), np.flatnonzero(t_sorted == 0)
    rng = np.random.default_rng(3)
    draws = np.concatenate(
        [
            treated[rng.integers(0, len(treated), len(treated))],
            control[rng.integers(0, len(control), len(control))],
        ]
    )
    rows = order[np.sort(draws)]
    assert lo == hi == pytest.approx(qini_auc_score(y[rows], s[rows], t[rows]), abs=1e-12)
    assert (t[rows] == 1).sum() == (t == 1).sum()  # the arms keep their size


def test_the_qini_interval_lies_above_0_for_a_real_effect_and_holds_0_without_one() -> None:
    y, s, t = _effect(4000, 0.3)
    lo, hi = qini_auc_interval(y, s, t, n_boot=200)
    assert 0 < lo < qini_auc_score(y, s, t) < hi
    assert (lo, hi) == qini_auc_interval(y, s, t, n_boot=200)  # seeded
    y0, s0, t0 = _effect(4000, 0.0)
    lo0, hi0 = qini_auc_interval(y0, s0, t0, n_boot=200)
    assert lo0 < 0 < hi0
    narrow = qini_auc_interval(y, s, t, n_boot=200, level=0.5)
    assert lo < narrow[0] <= narrow[1] < hi
    with pytest.raises(ValueError, match="n_boot must be at least 1, got 0"):
        qini_auc_interval(y, s, t, n_boot=0)
    with pytest.raises(ValueError, match="level must be in"):
        qini_auc_interval(y, s, t, level=1.0)
    with pytest.raises(ValueError, match="both arms"):
        qini_auc_interval(y, s, np.ones_like(t))


def _campaign(n: int, effect: float) -> CampaignData:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.random(n), "noise": rng.random(n)})
    t = rng.integers(0, 2, n)
    retained = rng.random(n) < 0.4 + effect * t * (X["x"] > 0.5)
    return CampaignData("C1", pd.Timestamp("2025-03-01"), np.arange(n).astype(str).astype(object), X, t,
                        ~retained.to_numpy(), 10.0, value=rng.gamma(2.0, 200.0, n))  # fmt: skip


def test_the_uplift_fit_reports_its_qini_interval_and_the_gate_reads_it() -> None:
    model = fit_campaign_uplift(_campaign(3000, 0.3), UpliftParams(n_jobs=1))
    h = model.holdout
    assert h["qini_auc_lo"] < h["qini_auc"] < h["qini_auc_hi"] and h["qini_auc_lo"] > 0
    logged = {f"holdout_{k}": v for k, v in h.items()}  # as tracking logs them
    assert decide(uplift_evidence(logged, "2025-03-01"), None, GATE).promoted
    # no effect in the campaign: the interval holds 0 and the gate refuses the model
    null = fit_campaign_uplift(_campaign(3000, 0.0), UpliftParams(n_jobs=1)).holdout
    assert null["qini_auc_lo"] < 0
    refused = decide(uplift_evidence({f"holdout_{k}": v for k, v in null.items()}, "2025-03-01"), None, GATE)
    assert not refused.promoted
    off = fit_campaign_uplift(_campaign(600, 0.3), UpliftParams(n_jobs=1, qini_bootstrap=0)).holdout
    assert "qini_auc" in off and "qini_auc_lo" not in off
