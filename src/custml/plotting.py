"""Figure helpers shared by every stage's ``plot_*`` functions (a foundation module: imports no stage).

Every ``plot_*(..., ax=None)`` in custml draws on ``ax`` when given and otherwise on a new figure made by
:func:`figure_and_axes`; none saves a file. :func:`plot_calibration_curves` is the one reliability diagram: the
model evaluation (``custml.models.plots.plot_calibration``) and the management report
(``custml.report.plots.plot_calibration``) both draw with it, each in its own :class:`CalibrationStyle`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["CalibrationStyle", "figure_and_axes", "plot_calibration_curves"]


def figure_and_axes(
    ax: Any | None, figsize: tuple[float, float] = (6, 5), *, pyplot: bool = True
) -> tuple[Any, Any]:
    """The figure and axes to draw on: ``ax`` and its figure, or a new figure with one axes.

    Parameters
    ----------
    ax
        Axes to draw on, or ``None`` for a new figure.
    figsize
        Size in inches of a new figure.
    pyplot
        ``True``: the new figure comes from ``matplotlib.pyplot.subplots`` (it shows in notebooks).
        ``False``: a bare ``matplotlib.figure.Figure`` with the constrained layout, not registered with pyplot
        (nothing to close; what the report and the segment charts use).

    Examples
    --------
    >>> fig, ax = figure_and_axes(None, (4, 3), pyplot=False)
    >>> fig.get_size_inches().tolist(), figure_and_axes(ax)[1] is ax
    ([4.0, 3.0], True)
    """
    if ax is not None:
        return ax.figure, ax
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=figsize)
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


@dataclass(frozen=True)
class CalibrationStyle:
    """How :func:`plot_calibration_curves` draws (matplotlib keyword arguments per element).

    The defaults are the model-evaluation look: a dotted grey diagonal drawn after the curves, curves with
    round markers, plain axes. The report passes its palette, bin points sized by customers and percent axes.
    """

    diagonal: Mapping[str, Any] = field(
        default_factory=lambda: {"color": "grey", "linestyle": ":", "linewidth": 1}
    )
    curve: Mapping[str, Any] = field(default_factory=lambda: {"marker": "o"})
    points: Mapping[str, Any] | None = None
    """Scatter the bins, sized by the ``n`` column, with these arguments (``None``: no points)."""
    diagonal_first: bool = False
    percent_axes: bool = False
    """Axes from 0 % to 100 %, equal aspect."""
    grid: Mapping[str, Any] | None = None
    legend: Mapping[str, Any] = field(default_factory=lambda: {"loc": "upper left", "fontsize": 8})


def plot_calibration_curves(
    curves: Mapping[str, pd.DataFrame],
    *,
    title: str | None = None,
    xlabel: str = "mean predicted probability",
    ylabel: str = "observed rate",
    perfect_label: str = "perfect",
    style: CalibrationStyle | None = None,
    figsize: tuple[float, float] = (6, 5),
    pyplot: bool = True,
    ax: Any | None = None,
) -> Any:
    """Reliability diagram: observed rate against mean predicted probability per bin, one curve per scorer.

    Parameters
    ----------
    curves
        ``{label: table}``, each table with columns ``mean_predicted``, ``observed_rate`` (and ``n``, the
        customers per bin, when ``style.points`` is set), e.g. ``custml.models.metrics.calibration_table``.
    title, xlabel, ylabel, perfect_label
        Texts; the diagonal (perfect calibration) is labelled ``perfect_label``.
    style
        Colours and elements (default :class:`CalibrationStyle`).
    figsize, pyplot
        A new figure's size and kind (see :func:`figure_and_axes`).
    ax
        Axes to draw on (``None``: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> c = pd.DataFrame({"mean_predicted": [.1, .5, .9], "observed_rate": [.12, .45, .85], "n": [50, 30, 20]})
    >>> fig = plot_calibration_curves({"model": c}, title="t", pyplot=False)
    >>> [line.get_label() for line in fig.axes[0].lines], fig.axes[0].lines[0].get_ydata().tolist()
    (['model', 'perfect'], [0.12, 0.45, 0.85])
    """
    style = style or CalibrationStyle()
    fig, ax = figure_and_axes(ax, figsize, pyplot=pyplot)

    def diagonal() -> None:
        ax.plot([0, 1], [0, 1], label=perfect_label, **style.diagonal)

    if style.diagonal_first:
        diagonal()
    for name, table in curves.items():
        x = table["mean_predicted"].to_numpy(dtype=float)
        y = table["observed_rate"].to_numpy(dtype=float)
        ax.plot(x, y, label=name, **style.curve)
        if style.points is not None:
            w = table["n"].fillna(1).to_numpy(dtype=float)
            size = 30 + 220 * (w / w.max()) if len(w) and w.max() > 0 else 40
            ax.scatter(x, y, s=size, **style.points)
    if not style.diagonal_first:
        diagonal()
    if style.percent_axes:
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if style.grid is not None:
        ax.grid(**style.grid)
        ax.set_axisbelow(True)
    ax.legend(**style.legend)
    return fig
