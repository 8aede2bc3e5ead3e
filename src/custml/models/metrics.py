"""Evaluation metrics for probability models, returned as plain ``dict[str, float]``.

Expected calibration error (ECE) uses **equal-mass** bins by default: customers are sorted by predicted
probability and cut into ``n_bins`` groups of (nearly) equal size; ECE is the size-weighted mean of
``|mean predicted - observed rate|`` over the bins. Equal-mass bins keep every bin populated when most
predictions crowd into a narrow range (common for churn scores), which equal-width bins do not;
``strategy="uniform"`` gives the equal-width variant.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from custml.errors import SchemaError

__all__ = [
    "binary_metrics",
    "bootstrap_weights",
    "calibration_table",
    "expected_calibration_error",
    "lift_at",
    "lift_table",
    "resampled_auc",
]

BinStrategy = Literal["quantile", "uniform"]


def _check(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    if y.shape != p.shape:
        raise SchemaError(
            "predictions", None, f"labels ({y.size}) and probabilities ({p.size}) differ in length"
        )
    if y.size == 0:
        raise SchemaError("predictions", None, "is empty")
    n_nan = int(np.isnan(p).sum() + np.isnan(y).sum())
    if n_nan:
        raise SchemaError("predictions", "probability", "holds missing values", n_rows=n_nan)
    n_bad = int(np.count_nonzero((y != 0) & (y != 1)))
    if n_bad:
        raise SchemaError("predictions", "label", "must be 0 or 1", n_rows=n_bad)
    n_out = int(np.count_nonzero((p < 0) | (p > 1)))
    if n_out:
        raise SchemaError("predictions", "probability", "must lie in [0, 1]", n_rows=n_out)
    return y, p


def _bin_ids(p: np.ndarray, n_bins: int, strategy: BinStrategy) -> np.ndarray:
    if strategy == "uniform":
        return np.minimum((p * n_bins).astype(int), n_bins - 1)
    # Equal mass: rank-based so that ties cannot empty a bin; stable sort keeps it deterministic.
    order = np.argsort(p, kind="stable")
    ids = np.empty(p.size, dtype=int)
    ids[order] = (np.arange(p.size) * n_bins) // p.size
    return ids


def calibration_table(
    y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10, strategy: BinStrategy = "quantile"
) -> pd.DataFrame:
    """Mean predicted probability against observed rate per bin.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin, mean_predicted, observed_rate, n`` (empty bins omitted).

    Examples
    --------
    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], n_bins=2)
       bin  mean_predicted  observed_rate  n
    0    0            0.15            0.0  2
    1    1            0.85            1.0  2
    """
    y, p = _check(y_true, y_prob)
    ids = _bin_ids(p, n_bins, strategy)
    frame = pd.DataFrame({"bin": ids, "p": p, "y": y})
    out = frame.groupby("bin", sort=True).agg(
        mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size")
    )
    return out.reset_index()


def expected_calibration_error(
    y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10, strategy: BinStrategy = "quantile"
) -> float:
    """Size-weighted mean absolute gap between predicted and observed rates over bins (see module docstring).

    Examples
    --------
    >>> round(expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], n_bins=2), 3)
    0.0
    """
    table = calibration_table(y_true, y_prob, n_bins, strategy)
    gaps = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((gaps * table["n"]).sum() / table["n"].sum())


def lift_at(y_true: ArrayLike, y_prob: ArrayLike, fraction: float = 0.1) -> tuple[float, float]:
    """Lift and capture rate in the top ``fraction`` of customers ranked by probability.

    Lift = positive rate in the top group / overall positive rate; capture = share of all positives that
    fall in the top group. Ties at the boundary are broken by order of appearance (stable sort).

    Examples
    --------
    >>> lift_at([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.1, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1], 0.1)
    (5.0, 0.5)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    y, p = _check(y_true, y_prob)
    n_top = max(1, int(round(fraction * y.size)))
    top = np.argsort(-p, kind="stable")[:n_top]
    total = y.sum()
    if total == 0:
        return float("nan"), float("nan")
    rate_top = y[top].mean()
    return float(rate_top / y.mean()), float(y[top].sum() / total)


def lift_table(y_true: ArrayLike, y_prob: ArrayLike, n_groups: int = 10) -> pd.DataFrame:
    """Cumulative lift and capture by decile (or ``n_groups``) of predicted probability, best first.

    Returns
    -------
    pandas.DataFrame
        ``fraction, lift, capture`` for the top 1/n, 2/n, ... of customers.
    """
    y, p = _check(y_true, y_prob)
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    rows = []
    for g in range(1, n_groups + 1):
        n_top = max(1, int(round(g / n_groups * y.size)))
        top = ys[:n_top]
        rows.append(
            {
                "fraction": g / n_groups,
                "lift": float(top.mean() / y.mean()) if y.mean() > 0 else float("nan"),
                "capture": float(top.sum() / y.sum()) if y.sum() > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def binary_metrics(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    n_bins: int = 10,
    top_fraction: float = 0.1,
) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), Brier score, log loss, ECE, lift and capture at the top 10 %.

    Keys: ``roc_auc, pr_auc, brier, log_loss, ece, lift_top10, capture_top10, base_rate, n``. AUCs are NaN
    when only one class is present.

    Examples
    --------
    >>> m = binary_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bins=2, top_fraction=0.25)
    >>> round(m["roc_auc"], 2), m["lift_top10"]
    (0.75, 2.0)
    """
    y, p = _check(y_true, y_prob)
    both = 0 < y.sum() < y.size
    lift, capture = lift_at(y, p, top_fraction)
    eps = 1e-15
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, eps, 1 - eps), labels=[0, 1])),
        "ece": expected_calibration_error(y, p, n_bins=n_bins),
        "lift_top10": lift,
        "capture_top10": capture,
        "base_rate": float(y.mean()),
        "n": float(y.size),
    }


def bootstrap_weights(y: ArrayLike, n_boot: int, seed: int = 0) -> np.ndarray:
    """Row counts of ``n_boot`` bootstrap resamples (replicates x rows), seeded; replicates that lost a class
    are dropped (their ROC AUC is undefined)."""
    y_arr = np.asarray(y, dtype=int)
    rng = np.random.default_rng(seed)
    weights = np.stack(
        [np.bincount(rng.integers(0, len(y_arr), len(y_arr)), minlength=len(y_arr)) for _ in range(n_boot)]
    )
    keep = ((weights * y_arr).sum(axis=1) > 0) & ((weights * (1 - y_arr)).sum(axis=1) > 0)
    return weights[keep]


def resampled_auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of ``score`` on each bootstrap resample given as row counts ``weights`` (replicates x rows).

    The Mann-Whitney form with ties counted half, in O(rows) per replicate (the scores are sorted once); equal
    to :func:`sklearn.metrics.roc_auc_score` on the resampled rows (paired: every scorer sees the same counts).
    """
    order = np.argsort(score, kind="stable")
    _, group = np.unique(score[order], return_inverse=True)
    y_s, w_s = y[order], weights[:, order].astype(float)
    n_groups = int(group.max()) + 1
    out = np.empty(len(weights))
    for i, w in enumerate(w_s):
        neg = np.bincount(group, w * (1 - y_s), minlength=n_groups)
        pos = np.bincount(group, w * y_s, minlength=n_groups)
        below = np.cumsum(neg) - neg
        out[i] = float((pos * (below + 0.5 * neg)).sum() / (pos.sum() * neg.sum()))
    return out
