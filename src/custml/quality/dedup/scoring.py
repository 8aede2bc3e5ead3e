"""The match probability of scored pairs: the prior's EM fixed point and the threshold of best expected F1."""

from __future__ import annotations

import numpy as np

__all__ = ["estimate_prior", "expected_f1_threshold", "logit2", "probability"]


def logit2(p: float) -> float:
    """The match weight (log2 odds) of a probability."""
    return float(np.log2(p / (1 - p)))


def probability(weight: np.ndarray) -> np.ndarray:
    """The probability of match weights (log2 odds), clipped to +-60."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))


def estimate_prior(bayes_weight: np.ndarray, total_pairs: int, start: float, iterations: int = 200) -> float:
    """The prior probability that two random records match, as the fixed point of the EM update on the scored pairs.

    ``bayes_weight`` is each scored pair's match weight without the prior (log2 Bayes factor); pairs never
    scored (not blocked together) count as non-matches. The update is ``lambda = sum(p_i(lambda)) / total_pairs``.

    Examples
    --------
    >>> w = np.array([20.0] * 10 + [-10.0] * 1000)
    >>> round(estimate_prior(w, 10_000, 1e-3) * 10_000, 1)
    10.0
    """
    if total_pairs <= 0 or len(bayes_weight) == 0:
        return start
    lam = float(np.clip(start, 1e-12, 0.5))
    for _ in range(iterations):
        new = float(np.clip(probability(bayes_weight + logit2(lam)).sum() / total_pairs, 1e-12, 0.5))
        if abs(new - lam) <= 1e-6 * lam:
            return new
        lam = new
    return lam


def expected_f1_threshold(probability: np.ndarray, floor: float = 0.5) -> float:
    """The match threshold that maximises the expected F1 when the probabilities are taken at their word.

    At a threshold ``t`` the expected true links are ``sum(p >= t)`` of ``p``, the links ``count(p >= t)`` and the
    true pairs ``sum(p)``; F1 = 2 TP / (links + true pairs). The cut is placed half-way (in match weight) between
    the last pair linked and the first pair left out, and never below ``floor`` (nor when every pair is linked).

    Examples
    --------
    >>> round(expected_f1_threshold(np.array([0.999, 0.98, 0.9, 0.4, 0.01])), 3)
    0.71
    >>> expected_f1_threshold(np.array([0.9999, 0.9998]))
    0.5
    """
    p = np.sort(np.asarray(probability, dtype=float))[::-1]
    if len(p) == 0:
        return floor
    tp = np.cumsum(p)
    f1 = 2 * tp / (np.arange(1, len(p) + 1) + p.sum())
    best = int(np.argmax(f1))
    if best + 1 >= len(p):
        return floor
    lo, hi = np.clip([p[best + 1], p[best]], 1e-12, 1 - 1e-12)
    mid = (np.log2(lo / (1 - lo)) + np.log2(hi / (1 - hi))) / 2
    return float(max(floor, 1.0 / (1.0 + np.exp2(-mid))))
