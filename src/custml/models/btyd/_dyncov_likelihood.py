"""The likelihood of the dynamic-covariate Pareto/NBD on blocks of rows, with its analytic gradient.

:func:`_loglik_block` runs the compiled per-customer loop (:mod:`custml.models.btyd._dyncov_kernel`);
:func:`_loglik_block_numpy` is its numpy reference (per-node arrays), which a test checks it against. Both
produce the same per-row :class:`_Terms`, turned into the log-likelihood and gradient by :func:`_assemble`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, gammaln

__all__: list[str] = []

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

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

    def rows(self, sl: slice) -> _Rows:
        """The rows ``sl`` with the same grid."""
        return _Rows(
            self.x[sl], self.t_x[sl], self.T[sl], self.birth[sl], self.pp[sl], self.dp[sl], self.sums[sl],
            self.period_length, self.p_paths, self.d_paths,
        )  # fmt: skip


@dataclass(frozen=True)
class _Terms:
    """Per-row pieces of the likelihood.

    ``log_alive`` and ``log_died`` are the logs of the "alive at T" and "died in (t_x, T]" terms; ``a_t`` and
    ``b_t`` the integrated effects ``A(T)`` and ``B(T)``. For the gradient: ``ga_t`` and ``gb_t`` their
    coefficient derivatives and, under the dropout-time density, the means ``moments`` of ``log(alpha + A)``,
    ``1/(alpha + A)``, ``log(beta + B)``, ``1/(beta + B)``, ``m_p`` of ``dA/dg_p / (alpha + A)`` and ``m_d`` of
    ``D - (s + 1) dB/dg_d / (beta + B)``.
    """

    log_alive: FloatArray
    log_died: FloatArray
    a_t: FloatArray
    b_t: FloatArray
    moments: FloatArray | None = None
    m_p: FloatArray | None = None
    m_d: FloatArray | None = None
    ga_t: FloatArray | None = None
    gb_t: FloatArray | None = None


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


def _kernel_effects(
    effects: _Effects, paths: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(rate, cum, cum_grad, paths)`` of one process, contiguous, as the compiled loop takes them."""
    return (
        np.ascontiguousarray(effects.rate),
        np.ascontiguousarray(effects.cum),
        np.ascontiguousarray(effects.cum_grad),
        np.ascontiguousarray(paths, dtype=np.float64),
    )


def _assemble(
    params: tuple[float, float, float, float], g_p: FloatArray, rows: _Rows, terms: _Terms, grad: bool
) -> Any:
    """Log-likelihood per row from its terms; with ``grad`` also the gradient rows (natural scale).

    Without ``grad``: ``(ll, log_alive, log_died)``; with it: ``(ll, gradient rows)``.
    """
    r, alpha, s, beta = params
    rx = r + rows.x
    log_const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + rows.sums @ g_p
    mix = np.logaddexp(terms.log_alive, terms.log_died)
    ll = log_const + mix
    if not grad:
        return ll, terms.log_alive, terms.log_died
    moments, m_p, m_d, ga_t, gb_t = terms.moments, terms.m_p, terms.m_d, terms.ga_t, terms.gb_t
    if moments is None or m_p is None or m_d is None or ga_t is None or gb_t is None:
        raise ValueError("the gradient needs the moments of the dropout-time density")
    a_t, b_t = terms.a_t, terms.b_t
    p_alive = np.exp(terms.log_alive - mix)
    p_died = np.exp(terms.log_died - mix)
    d_r = digamma(rx) - digamma(r) + np.log(alpha) - p_alive * np.log(alpha + a_t) - p_died * moments[:, 0]
    d_alpha = r / alpha - rx * (p_alive / (alpha + a_t) + p_died * moments[:, 1])
    d_s = np.log(beta) - p_alive * np.log(beta + b_t) + p_died * (1.0 / s - moments[:, 2])
    d_beta = s / beta - p_alive * s / (beta + b_t) - p_died * (s + 1.0) * moments[:, 3]
    d_gp = rows.sums - (p_alive * rx / (alpha + a_t))[:, None] * ga_t - (p_died * rx)[:, None] * m_p
    d_gd = -(p_alive * s / (beta + b_t))[:, None] * gb_t + p_died[:, None] * m_d
    return ll, np.column_stack([d_r, d_alpha, d_s, d_beta, d_gp, d_gd])


