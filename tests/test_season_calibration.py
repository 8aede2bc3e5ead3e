"""Season calibration (issue 27): the shape from the training year out of fold, the level from validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.errors import SchemaError
from custml.models.candidates import BoosterClassifier
from custml.models.gbm import ProbabilityCalibrator
from custml.models.season import cutoff_folds, out_of_fold_scores, year_calibrator


def test_fit_level_moves_the_mean_to_the_new_rate_and_keeps_the_ranking() -> None:
    rng = np.random.default_rng(0)
    raw = rng.random(2_000).reshape(-1, 1)
    cal = ProbabilityCalibrator("isotonic").fit(raw, (rng.random(2_000) < raw[:, 0]).astype(int))
    assert cal.level_ == 0.0
    before = cal.predict(raw)
    later = (rng.random(2_000) < np.clip(raw[:, 0] + 0.2, 0, 1)).astype(int)  # a season with more positives
    after = cal.fit_level(raw, later).predict(raw)
    assert cal.level_ > 0
    assert after.mean() == pytest.approx(later.mean(), abs=2e-3)
    assert np.array_equal(np.argsort(before, kind="stable"), np.argsort(after, kind="stable"))
    with pytest.raises(SchemaError, match="single class"):
        cal.fit_level(raw, np.ones(2_000))


def test_cutoff_folds_interleave_the_cutoffs_and_refuse_too_few() -> None:
    cut = pd.Series(pd.date_range("2024-01-01", periods=12, freq="30D").repeat(3))
    folds = cutoff_folds(cut, n_folds=3)
    assert sum(f.sum() for f in folds) == len(cut) and not np.any(folds[0] & folds[1])
    # every fold spans the year: its first and last cut-offs are at least 9 steps apart
    assert all((cut[f].max() - cut[f].min()).days >= 270 for f in folds)
    with pytest.raises(ValueError, match="3 folds need as many distinct cut-offs, found 2"):
        cutoff_folds(cut[cut < pd.Timestamp("2024-03-01")], n_folds=3)


def test_fit_level_survives_steps_at_0_and_1_and_extreme_rates() -> None:
    raw = np.linspace(0, 1, 400).reshape(-1, 1)
    steps = (raw[:, 0] > 0.5).astype(int)  # isotonic steps at exactly 0 and 1
    cal = ProbabilityCalibrator("isotonic").fit(raw, steps)
    rare = np.r_[np.ones(2), np.zeros(398)]
    p = cal.fit_level(raw, rare).predict(raw)
    assert p.mean() == pytest.approx(rare.mean(), abs=2e-3)
    # monotone, within the floor (less the tie-break's 5e-7)
    assert np.all(np.diff(p) >= 0) and p.min() >= 1e-3 - 1e-6 and p.max() <= 1 - 1e-3 + 1e-6
    with pytest.raises(SchemaError, match="equal inputs"):
        cal.fit_level(raw, rare[:10])


def test_year_calibrator_scores_each_month_out_of_fold_and_matches_the_validation_rate() -> None:
    rng = np.random.default_rng(1)
    n = 3_600
    cut = pd.Series(pd.date_range("2024-01-01", periods=12, freq="30D").repeat(n // 12))
    season = np.cos(2 * np.pi * cut.dt.day_of_year.to_numpy() / 365.25)
    X = pd.DataFrame({"x": rng.normal(size=n), "season": season})
    y = (rng.random(n) < 1 / (1 + np.exp(-(X["x"] + 0.8 * season)))).astype(int)
    booster = BoosterClassifier(numeric=("x", "season"), n_estimators=30, random_state=0).fit(X, y)
    oof = out_of_fold_scores(booster, X, y, cut)
    assert np.isfinite(oof).all()
    assert not np.allclose(oof, booster.predict_proba(X)[:, 1])  # not the in-sample scores
    X_val = pd.DataFrame({"x": rng.normal(size=600), "season": 1.0})
    y_val = (rng.random(600) < 0.8).astype(int)  # a later level than the year taught
    score = booster.predict_proba(X_val)[:, 1]
    cal = year_calibrator(booster, X, y, cut, score, y_val)
    assert cal.method == "platt" and cal.level_ > 0
    assert cal.predict(score.reshape(-1, 1)).mean() == pytest.approx(y_val.mean(), abs=2e-3)


def test_refits_keep_the_champions_class_weighting() -> None:
    """A champion fitted unweighted ("auto" at a 5.75 % minority) must not have refits that weight their own
    two thirds (3.8 % in one fold): the Platt shape would mix two score scales. The refits take the champion's
    decision (``uses_class_weights`` on all its rows, the rule ``train_booster`` applies)."""
    from custml.models.gbm import uses_class_weights

    y = np.r_[np.ones(23), np.zeros(377)]  # 5.75 %: above the 5 % share, so unweighted
    assert not uses_class_weights("auto", y)
    assert uses_class_weights("auto", np.r_[np.ones(10), np.zeros(390)])
    assert uses_class_weights("balanced", y) and not uses_class_weights("none", y[:10])


def test_fewer_training_cutoffs_than_folds_keep_the_validation_calibration() -> None:
    from custml.models.params import TrainParams
    from custml.models.train import train_model
    from custml.testing import synthetic_training_table

    # two training cut-offs a year apart: the seasonal rule applies, three month folds cannot
    params = TrainParams(
        task="churn", n_train_cutoffs=2, cutoff_step_days=360, n_validation_cutoffs=1, n_estimators=30
    )
    table = synthetic_training_table(
        800, task="churn", n_train_cutoffs=2, step_days=360, seed=4, n_validation_cutoffs=1
    )
    result = train_model(table, params=params)
    assert result.data_description["champion_rule"] == "seasonal"
    assert result.data_description["calibration"] == "isotonic on the validation cut-offs"
