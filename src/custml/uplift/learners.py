"""Meta-learners of the individual treatment effect (uplift) on a binary outcome, with LightGBM as the base.

All three follow the scikit-learn contract (``fit(X, y, treatment)`` returns ``self``, ``predict(X)`` the
estimated uplift ``P(y=1 | treated, x) - P(y=1 | control, x)``). ``y`` is the outcome the action wants more of:
for a retention offer, 1 = stayed (``1 - churned``), so a positive uplift is a customer saved.

* :class:`TLearner` — two models, one per arm; the uplift is the difference of their probabilities. On the churn
  label this *is* the "churn-if-untreated minus churn-if-treated" two-model estimate
  (:meth:`TLearner.predict_outcomes` gives both probabilities).
* :class:`XLearner` (Künzel et al. 2019) — the T-learner's models impute each person's effect (treated:
  ``y - m0(x)``, control: ``m1(x) - y``), a regressor per arm learns them and the two are blended with the
  propensity ``e``: ``tau(x) = e * tau0(x) + (1 - e) * tau1(x)``.
* :class:`DRLearner` (Kennedy 2020) — doubly-robust pseudo-outcomes from cross-fitted outcome models and the
  propensity, regressed on ``x``.

The campaigns are randomised, so the propensity is the treated share (a constant), not a fitted model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict, TypeVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "DRLearner",
    "TLearner",
    "XLearner",
    "default_classifier",
    "default_regressor",
    "map_tasks",
    "task_workers",
]


class _LightGBMDefaults(TypedDict):
    """The base models' LightGBM settings (scikit-learn API names)."""

    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    subsample: float
    subsample_freq: int
    colsample_bytree: float
    reg_lambda: float
    verbose: int
    deterministic: bool
    force_col_wise: bool


_LGBM_DEFAULTS: _LightGBMDefaults = {
    "n_estimators": 150,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 100,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "verbose": -1,
    "deterministic": True,
    "force_col_wise": True,
}


def _threads(n_jobs: int | None) -> int | None:
    """``n_jobs``, or one thread on a machine of two cores or fewer (OpenMP threads busy-wait for each other
    there, as :func:`custml.models.gbm.fit_booster` found), else LightGBM's default."""
    if n_jobs is not None:
        return n_jobs
    return 1 if (os.cpu_count() or 1) <= 2 else None


def task_workers(n_jobs: int | None, n_tasks: int) -> int:
    """How many of ``n_tasks`` independent model fits or predictions to run at once.

    With the default threads (``n_jobs=None``) on a machine of two cores or fewer, each LightGBM model runs on
    one thread, so the tasks run side by side, one per core (LightGBM releases the GIL). Two one-thread tasks
    beat one two-thread task there: a T-learner's two fold fits and predictions at 200k customers took 6.9 s
    so, 7.5 s on two threads each, 12.7 s on one thread one after another (2026-12-03). Otherwise one at a
    time: each model uses the cores itself, or ``n_jobs`` says how many it may use.
    """
    if n_jobs is not None or _threads(None) != 1:  # the same rule that gives each model one thread
        return 1
    return max(1, min(n_tasks, os.cpu_count() or 1))


_T = TypeVar("_T")
_R = TypeVar("_R")


def map_tasks(fn: Callable[[_T], _R], items: Sequence[_T], workers: int) -> list[_R]:
    """``[fn(x) for x in items]``, on ``workers`` threads when more than one (results in the items' order)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def default_classifier(random_state: int = 0, n_jobs: int | None = None) -> Any:
    """The base outcome model: a regularised LightGBM classifier (uplift signals are small and noisy)."""
    from lightgbm import LGBMClassifier

    return LGBMClassifier(**_LGBM_DEFAULTS, random_state=random_state, n_jobs=_threads(n_jobs))


def default_regressor(random_state: int = 0, n_jobs: int | None = None) -> Any:
    """The base effect model of the X- and DR-learner: the same LightGBM settings, squared error."""
    from lightgbm import LGBMRegressor

    return LGBMRegressor(**_LGBM_DEFAULTS, random_state=random_state, n_jobs=_threads(n_jobs))


def _inputs(X: Any, y: Any, treatment: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    y_arr = np.asarray(y, dtype=float).ravel()
    t_arr = np.asarray(treatment).ravel().astype(float)
    if not (len(frame) == len(y_arr) == len(t_arr)):
        raise ValueError(f"X, y and treatment differ in length ({len(frame)}, {len(y_arr)}, {len(t_arr)})")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValueError("y must be binary (0/1)")
    if not np.isin(t_arr, (0.0, 1.0)).all():
        raise ValueError("treatment must hold only 0 and 1")
    for arm, name in ((1.0, "treated"), (0.0, "control")):
        rows = t_arr == arm
        if rows.sum() < 2 or len(np.unique(y_arr[rows])) < 2:
            raise ValueError(
                f"treatment: the {name} arm needs rows with both outcomes ({int(rows.sum())} rows)"
            )
    return frame, y_arr, t_arr


def _frame(X: Any, est: BaseEstimator) -> pd.DataFrame:
    check_is_fitted(est, "n_features_in_")
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    if frame.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {frame.shape[1]} features, the learner was fitted on {est.n_features_in_}")
    return frame


def _proba(model: Any, X: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.predict_proba(X))[:, 1]


class _Base(BaseEstimator):
    def __init__(self, estimator: Any = None, random_state: int = 0, n_jobs: int | None = None) -> None:
        self.estimator = estimator
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _classifier(self) -> Any:
        if self.estimator is not None:
            return clone(self.estimator)
        return default_classifier(self.random_state, self.n_jobs)

    def _note_inputs(self, X: pd.DataFrame, t: np.ndarray) -> None:
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.propensity_ = float(t.mean())


class TLearner(_Base):
    """Two outcome models, one per arm; uplift = P(y | treated) - P(y | control).

    Parameters
    ----------
    estimator : classifier, optional
        Base classifier (cloned per arm); default :func:`default_classifier`.
    random_state, n_jobs : int
        For the default LightGBM models.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.random(4000)})
    >>> t = rng.integers(0, 2, 4000)
    >>> y = (rng.random(4000) < 0.3 + 0.4 * t * (X["x"] > 0.5)).astype(int)
    >>> u = TLearner().fit(X, y, t).predict(pd.DataFrame({"x": [0.2, 0.8]}))
    >>> bool(u[1] - u[0] > 0.2)
    True
    """

    def fit(self, X: Any, y: Any, treatment: Any) -> TLearner:
        """Fit one classifier on the treated rows and one on the control rows."""
        frame, y_arr, t_arr = _inputs(X, y, treatment)
        treated = t_arr == 1
        self.model_treated_ = self._classifier().fit(frame[treated], y_arr[treated])
        self.model_control_ = self._classifier().fit(frame[~treated], y_arr[~treated])
        self._note_inputs(frame, t_arr)
        return self

    def predict_outcomes(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(P(y=1 | control, x), P(y=1 | treated, x))."""
        frame = _frame(X, self)
        return _proba(self.model_control_, frame), _proba(self.model_treated_, frame)

    def predict(self, X: Any) -> np.ndarray:
        """Estimated uplift per row."""
        p0, p1 = self.predict_outcomes(X)
        return p1 - p0


