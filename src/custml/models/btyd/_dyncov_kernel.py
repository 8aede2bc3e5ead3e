"""Compiled per-customer loop of the dynamic-covariate Pareto/NBD likelihood (numba, parallel over customers).

The dropout-time integral runs over panels: runs of periods whose covariates do not change, cut where the
envelope ``(alpha + A)^-(r+x) (beta + B)^-(s+1)`` has fallen by ``exp(max_variation)``, each with a fixed
Gauss-Legendre rule; it stops once the rest cannot add more than ``exp(-cut)`` of the total. A light buyer's
52 weeks are a handful of panels; a heavy buyer's integral ends a few weeks after the last purchase.

For each customer it returns the "alive at T" and "died in (t_x, T]" terms of the likelihood and, for the
gradient, the means of ``log(alpha + A(u))``, ``1/(alpha + A(u))``, ``log(beta + B(u))``, ``1/(beta + B(u))`` and
of the coefficient derivatives under the dropout-time density, accumulated node by node with a running
log-sum-exp (no per-node arrays: memory stays proportional to the customers). The numpy reference of the same
computation is ``custml.models.btyd.pareto_nbd_dynamic._loglik_block_numpy``; a test checks they agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _period(t: float, h: float, n_periods: int) -> int:
    k = int(math.floor(t / h))
    return min(max(k, 0), n_periods - 1)


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
    rate_p: Any,
    cum_p: Any,
    cgrad_p: Any,
    paths_p: Any,
    rate_d: Any,
    cum_d: Any,
    cgrad_d: Any,
    paths_d: Any,
    h: float,
    xi: Any,
    log_wi: Any,
    grad: bool,
    change: Any,
    log_rd_max: Any,
    max_variation: float,
    max_ratio: float,
    cut: float,
) -> Any:
    n = rx.shape[0]
    n_periods = rate_p.shape[1]
    n_p = paths_p.shape[2]
    n_q = paths_d.shape[2]
    n_nodes = xi.shape[0]
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
        kb = _period(b, h, n_periods)
        a_b = cum_p[ip, kb] + rate_p[ip, kb] * (b - kb * h)
        b_b = cum_d[idp, kb] + rate_d[idp, kb] * (b - kb * h)
        end = b + big_t[i]
        ke = _period(end, h, n_periods)
        a_end[i] = cum_p[ip, ke] + rate_p[ip, ke] * (end - ke * h) - a_b
        b_end[i] = cum_d[idp, ke] + rate_d[idp, ke] * (end - ke * h) - b_b
        log_alive[i] = -rx[i] * math.log(alpha + a_end[i]) - s * math.log(beta + b_end[i])
        ga_b = np.empty(n_p)
        gb_b = np.empty(n_q)
        if grad:
            for j in range(n_p):
                ga_b[j] = cgrad_p[ip, kb, j] + paths_p[ip, kb, j] * rate_p[ip, kb] * (b - kb * h)
                g_a_end[i, j] = (
                    cgrad_p[ip, ke, j] + paths_p[ip, ke, j] * rate_p[ip, ke] * (end - ke * h) - ga_b[j]
                )
            for j in range(n_q):
                gb_b[j] = cgrad_d[idp, kb, j] + paths_d[idp, kb, j] * rate_d[idp, kb] * (b - kb * h)
                g_b_end[i, j] = (
                    cgrad_d[idp, ke, j] + paths_d[idp, ke, j] * rate_d[idp, ke] * (end - ke * h) - gb_b[j]
                )
        start = b + t_x[i]
        ks = _period(start, h, n_periods)
        peak = -np.inf
        total = 0.0
        acc = np.zeros(4)
        acc_p = np.zeros(n_p)
        acc_d = np.zeros(n_q)
        ga0 = np.zeros(n_p)
        ga1 = np.zeros(n_p)
        gb0 = np.zeros(n_q)
        gb1 = np.zeros(n_q)
        dcov = np.zeros(n_q)
        # Panels: runs of periods with unchanged covariates, cut so that on each panel the log of the envelope
        # (alpha+A)^-(r+x) (beta+B)^-(s+1) falls by at most max_variation; a fixed Gauss-Legendre rule per panel.
        # ... and so that alpha + A and beta + B grow by at most max_ratio (the powers' singularities stay far
        # from the panel, where Gauss-Legendre converges fast).
        step_a = min(math.exp(min(0.5 * max_variation / rx[i], 700.0)) - 1.0, max_ratio - 1.0)
        step_b = min(math.exp(min(0.5 * max_variation / (s + 1.0), 700.0)) - 1.0, max_ratio - 1.0)
        k = ks
        done = False
        while k <= ke and not done:
            k_last = k
            while k_last < ke and not (change[ip, idp, k_last + 1]):
                k_last += 1
            lo = max(k * h, start)
            hi = min((k_last + 1) * h, end)
            ra = rate_p[ip, k]
            rd = rate_d[idp, k]
            log_rd = math.log(rd)
            # On this run A(t) - A(birth) = a0 + ra (t - k h), and its coefficient derivative is
            # ga0 + ga1 (t - k h) (likewise for B): hoisted out of the node loop.
            a0 = alpha + cum_p[ip, k] - a_b
            b0 = beta + cum_d[idp, k] - b_b
            if grad:
                for j in range(n_p):
                    ga0[j] = cgrad_p[ip, k, j] - ga_b[j]
                    ga1[j] = paths_p[ip, k, j] * ra
                for j in range(n_q):
                    gb0[j] = cgrad_d[idp, k, j] - gb_b[j]
                    gb1[j] = paths_d[idp, k, j] * rd
                    dcov[j] = paths_d[idp, k, j]
            p_lo = lo
            while p_lo < hi:
                a_lo = a0 + ra * (p_lo - k * h)
                b_lo = b0 + rd * (p_lo - k * h)
                log_env = -rx[i] * math.log(a_lo) - (s + 1.0) * math.log(b_lo)
                # The rest of the integral is at most exp(max log rate * envelope) * remaining time: stop once it
                # is below exp(-cut) of what has been accumulated.
                if (
                    total > 0.0
                    and log_rd_max[idp] + log_env + math.log(end - p_lo) < peak + math.log(total) - cut
                ):
                    done = True
                    break
                p_hi = min(hi, p_lo + a_lo * step_a / ra, p_lo + b_lo * step_b / rd)
                if p_hi <= p_lo:
                    p_hi = hi
                half = 0.5 * (p_hi - p_lo)
                log_half = math.log(half)
                for g in range(n_nodes):
                    t = p_lo + half * (xi[g] + 1.0)
                    offset = t - k * h
                    au = a0 + ra * offset
                    bu = b0 + rd * offset
                    la = math.log(au)
                    lb = math.log(bu)
                    lf = log_rd + log_half - rx[i] * la - (s + 1.0) * lb + log_wi[g]
                    if lf > peak:
                        scale = math.exp(peak - lf) if peak > -np.inf else 0.0
                        total *= scale
                        for j in range(4):
                            acc[j] *= scale
                        for j in range(n_p):
                            acc_p[j] *= scale
                        for j in range(n_q):
                            acc_d[j] *= scale
                        peak = lf
                    wgt = math.exp(lf - peak)
                    total += wgt
                    if grad:
                        w_au = wgt / au
                        w_bu = wgt / bu
                        acc[0] += wgt * la
                        acc[1] += w_au
                        acc[2] += wgt * lb
                        acc[3] += w_bu
                        for j in range(n_p):
                            acc_p[j] += w_au * (ga0[j] + ga1[j] * offset)
                        for j in range(n_q):
                            acc_d[j] += wgt * dcov[j] - (s + 1.0) * w_bu * (gb0[j] + gb1[j] * offset)
                p_lo = p_hi
            k = k_last + 1
        if total > 0.0:
            log_died[i] = math.log(s) + peak + math.log(total)
            if grad:
                for j in range(4):
                    moments[i, j] = acc[j] / total
                for j in range(n_p):
                    m_p[i, j] = acc_p[j] / total
                for j in range(n_q):
                    m_d[i, j] = acc_d[j] / total
        else:
            log_died[i] = -np.inf
    return log_alive, log_died, a_end, b_end, moments, m_p, m_d, g_a_end, g_b_end


# Two compilations of the same loop: serial for small blocks (no thread start-up; on a loaded machine two
# threads on a short loop were 7x slower than one), parallel over customers for large ones. Threads: numba's
# default (the number of cores) or ``NUMBA_NUM_THREADS``.
dyncov_terms_serial = njit(cache=True)(_dyncov_terms)
dyncov_terms_parallel = njit(cache=True, parallel=True)(_dyncov_terms)
# Below this many quadrature nodes a block runs serially.
PARALLEL_MIN_NODES = 2_000_000
