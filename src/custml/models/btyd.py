"""Buy-till-you-die (BTYD) purchase models and customer lifetime value (CLV).

Turns a transaction log into the per-customer RFM summary ``(frequency, recency, T, monetary_value)`` and
fits the classic probabilistic models on it by maximum likelihood: BG/NBD (Fader, Hardie and Lee 2005),
Pareto/NBD (Schmittlein, Morrison and Colombo 1987) and the Gamma-Gamma spend model (Fader, Hardie and Lee
2005, "RFM and CLV"). The API follows the ``lifetimes`` package and scikit-learn conventions: ``__init__``
only stores its arguments, ``fit`` returns ``self``, learned state ends in ``_`` and predictions take and
return plain arrays (pandas Series are accepted). No training data is kept on a fitted model.

Time is measured in whatever unit the RFM summary uses (weeks by default); the fitted rate parameters
(``alpha``, ``beta``) are in that unit and prediction horizons ``t`` must use it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custml.errors import ConfigError, SchemaError

__all__ = [
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ParetoNBDFitter",
    "rfm_summary",
]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

# Length of one time unit in days. Months use the mean Gregorian month.
_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}
# Number of `freq` units in one month, as in lifetimes' CLV (kept identical for comparable figures).
_UNITS_PER_MONTH: dict[str, float] = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}
# Box on the log-parameters: keeps exp() finite while leaving every realistic value reachable.
_LOG_BOUND = 18.0


# --------------------------------------------------------------------------------------------------------
# Transactions -> RFM summary
# --------------------------------------------------------------------------------------------------------


def _to_day(value: Any, tz: Any, name: str) -> pd.Timestamp:
    """Parse a cut-off date and align it with the time zone of the transaction timestamps."""
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ConfigError(f"{name} must be a date, got {value!r}")
    if tz is not None and stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    elif tz is None and stamp.tzinfo is not None:
        raise ConfigError(
            f"{name} is time-zone aware ({stamp.tzinfo}) but the transaction timestamps are naive"
        )
    elif tz is not None:
        stamp = stamp.tz_convert(tz)
    return stamp.normalize()


def _daily_summary(
    daily: pd.DataFrame, customer_col: str, end: pd.Timestamp, unit_days: float
) -> pd.DataFrame:
    """Per-customer frequency, recency, T and mean repeat value from one row per (customer, day)."""
    per = daily.groupby(customer_col, sort=True).agg(
        first=("_day", "min"),
        last=("_day", "max"),
        n_days=("_day", "size"),
        total=("_amount", "sum"),
        first_amount=("_amount", "first"),
    )
    one_day = pd.Timedelta(days=1)
    frequency = per["n_days"].to_numpy(dtype=np.int64) - 1
    repeat_value = (per["total"] - per["first_amount"]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_value / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": ((per["last"] - per["first"]) / one_day).to_numpy(dtype=float) / unit_days,
            "T": ((end - per["first"]) / one_day).to_numpy(dtype=float) / unit_days,
            "monetary_value": monetary,
        },
        index=per.index,
    )


def rfm_summary(
    transactions: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    amount_col: str | None,
    observation_end: Any,
    calibration_end: Any = None,
    freq: str = "W",
    freq_multiplier: float = 1,
) -> pd.DataFrame:
    """Summarise a transaction log into the per-customer RFM table the BTYD models take.

    Purchases are first collapsed to calendar days (several purchases by one customer on one day count as one
    transaction day, their amounts are summed), the convention of the published CDNOW summaries. Then, per
    customer:

    - ``frequency``: number of repeat transaction days (transaction days minus one);
    - ``recency``: time between the first and the last transaction day (``t_x``; 0 without repeats);
    - ``T``: time between the first transaction day and the end of the (calibration) period;
    - ``monetary_value``: mean value of the repeat transaction days, the first excluded (0 without repeats;
      only when ``amount_col`` is given).

    With ``calibration_end`` the summary above describes the calibration period (transactions up to and
    including that day) and three holdout columns describe the days after it up to ``observation_end``:
    ``frequency_holdout`` (transaction days), ``monetary_value_holdout`` (mean value per transaction day, only
    with ``amount_col``) and ``duration_holdout`` (length of the holdout period). Only customers whose first
    purchase falls in the calibration period are kept, as in ``lifetimes.utils.calibration_and_holdout_data``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase. Not modified.
    customer_col, ts_col : str
        Customer identifier and purchase timestamp columns.
    amount_col : str or None
        Purchase value column, or ``None`` to skip ``monetary_value``.
    observation_end : date-like
        Last observed day, inclusive (time of day is ignored). Later transactions are dropped.
    calibration_end : date-like, optional
        Last day of the calibration period, inclusive; must be before ``observation_end``.
    freq : {"W", "D", "M"}
        Time unit of ``recency``, ``T`` and ``duration_holdout``: weeks (7 days), days or mean months
        (365.25/12 days). Unlike ``lifetimes``, timestamps are never truncated to weeks or months, so
        durations are exact fractions of the unit (CDNOW customer 1: recency 30.43 weeks, T 38.86 weeks).
    freq_multiplier : float
        Further divides durations (``freq="D", freq_multiplier=7`` equals ``freq="W"``), for lifetimes parity.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer (index name ``customer_col``), sorted by customer.

    Raises
    ------
    custml.errors.SchemaError
        (a ``ValueError``) when a column is missing, holds nulls or unparseable timestamps, or no transaction
        falls in the observed period.
    custml.errors.ConfigError
        (a ``ValueError``) on an unknown ``freq`` or inconsistent dates.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"]),
    ...     "net_amount": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> summary = rfm_summary(tx, "customer_id", "order_ts", "net_amount", observation_end="2024-01-29")
    >>> summary.reset_index()
      customer_id  frequency  recency    T  monetary_value
    0           a          1      2.0  4.0            20.0
    1           b          0      0.0  3.0             0.0
    """
    unit_days = _validated_unit_days(transactions, customer_col, ts_col, amount_col, freq, freq_multiplier)
    frame, tz = _purchases(transactions, customer_col, ts_col, amount_col)
    end = _to_day(observation_end, tz, "observation_end")
    cal_end = _to_day(calibration_end, tz, "calibration_end") if calibration_end is not None else None
    if cal_end is not None and not cal_end < end:
        raise ConfigError(f"calibration_end ({cal_end.date()}) must be before observation_end ({end.date()})")

    frame = frame.loc[frame["_day"] <= end]
    # One row per customer and day: same-day purchases are one transaction day.
    daily = frame.groupby([customer_col, "_day"], sort=True, as_index=False)["_amount"].sum()
    calibration = daily if cal_end is None else daily.loc[daily["_day"] <= cal_end]
    if calibration.empty:
        last = cal_end if cal_end is not None else end
        raise SchemaError("transactions", ts_col, f"has no transaction on or before {last.date()}")

    summary = _daily_summary(calibration, customer_col, cal_end if cal_end is not None else end, unit_days)
    summary["frequency"] = summary["frequency"].astype(np.int64)
    if cal_end is not None:
        _add_holdout_columns(summary, daily, customer_col, cal_end, end, unit_days, amount_col is not None)
    if amount_col is None:
        summary = summary.drop(columns="monetary_value")
    summary.index.name = customer_col
    summary.columns.name = None
    return summary


def _validated_unit_days(
    transactions: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    amount_col: str | None,
    freq: str,
    freq_multiplier: float,
) -> float:
    """Check the columns and the time unit of :func:`rfm_summary`; return the unit's length in days."""
    needed = [customer_col, ts_col] + ([amount_col] if amount_col is not None else [])
    for col in needed:
        if col not in transactions.columns:
            raise SchemaError("transactions", col, "is missing")
    if freq not in _UNIT_DAYS:
        raise ConfigError(f"freq must be one of {sorted(_UNIT_DAYS)}, got {freq!r}")
    if not freq_multiplier > 0:
        raise ConfigError(f"freq_multiplier must be positive, got {freq_multiplier!r}")
    for col in needed:
        n_null = int(transactions[col].isna().sum())
        if n_null:
            raise SchemaError("transactions", col, "has null values", n_rows=n_null)
    return _UNIT_DAYS[freq] * float(freq_multiplier)


