"""Compiled "died" term of the Pareto/NBD likelihood and the moments of the dropout time for its gradient (numba;
the quadrature is described in ``custml.models.btyd.pareto_nbd._died_moments_numpy``, and tests check the moments
against it and the integral against the closed form)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange


def _died_moments(
    decay_span: float,
    rx: Any,
    s: float,
    alpha: Any,
    beta: Any,
    t_x: Any,
    big_t: Any,
    nodes: Any,
    log_weights: Any,
) -> Any:
    n = rx.shape[0]
    out = np.empty((5, n))
    g = nodes.shape[0]
    for i in prange(n):
        # y = log(m + u) with m the smaller of alpha and beta: both factors of the density are smooth in y.
        m = min(alpha[i], beta[i])
        y0 = math.log(m + t_x[i])
        decay = (rx[i] if alpha[i] <= beta[i] else s + 1.0) - 1.0
        y1 = min(math.log(m + big_t[i]), y0 + decay_span / max(decay, 1e-3))
        shift_a = alpha[i] - m
        shift_b = beta[i] - m
        peak = -np.inf
        log_w = np.empty(g)
        ys = np.empty(g)
        for k in range(g):
            y = y0 + (y1 - y0) * (nodes[k] + 1.0) / 2.0
            ys[k] = y
            e_y = math.exp(y)
            log_w[k] = (
                log_weights[k] + y - rx[i] * math.log(shift_a + e_y) - (s + 1.0) * math.log(shift_b + e_y)
            )
            peak = max(peak, log_w[k])
        total = 0.0
        m0 = m1 = m2 = m3 = 0.0
        for k in range(g):
            w = math.exp(log_w[k] - peak)
            e_y = math.exp(ys[k])
            a_u = shift_a + e_y
            b_u = shift_b + e_y
            total += w
            m0 += w / a_u
            m1 += w / b_u
            m2 += w * math.log(a_u)
            m3 += w * math.log(b_u)
        out[0, i] = m0 / total
        out[1, i] = m1 / total
        out[2, i] = m2 / total
        out[3, i] = m3 / total
        # log of the integral itself: int f du = int (alpha + u)^-(r+x) (beta + u)^-(s+1) e^y dy
        out[4, i] = math.log(0.5 * (y1 - y0)) + peak + math.log(total) if y1 > y0 else -np.inf
    return out


died_moments_serial = njit(cache=True)(_died_moments)
died_moments_parallel = njit(cache=True, parallel=True)(_died_moments)
# Below this many customers the serial loop runs (thread start-up costs more than it saves).
PARALLEL_MIN_ROWS = 200_000
