"""Calibration that carries across seasons: the season's shape from a year, the level from the latest months.

When the training cut-offs span a year, the booster reads the cut-off's time of year and learns the seasonal
swing of the base rate. A calibrator fitted on the validation cut-offs alone (three consecutive months) learns
how the score maps to a probability within one season: on the retail preset it damped the winter peak the
booster had learnt and under-predicted January by 5 points (ECE 0.054). :func:`year_calibrator` fits instead

- the **shape**: Platt scaling on out-of-fold booster scores over the whole training year (``n_folds`` refits
  with the booster's number of trees and class weighting, each leaving out an interleaved third of the training
  cut-offs, so that every training month is scored by a booster that did not see that month: as the test month
  is unseen). A held-out customer's adjacent months (whose label windows overlap) stay in the refit: folds by
  customer instead let each refit see the held-out month's level through the other customers, and were worse
  (retail preset, same table: mean ECE 0.0307 and 5 months above 0.03, against 0.0267 and 3);
- the **level**: one log-odds constant so that the mean probability on the validation cut-offs equals their
  base rate (:meth:`ProbabilityCalibrator.fit_level`), which carries a level change the year has not seen
  (a price rise, a new cohort) from the latest labelled months.

Neither part alone carries: the year's shape without the level missed the price rise by 3-6 points (April ECE
0.057); the level on the validation months' own shape is the validation calibration it replaces. On the retail
preset's 12-month backtest (50k persons, the same models; ``benchmarks/backtest_seasons.py``): worst month ECE
0.054 -> 0.043, mean 0.0275 -> 0.0267, ROC AUC unchanged (Platt keeps the order); the months still above 0.03
are those whose label window holds an event no history shows (``benchmarks/backtest_shock.py``;
``experiments/LOGBOOK.md``). It costs ``n_folds`` booster fits at the champion's number of trees, on two thirds
of the training rows each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone

from custml.models.candidates import BoosterClassifier
from custml.models.gbm import ProbabilityCalibrator, uses_class_weights

__all__ = ["SEASON_FOLDS", "cutoff_folds", "out_of_fold_scores", "year_calibrator"]

#: Refits of the season calibration (each leaves out an interleaved third of the training cut-offs).
SEASON_FOLDS = 3


def cutoff_folds(cutoffs: ArrayLike, n_folds: int = SEASON_FOLDS) -> list[np.ndarray]:
    """Row masks of ``n_folds`` interleaved groups of distinct cut-offs: each group spans the whole period.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-01-01"])
    >>> [m.astype(int).tolist() for m in cutoff_folds(c, n_folds=2)]
    [[1, 0, 1, 0, 1], [0, 1, 0, 1, 0]]
    """
    values = pd.to_datetime(pd.Series(np.asarray(cutoffs)))
    distinct = sorted(values.unique())
    if len(distinct) < n_folds:
        raise ValueError(
            f"cutoff_folds: {n_folds} folds need as many distinct cut-offs, found {len(distinct)}"
        )
    return [values.isin(distinct[k::n_folds]).to_numpy() for k in range(n_folds)]


def out_of_fold_scores(
    booster: BoosterClassifier, X: pd.DataFrame, y: ArrayLike, cutoffs: ArrayLike, n_folds: int = SEASON_FOLDS
) -> np.ndarray:
    """Raw scores of every row of ``X`` by a refit of ``booster`` that left out its fold of cut-offs.

    Each refit is ``clone(booster)`` with the fitted booster's number of trees, no early stopping (the left-out
    rows must not choose the refit's size) and the champion's class weighting.
    """
    fitted = booster.booster_
    trees = int(fitted.best_iteration or fitted.num_trees())
    target = np.asarray(y)
    # the champion's weighting decided once on all its rows: a refit must not decide otherwise on its share
    weighting = "balanced" if uses_class_weights(booster.class_imbalance, target) else "none"
    scores = np.full(len(X), np.nan)
    for hold in cutoff_folds(cutoffs, n_folds):
        refit = clone(booster).set_params(n_estimators=max(trees, 1), class_imbalance=weighting)
        refit.fit(X.loc[~hold], target[~hold])
        scores[hold] = refit.predict_proba(X.loc[hold])[:, 1]
    return scores


def year_calibrator(
    booster: BoosterClassifier,
    X_train: pd.DataFrame,
    y_train: ArrayLike,
    train_cutoffs: ArrayLike,
    validation_score: ArrayLike,
    y_validation: ArrayLike,
    n_folds: int = SEASON_FOLDS,
) -> ProbabilityCalibrator:
    """Platt scaling on the training year's out-of-fold booster scores, its level set on the validation
    cut-offs (``validation_score``: the fitted booster's raw scores there); see the module docstring."""
    oof = out_of_fold_scores(booster, X_train, y_train, train_cutoffs, n_folds)
    calibrator = ProbabilityCalibrator("platt").fit(oof.reshape(-1, 1), np.asarray(y_train))
    return calibrator.fit_level(np.asarray(validation_score).reshape(-1, 1), y_validation)