def _purchases(
    transactions: pd.DataFrame, customer_col: str, ts_col: str, amount_col: str | None
) -> tuple[pd.DataFrame, Any]:
    """Customer, purchase day (``_day``) and amount (``_amount``, 0 without ``amount_col``); and the time zone."""
    try:
        stamps = pd.to_datetime(transactions[ts_col])
    except (ValueError, TypeError) as exc:
        raise SchemaError("transactions", ts_col, f"cannot be parsed as timestamps ({exc})") from exc
    frame = pd.DataFrame(
        {
            customer_col: transactions[customer_col].to_numpy(),
            "_day": stamps.dt.normalize().array,  # .array keeps a time zone if there is one
            "_amount": (
                pd.to_numeric(transactions[amount_col]).to_numpy(dtype=float)
                if amount_col is not None
                else np.zeros(len(transactions))
            ),
        }
    )
    return frame, stamps.dt.tz


def _add_holdout_columns(
    summary: pd.DataFrame,
    daily: pd.DataFrame,
    customer_col: str,
    cal_end: pd.Timestamp,
    end: pd.Timestamp,
    unit_days: float,
    with_amount: bool,
) -> None:
    """Add ``frequency_holdout`` (, ``monetary_value_holdout``) and ``duration_holdout`` to ``summary`` in place."""
    holdout = daily.loc[daily["_day"] > cal_end]
    per = holdout.groupby(customer_col, sort=True)["_amount"].agg(["size", "sum"])
    per = per.reindex(summary.index)
    n_days = per["size"].fillna(0).to_numpy(dtype=np.int64)
    summary["frequency_holdout"] = n_days
    if with_amount:
        totals = per["sum"].fillna(0.0).to_numpy(dtype=float)
        summary["monetary_value_holdout"] = np.where(n_days > 0, totals / np.maximum(n_days, 1), 0.0)
    summary["duration_holdout"] = ((end - cal_end) / pd.Timedelta(days=1)) / unit_days


