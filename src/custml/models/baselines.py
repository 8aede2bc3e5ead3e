"""The BTYD candidates as classifiers: BG/NBD and Pareto/NBD probabilities for a churn or repurchase label.

- :class:`BGNBDBaseline`: BG/NBD fitted on the training rows' BTYD inputs; P(purchase within the horizon)
  for repurchase and ``1 -`` that for churn.
- :class:`ParetoNBDBaseline`: the same with Pareto/NBD.

They are registered candidates (:mod:`custml.models.candidates`), printed as yardsticks beside the shipped
model and shipped themselves when they win on the validation cut-offs. They read the BTYD columns of a frame
(``btyd_frequency``, ``btyd_recency_days``, ``btyd_T_days``, ``btyd_monetary``) by name; an array (or a frame
without those names) is read by position: frequency, recency and age in days, then spend if present.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from custml.errors import SchemaError
from custml.models.btyd import ParetoNBDFitter
from custml.models.candidates import _FrameClassifier
from custml.models.hybrid import BTYD_INPUT_COLUMNS, BTYDFeatures, _clean_inputs

__all__ = ["WAIVED_CHECKS", "BGNBDBaseline", "ParetoNBDBaseline"]


_THREE_COLUMNS = (
    "the BTYD inputs are three columns (frequency, recency, age in days): scikit-learn's generic data has "
    "fewer, and no classifier of customer histories can read them"
)
_ONE_FEATURE = "one column cannot stand in for the three BTYD inputs (the error names the missing column)"
# scikit-learn checks that cannot apply to the BTYD candidates, by name, with the reason.
WAIVED_CHECKS: dict[str, str] = {
    **dict.fromkeys(
        (
            "check_estimators_overwrite_params",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_classifier_data_not_an_array",
            "check_classifiers_classes",
            "check_classifiers_train",
            "check_fit_idempotent",
            "check_fit_check_is_fitted",
            "check_n_features_in",
        ),
        _THREE_COLUMNS,
    ),
    "check_fit2d_1feature": _ONE_FEATURE,
}


def _btyd_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The BTYD input columns of ``frame``: by name, else the first three (four) columns by position."""
    if all(c in frame.columns for c in BTYD_INPUT_COLUMNS):
        return frame
    if frame.shape[1] < 3:
        missing = next(c for c in BTYD_INPUT_COLUMNS if c not in frame.columns)
        raise SchemaError(
            "training_set",
            missing,
            f"is missing, and {frame.shape[1]} column(s) cannot stand in for the "
            "frequency, recency and age (days) of the BTYD inputs",
        )
    out = pd.DataFrame(
        {name: frame.iloc[:, i] for i, name in enumerate(BTYD_INPUT_COLUMNS[: min(4, frame.shape[1])])},
        index=frame.index,
    )
    if "btyd_monetary" not in out:
        out["btyd_monetary"] = np.nan
    return out


