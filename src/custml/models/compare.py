"""Side-by-side evaluation of the shipped model and the candidates it was chosen from, on one holdout.

:func:`paired_bootstrap_auc` resamples customers once per replicate and scores both models on the same
resample, so the interval is for the *difference* of ROC AUC (much tighter than two separate intervals).
:func:`compare_scorers` applies it to a training result's test predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from custml.errors import SchemaError
from custml.models.metrics import binary_metrics

__all__ = ["compare_scorers", "paired_bootstrap_auc"]


def paired_bootstrap_auc(
    y_true: ArrayLike, p_a: ArrayLike, p_b: ArrayLike, n_boot: int = 200, seed: int = 0, level: float = 0.95
) -> dict[str, float]:
    """ROC AUC of ``p_a`` minus that of ``p_b`` with a paired percentile bootstrap interval.

    Returns
    -------
    dict
        ``diff`` (on the full sample), ``lo``, ``hi`` (the ``level`` interval), ``p_below_zero`` (share of
        replicates where ``a`` is below ``b``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> good, noise = y + rng.normal(0, 0.8, 500), rng.random(500)
    >>> out = paired_bootstrap_auc(y, good, noise, n_boot=100)
    >>> out["lo"] > 0
    True
    """
    y = np.asarray(y_true, dtype=int)
    a = np.asarray(p_a, dtype=float)
    b = np.asarray(p_b, dtype=float)
    if not (y.shape == a.shape == b.shape) or y.size == 0:
        raise SchemaError("predictions", None, f"paired bootstrap needs equal, non-empty inputs ({y.size})")
    if len(np.unique(y)) < 2:
        raise SchemaError("predictions", "label", "has a single class: ROC AUC undefined", n_rows=int(y.size))
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        idx = rng.integers(0, y.size, y.size)
        if 0 < y[idx].sum() < y.size:
            diffs.append(roc_auc_score(y[idx], a[idx]) - roc_auc_score(y[idx], b[idx]))
    d = np.asarray(diffs)
    tail = (1 - level) / 2
    return {
        "diff": float(roc_auc_score(y, a) - roc_auc_score(y, b)),
        "lo": float(np.quantile(d, tail)),
        "hi": float(np.quantile(d, 1 - tail)),
        "p_below_zero": float((d < 0).mean()),
    }


def compare_scorers(
    predictions: pd.DataFrame,
    reference: str = "model",
    n_boot: int = 200,
    seed: int = 0,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Metrics of every scorer column of ``predictions`` and its paired AUC difference to ``reference``.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``label`` and one probability column per scorer (e.g. ``TrainResult.test_predictions``; an
        ``oracle`` column is left out).

    Returns
    -------
    pandas.DataFrame
        One row per scorer: ``scorer, roc_auc, pr_auc, ece, brier, base_rate, n``, and
        ``auc_diff, auc_diff_lo, auc_diff_hi`` = reference minus scorer (0 for the reference itself).
    """
    if "label" not in predictions.columns or reference not in predictions.columns:
        raise SchemaError("predictions", "label" if "label" not in predictions else reference, "is missing")
    y = predictions["label"].to_numpy(dtype=int)
    rows = []
    for scorer in [c for c in predictions.columns if c not in ("label", "oracle")]:
        m = binary_metrics(y, predictions[scorer], n_bins=n_bins)
        row = {"scorer": scorer, **{k: m[k] for k in ("roc_auc", "pr_auc", "ece", "brier", "base_rate", "n")}}
        if scorer == reference:
            row.update({"auc_diff": 0.0, "auc_diff_lo": 0.0, "auc_diff_hi": 0.0})
        else:
            boot = paired_bootstrap_auc(
                y, predictions[reference], predictions[scorer], n_boot=n_boot, seed=seed
            )
            row.update({"auc_diff": boot["diff"], "auc_diff_lo": boot["lo"], "auc_diff_hi": boot["hi"]})
        rows.append(row)
    return pd.DataFrame(rows)