# --------------------------------------------------------------------------------------------------------
# Input handling and optimisation shared by the fitters
# --------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------------------


class BetaGeoFitter(_BTYDBase):
    """BG/NBD model of repeat purchasing (Fader, Hardie and Lee 2005).

    While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each purchase they drop
    out with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the negative mean log-likelihood, as in ``lifetimes``
        (0 gives the maximum-likelihood estimate).

    Attributes
    ----------
    params_ : dict[str, float]
        ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_ : float
        Total (not mean) log-likelihood at the estimate, penalty excluded.
    n_customers_ : float
        Number of customers fitted (sum of weights).
    n_unique_rows_ : int
        Distinct ``(frequency, recency, T)`` rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reported convergence.

    Notes
    -----
    The closed-form expectations divide by ``a - 1`` and use ``2F1(.; a + b - 1; .)``, so they are undefined
    at exactly ``a == 1`` or ``a + b <= 1`` (as in ``lifetimes``); P(alive) and the purchase probability are not
    affected.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T = np.full(500, 52.0)
    >>> x = rng.poisson(2.0, 500)
    >>> t_x = np.where(x > 0, T * rng.uniform(0.3, 1.0, 500), 0.0)
    >>> model = BetaGeoFitter().fit(x, t_x, T)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> model.conditional_probability_alive(0, 0.0, 52.0)
    1.0
    """

    _param_names = ("r", "alpha", "a", "b")
    _analytic_gradient = True

    def _initial_params(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
        return np.array([1.0, _rate_scale(x, T, w), 1.0, 1.0])

    @staticmethod
    def _loglik(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, grad: bool) -> Any:
        r, alpha, a, b = params
        # The special functions depend on x alone, which takes few values (repeat counts): evaluate them once
        # per distinct x (BG/NBD at 774k customers: 294k distinct rows, under 100 distinct x).
        ux, inv = np.unique(x, return_inverse=True)
        pos_u = ux > 0
        x1_u = np.where(pos_u, ux, 1.0)  # keeps the x > 0 branch finite where it is not used
        rx = r + x
        log_at = np.log(alpha + T)
        log_atx = np.log(alpha + t_x)
        beta_ab = betaln(a, b)
        a1 = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha))[inv]
        a2 = (betaln(a, b + ux) - beta_ab)[inv] - rx * log_at
        a3 = np.where(pos_u, betaln(a + 1.0, b + x1_u - 1.0) - beta_ab, -np.inf)[inv] - rx * log_atx
        mix = np.logaddexp(a2, a3)
        ll = a1 + mix
        if not grad:
            return ll
        w3 = np.exp(a3 - mix)  # share of the "dropped out after the last purchase" branch
        w2 = 1.0 - w3
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + ux)[inv]
        d_r = (digamma(r + ux) - digamma(r) + np.log(alpha))[inv] - w2 * log_at - w3 * log_atx
        d_alpha = r / alpha - rx * (w2 / (alpha + T) + w3 / (alpha + t_x))
        d_a = psi_ab - psi_abx + w3 / a
        d_b = psi_ab - psi_abx + (digamma(b + ux) - digamma(b))[inv] - w3 / (b + x1_u[inv] - 1.0)
        return ll, np.column_stack([d_r, d_alpha, d_a, d_b])

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray | float:
        """Expected repeat purchases of a new customer in ``(0, t]``: E[X(t)].

        Parameters
        ----------
        t : array-like
            Horizon(s) in the model's time unit.

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, a, b = self._params()
        t = _check_horizon(t)
        z = t / (alpha + t)
        value = (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z))
        return _out(value)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Expected purchases in the next ``t`` given a customer's history: E[Y(t) | x, t_x, T].

        Parameters
        ----------
        t : array-like
            Horizon(s) after ``T``, in the model's time unit (broadcast against the history).
        frequency, recency, T : array-like
            Each customer's ``x``, ``t_x`` and ``T``.

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, a, b = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        z = t / (alpha + big_t + t)
        growth = 1.0 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1.0, z
        )
        numerator = (a + b + x - 1.0) / (a - 1.0) * growth
        return _out(numerator * self._p_alive(x, t_x, big_t))

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._params()
        x1 = np.maximum(x, 1.0)
        log_odds_dead = (
            np.log(a) - np.log(b + x1 - 1.0) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def conditional_probability_of_purchase_in(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Probability of at least one purchase in ``(T, T + t]`` given the history.

        A BG/NBD customer can only drop out right after a purchase, so one alive at ``T`` buys again at their
        next Poisson event; with the posterior ``lambda | alive ~ Gamma(r + x, alpha + T)`` this gives
        ``P(alive) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x))``.

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, _, _ = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        no_event = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
        return _out(self._p_alive(x, t_x, big_t) * (1.0 - no_event))

    def probability_of_n_purchases_up_to_time(self, t: ArrayLike, n: ArrayLike) -> FloatArray | float:
        """P(X(t) = n): probability that a new customer makes exactly ``n`` repeat purchases in ``(0, t]``.

        Equation (8) of Fader, Hardie and Lee (2005), vectorised over ``t`` and ``n`` (broadcast).

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, a, b = self._params()
        t = _check_horizon(t)
        n_arr = np.asarray(n, dtype=float)
        if np.any(n_arr < 0) or np.any(n_arr != np.round(n_arr)):
            raise ConfigError("n must be non-negative whole numbers")
        t, n_arr = np.broadcast_arrays(t, n_arr)
        log_q = np.log(alpha) - np.log(alpha + t)  # log(alpha / (alpha + t))
        with np.errstate(divide="ignore"):
            log_z = np.log(t) - np.log(alpha + t)  # log(t / (alpha + t))
        log_nb = (
            gammaln(r + n_arr)
            - gammaln(r)
            - gammaln(n_arr + 1.0)
            + r * log_q
            + np.where(n_arr > 0, n_arr * log_z, 0.0)
        )
        first = np.exp(betaln(a, b + n_arr) - betaln(a, b) + log_nb)
        # Negative-binomial CDF up to n - 1, accumulated term by term (n is small in practice).
        cdf = np.zeros_like(t)
        max_n = int(n_arr.max()) if n_arr.size else 0
        for j in range(max_n):
            term = np.exp(
                gammaln(r + j) - gammaln(r) - gammaln(j + 1.0) + r * log_q + (j * log_z if j else 0.0)
            )
            cdf = cdf + np.where(j < n_arr, term, 0.0)
        n1 = np.maximum(n_arr, 1.0)
        second = np.where(n_arr > 0, np.exp(betaln(a + 1.0, b + n1 - 1.0) - betaln(a, b)) * (1.0 - cdf), 0.0)
        return _out(first + second)


