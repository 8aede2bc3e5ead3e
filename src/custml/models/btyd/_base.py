"""Shared plumbing of the BTYD fitters: input checks, row compression, the optimiser and the fitter base class."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custml.errors import ConfigError, SchemaError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

# Number of `freq` units in one month, as in lifetimes' CLV (kept identical for comparable figures).
_UNITS_PER_MONTH: dict[str, float] = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}
# Box on the log-parameters: keeps exp() finite while leaving every realistic value reachable.
_LOG_BOUND = 18.0


def _as_float(name: str, values: ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=float)
    n_bad = int(np.count_nonzero(~np.isfinite(arr)))
    if n_bad:
        raise SchemaError("rfm", name, "has missing or infinite values", n_rows=n_bad)
    return arr


def _check_rft(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    """Validate and broadcast (frequency, recency, T); raise naming the offending column."""
    x = _as_float("frequency", frequency)
    t_x = _as_float("recency", recency)
    big_t = _as_float("T", T)
    try:
        x, t_x, big_t = np.broadcast_arrays(x, t_x, big_t)
    except ValueError as exc:
        raise SchemaError("rfm", None, f"frequency, recency and T have incompatible shapes ({exc})") from exc
    checks = [
        ("frequency", (x < 0) | (x != np.round(x)), "must be a non-negative whole number"),
        ("recency", t_x < 0, "must be non-negative"),
        ("T", big_t < 0, "must be non-negative"),
        ("recency", t_x > big_t * (1 + 1e-9) + 1e-12, "must not exceed T"),
        ("recency", (x == 0) & (t_x > 0), "must be 0 when frequency is 0"),
    ]
    for col, bad, problem in checks:
        n_bad = int(np.count_nonzero(bad))
        if n_bad:
            raise SchemaError("rfm", col, problem, n_rows=n_bad)
    return x, np.minimum(t_x, big_t), big_t


def _check_horizon(t: ArrayLike) -> FloatArray:
    arr = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ConfigError("prediction horizon t must be finite and non-negative")
    return arr


def _out(values: FloatArray) -> FloatArray | float:
    """Return a float for scalar inputs, an array otherwise."""
    values = np.asarray(values, dtype=float)
    return float(values) if values.ndim == 0 else values


def _compress(
    columns: dict[str, FloatArray], weights: ArrayLike | None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Collapse identical rows and sum their weights: the likelihood only needs each distinct row once."""
    n = len(next(iter(columns.values())))
    if weights is None:
        w = np.ones(n)
    else:
        w = np.broadcast_to(_as_float("weights", weights), (n,)).astype(float)
        n_neg = int(np.count_nonzero(w < 0))
        if n_neg:
            raise SchemaError("rfm", "weights", "must be non-negative", n_rows=n_neg)
    frame = pd.DataFrame(columns)
    frame["_w"] = w
    grouped = frame.groupby(list(columns), sort=False, as_index=False)["_w"].sum()
    grouped = grouped.loc[grouped["_w"] > 0]
    if grouped.empty:
        raise SchemaError("rfm", "weights", "sum to zero: nothing to fit")
    return {k: grouped[k].to_numpy(dtype=float) for k in columns}, grouped["_w"].to_numpy(dtype=float)


