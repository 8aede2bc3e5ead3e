"""Pareto/NBD with time-varying covariates (Bachmann, Meierer and Naef 2021; CLVTools' ``pnbd`` with dynamic covariates).

Covariates are piecewise constant on a common grid of periods (weeks, say): a season indicator, a campaign sent,
a price level, or a static trait repeated in every period. While alive, customer ``i`` buys at rate
``lambda_i * exp(g_purchase . X_i(t))`` and drops out at rate ``mu_i * exp(g_dropout . D_i(t))``, with
``lambda_i ~ Gamma(r, alpha)`` and ``mu_i ~ Gamma(s, beta)``. With ``A_i(t)`` and ``B_i(t)`` the integrated
covariate effects since the first purchase (``A_i(t) = int_0^t exp(g_purchase . X_i(u)) du``), integrating out
``lambda`` and ``mu`` gives the likelihood of ``x`` repeat purchases at ``t_1..t_x`` in ``(0, T]``::

    L_i = exp(g_purchase . sum_j X_i(t_j)) * Gamma(r + x) alpha^r beta^s / Gamma(r)
          * [ (alpha + A_i(T))^-(r+x) (beta + B_i(T))^-s
              + s int_{t_x}^T exp(g_dropout . D_i(u)) (alpha + A_i(u))^-(r+x) (beta + B_i(u))^-(s+1) du ]

With time-constant covariates this is exactly the static-covariate Pareto/NBD
(``alpha_i = alpha * exp(-g . z_i)``), and with all covariates zero the plain Pareto/NBD. The integral is a
sum over the periods between ``t_x`` and ``T``; on each run of periods with unchanged covariates the integrand is
smooth (a product of two powers of linear functions) and is taken by Gauss-Legendre quadrature on panels of
bounded variation (a compiled loop, :mod:`custml.models.btyd._dyncov_kernel`), which also gives the analytic
gradient.
Customers with the same history, start and covariate path are fitted once, weighted.

Predictions take future covariates: the same :class:`DynamicCovariates` built with periods past the end of
the calibration period (CLVTools' ``apparelDynCovFuture``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custml.errors import ConfigError, SchemaError
from custml.models.btyd._base import _check_horizon, _check_rft, _compress, _minimise, _rate_scale
from custml.models.btyd._covariates import covariate_matrix
from custml.models.btyd.pareto_nbd import _power_ratio_term
from custml.models.btyd.rfm import _UNIT_DAYS, rfm_summary

__all__ = ["DynamicCovariates", "ParetoNBDDynamicFitter", "dynamic_covariates", "static_as_dynamic"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_LOG_BOUND = 18.0
# Rows evaluated per block: bounds the memory of the quadrature nodes (rows x periods x nodes).
_BLOCK_NODES = 2_000_000
# Quadrature panels of the compiled loop: the envelope of the dropout-time density falls by at most
# exp(_MAX_VARIATION) on one panel; the integral stops when the rest is below exp(-_CUT) of it.
_MAX_VARIATION = 1.5
_MAX_RATIO = 1.5
_CUT = 36.0


def _changes(p_paths: FloatArray, d_paths: FloatArray) -> NDArray[np.bool_]:
    """``[i, j, k]``: do purchase path ``i`` or dropout path ``j`` change covariates at the start of period ``k``?"""
    change_p = np.zeros(p_paths.shape[:2], dtype=bool)
    change_d = np.zeros(d_paths.shape[:2], dtype=bool)
    change_p[:, 1:] = np.any(p_paths[:, 1:] != p_paths[:, :-1], axis=2)
    change_d[:, 1:] = np.any(d_paths[:, 1:] != d_paths[:, :-1], axis=2)
    return np.ascontiguousarray(change_p[:, None, :] | change_d[None, :, :])


@dataclass(frozen=True)
class DynamicCovariates:
    """Customers' histories and their piecewise-constant covariates on a common period grid.

    Times are in the model's unit (weeks, say) and measured from the start of the grid (``0``); period ``k``
    is ``[k * period_length, (k + 1) * period_length)``. Covariate paths are stored once per distinct path
    (``purchase_paths[purchase_path[i]]`` is customer ``i``'s ``(n_periods, n_purchase_covariates)`` path).

    Attributes
    ----------
    customers : pandas.Index
        Customer identifiers, one per row.
    frequency, recency, T : numpy.ndarray
        ``x``, ``t_x`` and ``T`` per customer, as in :func:`~custml.models.btyd.rfm_summary`.
    birth : numpy.ndarray
        Time of each customer's first purchase on the grid.
    period_length : float
        Length of one period in the time unit.
    purchase_names, dropout_names : tuple of str
        Covariate names of the purchase and the dropout process.
    purchase_paths, dropout_paths : numpy.ndarray
        Distinct covariate paths, shape ``(n_paths, n_periods, n_covariates)``.
    purchase_path, dropout_path : numpy.ndarray
        Index of each customer's path.
    purchase_at_transactions : numpy.ndarray
        Per customer, the sum of the purchase covariates over the periods of their repeat purchases,
        shape ``(n, n_purchase_covariates)``: the ``sum_j X_i(t_j)`` of the likelihood.
    """

    customers: pd.Index
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    birth: FloatArray
    period_length: float
    purchase_names: tuple[str, ...]
    dropout_names: tuple[str, ...]
    purchase_paths: FloatArray
    dropout_paths: FloatArray
    purchase_path: IntArray
    dropout_path: IntArray
    purchase_at_transactions: FloatArray

    def __post_init__(self) -> None:
        n = len(self.customers)
        for name in ("frequency", "recency", "T", "birth", "purchase_path", "dropout_path"):
            if len(getattr(self, name)) != n:
                raise SchemaError(
                    "dynamic_covariates", name, f"has {len(getattr(self, name))} rows, expected {n}"
                )
        if self.purchase_paths.shape[1] != self.dropout_paths.shape[1]:
            raise SchemaError(
                "dynamic_covariates", None, "purchase and dropout paths cover different periods"
            )
        for kind in ("purchase", "dropout"):
            paths, index = getattr(self, f"{kind}_paths"), getattr(self, f"{kind}_path")
            if paths.ndim != 3 or paths.shape[2] != len(getattr(self, f"{kind}_names")):
                raise SchemaError(
                    "dynamic_covariates", f"{kind}_paths", "must be (paths, periods, covariates)"
                )
            n_bad = int(np.count_nonzero((index < 0) | (index >= paths.shape[0])))
            if n_bad:
                raise SchemaError("dynamic_covariates", f"{kind}_path", "points past the paths", n_bad)
        if self.purchase_at_transactions.shape != (n, len(self.purchase_names)):
            raise SchemaError("dynamic_covariates", "purchase_at_transactions", "has the wrong shape")
        if not self.period_length > 0:
            raise ConfigError(f"period_length must be positive, got {self.period_length!r}")
        _check_rft(self.frequency, self.recency, self.T)
        if np.any(self.birth < 0):
            raise SchemaError(
                "dynamic_covariates",
                "birth",
                "starts before the covariate periods",
                int(np.sum(self.birth < 0)),
            )

    @property
    def n_periods(self) -> int:
        """Number of periods the covariates cover."""
        return int(self.purchase_paths.shape[1])

    def check_covers(self, horizon: FloatArray | float = 0.0) -> None:
        """Raise unless the covariates cover every customer's ``(0, T + horizon]``."""
        end = self.birth + self.T + horizon
        short = end > self.n_periods * self.period_length * (1 + 1e-12) + 1e-9
        if np.any(short):
            last = float(np.max(end))
            raise ConfigError(
                f"dynamic covariates cover {self.n_periods} periods ({self.n_periods * self.period_length:g} time "
                f"units) but {int(short.sum()):,} customers need up to {last:g}: pass covariates for the future periods"
            )


def _paths(
    values: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """Distinct paths of a ``(n, n_periods, k)`` array and each row's path index."""
    n = values.shape[0]
    flat = values.reshape(n, -1)
    if flat.shape[1] == 0:
        return values[:1], np.zeros(n, dtype=np.int64)
    unique, inverse = np.unique(flat, axis=0, return_inverse=True)
    return unique.reshape((-1, *values.shape[1:])), inverse.ravel().astype(np.int64)


def dynamic_covariates(
    transactions: pd.DataFrame,
    covariates: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    period_col: str,
    calibration_end: Any,
    purchase: list[str] | tuple[str, ...] = (),
    dropout: list[str] | tuple[str, ...] = (),
    freq: str = "W",
) -> DynamicCovariates:
    """Build :class:`DynamicCovariates` from a transaction log and a per-customer, per-period covariate table.

    The layout is CLVTools' (``apparelDynCov``): one row per customer and period, ``period_col`` the start of the
    period, periods of equal length (a week, say) forming a grid that starts on or before every first purchase.
    Rows past ``calibration_end`` are future covariates, used only by predictions. Purchases are summarised as
    in :func:`~custml.models.btyd.rfm_summary` (one transaction per customer and day, up to ``calibration_end``).

    Raises
    ------
    custml.errors.SchemaError
        A column is missing or not numeric, a customer has no covariates for a period they need, the periods
        are not a regular grid, or a first purchase falls before the first period.
    """
    for col in (customer_col, period_col, *purchase, *dropout):
        if col not in covariates.columns:
            raise SchemaError("covariates", col, "is missing")
    summary = rfm_summary(
        transactions, customer_col, ts_col, None, observation_end=calibration_end, freq=freq
    )
    unit = pd.Timedelta(days=_UNIT_DAYS[freq])
    starts = pd.to_datetime(covariates[period_col])
    grid = np.sort(starts.unique())
    if len(grid) < 1:
        raise SchemaError("covariates", period_col, "has no periods")
    steps = np.diff(grid) / unit if len(grid) > 1 else np.array([1.0])
    if not np.allclose(steps, steps[0]):
        raise SchemaError("covariates", period_col, "periods are not of equal length")
    period_length = float(steps[0])
    origin = pd.Timestamp(grid[0])
    n_periods = len(grid)
    # The rows of the (customer, period) grid each covariate row fills.
    cust_pos = pd.Index(summary.index).get_indexer(covariates[customer_col])
    period_pos = np.rint(((starts - origin) / unit).to_numpy(dtype=float) / period_length).astype(np.int64)
    keep = cust_pos >= 0
    n = len(summary)

    def cube(cols: tuple[str, ...]) -> FloatArray:
        out = np.full((n, n_periods, len(cols)), np.nan)
        for j, col in enumerate(cols):
            values = covariates[col]
            if not pd.api.types.is_numeric_dtype(values):
                raise SchemaError("covariates", col, f"must be numeric (dtype {values.dtype})")
            out[cust_pos[keep], period_pos[keep], j] = values.to_numpy(dtype=float)[keep]
        return out

    purchase, dropout = tuple(purchase), tuple(dropout)
    first = (
        pd.to_datetime(transactions.groupby(customer_col)[ts_col].min()).dt.normalize().reindex(summary.index)
    )
    birth = ((first - origin) / unit).to_numpy(dtype=float)
    if np.any(birth < 0):
        raise SchemaError(
            "covariates", period_col, "starts after some customers' first purchase", int(np.sum(birth < 0))
        )
    x_cube, d_cube = cube(purchase), cube(dropout)
    # Every period from the first purchase's to the calibration end's must be present.
    end_period = np.floor((birth + summary["T"].to_numpy()) / period_length).astype(np.int64)
    first_period = np.floor(birth / period_length).astype(np.int64)
    needed = (np.arange(n_periods)[None, :] >= first_period[:, None]) & (
        np.arange(n_periods)[None, :] <= np.minimum(end_period, n_periods - 1)[:, None]
    )
    for name, values, cols in (("purchase", x_cube, purchase), ("dropout", d_cube, dropout)):
        for j, col in enumerate(cols):
            missing = needed & np.isnan(values[:, :, j])
            if missing.any():
                raise SchemaError(
                    "covariates",
                    col,
                    f"has no value for a period a customer is observed in ({name})",
                    int(missing.any(axis=1).sum()),
                )
        values[np.isnan(values)] = 0.0  # periods before a customer's first purchase: never used
    # Sum of the purchase covariates over each repeat purchase day's period.
    days = pd.DataFrame(
        {
            customer_col: transactions[customer_col].to_numpy(),
            "_day": pd.to_datetime(transactions[ts_col]).dt.normalize(),
        }
    )
    days = days.loc[days["_day"] <= pd.Timestamp(calibration_end).normalize()].drop_duplicates()
    days["_pos"] = pd.Index(summary.index).get_indexer(days[customer_col])
    days["_first"] = first.to_numpy()[days["_pos"].to_numpy()]
    repeat = days.loc[days["_day"] > days["_first"]]
    k = np.floor(((repeat["_day"] - origin) / unit).to_numpy(dtype=float) / period_length).astype(np.int64)
    if np.any(k >= n_periods):
        raise SchemaError("covariates", period_col, "ends before the last calibration purchase")
    sums = np.zeros((n, len(purchase)))
    np.add.at(sums, repeat["_pos"].to_numpy(), x_cube[repeat["_pos"].to_numpy(), k])
    p_paths, p_index = _paths(x_cube)
    d_paths, d_index = _paths(d_cube)
    if not purchase:
        p_paths = np.zeros((1, n_periods, 0))
    if not dropout:
        d_paths = np.zeros((1, n_periods, 0))
    return DynamicCovariates(
        customers=pd.Index(summary.index),
        frequency=summary["frequency"].to_numpy(dtype=float),
        recency=summary["recency"].to_numpy(dtype=float),
        T=summary["T"].to_numpy(dtype=float),
        birth=birth,
        period_length=period_length,
        purchase_names=purchase,
        dropout_names=dropout,
        purchase_paths=p_paths,
        dropout_paths=d_paths,
        purchase_path=p_index,
        dropout_path=d_index,
        purchase_at_transactions=sums,
    )


def static_as_dynamic(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    n_periods: int,
    purchase_covariates: pd.DataFrame | None = None,
    dropout_covariates: pd.DataFrame | None = None,
    birth: ArrayLike | None = None,
    period_length: float = 1.0,
) -> DynamicCovariates:
    """Time-constant covariates as :class:`DynamicCovariates` (every period repeats the static value).

    The dynamic model on these data is the static-covariate Pareto/NBD: a check, and a way to predict a static
    model's customers with the dynamic code.
    """
    x, t_x, big_t = (a.ravel() for a in _check_rft(frequency, recency, T))
    n = x.size
    zp, p_names = covariate_matrix("purchase_covariates", purchase_covariates, n)
    zd, d_names = covariate_matrix("dropout_covariates", dropout_covariates, n)
    p_paths, p_index = _paths(np.repeat(zp[:, None, :], n_periods, axis=1))
    d_paths, d_index = _paths(np.repeat(zd[:, None, :], n_periods, axis=1))
    return DynamicCovariates(
        customers=pd.RangeIndex(n),
        frequency=x,
        recency=t_x,
        T=big_t,
        birth=np.zeros(n) if birth is None else np.broadcast_to(np.asarray(birth, dtype=float), (n,)).copy(),
        period_length=period_length,
        purchase_names=p_names,
        dropout_names=d_names,
        purchase_paths=p_paths,
        dropout_paths=d_paths,
        purchase_path=p_index,
        dropout_path=d_index,
        purchase_at_transactions=zp * x[:, None],
    )


@dataclass(frozen=True)
class _Rows:
    """The (compressed) rows the likelihood is evaluated on, with the fixed grid quantities."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    birth: FloatArray
    pp: IntArray
    dp: IntArray
    sums: FloatArray
    period_length: float
    p_paths: FloatArray
    d_paths: FloatArray


def _period(time: FloatArray, period_length: float, n_periods: int) -> IntArray:
    """Index of the period holding ``time`` (the last one for the grid's end)."""
    return np.clip(np.floor(time / period_length).astype(np.int64), 0, n_periods - 1)


class _Effects:
    """exp(g . X) per path and period, and their integrals from the grid start (with the g-derivatives)."""

    def __init__(self, paths: FloatArray, coefs: FloatArray, period_length: float) -> None:
        self.paths = paths
        self.h = period_length
        self.rate = np.exp(paths @ coefs) if paths.shape[2] else np.ones(paths.shape[:2])  # (n_paths, K)
        self.cum = np.concatenate(
            [np.zeros((paths.shape[0], 1)), np.cumsum(self.rate, axis=1) * self.h], axis=1
        )
        weighted = paths * self.rate[:, :, None]  # (n_paths, K, k)
        self.cum_grad = np.concatenate(
            [np.zeros((paths.shape[0], 1, paths.shape[2])), np.cumsum(weighted, axis=1) * self.h], axis=1
        )

    def at(self, path: IntArray, time: FloatArray, k: IntArray) -> FloatArray:
        """Integrated effect from the grid start to ``time`` (which lies in period ``k``)."""
        return self.cum[path, k] + self.rate[path, k] * (time - k * self.h)

    def grad_at(self, path: IntArray, time: FloatArray, k: IntArray) -> FloatArray:
        """Its derivative in the coefficients, shape ``(len(time), k)``."""
        return (
            self.cum_grad[path, k] + self.paths[path, k] * (self.rate[path, k] * (time - k * self.h))[:, None]
        )


def _loglik_block_numpy(
    params: tuple[float, float, float, float],
    g_p: FloatArray,
    g_d: FloatArray,
    rows: _Rows,
    grad: bool,
    nodes: tuple[FloatArray, FloatArray],
) -> Any:
    """Numpy reference of :func:`_loglik_block` (per-node arrays; a test checks the compiled loop against it)."""
    r, alpha, s, beta = params
    n_periods = rows.p_paths.shape[1]
    h = rows.period_length
    fx, fd = _Effects(rows.p_paths, g_p, h), _Effects(rows.d_paths, g_d, h)
    x, b = rows.x, rows.birth
    rx = r + x
    kb = _period(b, h, n_periods)
    k_end = _period(b + rows.T, h, n_periods)
    k_tx = _period(b + rows.t_x, h, n_periods)
    a_b, b_b = fx.at(rows.pp, b, kb), fd.at(rows.dp, b, kb)
    a_t = fx.at(rows.pp, b + rows.T, k_end) - a_b
    b_t = fd.at(rows.dp, b + rows.T, k_end) - b_b
    log_alive = -rx * np.log(alpha + a_t) - s * np.log(beta + b_t)
    # Quadrature nodes: every period between t_x and T, G nodes each.
    n_seg = k_end - k_tx + 1
    seg_row = np.repeat(np.arange(len(x)), n_seg)
    seg_start = np.cumsum(n_seg) - n_seg
    seg_k = k_tx[seg_row] + (np.arange(seg_row.size) - seg_start[seg_row])
    lo = np.maximum(seg_k * h, (b + rows.t_x)[seg_row])
    hi = np.minimum((seg_k + 1) * h, (b + rows.T)[seg_row])
    xi, wi = nodes
    g = len(xi)
    node_row = np.repeat(seg_row, g)
    node_k = np.repeat(seg_k, g)
    half = np.repeat((hi - lo) / 2.0, g)
    node_t = np.repeat(lo, g) + half * np.tile(xi + 1.0, seg_row.size)
    node_w = half * np.tile(wi, seg_row.size)
    pp_n, dp_n = rows.pp[node_row], rows.dp[node_row]
    a_u = alpha + fx.at(pp_n, node_t, node_k) - a_b[node_row]
    b_u = beta + fd.at(dp_n, node_t, node_k) - b_b[node_row]
    with np.errstate(divide="ignore"):
        log_f = (
            np.log(fd.rate[dp_n, node_k])
            - rx[node_row] * np.log(a_u)
            - (s + 1.0) * np.log(b_u)
            + np.log(node_w)
        )
    row_starts = seg_start * g
    peak = np.maximum.reduceat(log_f, row_starts)
    safe_peak = np.where(np.isfinite(peak), peak, 0.0)
    unit = np.exp(log_f - safe_peak[node_row])
    total = np.add.reduceat(unit, row_starts)
    with np.errstate(divide="ignore"):
        log_died = np.log(s) + safe_peak + np.log(total)
    log_const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + rows.sums @ g_p
    mix = np.logaddexp(log_alive, log_died)
    ll = log_const + mix
    if not grad:
        return ll, log_alive, log_died
    p_alive = np.exp(log_alive - mix)
    p_died = np.exp(log_died - mix)
    q = unit / np.where(total > 0, total, 1.0)[node_row]  # node weights of the dropout-time density

    def mean(values: FloatArray) -> FloatArray:
        return np.add.reduceat(q * values, row_starts)

    def mean_cols(values: FloatArray) -> FloatArray:
        return (
            np.add.reduceat(q[:, None] * values, row_starts, axis=0) if values.shape[1] else values[: len(x)]
        )

    d_r = (
        digamma(rx) - digamma(r) + np.log(alpha) - p_alive * np.log(alpha + a_t) - p_died * mean(np.log(a_u))
    )
    d_alpha = r / alpha - rx * (p_alive / (alpha + a_t) + p_died * mean(1.0 / a_u))
    d_s = np.log(beta) - p_alive * np.log(beta + b_t) + p_died * (1.0 / s - mean(np.log(b_u)))
    d_beta = s / beta - p_alive * s / (beta + b_t) - p_died * (s + 1.0) * mean(1.0 / b_u)
    ga_b, gb_b = fx.grad_at(rows.pp, b, kb), fd.grad_at(rows.dp, b, kb)
    ga_t = fx.grad_at(rows.pp, b + rows.T, k_end) - ga_b
    gb_t = fd.grad_at(rows.dp, b + rows.T, k_end) - gb_b
    ga_u = fx.grad_at(pp_n, node_t, node_k) - ga_b[node_row]
    gb_u = fd.grad_at(dp_n, node_t, node_k) - gb_b[node_row]
    d_gp = (
        rows.sums
        - (p_alive * rx / (alpha + a_t))[:, None] * ga_t
        - (p_died * rx)[:, None] * mean_cols(ga_u / a_u[:, None])
    )
    d_gd = -(p_alive * s / (beta + b_t))[:, None] * gb_t + p_died[:, None] * mean_cols(
        rows.d_paths[dp_n, node_k] - (s + 1.0) * gb_u / b_u[:, None]
    )
    return ll, np.column_stack([d_r, d_alpha, d_s, d_beta, d_gp, d_gd])


def _loglik_block(
    params: tuple[float, float, float, float],
    g_p: FloatArray,
    g_d: FloatArray,
    rows: _Rows,
    grad: bool,
    nodes: tuple[FloatArray, FloatArray],
) -> Any:
    """Log-likelihood per row (and its gradient in (r, alpha, s, beta, g_p, g_d), natural scale).

    Without ``grad``: ``(ll, log_alive, log_died)``; with it: ``(ll, gradient rows)``. The per-customer loop over
    periods and quadrature nodes is compiled (:mod:`custml.models.btyd._dyncov_kernel`).
    """
    from custml.models.btyd._dyncov_kernel import (
        PARALLEL_MIN_NODES,
        dyncov_terms_parallel,
        dyncov_terms_serial,
    )

    r, alpha, s, beta = params
    fx, fd = _Effects(rows.p_paths, g_p, rows.period_length), _Effects(rows.d_paths, g_d, rows.period_length)
    rx = r + rows.x
    h = rows.period_length
    n_nodes = float(np.sum(np.floor((rows.birth + rows.T) / h) - np.floor((rows.birth + rows.t_x) / h) + 1.0))
    kernel = dyncov_terms_parallel if n_nodes * len(nodes[0]) >= PARALLEL_MIN_NODES else dyncov_terms_serial
    log_alive, log_died, a_t, b_t, moments, m_p, m_d, ga_t, gb_t = kernel(
        np.ascontiguousarray(rx, dtype=np.float64),
        float(s),
        float(alpha),
        float(beta),
        np.ascontiguousarray(rows.t_x, dtype=np.float64),
        np.ascontiguousarray(rows.T, dtype=np.float64),
        np.ascontiguousarray(rows.birth, dtype=np.float64),
        np.ascontiguousarray(rows.pp, dtype=np.int64),
        np.ascontiguousarray(rows.dp, dtype=np.int64),
        np.ascontiguousarray(fx.rate),
        np.ascontiguousarray(fx.cum),
        np.ascontiguousarray(fx.cum_grad),
        np.ascontiguousarray(rows.p_paths, dtype=np.float64),
        np.ascontiguousarray(fd.rate),
        np.ascontiguousarray(fd.cum),
        np.ascontiguousarray(fd.cum_grad),
        np.ascontiguousarray(rows.d_paths, dtype=np.float64),
        float(rows.period_length),
        np.ascontiguousarray(nodes[0]),
        np.log(nodes[1]),
        bool(grad),
        _changes(rows.p_paths, rows.d_paths),
        np.ascontiguousarray(np.log(fd.rate).max(axis=1)),
        _MAX_VARIATION,
        _MAX_RATIO,
        _CUT,
    )
    log_const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + rows.sums @ g_p
    mix = np.logaddexp(log_alive, log_died)
    ll = log_const + mix
    if not grad:
        return ll, log_alive, log_died
    p_alive = np.exp(log_alive - mix)
    p_died = np.exp(log_died - mix)
    d_r = digamma(rx) - digamma(r) + np.log(alpha) - p_alive * np.log(alpha + a_t) - p_died * moments[:, 0]
    d_alpha = r / alpha - rx * (p_alive / (alpha + a_t) + p_died * moments[:, 1])
    d_s = np.log(beta) - p_alive * np.log(beta + b_t) + p_died * (1.0 / s - moments[:, 2])
    d_beta = s / beta - p_alive * s / (beta + b_t) - p_died * (s + 1.0) * moments[:, 3]
    d_gp = rows.sums - (p_alive * rx / (alpha + a_t))[:, None] * ga_t - (p_died * rx)[:, None] * m_p
    d_gd = -(p_alive * s / (beta + b_t))[:, None] * gb_t + p_died[:, None] * m_d
    return ll, np.column_stack([d_r, d_alpha, d_s, d_beta, d_gp, d_gd])


class ParetoNBDDynamicFitter(BaseEstimator):
    """Pareto/NBD with time-varying (and static) covariates on the purchase and the dropout process.

    See the module docstring for the model. ``params_`` holds ``r``, ``alpha``, ``s``, ``beta`` and one
    coefficient ``purchase:<column>`` / ``dropout:<column>`` per covariate; a positive coefficient raises the
    purchase or dropout rate in the periods where the covariate is positive (CLVTools' signs).

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters and coefficients added to the negative mean log-likelihood.
    standard_errors : bool
        Compute ``standard_errors_`` from the Hessian after the fit.
    quadrature_nodes : int
        Gauss-Legendre nodes per quadrature panel of the dropout-time integral (panels: runs of periods with
        unchanged covariates, cut where the integrand's envelope falls by a bounded factor). 6 nodes give the
        per-customer log-likelihood to about 1e-10; 8 to 1e-13.

    Attributes
    ----------
    params_, standard_errors_ : dict[str, float]
    log_likelihood_ : float
    n_customers_ : float
    n_unique_rows_ : int
        Distinct (history, start, covariate path) rows the likelihood was evaluated on.
    converged_ : bool
    """

    _param_names = ("r", "alpha", "s", "beta")

    def __init__(
        self, penalizer_coef: float = 0.0, standard_errors: bool = True, quadrature_nodes: int = 6
    ) -> None:
        self.penalizer_coef = penalizer_coef
        self.standard_errors = standard_errors
        self.quadrature_nodes = quadrature_nodes

    def _nodes(self) -> tuple[FloatArray, FloatArray]:
        if int(self.quadrature_nodes) != self.quadrature_nodes or self.quadrature_nodes < 1:
            raise ConfigError(
                f"quadrature_nodes must be a positive whole number, got {self.quadrature_nodes!r}"
            )
        xi, wi = np.polynomial.legendre.leggauss(int(self.quadrature_nodes))
        return xi, wi

    def _split(
        self, theta: FloatArray, n_p: int
    ) -> tuple[tuple[float, float, float, float], FloatArray, FloatArray]:
        r, alpha, s, beta = (float(v) for v in np.exp(theta[:4]))
        return (r, alpha, s, beta), theta[4 : 4 + n_p], theta[4 + n_p :]

    def _blocks(self, rows: _Rows) -> list[_Rows]:
        """Split the rows so each block has at most about ``_BLOCK_NODES`` quadrature nodes."""
        n_nodes = (
            np.floor((rows.birth + rows.T) / rows.period_length)
            - np.floor((rows.birth + rows.t_x) / rows.period_length)
            + 1
        ) * self.quadrature_nodes
        bounds = np.searchsorted(
            np.cumsum(n_nodes), np.arange(_BLOCK_NODES, n_nodes.sum() + _BLOCK_NODES, _BLOCK_NODES)
        )
        edges = np.unique(np.concatenate([[0], np.minimum(bounds + 1, len(n_nodes))]))
        out = []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            sl = slice(int(lo), int(hi))
            out.append(
                _Rows(
                    rows.x[sl],
                    rows.t_x[sl],
                    rows.T[sl],
                    rows.birth[sl],
                    rows.pp[sl],
                    rows.dp[sl],
                    rows.sums[sl],
                    rows.period_length,
                    rows.p_paths,
                    rows.d_paths,
                )
            )
        return out

    def _evaluate(
        self, theta: FloatArray, blocks: list[_Rows], weights: list[FloatArray], n_p: int, grad: bool
    ) -> Any:
        params, g_p, g_d = self._split(theta, n_p)
        nodes = self._nodes()
        total_ll = 0.0
        total_grad = np.zeros_like(theta)
        for rows, w in zip(blocks, weights, strict=True):
            out = _loglik_block(params, g_p, g_d, rows, grad, nodes)
            total_ll += float(w @ out[0])
            if grad:
                d = w @ out[1]
                d[:4] *= np.exp(theta[:4])  # natural -> log scale
                total_grad += d
        return (total_ll, total_grad) if grad else total_ll

    def fit(self, data: DynamicCovariates, weights: ArrayLike | None = None) -> ParetoNBDDynamicFitter:
        """Fit by maximum likelihood (analytic gradient, L-BFGS-B) on the customers of ``data``.

        Parameters
        ----------
        data : DynamicCovariates
            Histories and covariate paths (:func:`dynamic_covariates`); the covariates must cover every
            customer's ``(0, T]``.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).

        Returns
        -------
        self
        """
        if not self.penalizer_coef >= 0:
            raise ConfigError(f"penalizer_coef must be non-negative, got {self.penalizer_coef!r}")
        if not isinstance(data, DynamicCovariates):
            raise SchemaError("dynamic_covariates", None, f"must be a DynamicCovariates, got {type(data)}")
        self._nodes()
        data.check_covers()
        n_p, n_d = len(data.purchase_names), len(data.dropout_names)
        columns = {"x": data.frequency, "t_x": data.recency, "T": data.T, "birth": data.birth}
        columns |= {"pp": data.purchase_path.astype(float), "dp": data.dropout_path.astype(float)}
        columns |= {f"_s{j}": data.purchase_at_transactions[:, j] for j in range(n_p)}
        compact, w = _compress(columns, weights)
        order = np.argsort(compact["T"] - compact["t_x"], kind="stable")  # similar node counts per block
        rows = _Rows(
            compact["x"][order],
            compact["t_x"][order],
            compact["T"][order],
            compact["birth"][order],
            compact["pp"][order].astype(np.int64),
            compact["dp"][order].astype(np.int64),
            np.column_stack([compact[f"_s{j}"][order] for j in range(n_p)]) if n_p else np.zeros((len(w), 0)),
            data.period_length,
            data.purchase_paths,
            data.dropout_paths,
        )
        w = w[order]
        blocks = self._blocks(rows)
        sizes = np.cumsum([0] + [len(b.x) for b in blocks])
        block_w = [w[lo:hi] for lo, hi in zip(sizes[:-1], sizes[1:], strict=True)]
        total = w.sum()
        penalizer = float(self.penalizer_coef)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            with np.errstate(all="ignore"):
                ll, g = self._evaluate(theta, blocks, block_w, n_p, True)
            natural = np.exp(theta[:4])
            value = -ll / total + penalizer * (np.sum(natural**2) + np.sum(theta[4:] ** 2))
            grad = -g / total
            grad[:4] += 2.0 * penalizer * natural**2
            grad[4:] += 2.0 * penalizer * theta[4:]
            if not np.isfinite(value) or not np.all(np.isfinite(grad)):
                return 1e10, np.zeros_like(theta)
            return float(value), grad

        theta0 = np.zeros(4 + n_p + n_d)
        theta0[:4] = np.log(
            [1.0, _rate_scale(rows.x, rows.T, w), 1.0, float(np.clip((w @ rows.T) / total, 1e-3, 1e6))]
        )
        res, converged = _minimise(objective, theta0, True)
        names = [
            *self._param_names,
            *(f"purchase:{c}" for c in data.purchase_names),
            *(f"dropout:{c}" for c in data.dropout_names),
        ]
        natural = np.concatenate([np.exp(res.x[:4]), res.x[4:]])
        self.params_ = {k: float(v) for k, v in zip(names, natural, strict=True)}
        self.purchase_covariate_names_ = data.purchase_names
        self.dropout_covariate_names_ = data.dropout_names
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(self._evaluate(res.x, blocks, block_w, n_p, False))
        self.n_customers_ = float(total)
        self.n_unique_rows_ = len(w)
        self.converged_ = converged
        if self.standard_errors:
            self.standard_errors_ = self._standard_errors(res.x, blocks, block_w, n_p, names)
        if not converged:
            logger.warning("ParetoNBDDynamicFitter: optimiser did not report convergence (%s)", res.message)
        return self

    def _standard_errors(
        self, theta: FloatArray, blocks: list[_Rows], weights: list[FloatArray], n_p: int, names: list[str]
    ) -> dict[str, float]:
        k = theta.size
        hessian = np.empty((k, k))
        with np.errstate(all="ignore"):
            at_theta = self._evaluate(theta, blocks, weights, n_p, True)[1]
        for j in range(k):  # forward differences of the analytic gradient
            step = 1e-6 * max(1.0, abs(theta[j]))
            up = theta.copy()
            up[j] += step
            with np.errstate(all="ignore"):
                hessian[:, j] = -(self._evaluate(up, blocks, weights, n_p, True)[1] - at_theta) / step
        hessian = 0.5 * (hessian + hessian.T)
        try:
            np.linalg.cholesky(hessian)
            se = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian)), 0.0, None))
        except np.linalg.LinAlgError:
            logger.warning(
                "ParetoNBDDynamicFitter: the Hessian is not positive definite; standard errors are NaN"
            )
            se = np.full(k, np.nan)
        se[:4] *= np.exp(theta[:4])
        return {name: float(v) for name, v in zip(names, se, strict=True)}

    # ----------------------------------------------------------------------------------------------------
    # Predictions
    # ----------------------------------------------------------------------------------------------------

    def _fitted(
        self, data: DynamicCovariates
    ) -> tuple[tuple[float, float, float, float], FloatArray, FloatArray]:
        check_is_fitted(self, "params_")
        if not isinstance(data, DynamicCovariates):
            raise SchemaError("dynamic_covariates", None, f"must be a DynamicCovariates, got {type(data)}")
        for kind, fitted, given in (
            ("purchase", self.purchase_covariate_names_, data.purchase_names),
            ("dropout", self.dropout_covariate_names_, data.dropout_names),
        ):
            if tuple(fitted) != tuple(given):
                raise SchemaError(
                    "dynamic_covariates",
                    None,
                    f"{kind} covariates {list(given)} differ from the fitted {list(fitted)}",
                )
        r, alpha, s, beta = (self.params_[k] for k in self._param_names)
        g_p = np.array([self.params_[f"purchase:{c}"] for c in data.purchase_names])
        g_d = np.array([self.params_[f"dropout:{c}"] for c in data.dropout_names])
        return (r, alpha, s, beta), g_p, g_d

    def _rows(self, data: DynamicCovariates) -> _Rows:
        return _Rows(
            data.frequency, data.recency, data.T, data.birth, data.purchase_path, data.dropout_path,
            data.purchase_at_transactions, data.period_length, data.purchase_paths, data.dropout_paths,
        )  # fmt: skip

    def log_likelihood(self, data: DynamicCovariates) -> FloatArray:
        """Log-likelihood of each customer's history in ``data`` at the fitted parameters.

        On the fitted data its sum is ``log_likelihood_``; on the full history minus on the calibration part it
        is the predictive log-likelihood of the holdout purchases (see ``ParetoNBDFitter.log_likelihood``).
        """
        params, g_p, g_d = self._fitted(data)
        data.check_covers()
        out = []
        for rows in self._blocks(self._rows(data)):
            with np.errstate(all="ignore"):
                out.append(_loglik_block(params, g_p, g_d, rows, False, self._nodes())[0])
        return np.concatenate(out)

    def conditional_probability_alive(self, data: DynamicCovariates) -> FloatArray:
        """P(alive at T) per customer of ``data`` given their history and covariates."""
        params, g_p, g_d = self._fitted(data)
        data.check_covers()
        out = []
        for rows in self._blocks(self._rows(data)):
            with np.errstate(all="ignore"):
                _, log_alive, log_died = _loglik_block(params, g_p, g_d, rows, False, self._nodes())
            out.append(1.0 / (1.0 + np.exp(log_died - log_alive)))
        return np.concatenate(out)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: float, data: DynamicCovariates
    ) -> FloatArray:
        """Expected purchases in ``(T, T + t]`` per customer of ``data``, with the covariates of those periods.

        Given alive at ``T``, ``lambda ~ Gamma(r + x, alpha + A(T))`` and ``mu ~ Gamma(s, beta + B(T))``, so
        ``E[Y] = P(alive) (r + x) / (alpha + A(T)) int_T^{T+t} exp(g_p . X(u)) ((beta + B(T)) / (beta + B(u)))^s du``,
        in closed form on each period. ``data`` must hold the covariates up to ``T + t``.
        """
        horizon = float(_check_horizon(t))
        params, g_p, g_d = self._fitted(data)
        data.check_covers(horizon)
        r, alpha, s, beta = params
        h = data.period_length
        n_periods = data.n_periods
        fx, fd = _Effects(data.purchase_paths, g_p, h), _Effects(data.dropout_paths, g_d, h)
        b, pp, dp = data.birth, data.purchase_path, data.dropout_path
        start, stop = b + data.T, b + data.T + horizon
        kb, ks = _period(b, h, n_periods), _period(start, h, n_periods)
        a_t = fx.at(pp, start, ks) - fx.at(pp, b, kb)
        b_birth = fd.at(dp, b, kb)
        b_t = fd.at(dp, start, ks) - b_birth
        k_stop = _period(stop, h, n_periods)
        n_seg = k_stop - ks + 1
        seg_row = np.repeat(np.arange(len(b)), n_seg)
        seg_k = ks[seg_row] + (np.arange(seg_row.size) - (np.cumsum(n_seg) - n_seg)[seg_row])
        lo = np.maximum(seg_k * h, start[seg_row])
        hi = np.maximum(np.minimum((seg_k + 1) * h, stop[seg_row]), lo)
        b_lo = beta + fd.at(dp[seg_row], lo, seg_k) - b_birth[seg_row]
        b_hi = beta + fd.at(dp[seg_row], hi, seg_k) - b_birth[seg_row]
        d_rate = fd.rate[dp[seg_row], seg_k]
        # int_lo^hi (beta + B(u))^-s du on one period, where B grows at rate d_rate.
        piece = np.exp((1.0 - s) * np.log(b_lo)) / d_rate * _power_ratio_term(s, b_lo / b_hi)
        integral = np.bincount(seg_row, weights=fx.rate[pp[seg_row], seg_k] * piece, minlength=len(b))
        growth = (r + data.frequency) / (alpha + a_t) * np.exp(s * np.log(beta + b_t)) * integral
        return self.conditional_probability_alive(data) * growth
