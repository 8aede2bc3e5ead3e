"""Figure helpers shared by every stage's ``plot_*`` functions (a foundation module: imports no stage).

Every ``plot_*(..., ax=None)`` in custml draws on ``ax`` when given and otherwise on a new figure made by
:func:`figure_and_axes`; none saves a file.
"""

from __future__ import annotations

from typing import Any

__all__ = ["figure_and_axes"]


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