def _minimise(
    objective: Callable[[FloatArray], Any], x0: FloatArray, analytic_gradient: bool
) -> tuple[OptimizeResult, bool]:
    """Minimise over log-parameters: L-BFGS-B (analytic gradient) with a Nelder-Mead restart if needed."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    lbfgs_opts = {"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20}

    def value_only(z: FloatArray) -> float:
        out = objective(z)
        return float(out[0] if analytic_gradient else out)

    if analytic_gradient:
        res = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=lbfgs_opts)
        if res.success and np.all(np.isfinite(res.x)):
            return res, True
        start = res.x if np.all(np.isfinite(res.x)) else x0
    else:
        start = x0
    simplex = minimize(
        value_only,
        start,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 20000, "maxfev": 40000, "adaptive": True},
    )
    polish = minimize(
        objective,
        simplex.x,
        jac=analytic_gradient or None,
        method="L-BFGS-B",
        bounds=bounds,
        options=lbfgs_opts,
    )
    best = polish if polish.fun <= simplex.fun else simplex
    converged = bool(simplex.success or polish.success)
    return best, converged


def _penalised_objective(
    loglik: Callable[[FloatArray, bool], Any],
    weights: FloatArray,
    penalizer_coef: float,
    with_gradient: bool,
) -> Callable[[FloatArray], Any]:
    """Negative mean log-likelihood plus ``penalizer_coef * sum(params**2)`` (lifetimes' objective)."""
    total = weights.sum()

    def objective(log_params: FloatArray) -> Any:
        params = np.exp(log_params)
        penalty = penalizer_coef * np.sum(params**2)
        with np.errstate(all="ignore"):
            if with_gradient:
                ll, grad = loglik(params, True)
                value = -(weights @ ll) / total + penalty
                g = -(weights @ grad) / total * params + 2.0 * penalizer_coef * params**2
                if not np.isfinite(value) or not np.all(np.isfinite(g)):
                    return 1e10, np.zeros_like(log_params)
                return value, g
            ll = loglik(params, False)
            value = -(weights @ ll) / total + penalty
        return value if np.isfinite(value) else 1e10

    return objective


class _TransactionModel(Protocol):
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float: ...


def _log1mexp(u: FloatArray) -> FloatArray:
    """log(1 - exp(u)) for u <= 0, accurate at both ends."""
    with np.errstate(divide="ignore"):
        return np.where(u > -np.log(2.0), np.log(-np.expm1(u)), np.log1p(-np.exp(u)))


class _BTYDBase(BaseEstimator):
    """Shared fit plumbing of the purchase-count models (BG/NBD, Pareto/NBD)."""

    _param_names: tuple[str, ...] = ()
    _analytic_gradient = False

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def fit(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
    ) -> _BTYDBase:
        """Fit the model by maximum likelihood.

        Identical ``(frequency, recency, T)`` rows are collapsed into one weighted row first, so large
        customer bases with day-resolution durations fit in seconds.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat transaction count ``x``, time of the last purchase ``t_x`` and age ``T`` per customer,
            as produced by :func:`rfm_summary`.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).

        Returns
        -------
        self
        """
        if not self.penalizer_coef >= 0:
            raise ConfigError(f"penalizer_coef must be non-negative, got {self.penalizer_coef!r}")
        x, t_x, big_t = _check_rft(frequency, recency, T)
        data, w = _compress({"x": x.ravel(), "t_x": t_x.ravel(), "T": big_t.ravel()}, weights)
        x, t_x, big_t = data["x"], data["t_x"], data["T"]

        def loglik(params: FloatArray, grad: bool) -> Any:
            return self._loglik(params, x, t_x, big_t, grad)

        objective = _penalised_objective(loglik, w, float(self.penalizer_coef), self._analytic_gradient)
        x0 = np.log(self._initial_params(x, t_x, big_t, w))
        res, converged = _minimise(objective, x0, self._analytic_gradient)
        params = np.exp(res.x)
        with np.errstate(all="ignore"):
            ll = self._loglik(params, x, t_x, big_t, False)
        self.params_ = {name: float(v) for name, v in zip(self._param_names, params, strict=True)}
        self.log_likelihood_ = float(w @ ll)
        self.n_customers_ = float(w.sum())
        self.n_unique_rows_ = len(w)
        self.converged_ = converged
        if not converged:
            logger.warning("%s: optimiser did not report convergence (%s)", type(self).__name__, res.message)
        logger.debug(
            "%s fitted on %d customers (%d distinct rows): %s, log-likelihood %.3f",
            type(self).__name__,
            int(self.n_customers_),
            len(w),
            self.params_,
            self.log_likelihood_,
        )
        return self

    def _params(self) -> tuple[float, ...]:
        check_is_fitted(self, "params_")
        return tuple(self.params_[name] for name in self._param_names)

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Probability that a customer is still alive at ``T`` given ``(x, t_x, T)``.

        BG/NBD gives 1 for customers without a repeat purchase (``x == 0``): in that model a customer can
        only drop out right after a purchase. Pareto/NBD has no such property.

        Returns
        -------
        float or numpy.ndarray
        """
        x, t_x, big_t = _check_rft(frequency, recency, T)
        return _out(self._p_alive(x, t_x, big_t))

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _initial_params(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _loglik(
        self, params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, grad: bool
    ) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def _rate_scale(x: FloatArray, T: FloatArray, w: FloatArray) -> float:
    """Rough time scale ``sum(T) / sum(x)`` used to start the rate parameters near the data."""
    return float(np.clip(float(w @ T) / max(float(w @ x), 1e-9), 1e-3, 1e6))