# --------------------------------------------------------------------------------------------------------
# Pareto/NBD
# --------------------------------------------------------------------------------------------------------


def _pnbd_log_tail(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, tau: FloatArray
) -> FloatArray:
    """log of ``I(tau) = int_tau^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` in closed form.

    Uses the Euler-transformed hypergeometric functions ``2F1(1, .; r+s+x+1; z)`` with ``0 <= z < 1``, whose
    series have positive terms and (for alpha >= beta) a bounded sum.
    """
    rx = r + x
    rsx = r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + tau)
        return (
            -rx * np.log(alpha + tau)
            - s * np.log(beta + tau)
            - np.log(rsx)
            + np.log(hyp2f1(1.0, rx, rsx + 1.0, z))
        )
    z = (beta - alpha) / (beta + tau)
    return (
        (1.0 - rx) * np.log(alpha + tau)
        - (s + 1.0) * np.log(beta + tau)
        - np.log(rsx)
        + np.log(hyp2f1(1.0, s + 1.0, rsx + 1.0, z))
    )


def _gamma_share(r: FloatArray, alpha: FloatArray, s: float, beta: FloatArray) -> FloatArray:
    """E[lambda / (lambda + mu)] for independent lambda ~ Gamma(r, alpha) and mu ~ Gamma(s, beta).

    With B = Beta(r, s) and c = alpha / beta the ratio is B / (c + (1 - c) B); its mean is a 2F1 at
    ``z = 1 - min(alpha, beta) / max(alpha, beta)`` in [0, 1).
    """
    r, alpha, beta = np.broadcast_arrays(r, alpha, beta)
    hi = alpha >= beta
    lam_share = (
        beta / alpha * r / (r + s) * hyp2f1(1.0, r + 1.0, r + s + 1.0, np.where(hi, 1.0 - beta / alpha, 0.0))
    )
    mu_share = (
        alpha / beta * s / (r + s) * hyp2f1(1.0, s + 1.0, r + s + 1.0, np.where(hi, 0.0, 1.0 - alpha / beta))
    )
    return np.where(hi, lam_share, 1.0 - mu_share)