@dataclass(frozen=True)
class _Nodes:
    """Quadrature nodes of the numpy reference: every period between ``t_x`` and ``T``, G nodes each.

    ``row`` and ``k`` are each node's row and period, ``t`` its time and ``w`` its weight; ``starts`` the
    first node of each row (for ``reduceat``).
    """

    row: IntArray
    k: IntArray
    t: FloatArray
    w: FloatArray
    starts: IntArray

    @classmethod
    def on(cls, rows: _Rows, nodes: tuple[FloatArray, FloatArray]) -> _Nodes:
        h, n_periods = rows.period_length, rows.p_paths.shape[1]
        k_end = _period(rows.birth + rows.T, h, n_periods)
        k_tx = _period(rows.birth + rows.t_x, h, n_periods)
        n_seg = k_end - k_tx + 1
        seg_row = np.repeat(np.arange(len(rows.x)), n_seg)
        seg_start = np.cumsum(n_seg) - n_seg
        seg_k = k_tx[seg_row] + (np.arange(seg_row.size) - seg_start[seg_row])
        lo = np.maximum(seg_k * h, (rows.birth + rows.t_x)[seg_row])
        hi = np.minimum((seg_k + 1) * h, (rows.birth + rows.T)[seg_row])
        xi, wi = nodes
        g = len(xi)
        half = np.repeat((hi - lo) / 2.0, g)
        return cls(
            row=np.repeat(seg_row, g),
            k=np.repeat(seg_k, g),
            t=np.repeat(lo, g) + half * np.tile(xi + 1.0, seg_row.size),
            w=half * np.tile(wi, seg_row.size),
            starts=seg_start * g,
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
    b, rx = rows.birth, r + rows.x
    kb = _period(b, h, n_periods)
    k_end = _period(b + rows.T, h, n_periods)
    a_b, b_b = fx.at(rows.pp, b, kb), fd.at(rows.dp, b, kb)
    a_t = fx.at(rows.pp, b + rows.T, k_end) - a_b
    b_t = fd.at(rows.dp, b + rows.T, k_end) - b_b
    log_alive = -rx * np.log(alpha + a_t) - s * np.log(beta + b_t)
    q = _Nodes.on(rows, nodes)
    pp_n, dp_n = rows.pp[q.row], rows.dp[q.row]
    a_u = alpha + fx.at(pp_n, q.t, q.k) - a_b[q.row]
    b_u = beta + fd.at(dp_n, q.t, q.k) - b_b[q.row]
    with np.errstate(divide="ignore"):
        log_f = np.log(fd.rate[dp_n, q.k]) - rx[q.row] * np.log(a_u) - (s + 1.0) * np.log(b_u) + np.log(q.w)
    peak = np.maximum.reduceat(log_f, q.starts)
    safe_peak = np.where(np.isfinite(peak), peak, 0.0)
    unit = np.exp(log_f - safe_peak[q.row])
    total = np.add.reduceat(unit, q.starts)
    with np.errstate(divide="ignore"):
        log_died = np.log(s) + safe_peak + np.log(total)
    if not grad:
        return _assemble(params, g_p, rows, _Terms(log_alive, log_died, a_t, b_t), False)
    density = unit / np.where(total > 0, total, 1.0)[q.row]  # node weights of the dropout-time density

    def mean(values: FloatArray) -> FloatArray:
        return np.add.reduceat(density * values, q.starts)

    def mean_cols(values: FloatArray) -> FloatArray:
        if not values.shape[1]:
            return values[: len(rows.x)]
        return np.add.reduceat(density[:, None] * values, q.starts, axis=0)

    ga_b, gb_b = fx.grad_at(rows.pp, b, kb), fd.grad_at(rows.dp, b, kb)
    ga_u = fx.grad_at(pp_n, q.t, q.k) - ga_b[q.row]
    gb_u = fd.grad_at(dp_n, q.t, q.k) - gb_b[q.row]
    terms = _Terms(
        log_alive,
        log_died,
        a_t,
        b_t,
        moments=np.column_stack([mean(np.log(a_u)), mean(1.0 / a_u), mean(np.log(b_u)), mean(1.0 / b_u)]),
        m_p=mean_cols(ga_u / a_u[:, None]),
        m_d=mean_cols(rows.d_paths[dp_n, q.k] - (s + 1.0) * gb_u / b_u[:, None]),
        ga_t=fx.grad_at(rows.pp, b + rows.T, k_end) - ga_b,
        gb_t=fd.grad_at(rows.dp, b + rows.T, k_end) - gb_b,
    )
    return _assemble(params, g_p, rows, terms, True)


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
    h = rows.period_length
    n_nodes = float(np.sum(np.floor((rows.birth + rows.T) / h) - np.floor((rows.birth + rows.t_x) / h) + 1.0))
    kernel = dyncov_terms_parallel if n_nodes * len(nodes[0]) >= PARALLEL_MIN_NODES else dyncov_terms_serial
    log_alive, log_died, a_t, b_t, moments, m_p, m_d, ga_t, gb_t = kernel(
        np.ascontiguousarray(r + rows.x, dtype=np.float64),
        float(s),
        float(alpha),
        float(beta),
        np.ascontiguousarray(rows.t_x, dtype=np.float64),
        np.ascontiguousarray(rows.T, dtype=np.float64),
        np.ascontiguousarray(rows.birth, dtype=np.float64),
        np.ascontiguousarray(rows.pp, dtype=np.int64),
        np.ascontiguousarray(rows.dp, dtype=np.int64),
        _kernel_effects(fx, rows.p_paths),
        _kernel_effects(fd, rows.d_paths),
        float(rows.period_length),
        np.ascontiguousarray(np.vstack([nodes[0], np.log(nodes[1])])),
        bool(grad),
        _changes(rows.p_paths, rows.d_paths),
        np.ascontiguousarray(np.log(fd.rate).max(axis=1)),
        (_MAX_VARIATION, _MAX_RATIO, _CUT),
    )
    terms = _Terms(log_alive, log_died, a_t, b_t, moments, m_p, m_d, ga_t, gb_t)
    return _assemble(params, g_p, rows, terms, grad)
