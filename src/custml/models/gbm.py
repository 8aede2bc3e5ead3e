"""LightGBM classifier with categorical features, class-imbalance weighting, early stopping and calibration.

The booster is trained on the training cut-offs; early stopping and the probability calibrator (isotonic or
Platt) see only the validation cut-offs.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from custml.errors import SchemaError
from custml.models.params import TrainParams

__all__ = ["ProbabilityCalibrator", "fit_booster"]

logger = logging.getLogger(__name__)

_EPS = 1e-6
# Calibrated probabilities stay within [0.001, 0.999]: no customer is certain to churn or to stay.
_PROB_FLOOR = 1e-3
_SMALL_TABLE_ROWS = 50_000
# With class_imbalance="auto", the minority class share below which positives/negatives are re-weighted.
_IMBALANCE_SHARE = 0.05


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class ProbabilityCalibrator(BaseEstimator):
    """Map raw model probabilities to calibrated ones.

    Parameters
    ----------
    method : {"isotonic", "platt"}
        Isotonic regression (monotone step function, clipped outside the fitted range) or Platt scaling
        (logistic regression on the logit of the raw probability).

    Examples
    --------
    >>> import numpy as np
    >>> raw = np.linspace(0.05, 0.95, 200)
    >>> y = (np.random.default_rng(0).random(200) < raw ** 2).astype(int)
    >>> cal = ProbabilityCalibrator("platt").fit(raw, y)
    >>> bool(np.all(np.diff(cal.predict(raw)) >= 0))
    True
    """

    def __init__(self, method: Literal["isotonic", "platt"] = "isotonic") -> None:
        self.method = method

    def fit(self, raw: ArrayLike, y: ArrayLike) -> ProbabilityCalibrator:
        """Fit on validation predictions ``raw`` and their labels ``y``."""
        p = np.asarray(raw, dtype=float).ravel()
        y_arr = np.asarray(y, dtype=float).ravel()
        if p.size != y_arr.size or p.size == 0:
            raise SchemaError(
                "validation", "label", f"calibration needs equal, non-empty inputs ({p.size} vs {y_arr.size})"
            )
        if len(np.unique(y_arr)) < 2:
            raise SchemaError(
                "validation", "label", "has a single class: cannot calibrate", n_rows=int(y_arr.size)
            )
        if self.method == "isotonic":
            self.model_: Any = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y_arr)
        elif self.method == "platt":
            self.model_ = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p)[:, None], y_arr)
        else:
            raise ValueError(f"unknown calibration method {self.method!r} (isotonic or platt)")
        return self

    def predict(self, raw: ArrayLike) -> np.ndarray:
        """Calibrated probabilities for raw probabilities ``raw``."""
        check_is_fitted(self, "model_")
        p = np.asarray(raw, dtype=float).ravel()
        if self.method == "isotonic":
            out = self.model_.predict(p)
        else:
            out = self.model_.predict_proba(_logit(p)[:, None])[:, 1]
        # Isotonic steps reach exactly 0 or 1 at the ends; one confident miss then costs ~35 nats of log loss.
        return np.clip(np.asarray(out, dtype=float), _PROB_FLOOR, 1.0 - _PROB_FLOOR)


def fit_booster(
    X_train: pd.DataFrame,
    y_train: ArrayLike,
    X_val: pd.DataFrame,
    y_val: ArrayLike,
    params: TrainParams,
    categorical: list[str],
    lightgbm_overrides: dict[str, Any] | None = None,
) -> lgb.Booster:
    """Train a binary LightGBM booster with early stopping on the validation rows.

    Class imbalance: ``"balanced"`` re-weights positives by ``scale_pos_weight = negatives / positives``;
    ``"auto"`` (default) does so only when the minority class is under 5 % of the training rows, because on
    moderately imbalanced labels the weighting only distorts the probabilities that calibration must then
    undo. Measured on the 50k synthetic world: churn (rate ~0.7) ECE 0.035 weighted vs 0.019 unweighted at the
    same AUC; repurchase (rate ~0.11) AUC 0.8586 / ECE 0.016 weighted (early stopping after 7 trees) vs
    0.8618 / 0.006 unweighted. Weighted runs early-stop on validation AUC, unweighted ones on validation log loss. The
    calibrator maps the scores back to probabilities either way. Categorical columns must already be pandas
    ``category`` dtype.
    """
    y_tr = np.asarray(y_train, dtype=float)
    y_va = np.asarray(y_val, dtype=float)
    n_pos = float(y_tr.sum())
    if n_pos == 0 or n_pos == len(y_tr):
        raise SchemaError(
            "training_set", "label", "has a single class in the training cut-offs", n_rows=len(y_tr)
        )
    weighted = params.class_imbalance == "balanced" or (
        params.class_imbalance == "auto" and min(n_pos, len(y_tr) - n_pos) / len(y_tr) < _IMBALANCE_SHARE
    )
    lgb_params: dict[str, Any] = {
        "objective": "binary",
        # Weighted training distorts the validation log loss, so weighted runs stop on AUC instead.
        "metric": ["auc", "binary_logloss"] if weighted else ["binary_logloss", "auc"],
        "first_metric_only": True,
        "verbosity": -1,
        "seed": params.seed,
        "deterministic": True,
        "force_col_wise": True,
        **params.lightgbm.to_lightgbm(),
        **(lightgbm_overrides or {}),
    }
    if lgb_params.get("num_threads") == 0:
        # Auto: one thread for small tables and small machines, LightGBM's default (all cores) otherwise.
        # OpenMP threads busy-wait for each other: on a shared 2-core machine a 220k-row churn fit took 653 s
        # with 2 threads and 68 s with 1 (50k world, other jobs running).
        if len(y_tr) < _SMALL_TABLE_ROWS or (os.cpu_count() or 1) <= 2:
            lgb_params["num_threads"] = 1
        else:
            lgb_params.pop("num_threads")
    if weighted:
        lgb_params["scale_pos_weight"] = (len(y_tr) - n_pos) / n_pos
    train_set = lgb.Dataset(
        X_train, label=y_tr, categorical_feature=categorical or "auto", free_raw_data=True
    )
    val_set = lgb.Dataset(X_val, label=y_va, categorical_feature=categorical or "auto", reference=train_set)
    booster = lgb.train(
        lgb_params,
        train_set,
        num_boost_round=params.n_estimators,
        valid_sets=[val_set],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    logger.info("LightGBM stopped at %d trees (best %d)", booster.current_iteration(), booster.best_iteration)
    return booster