class ParetoNBDFitter(_BTYDBase):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison and Colombo 1987).

    While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; their lifetime is exponential
    with rate ``mu ~ Gamma(s, beta)``. The likelihood uses the closed form of Fader and Hardie (2005, "A note
    on deriving the Pareto/NBD model") with hypergeometric terms combined in log space; it is maximised by
    Nelder-Mead followed by an L-BFGS-B polish.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the negative mean log-likelihood (0: maximum likelihood).

    Attributes
    ----------
    params_ : dict[str, float]
        ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_ : float
        Total log-likelihood at the estimate, penalty excluded.
    n_customers_ : float
        Number of customers fitted (sum of weights).
    n_unique_rows_ : int
        Distinct ``(frequency, recency, T)`` rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reported convergence.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T = np.full(300, 52.0)
    >>> x = rng.poisson(2.0, 300)
    >>> t_x = np.where(x > 0, T * rng.uniform(0.3, 1.0, 300), 0.0)
    >>> model = ParetoNBDFitter().fit(x, t_x, T)
    >>> sorted(model.params_)
    ['alpha', 'beta', 'r', 's']
    >>> 0.0 < model.conditional_probability_alive(0, 0.0, 52.0) < 1.0
    True
    """

    _param_names = ("r", "alpha", "s", "beta")
    _analytic_gradient = False

    def _initial_params(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
        return np.array([1.0, _rate_scale(x, T, w), 1.0, float(np.clip((w @ T) / w.sum(), 1e-3, 1e6))])

    @staticmethod
    def _terms(
        params: FloatArray | tuple[float, ...], x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(log constant, log "alive at T" term, log "died in (t_x, T]" term) of the likelihood."""
        r, alpha, s, beta = params
        rx = r + x
        log_const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        log_alive = -rx * np.log(alpha + T) - s * np.log(beta + T)
        log_i_tx = _pnbd_log_tail(r, alpha, s, beta, x, t_x)
        log_i_t = _pnbd_log_tail(r, alpha, s, beta, x, T)
        log_died = np.log(s) + log_i_tx + _log1mexp(np.minimum(log_i_t - log_i_tx, 0.0))
        return log_const, log_alive, log_died

    @classmethod
    def _loglik(cls, params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, grad: bool) -> Any:
        log_const, log_alive, log_died = cls._terms(params, x, t_x, T)
        return log_const + np.logaddexp(log_alive, log_died)

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore"):
            _, log_alive, log_died = self._terms(self._params(), x, t_x, big_t)
        return expit(log_alive - log_died)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray | float:
        """Expected repeat purchases of a new customer in ``(0, t]``: E[X(t)].

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, s, beta = self._params()
        t = _check_horizon(t)
        return _out(r * beta / alpha * _power_ratio_term(s, beta / (beta + t)))

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Expected purchases in the next ``t`` given a customer's history: E[Y(t) | x, t_x, T].

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, s, beta = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        growth = (
            (r + x)
            * (beta + big_t)
            / (alpha + big_t)
            * _power_ratio_term(s, (beta + big_t) / (beta + big_t + t))
        )
        return _out(self._p_alive(x, t_x, big_t) * growth)

    def conditional_probability_of_purchase_in(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Probability of at least one purchase in ``(T, T + t]`` given the history.

        Given alive at ``T``, ``lambda ~ Gamma(r + x, alpha + T)`` and ``mu ~ Gamma(s, beta + T)``
        independently, and a purchase comes first (before death) within ``t`` with probability
        ``lambda / (lambda + mu) * (1 - exp(-(lambda + mu) t))``; its posterior mean is taken in closed form.

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, s, beta = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        rx, a_t, b_t = r + x, alpha + big_t, beta + big_t
        discount = (a_t / (a_t + t)) ** rx * (b_t / (b_t + t)) ** s
        buy_first = _gamma_share(rx, a_t, s, b_t) - discount * _gamma_share(rx, a_t + t, s, b_t + t)
        return _out(self._p_alive(x, t_x, big_t) * np.clip(buy_first, 0.0, 1.0))


def _power_ratio_term(s: float, q: FloatArray) -> FloatArray:
    """(1 - q**(s - 1)) / (s - 1), with its limit -log(q) at s = 1."""
    log_q = np.log(q)
    if abs(s - 1.0) < 1e-10:
        return -log_q
    return -np.expm1((s - 1.0) * log_q) / (s - 1.0)


# --------------------------------------------------------------------------------------------------------
# Gamma-Gamma spend model and CLV
# --------------------------------------------------------------------------------------------------------


class GammaGammaFitter(BaseEstimator):
    """Gamma-Gamma model of the mean spend per transaction (Fader, Hardie and Lee 2005, "RFM and CLV").

    Each transaction value is ``Gamma(p, nu)`` with a customer-level rate ``nu ~ Gamma(q, gamma)``; spend is
    assumed independent of purchase frequency. Fit it on repeat buyers only (``frequency > 0``) with their
    mean repeat-transaction value.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the negative mean log-likelihood (0: maximum likelihood).

    Attributes
    ----------
    params_ : dict[str, float]
        ``p``, ``q``, ``gamma``.
    log_likelihood_ : float
        Total log-likelihood at the estimate, penalty excluded.
    n_customers_ : float
        Number of customers fitted (sum of weights).
    converged_ : bool
        Whether the optimiser reported convergence.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(1, 6, 400)
    >>> nu = rng.gamma(4.0, 1 / 15.0, 400)
    >>> mean_spend = rng.gamma(6.0 * x, 1.0 / nu) / x
    >>> spend = GammaGammaFitter().fit(x, mean_spend)
    >>> sorted(spend.params_)
    ['gamma', 'p', 'q']
    >>> float(spend.conditional_expected_average_profit(3, 25.0)) > 0
    True
    """

    _param_names = ("p", "q", "gamma")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    @staticmethod
    def _check(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = _as_float("frequency", frequency)
        m = _as_float("monetary_value", monetary_value)
        try:
            x, m = np.broadcast_arrays(x, m)
        except ValueError as exc:
            raise SchemaError(
                "rfm", None, f"frequency and monetary_value have incompatible shapes ({exc})"
            ) from exc
        n_bad = int(np.count_nonzero((x < 0) | (x != np.round(x))))
        if n_bad:
            raise SchemaError("rfm", "frequency", "must be a non-negative whole number", n_rows=n_bad)
        return x, m

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> GammaGammaFitter:
        """Fit ``p``, ``q`` and ``gamma`` by maximum likelihood on repeat buyers.

        Parameters
        ----------
        frequency : array-like
            Repeat transaction count per customer; must be > 0 (filter to repeat buyers first).
        monetary_value : array-like
            Mean repeat-transaction value per customer; must be > 0.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).

        Returns
        -------
        self
        """
        if not self.penalizer_coef >= 0:
            raise ConfigError(f"penalizer_coef must be non-negative, got {self.penalizer_coef!r}")
        x, m = self._check(frequency, monetary_value)
        n_zero = int(np.count_nonzero(x <= 0))
        if n_zero:
            raise SchemaError(
                "rfm", "frequency", "must be > 0 to fit Gamma-Gamma (keep repeat buyers only)", n_zero
            )
        n_nonpos = int(np.count_nonzero(m <= 0))
        if n_nonpos:
            raise SchemaError("rfm", "monetary_value", "must be > 0 to fit Gamma-Gamma", n_rows=n_nonpos)
        data, w = _compress({"x": x.ravel(), "m": m.ravel()}, weights)
        x, m = data["x"], data["m"]
        log_x, log_m = np.log(x), np.log(m)

        def loglik(params: FloatArray, grad: bool) -> Any:
            p, q, gam = params
            px = p * x
            log_total = np.log(x * m + gam)
            ll = (
                gammaln(px + q)
                - gammaln(px)
                - gammaln(q)
                + q * np.log(gam)
                + (px - 1.0) * log_m
                + px * log_x
                - (px + q) * log_total
            )
            if not grad:
                return ll
            psi = digamma(px + q)
            d_p = x * (psi - digamma(px) + log_m + log_x - log_total)
            d_q = psi - digamma(q) + np.log(gam) - log_total
            d_gamma = q / gam - (px + q) / (x * m + gam)
            return ll, np.column_stack([d_p, d_q, d_gamma])

        objective = _penalised_objective(loglik, w, float(self.penalizer_coef), True)
        mean_m = float((w @ m) / w.sum())
        res, converged = _minimise(objective, np.log([1.0, 2.0, mean_m]), True)
        params = np.exp(res.x)
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(w @ loglik(params, False))
        self.params_ = {name: float(v) for name, v in zip(self._param_names, params, strict=True)}
        self.n_customers_ = float(w.sum())
        self.converged_ = converged
        if not converged:
            logger.warning("GammaGammaFitter: optimiser did not report convergence (%s)", res.message)
        return self

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray | float:
        """Posterior mean spend per transaction: ``p (gamma + x m) / (p x + q - 1)``.

        For ``frequency == 0`` this is the population mean ``p gamma / (q - 1)``. Requires ``q > 1``.

        Returns
        -------
        float or numpy.ndarray
        """
        check_is_fitted(self, "params_")
        p, q, gam = (self.params_[k] for k in self._param_names)
        if q <= 1.0:
            raise ConfigError(f"Gamma-Gamma q = {q:.4g} <= 1: the expected spend is infinite")
        x, m = self._check(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return _out(p * (gam + x * m) / (p * x + q - 1.0))

    def customer_lifetime_value(
        self,
        transaction_model: _TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> FloatArray | float:
        """Discounted expected value of each customer's purchases over the next ``time`` months.

        As ``lifetimes``: for each month ``i = 1..time`` the expected purchases in that month (difference of
        the cumulative conditional expectations of ``transaction_model``) times the expected spend per
        purchase, discounted by ``(1 + discount_rate) ** i``.

        Parameters
        ----------
        transaction_model : BetaGeoFitter or ParetoNBDFitter
            A fitted purchase-count model (anything with
            ``conditional_expected_number_of_purchases_up_to_time``).
        frequency, recency, T, monetary_value : array-like
            Customer histories, in the time unit the transaction model was fitted in.
        time : int
            Horizon in months.
        discount_rate : float
            Monthly discount rate (0.01 = 1 % a month).
        freq : {"D", "W", "M", "H"}
            Time unit of ``recency``/``T`` and of the transaction model; one month counts 30 days, 4.345
            weeks or 720 hours (the ``lifetimes`` convention).

        Returns
        -------
        float or numpy.ndarray
            CLV per customer, in the currency of ``monetary_value``.
        """
        if freq not in _UNITS_PER_MONTH:
            raise ConfigError(f"freq must be one of {sorted(_UNITS_PER_MONTH)}, got {freq!r}")
        if int(time) != time or time < 0:
            raise ConfigError(f"time must be a whole number of months, got {time!r}")
        if not discount_rate > -1:
            raise ConfigError(f"discount_rate must be > -1, got {discount_rate!r}")
        spend = np.asarray(self.conditional_expected_average_profit(frequency, monetary_value))
        factor = _UNITS_PER_MONTH[freq]
        clv = np.zeros(np.broadcast_shapes(spend.shape, np.shape(recency), np.shape(T)))
        previous = np.asarray(
            transaction_model.conditional_expected_number_of_purchases_up_to_time(0.0, frequency, recency, T)
        )
        for month in range(1, int(time) + 1):
            cumulative = np.asarray(
                transaction_model.conditional_expected_number_of_purchases_up_to_time(
                    month * factor, frequency, recency, T
                )
            )
            clv = clv + spend * (cumulative - previous) / (1.0 + discount_rate) ** month
            previous = cumulative
        return _out(clv)
