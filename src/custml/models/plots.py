"""Evaluation plots: ROC and precision-recall curves, calibration (reliability) and cumulative lift.

Each ``plot_*`` takes ``ax=None`` (a new figure is made) and returns the figure; nothing is saved here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import precision_recall_curve, roc_curve

from custml.models.metrics import calibration_table, lift_table
from custml.plotting import figure_and_axes, plot_calibration_curves

__all__ = ["plot_calibration", "plot_lift", "plot_pr", "plot_roc"]


def plot_roc(y_true: ArrayLike, scores: Mapping[str, ArrayLike], ax: Any = None) -> Any:
    """ROC curves of several scorers (``{"model": p, "logistic": p2, ...}``) on the same labels."""
    from sklearn.metrics import roc_auc_score

    _, ax = figure_and_axes(ax, (6, 5))
    y = np.asarray(y_true)
    for name, p in scores.items():
        fpr, tpr, _ = roc_curve(y, np.asarray(p))
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, np.asarray(p)):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test cut-off)")
    ax.legend(loc="lower right", fontsize=8)
    return ax.figure


def plot_pr(y_true: ArrayLike, scores: Mapping[str, ArrayLike], ax: Any = None) -> Any:
    """Precision-recall curves of several scorers, with the base rate as reference."""
    from sklearn.metrics import average_precision_score

    _, ax = figure_and_axes(ax, (6, 5))
    y = np.asarray(y_true)
    for name, p in scores.items():
        prec, rec, _ = precision_recall_curve(y, np.asarray(p))
        ax.plot(rec, prec, label=f"{name} (AP {average_precision_score(y, np.asarray(p)):.3f})")
    ax.axhline(float(y.mean()), color="grey", linestyle=":", linewidth=1, label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test cut-off)")
    ax.legend(loc="upper right", fontsize=8)
    return ax.figure


def plot_calibration(
    y_true: ArrayLike,
    scores: Mapping[str, ArrayLike],
    n_bins: int = 10,
    *,
    title: str | None = "Calibration (test cut-off)",
    ax: Any = None,
) -> Any:
    """Reliability diagram: observed rate against mean predicted probability per equal-mass bin.

    Draws :func:`custml.models.metrics.calibration_table` of each scorer with
    :func:`custml.plotting.plot_calibration_curves` (the same diagram the report draws).
    """
    curves = {name: calibration_table(y_true, p, n_bins=n_bins) for name, p in scores.items()}
    return plot_calibration_curves(curves, title=title, ax=ax)


def plot_lift(y_true: ArrayLike, scores: Mapping[str, ArrayLike], n_groups: int = 10, ax: Any = None) -> Any:
    """Cumulative lift by share of customers targeted (best-scored first)."""
    _, ax = figure_and_axes(ax, (6, 5))
    for name, p in scores.items():
        table = lift_table(y_true, p, n_groups=n_groups)
        ax.plot(table["fraction"] * 100, table["lift"], marker="o", label=name)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="% of customers targeted", ylabel="cumulative lift", title="Lift (test cut-off)")
    ax.legend(loc="upper right", fontsize=8)
    return ax.figure
