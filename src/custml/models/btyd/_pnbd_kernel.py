"""Compiled moments of the Pareto/NBD dropout time for the gradient (numba; the numpy reference and the
quadrature are described in ``custml.models.btyd.pareto_nbd._died_moments_numpy``; a test checks they agree)."""

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
    out = np.empty((4, n))
    g = nodes.shape[0]
    for i in prange(n):
        y0 = math.log(alpha[i] + t_x[i])
        y1 = min(math.log(alpha[i] + big_t[i]), y0 + decay_span / max(rx[i] - 1.0, 1e-3))
        shift = beta[i] - alpha[i]
        peak = -np.inf
        log_w = np.empty(g)
        ys = np.empty(g)
        for k in range(g):
            y = y0 + (y1 - y0) * (nodes[k] + 1.0) / 2.0
            ys[k] = y
            log_w[k] = log_weights[k] + (1.0 - rx[i]) * y - (s + 1.0) * math.log(shift + math.exp(y))
            peak = max(peak, log_w[k])
        total = 0.0
        m0 = m1 = m2 = m3 = 0.0
        for k in range(g):
            w = math.exp(log_w[k] - peak)
            a_u = math.exp(ys[k])
            b_u = shift + a_u
            total += w
            m0 += w / a_u
            m1 += w / b_u
            m2 += w * ys[k]
            m3 += w * math.log(b_u)
        out[0, i] = m0 / total
        out[1, i] = m1 / total
        out[2, i] = m2 / total
        out[3, i] = m3 / total
    return out


died_moments_serial = njit(cache=True)(_died_moments)
died_moments_parallel = njit(cache=True, parallel=True)(_died_moments)
# Below this many customers the serial loop runs (thread start-up costs more than it saves).
PARALLEL_MIN_ROWS = 200_000
