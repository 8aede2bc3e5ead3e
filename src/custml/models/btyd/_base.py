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
from custml.models.btyd._covariates import (
    Link,
    LinkedParameters,
    RowValue,
    covariate_matrix,
    linked_objective,
    standard_errors,
)

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


# Gradient (of the mean log-likelihood, per log-parameter) below which a failed line search counts as converged.
_GRADIENT_FLOOR = 1e-5
# Evaluations of the Nelder-Mead restart per parameter.
_SIMPLEX_EVALS_PER_PARAMETER = 500


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
        # A line search that fails at the noise floor of the objective (gradient of the mean log-likelihood
        # below 1e-5, e.g. on a flat ridge towards a boundary) has converged for every practical purpose. (1e-4
        # would let Pareto/NBD's beta drift by up to 12 % from CDNOW's optimum; the restart's budget below is
        # what bounds its cost.)
        at_floor = res.jac is not None and float(np.max(np.abs(res.jac))) <= _GRADIENT_FLOOR
        if (res.success or at_floor) and np.all(np.isfinite(res.x)):
            return res, True
        start = res.x if np.all(np.isfinite(res.x)) else x0
    else:
        start = x0
    simplex = minimize(
        value_only,
        start,
        method="Nelder-Mead",
        bounds=bounds,
        # the restart's budget grows with the parameters (it had 40,000 evaluations whatever their number: on a
        # 50k demo world a plain Pareto/NBD's line search stopped at a gradient of 1.5e-5 and the restart spent
        # 160 s to lower the mean negative log-likelihood by 5e-10; its 500th evaluation was as good)
        options={
            "xatol": 1e-9,
            "fatol": 1e-13,
            "maxiter": _SIMPLEX_EVALS_PER_PARAMETER * len(x0),
            "maxfev": _SIMPLEX_EVALS_PER_PARAMETER * len(x0),
            "adaptive": True,
        },
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


class _TransactionModel(Protocol):
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float: ...


def _log1mexp(u: FloatArray) -> FloatArray:
    """log(1 - exp(u)) for u <= 0, accurate at both ends."""
    with np.errstate(divide="ignore"):
        return np.where(u > -np.log(2.0), np.log(-np.expm1(u)), np.log1p(-np.exp(u)))


def _compress_with_covariates(
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    zp: FloatArray,
    zd: FloatArray,
    weights: ArrayLike | None,
) -> tuple[tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]:
    """:func:`_compress` of histories with their purchase (``zp``) and dropout (``zd``) covariate matrices."""
    columns = {"x": x, "t_x": t_x, "T": big_t}
    columns |= {f"_p{j}": zp[:, j] for j in range(zp.shape[1])}
    columns |= {f"_d{j}": zd[:, j] for j in range(zd.shape[1])}
    data, w = _compress(columns, weights)
    zp = np.column_stack([data[f"_p{j}"] for j in range(zp.shape[1])] or [np.zeros((len(w), 0))])
    zd = np.column_stack([data[f"_d{j}"] for j in range(zd.shape[1])] or [np.zeros((len(w), 0))])
    return (data["x"], data["t_x"], data["T"], zp, zd), w


class _BTYDBase(BaseEstimator):
    """Shared fit and prediction plumbing of the purchase-count models (BG/NBD, Pareto/NBD).

    A subclass names its parameters, says which of them the purchase and dropout covariates act on
    (``_links``), and supplies the per-row log-likelihood with its derivatives with respect to the row values
    of its parameters (``_loglik``).
    """

    _param_names: tuple[str, ...] = ()
    # (linked parameter, coefficient prefix in params_, covariate source, sign of the exponent)
    _links: tuple[tuple[str, str, str, float], ...] = ()
    # Class-level default: models pickled before the argument existed still print and clone.
    standard_errors = True

    def __init__(self, penalizer_coef: float = 0.0, standard_errors: bool = True) -> None:
        self.penalizer_coef = penalizer_coef
        self.standard_errors = standard_errors

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        purchase_covariates: pd.DataFrame | None = None,
        dropout_covariates: pd.DataFrame | None = None,
    ) -> _BTYDBase:
        """Fit the model by maximum likelihood (analytic gradient, L-BFGS-B).

        Identical rows (the same ``(frequency, recency, T)`` and the same covariate values) are collapsed into
        one weighted row first, so large customer bases with day-resolution durations fit in seconds.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat transaction count ``x``, time of the last purchase ``t_x`` and age ``T`` per customer,
            as produced by :func:`rfm_summary`.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).
        purchase_covariates, dropout_covariates : pandas.DataFrame, optional
            Numeric static covariates, one row per customer in the order of ``frequency``. They act on the
            purchase process (``alpha``) and on the dropout process (Pareto/NBD: ``beta``; BG/NBD: ``a`` and
            ``b``); each column adds a coefficient ``purchase:<column>`` / ``dropout...:<column>`` to
            ``params_``.

        Returns
        -------
        self
        """
        if not self.penalizer_coef >= 0:
            raise ConfigError(f"penalizer_coef must be non-negative, got {self.penalizer_coef!r}")
        x, t_x, big_t = (a.ravel() for a in _check_rft(frequency, recency, T))
        zp, p_names = covariate_matrix("purchase_covariates", purchase_covariates, x.size)
        zd, d_names = covariate_matrix("dropout_covariates", dropout_covariates, x.size)
        (x, t_x, big_t, zp, zd), w = _compress_with_covariates(x, t_x, big_t, zp, zd, weights)
        linked = self._linked(zp, p_names, zd, d_names)
        # Rows sharing x and the dropout covariates share BG/NBD's special functions of (x, a_i, b_i).
        groups = None
        if zd.shape[1]:
            _, first, inverse = np.unique(
                np.column_stack([x, zd]), axis=0, return_index=True, return_inverse=True
            )
            groups = (first, inverse.ravel())

        def loglik(values: list[RowValue], grad: bool) -> Any:
            return self._loglik(values, x, t_x, big_t, grad, groups)

        objective = linked_objective(loglik, linked, w, float(self.penalizer_coef))
        theta0 = np.zeros(linked.size)
        theta0[: len(self._param_names)] = np.log(self._initial_params(x, t_x, big_t, w))
        res, converged = _minimise(objective, theta0, True)
        with np.errstate(all="ignore"):
            ll = self._loglik(linked.row_values(res.x), x, t_x, big_t, False, groups)
        self.params_ = linked.params(res.x)
        self.purchase_covariate_names_ = p_names
        self.dropout_covariate_names_ = d_names
        self.log_likelihood_ = float(w @ ll)
        self.n_customers_ = float(w.sum())
        self.n_unique_rows_ = len(w)
        self.converged_ = converged
        if self.standard_errors:
            self.standard_errors_ = standard_errors(loglik, linked, w, res.x, type(self).__name__)
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

    def _linked(
        self, zp: FloatArray, p_names: tuple[str, ...], zd: FloatArray, d_names: tuple[str, ...]
    ) -> LinkedParameters:
        sources = {"purchase": (zp, p_names), "dropout": (zd, d_names)}
        links = [
            Link(self._param_names.index(param), prefix, *sources[source], sign)
            for param, prefix, source, sign in self._links
        ]
        return LinkedParameters(self._param_names, links)

    def _params(self) -> tuple[float, ...]:
        check_is_fitted(self, "params_")
        return tuple(self.params_[name] for name in self._param_names)

    def _values(
        self,
        shape: tuple[int, ...],
        purchase_covariates: pd.DataFrame | None,
        dropout_covariates: pd.DataFrame | None,
    ) -> tuple[Any, ...]:
        """The parameters for ``shape``-shaped inputs: floats, or arrays of that shape where covariates act."""
        params = self._params()
        p_names = getattr(self, "purchase_covariate_names_", ())
        d_names = getattr(self, "dropout_covariate_names_", ())
        if not p_names and not d_names and purchase_covariates is None and dropout_covariates is None:
            return params
        n = int(np.prod(shape))
        zp, _ = covariate_matrix("purchase_covariates", purchase_covariates, n, p_names)
        zd, _ = covariate_matrix("dropout_covariates", dropout_covariates, n, d_names)
        linked = self._linked(zp, p_names, zd, d_names)
        theta = np.array(
            [np.log(v) for v in params] + [self.params_[name] for name in linked.names[len(params) :]]
        )
        return tuple(np.reshape(v, shape) if np.ndim(v) else v for v in linked.row_values(theta))

    @staticmethod
    def _covariate_shape(t: FloatArray, *covariates: pd.DataFrame | None) -> tuple[int, ...]:
        """Shape of an unconditional prediction: the horizons', or one row per covariate row."""
        rows = [len(c) for c in covariates if c is not None]
        return np.broadcast_shapes(t.shape, (rows[0],)) if rows else t.shape

    def conditional_probability_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        purchase_covariates: pd.DataFrame | None = None,
        dropout_covariates: pd.DataFrame | None = None,
    ) -> FloatArray | float:
        """Probability that a customer is still alive at ``T`` given ``(x, t_x, T)`` (and their covariates).

        BG/NBD gives 1 for customers without a repeat purchase (``x == 0``): in that model a customer can
        only drop out right after a purchase. Pareto/NBD has no such property.

        Returns
        -------
        float or numpy.ndarray
        """
        x, t_x, big_t = _check_rft(frequency, recency, T)
        values = self._values(x.shape, purchase_covariates, dropout_covariates)
        return _out(self._p_alive(values, x, t_x, big_t))

    def log_likelihood(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        purchase_covariates: pd.DataFrame | None = None,
        dropout_covariates: pd.DataFrame | None = None,
    ) -> FloatArray | float:
        """Log-likelihood of each customer's history at the fitted parameters (closed form).

        On the fitted data its sum is ``log_likelihood_``. Evaluated on the full history (calibration and
        holdout) minus on the calibration part, it is the predictive log-likelihood of the holdout purchases
        given the calibration ones: these likelihoods are densities of the purchase times, so
        ``L(full) = L(calibration) * p(holdout | calibration)``, and models can be compared on held-out periods.

        Returns
        -------
        float or numpy.ndarray
        """
        x, t_x, big_t = _check_rft(frequency, recency, T)
        values = self._values(x.shape, purchase_covariates, dropout_covariates)
        with np.errstate(divide="ignore"):
            return _out(self._loglik(values, x, t_x, big_t, False))

    def _p_alive(
        self, values: tuple[Any, ...], x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _initial_params(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
        raise NotImplementedError  # pragma: no cover - abstract

    @staticmethod
    def _loglik(
        params: Any, x: FloatArray, t_x: FloatArray, T: FloatArray, grad: bool, groups: Any = None
    ) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def _rate_scale(x: FloatArray, T: FloatArray, w: FloatArray) -> float:
    """Rough time scale ``sum(T) / sum(x)`` used to start the rate parameters near the data."""
    return float(np.clip(float(w @ T) / max(float(w @ x), 1e-9), 1e-3, 1e6))