class XLearner(_Base):
    """X-learner: imputed individual effects from the T-learner, regressed per arm, blended by propensity.

    Parameters
    ----------
    estimator : classifier, optional
        Base outcome classifier; default :func:`default_classifier`.
    effect_estimator : regressor, optional
        Effect regressor (cloned per arm); default :func:`default_regressor`.
    """

    def __init__(
        self,
        estimator: Any = None,
        effect_estimator: Any = None,
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(estimator, random_state, n_jobs)
        self.effect_estimator = effect_estimator

    def _regressor(self) -> Any:
        if self.effect_estimator is not None:
            return clone(self.effect_estimator)
        return default_regressor(self.random_state, self.n_jobs)

    def fit(self, X: Any, y: Any, treatment: Any) -> XLearner:
        """Fit the outcome models, impute effects, fit one effect regressor per arm."""
        frame, y_arr, t_arr = _inputs(X, y, treatment)
        treated = t_arr == 1
        m1 = self._classifier().fit(frame[treated], y_arr[treated])
        m0 = self._classifier().fit(frame[~treated], y_arr[~treated])
        d1 = y_arr[treated] - _proba(m0, frame[treated])
        d0 = _proba(m1, frame[~treated]) - y_arr[~treated]
        self.effect_treated_ = self._regressor().fit(frame[treated], d1)
        self.effect_control_ = self._regressor().fit(frame[~treated], d0)
        self._note_inputs(frame, t_arr)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Estimated uplift per row: ``e * tau0(x) + (1 - e) * tau1(x)``."""
        frame = _frame(X, self)
        e = self.propensity_
        tau1 = np.asarray(self.effect_treated_.predict(frame), dtype=float)
        tau0 = np.asarray(self.effect_control_.predict(frame), dtype=float)
        return e * tau0 + (1.0 - e) * tau1


class DRLearner(XLearner):
    """DR-learner: doubly-robust pseudo-outcomes (cross-fitted outcome models, known propensity) regressed on x.

    Pseudo-outcome ``phi = m1 - m0 + t (y - m1) / e - (1 - t) (y - m0) / (1 - e)``, with ``m0, m1`` fitted on the
    other of ``n_folds`` folds (so no row's own outcome enters its prediction).
    """

    def __init__(
        self,
        estimator: Any = None,
        effect_estimator: Any = None,
        random_state: int = 0,
        n_jobs: int | None = None,
        n_folds: int = 2,
    ) -> None:
        super().__init__(estimator, effect_estimator, random_state, n_jobs)
        self.n_folds = n_folds

    def fit(self, X: Any, y: Any, treatment: Any) -> DRLearner:
        """Cross-fit the outcome models, build pseudo-outcomes, fit the effect regressor."""
        frame, y_arr, t_arr = _inputs(X, y, treatment)
        e = float(t_arr.mean())
        m0 = np.zeros(len(frame))
        m1 = np.zeros(len(frame))
        strata = (2 * t_arr + y_arr).astype(int)
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state)
        for fit_rows, out_rows in folds.split(frame, strata):
            tr = t_arr[fit_rows] == 1
            f_fit = frame.iloc[fit_rows]
            f_out = frame.iloc[out_rows]
            m1[out_rows] = _proba(self._classifier().fit(f_fit[tr], y_arr[fit_rows][tr]), f_out)
            m0[out_rows] = _proba(self._classifier().fit(f_fit[~tr], y_arr[fit_rows][~tr]), f_out)
        phi = m1 - m0 + t_arr * (y_arr - m1) / e - (1.0 - t_arr) * (y_arr - m0) / (1.0 - e)
        self.effect_ = self._regressor().fit(frame, phi)
        self._note_inputs(frame, t_arr)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Estimated uplift per row."""
        return np.asarray(self.effect_.predict(_frame(X, self)), dtype=float)