class BGNBDBaseline(_FrameClassifier):
    """BG/NBD as a classifier for the label of ``task`` (see module docstring).

    Rows without BTYD inputs (customers with no purchase before the cut-off) get the training base rate.

    Parameters
    ----------
    task : {"churn", "repurchase"}
    horizon_days : int
    time_unit_days : float
    btyd : BTYDFeatures, optional
        An already fitted BTYD transformer with the same horizon on the same rows (the hybrid features' fit),
        reused instead of fitting BG/NBD a second time.
    """

    _waived_checks = WAIVED_CHECKS

    def __init__(
        self,
        task: str = "churn",
        horizon_days: int = 90,
        time_unit_days: float = 7.0,
        btyd: BTYDFeatures | None = None,
    ) -> None:
        self.task = task
        self.horizon_days = horizon_days
        self.time_unit_days = time_unit_days
        self.btyd = btyd

    def fit(self, X: Any, y: ArrayLike | None = None) -> BGNBDBaseline:
        """Fit BG/NBD on the BTYD columns of ``X`` (labels are only used for the fallback base rate)."""
        frame, target = self._fit_inputs(X, y)
        if self.btyd is not None and self.btyd.horizon_days == self.horizon_days:
            self.btyd_ = self.btyd
        else:
            self.btyd_ = BTYDFeatures(horizon_days=self.horizon_days, time_unit_days=self.time_unit_days).fit(
                _btyd_frame(frame)
            )
        self.base_rate_ = float(target.mean())
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Two columns (negative, positive) as scikit-learn classifiers return."""
        frame = _btyd_frame(self._predict_inputs(X))
        check_is_fitted(self, "btyd_")
        p_buy = self.btyd_.btyd_predictions(frame)["btyd_p_purchase"].to_numpy(dtype=float)
        p_pos = 1.0 - p_buy if self.task == "churn" else p_buy
        p_pos = np.where(np.isfinite(p_pos), p_pos, self.base_rate_)
        p_pos = np.clip(p_pos, 0.0, 1.0)
        return np.column_stack([1.0 - p_pos, p_pos])


class ParetoNBDBaseline(_FrameClassifier):
    """Pareto/NBD as a classifier for the label of ``task`` (like :class:`BGNBDBaseline`).

    Parameters
    ----------
    task : {"churn", "repurchase"}
    horizon_days : int
    time_unit_days : float
    penalizer_coef : float
        L2 penalty of the fit (a little keeps it stable on skewed data).
    max_fit_rows : int or None
        The fit uses a seeded random sample of at most this many rows: the likelihood has no analytic
        gradient and costs ~0.8 s per 1,000 distinct rows (77 s on 83k rows, 2 s on 5k), while four
        population parameters are pinned down well by 10k customers. ``None``: every row.
    random_state : int

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"btyd_frequency": [0, 2, 5, 1, 3, 0], "btyd_recency_days": [0, 60, 300, 10, 200, 0],
    ...                    "btyd_T_days": [100, 120, 310, 400, 210, 30], "btyd_monetary": [0, 20, 35, 15, 25, 0]})
    >>> p = ParetoNBDBaseline("repurchase", 90).fit(df, [0, 1, 1, 0, 1, 0]).predict_proba(df)[:, 1]
    >>> bool(((p > 0) & (p < 1)).all())
    True
    """

    _waived_checks = WAIVED_CHECKS

    def __init__(
        self,
        task: str = "churn",
        horizon_days: int = 90,
        time_unit_days: float = 7.0,
        penalizer_coef: float = 0.001,
        max_fit_rows: int | None = 10_000,
        random_state: int = 0,
    ) -> None:
        self.task = task
        self.horizon_days = horizon_days
        self.time_unit_days = time_unit_days
        self.penalizer_coef = penalizer_coef
        self.max_fit_rows = max_fit_rows
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike | None = None) -> ParetoNBDBaseline:
        """Fit Pareto/NBD on the BTYD columns of ``X`` (labels only give the fallback base rate)."""
        frame, target = self._fit_inputs(X, y)
        valid, x, t_x, big_t, _ = _clean_inputs(_btyd_frame(frame), self.time_unit_days)
        if self.max_fit_rows is not None and valid.sum() > self.max_fit_rows:
            rng = np.random.default_rng(self.random_state)
            keep = rng.choice(np.flatnonzero(valid), size=self.max_fit_rows, replace=False)
            valid = np.zeros_like(valid)
            valid[keep] = True
        if valid.sum() < 3:
            raise SchemaError("training_set", "btyd_frequency", "has fewer than 3 usable rows for Pareto/NBD")
        self.pnbd_ = ParetoNBDFitter(penalizer_coef=self.penalizer_coef, standard_errors=False).fit(
            x[valid], t_x[valid], big_t[valid]
        )
        self.base_rate_ = float(target.mean())
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Two columns (negative, positive) as scikit-learn classifiers return."""
        frame = _btyd_frame(self._predict_inputs(X))
        check_is_fitted(self, "pnbd_")
        valid, x, t_x, big_t, _ = _clean_inputs(frame, self.time_unit_days)
        p_buy = np.full(len(frame), np.nan)
        if valid.any():
            h = self.horizon_days / self.time_unit_days
            p_buy[valid] = np.asarray(
                self.pnbd_.conditional_probability_of_purchase_in(h, x[valid], t_x[valid], big_t[valid]),
                dtype=float,
            )
        p_pos = 1.0 - p_buy if self.task == "churn" else p_buy
        p_pos = np.clip(np.where(np.isfinite(p_pos), p_pos, self.base_rate_), 0.0, 1.0)
        return np.column_stack([1.0 - p_pos, p_pos])
