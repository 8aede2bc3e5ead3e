"""Compiled per-customer loop of the dynamic-covariate Pareto/NBD likelihood (numba, parallel over customers).

The dropout-time integral runs over panels: runs of periods whose covariates do not change, cut where the
envelope ``(alpha + A)^-(r+x) (beta + B)^-(s+1)`` has fallen by ``exp(max_variation)``, each with a fixed
Gauss-Legendre rule; it stops once the rest cannot add more than ``exp(-cut)`` of the total. A light buyer's
52 weeks are a handful of panels; a heavy buyer's integral ends a few weeks after the last purchase.

For each customer it returns the "alive at T" and "died in (t_x, T]" terms of the likelihood and, for the
gradient, the means of ``log(alpha + A(u))``, ``1/(alpha + A(u))``, ``log(beta + B(u))``, ``1/(beta + B(u))`` and
of the coefficient derivatives under the dropout-time density, accumulated node by node with a running
log-sum-exp (no per-node arrays: memory stays proportional to the customers). The numpy reference of the same
computation is ``custml.models.btyd._dyncov_likelihood._loglik_block_numpy``; a test checks they agree.

The steps are compiled functions inlined into the loop: the panels of one customer's dropout-time integral
(:func:`_died_integral`) and the nodes of one panel (:func:`_add_panel_nodes`). They share one scratch array
per customer (rows ``_ACC`` ... ``_GB_BIRTH``) rather than eight small ones: every array handed to an inlined
function costs a reference-count update per call, which on short panels made the loop 30-45% slower.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

# Rows of the per-customer scratch array. Accumulators under the dropout-time density: _ACC holds the sums of
# log(alpha + A), 1/(alpha + A), log(beta + B), 1/(beta + B); _ACC_P and _ACC_D those of the coefficient
# derivatives. On the current run of periods the coefficient derivatives of A and B are _GA0 + _GA1 u and
# _GB0 + _GB1 u, with dropout covariates _DCOV. _GA_BIRTH and _GB_BIRTH: the derivatives at the first purchase.
_ACC, _ACC_P, _ACC_D, _GA0, _GA1, _GB0, _GB1, _DCOV, _GA_BIRTH, _GB_BIRTH = range(10)
_N_SCRATCH = 10


@njit(cache=True, inline="always")
def _period(t: float, h: float, n_periods: int) -> int:
    k = int(math.floor(t / h))
    return min(max(k, 0), n_periods - 1)


@njit(cache=True, inline="always")
def _add_panel_nodes(
    p_lo: float,
    p_hi: float,
    offset0: float,
    rx: float,
    s: float,
    a0: float,
    ra: float,
    b0: float,
    rd: float,
    rule: Any,
    grad: bool,
    peak: float,
    total: float,
    work: Any,
    n_p: int,
    n_q: int,
) -> tuple[float, float]:
    """Add the Gauss-Legendre nodes (``rule``: nodes and log-weights) of the panel ``[p_lo, p_hi]``.

    On the panel's run of periods ``alpha + A(t) = a0 + ra u`` and ``beta + B(t) = b0 + rd u`` with
    ``u = t - offset0``. Returns the running log-sum-exp ``(peak, total)``; the gradient accumulators in
    ``work`` are rescaled with the peak and updated in place.
    """
    half = 0.5 * (p_hi - p_lo)
    log_half = math.log(half)
    log_rd = math.log(rd)
    for g in range(rule.shape[1]):
        t = p_lo + half * (rule[0, g] + 1.0)
        offset = t - offset0
        au = a0 + ra * offset
        bu = b0 + rd * offset
        la = math.log(au)
        lb = math.log(bu)
        lf = log_rd + log_half - rx * la - (s + 1.0) * lb + rule[1, g]
        if lf > peak:
            scale = math.exp(peak - lf) if peak > -np.inf else 0.0
            total *= scale
            for j in range(4):
                work[_ACC, j] *= scale
            for j in range(n_p):
                work[_ACC_P, j] *= scale
            for j in range(n_q):
                work[_ACC_D, j] *= scale
            peak = lf
        wgt = math.exp(lf - peak)
        total += wgt
        if grad:
            w_au = wgt / au
            w_bu = wgt / bu
            work[_ACC, 0] += wgt * la
            work[_ACC, 1] += w_au
            work[_ACC, 2] += wgt * lb
            work[_ACC, 3] += w_bu
            for j in range(n_p):
                work[_ACC_P, j] += w_au * (work[_GA0, j] + work[_GA1, j] * offset)
            for j in range(n_q):
                work[_ACC_D, j] += wgt * work[_DCOV, j] - (s + 1.0) * w_bu * (
                    work[_GB0, j] + work[_GB1, j] * offset
                )
    return peak, total


@njit(cache=True, inline="always")
def _add_run(
    p_lo: float,
    hi: float,
    offset0: float,
    end: float,
    rx: float,
    s: float,
    a0: float,
    ra: float,
    b0: float,
    rd: float,
    steps: tuple[float, float],
    stop: tuple[float, float],
    rule: Any,
    grad: bool,
    peak: float,
    total: float,
    work: Any,
    sizes: tuple[int, int],
) -> tuple[float, float, bool]:
    """Add the panels of one run of periods with unchanged covariates, ``[p_lo, hi]``, to ``(peak, total)``.

    Panels are cut so that ``alpha + A`` and ``beta + B`` grow by at most the factors ``1 + steps``; the
    third value returned says the integral may stop: the rest of it up to ``end`` is below ``exp(-cut)`` of
    the total, with ``stop`` = ``(max log dropout rate, cut)``. ``sizes``: the numbers of purchase and
    dropout covariates.
    """
    log_rd_max, cut = stop
    while p_lo < hi:
        a_lo = a0 + ra * (p_lo - offset0)
        b_lo = b0 + rd * (p_lo - offset0)
        log_env = -rx * math.log(a_lo) - (s + 1.0) * math.log(b_lo)
        # The rest of the integral is at most exp(max log rate * envelope) * remaining time.
        if total > 0.0 and log_rd_max + log_env + math.log(end - p_lo) < peak + math.log(total) - cut:
            return peak, total, True
        p_hi = min(hi, p_lo + a_lo * steps[0] / ra, p_lo + b_lo * steps[1] / rd)
        if p_hi <= p_lo:
            p_hi = hi
        peak, total = _add_panel_nodes(
            p_lo, p_hi, offset0, rx, s, a0, ra, b0, rd, rule, grad, peak, total, work, sizes[0], sizes[1]
        )
        p_lo = p_hi
    return peak, total, False


@njit(cache=True, inline="always")
def _died_integral(
    ip: int,
    idp: int,
    rx: float,
    s: float,
    alpha: float,
    beta: float,
    start: float,
    end: float,
    a_b: float,
    b_b: float,
    rate_p: Any,
    cum_p: Any,
    cgrad_p: Any,
    paths_p: Any,
    rate_d: Any,
    cum_d: Any,
    cgrad_d: Any,
    paths_d: Any,
    h: float,
    rule: Any,
    grad: bool,
    change: Any,
    log_rd_max: float,
    limits: tuple[float, float, float],
    work: Any,
) -> tuple[float, float]:
    """One customer's "died in (start, end]" integral as a running log-sum-exp ``(peak, total)``.

    The arguments are those of :func:`_dyncov_terms` for one customer (paths ``ip`` and ``idp``), with the
    integrated effects at the first purchase (``a_b``, ``b_b``; their coefficient derivatives in ``work``)
    and ``limits`` = ``(max_variation, max_ratio, cut)``. The integral is ``exp(peak) * total``; the gradient
    accumulators are left in ``work``, to be divided by ``total``.
    """
    max_variation, max_ratio, cut = limits
    n_periods = rate_p.shape[1]
    n_p = paths_p.shape[2]
    n_q = paths_d.shape[2]
    ke = _period(end, h, n_periods)
    peak = -np.inf
    total = 0.0
    # Panels: runs of periods with unchanged covariates, cut so that on each panel the log of the envelope
    # (alpha+A)^-(r+x) (beta+B)^-(s+1) falls by at most max_variation; a fixed Gauss-Legendre rule per panel.
    # ... and so that alpha + A and beta + B grow by at most max_ratio (the powers' singularities stay far
    # from the panel, where Gauss-Legendre converges fast).
    steps = (
        min(math.exp(min(0.5 * max_variation / rx, 700.0)) - 1.0, max_ratio - 1.0),
        min(math.exp(min(0.5 * max_variation / (s + 1.0), 700.0)) - 1.0, max_ratio - 1.0),
    )
    stop = (log_rd_max, cut)
    k = _period(start, h, n_periods)
    while k <= ke:
        k_last = k
        while k_last < ke and not (change[ip, idp, k_last + 1]):
            k_last += 1
        hi = min((k_last + 1) * h, end)
        ra = rate_p[ip, k]
        rd = rate_d[idp, k]
        # On this run A(t) - A(birth) = a0 + ra (t - k h), and its coefficient derivative is
        # ga0 + ga1 (t - k h) (likewise for B): hoisted out of the node loop.
        a0 = alpha + cum_p[ip, k] - a_b
        b0 = beta + cum_d[idp, k] - b_b
        if grad:
            for j in range(n_p):
                work[_GA0, j] = cgrad_p[ip, k, j] - work[_GA_BIRTH, j]
                work[_GA1, j] = paths_p[ip, k, j] * ra
            for j in range(n_q):
                work[_GB0, j] = cgrad_d[idp, k, j] - work[_GB_BIRTH, j]
                work[_GB1, j] = paths_d[idp, k, j] * rd
                work[_DCOV, j] = paths_d[idp, k, j]
        peak, total, done = _add_run(
            max(k * h, start), hi, k * h, end, rx, s, a0, ra, b0, rd, steps, stop, rule, grad, peak, total, work,
            (n_p, n_q),
        )  # fmt: skip
        if done:
            break
        k = k_last + 1
    return peak, total


def _dyncov_terms(
    rx: Any,
    s: float,
    alpha: float,
    beta: float,
    t_x: Any,
    big_t: Any,
    birth: Any,
    pp: Any,
    dp: Any,
    effects_p: tuple[Any, Any, Any, Any],
    effects_d: tuple[Any, Any, Any, Any],
    h: float,
    rule: Any,
    grad: bool,
    change: Any,
    log_rd_max: Any,
    limits: tuple[float, float, float],
) -> Any:
    """Per-customer terms of the likelihood: see the module docstring and ``_dyncov_likelihood._Terms``.

    ``rx`` is ``r + x``; ``pp``/``dp`` each customer's purchase and dropout path; ``effects_p``/``effects_d``
    the ``(rate, cum, cum_grad, paths)`` of each process's covariate effects (``_Effects``); ``rule`` the
    Gauss-Legendre nodes and log-weights (rows); ``change`` which paths change at each period; ``log_rd_max``
    the largest log dropout rate per path; ``limits`` = ``(max_variation, max_ratio, cut)``.
    """
    rate_p, cum_p, cgrad_p, paths_p = effects_p
    rate_d, cum_d, cgrad_d, paths_d = effects_d
    n = rx.shape[0]
    n_periods = rate_p.shape[1]
    n_p = paths_p.shape[2]
    n_q = paths_d.shape[2]
    log_alive = np.empty(n)
    log_died = np.empty(n)
    a_end = np.empty(n)
    b_end = np.empty(n)
    moments = np.zeros((n, 4))
    m_p = np.zeros((n, n_p))
    m_d = np.zeros((n, n_q))
    g_a_end = np.zeros((n, n_p))
    g_b_end = np.zeros((n, n_q))
    for i in prange(n):
        ip = pp[i]
        idp = dp[i]
        b = birth[i]
        end = b + big_t[i]
        kb = _period(b, h, n_periods)
        ke = _period(end, h, n_periods)
        ob, oe = b - kb * h, end - ke * h  # offsets of the first purchase and the end in their periods
        a_b = cum_p[ip, kb] + rate_p[ip, kb] * ob
        b_b = cum_d[idp, kb] + rate_d[idp, kb] * ob
        a_end[i] = cum_p[ip, ke] + rate_p[ip, ke] * oe - a_b
        b_end[i] = cum_d[idp, ke] + rate_d[idp, ke] * oe - b_b
        log_alive[i] = -rx[i] * math.log(alpha + a_end[i]) - s * math.log(beta + b_end[i])
        work = np.zeros((_N_SCRATCH, max(4, n_p, n_q)))
        if grad:
            for j in range(n_p):
                work[_GA_BIRTH, j] = cgrad_p[ip, kb, j] + paths_p[ip, kb, j] * rate_p[ip, kb] * ob
                g_a_end[i, j] = (
                    cgrad_p[ip, ke, j] + paths_p[ip, ke, j] * rate_p[ip, ke] * oe - work[_GA_BIRTH, j]
                )
            for j in range(n_q):
                work[_GB_BIRTH, j] = cgrad_d[idp, kb, j] + paths_d[idp, kb, j] * rate_d[idp, kb] * ob
                g_b_end[i, j] = (
                    cgrad_d[idp, ke, j] + paths_d[idp, ke, j] * rate_d[idp, ke] * oe - work[_GB_BIRTH, j]
                )
        peak, total = _died_integral(
            ip, idp, rx[i], s, alpha, beta, b + t_x[i], end, a_b, b_b, rate_p, cum_p, cgrad_p, paths_p,
            rate_d, cum_d, cgrad_d, paths_d, h, rule, grad, change, log_rd_max[idp], limits, work,
        )  # fmt: skip
        log_died[i] = math.log(s) + peak + math.log(total) if total > 0.0 else -np.inf
        if grad and total > 0.0:
            for j in range(4):
                moments[i, j] = work[_ACC, j] / total
            for j in range(n_p):
                m_p[i, j] = work[_ACC_P, j] / total
            for j in range(n_q):
                m_d[i, j] = work[_ACC_D, j] / total
    return log_alive, log_died, a_end, b_end, moments, m_p, m_d, g_a_end, g_b_end


# Two compilations of the same loop: serial for small blocks (no thread start-up; on a loaded machine two
# threads on a short loop were 7x slower than one), parallel over customers for large ones. Threads: numba's
# default (the number of cores) or ``NUMBA_NUM_THREADS``.
dyncov_terms_serial = njit(cache=True)(_dyncov_terms)
dyncov_terms_parallel = njit(cache=True, parallel=True)(_dyncov_terms)
# Below this many quadrature nodes a block runs serially.
PARALLEL_MIN_NODES = 2_000_000
