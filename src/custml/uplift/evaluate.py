"""Uplift estimates against a known truth (the synthetic world's per-customer effect): ranks and policy value."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import spearmanr

__all__ = ["uplift_vs_truth"]


def uplift_vs_truth(
    estimate: ArrayLike, true_uplift: ArrayLike, shares: tuple[float, ...] = (0.1, 0.2, 0.3)
) -> dict[str, float]:
    """Rank correlation with the true uplift, and policy value against the oracle policy.

    ``policy_value_at_<share>``: the mean true uplift of the top ``share`` by the estimate divided by that of
    the top ``share`` by the true uplift (the oracle policy at the same number of contacts): 1 = as good as
    the oracle, 0 = no better than nobody, and ``random_at_<share>`` is the same ratio for random targeting
    (the population mean), the level a useless ranking reaches. A constant estimate has correlation 0.

    Examples
    --------
    >>> m = uplift_vs_truth([0.3, 0.2, 0.1, 0.0], [0.2, 0.1, 0.0, -0.1], shares=(0.5,))
    >>> m["spearman"], m["policy_value_at_0.5"]
    (1.0, 1.0)
    """
    est = np.asarray(estimate, dtype=float).ravel()
    true = np.asarray(true_uplift, dtype=float).ravel()
    if len(est) != len(true) or len(est) < 2:
        raise ValueError(f"estimate and true_uplift need the same length >= 2 ({len(est)}, {len(true)})")
    # A constant estimate (a learner that found nothing, e.g. on a tiny campaign) ranks nobody: correlation 0.
    informative = np.ptp(est) > 0 and np.ptp(true) > 0
    out: dict[str, float] = {
        "spearman": float(spearmanr(est, true).statistic) if informative else 0.0,
        "pearson": float(np.corrcoef(est, true)[0, 1]) if informative else 0.0,
        "mean_estimate": float(est.mean()),
        "mean_true": float(true.mean()),
    }
    n = len(est)
    by_est = np.argsort(-est, kind="stable")
    by_true = np.argsort(-true, kind="stable")
    for share in shares:
        k = max(int(round(share * n)), 1)
        best = true[by_true[:k]].mean()
        out[f"policy_value_at_{share:g}"] = (
            float(true[by_est[:k]].mean() / best) if best > 0 else float("nan")
        )
        out[f"random_at_{share:g}"] = float(true.mean() / best) if best > 0 else float("nan")
    return out
