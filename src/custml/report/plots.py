"""Charts of the management report: matplotlib figures with titles and units, and their inline-SVG form.

Each ``plot_*`` function draws on ``ax`` (a new figure when ``None``) and returns the figure; none saves a file.
Labels come in already translated, so the same functions draw the English and the Chinese report.
:func:`figure_to_svg` turns a figure into an ``<svg>`` element to embed in HTML: text stays text
(``svg.fonttype='none'``) so that the browser renders any script with its own fonts and the file needs nothing
from the network.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Sequence
from html import escape

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from custml.plotting import CalibrationStyle, figure_and_axes, plot_calibration_curves

__all__ = [
    "CHART_FONTS",
    "PALETTE",
    "chart_style",
    "cjk_font_available",
    "figure_to_svg",
    "plot_bars",
    "plot_calibration",
    "plot_change",
    "plot_profit_curve",
    "plot_risk_histogram",
    "plot_value_risk_matrix",
]

# Fonts tried in order for chart text: a Latin font first, then CJK fonts (for Chinese labels).
CHART_FONTS: tuple[str, ...] = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "sans-serif",
)
PALETTE = {
    "primary": "#2b5c8a",
    "muted": "#9fb3c8",
    "risk": "#c8553d",
    "good": "#3a8f5c",
    "grid": "#e3e8ee",
    "text": "#1f2933",
    "subtle": "#52606d",
}
_RISK_CMAP = mpl.colormaps["YlOrRd"]


def cjk_font_available() -> bool:
    """Whether matplotlib knows one of the CJK fonts of :data:`CHART_FONTS` (for measuring Chinese labels)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return any(name in names for name in CHART_FONTS[1:-1])


def chart_style() -> dict[str, object]:
    """Matplotlib rc settings of the report's charts (use with ``matplotlib.rc_context``)."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": list(CHART_FONTS),
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.titlepad": 12,
        "axes.labelsize": 10,
        "axes.labelcolor": PALETTE["subtle"],
        "axes.edgecolor": PALETTE["grid"],
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": PALETTE["subtle"],
        "ytick.color": PALETTE["text"],
        "text.color": PALETTE["text"],
        "svg.fonttype": "none",
        "svg.hashsalt": "custml-report",
        "axes.unicode_minus": False,
    }


def _new_axes(ax: Axes | None, n_rows: int = 6, width: float = 7.0) -> tuple[Figure, Axes]:
    # Report charts grow with their number of rows; the figure is not registered with pyplot.
    return figure_and_axes(ax, (width, max(2.6, 0.9 + 0.34 * n_rows)), pyplot=False)


def _set_title(ax: Axes, title: str) -> None:
    """Title at the figure's left edge when the chart owns its figure (reads like a headline), else on the axes."""
    fig = ax.figure
    if len(fig.axes) == 1 and fig.get_suptitle() == "":
        fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold", color=PALETTE["text"])
    else:
        ax.set_title(title)


def risk_color(p: float) -> tuple[float, float, float, float]:
    """Colour of a churn probability: pale yellow (low) to dark red (high)."""
    return _RISK_CMAP(0.15 + 0.8 * float(np.clip(p, 0, 1)))


def plot_bars(
    values: pd.Series,
    *,
    title: str,
    axis_label: str,
    value_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    colors: Sequence[object] | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
    percent_axis: bool = False,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bars, one per index label (top to bottom in index order), each with its value written beside it.

    Parameters
    ----------
    values : Series
        Bar lengths indexed by display label.
    title, axis_label : str
        Chart title and value-axis label (with its unit).
    value_format : callable
        Formats the value shown at the end of each bar and on the axis.
    colors : sequence, optional
        One colour per bar (default: the primary colour).
    reference : float, optional
        Draws a dashed vertical line there (e.g. the overall average), labelled ``reference_label``.
    percent_axis : bool
        Values are shares in [0, 1]: the axis reads in percent.
    width : float
        Figure width in inches when ``ax`` is None (the height follows the number of bars).
    ax : Axes, optional

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_bars(pd.Series({"A": 3, "B": 5}), title="Customers", axis_label="Customers")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['A', 'B']
    """
    fig, ax = _new_axes(ax, len(values), width)
    y = np.arange(len(values))
    v = values.to_numpy(dtype=float)
    bars = ax.barh(y, v, color=list(colors) if colors is not None else PALETTE["primary"], height=0.66)
    ax.set_yticks(y, [str(i) for i in values.index])
    ax.invert_yaxis()
    _set_title(ax, title)
    ax.set_xlabel(axis_label)
    ax.grid(axis="x", color=PALETTE["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    top = max(float(np.nanmax(v)) if len(v) else 0.0, reference or 0.0, 1e-9)
    ax.set_xlim(min(0.0, float(np.nanmin(v)) if len(v) else 0.0), top * 1.22)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], min_n_ticks=3))
    if percent_axis:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: value_format(x)))
    for bar, val in zip(bars, v, strict=True):
        ax.annotate(
            value_format(val),
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=PALETTE["text"],
        )
    if reference is not None:
        _reference_line(ax, reference, reference_label, len(values))
    return fig


def _reference_line(ax: Axes, reference: float, label: str | None, n_bars: int) -> None:
    """A dashed vertical line at ``reference``, labelled in a free band above the first bar (not in a legend
    over the bars)."""
    ax.axvline(reference, color=PALETTE["subtle"], linestyle="--", linewidth=1.2)
    if label:
        ax.set_ylim(n_bars - 0.5, -1.3)
        ax.annotate(
            label,
            (reference, -0.95),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=PALETTE["subtle"],
        )


def plot_change(
    change: pd.Series,
    *,
    title: str,
    axis_label: str,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Diverging horizontal bars of a signed change per label (gains green, losses red).

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_change(pd.Series({"Loyal": 12, "Lost": -4}), title="Change", axis_label="Customers")
    >>> len(fig.axes[0].patches)
    2
    """
    fig, ax = _new_axes(ax, len(change), width)
    v = change.to_numpy(dtype=float)
    y = np.arange(len(v))
    colors = [PALETTE["good"] if x >= 0 else PALETTE["risk"] for x in v]
    ax.barh(y, v, color=colors, height=0.66)
    ax.set_yticks(y, [str(i) for i in change.index])
    ax.invert_yaxis()
    ax.axvline(0, color=PALETTE["subtle"], linewidth=1)
    _set_title(ax, title)
    ax.set_xlabel(axis_label)
    ax.grid(axis="x", color=PALETTE["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    span = max(float(np.abs(v).max()) if len(v) else 0.0, 1.0)
    ax.set_xlim(-span * 1.3, span * 1.3)
    for yi, x in zip(y, v, strict=True):
        ax.annotate(
            f"{x:+,.0f}",
            (x, yi),
            xytext=(4 if x >= 0 else -4, 0),
            textcoords="offset points",
            va="center",
            ha="left" if x >= 0 else "right",
            fontsize=9,
        )
    return fig


def plot_value_risk_matrix(
    matrix: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Heat map of customer counts: value tiers (rows) by churn-risk bands (columns), counts written in cells.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[5, 2], [1, 9]], index=["High", "Low"], columns=["Low risk", "High risk"])
    >>> fig = plot_value_risk_matrix(m, title="t", xlabel="x", ylabel="y")
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['1', '2', '5', '9']
    """
    fig, ax = _new_axes(ax, 5, width)
    data = matrix.to_numpy(dtype=float)
    vmax = max(float(data.max()) if data.size else 1.0, 1.0)
    ax.imshow(data, cmap="Blues", vmin=0, vmax=vmax * 1.15, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _set_title(ax, title)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for (i, j), val in np.ndenumerate(data):
        ax.text(
            j,
            i,
            f"{val:,.0f}",
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
            color="white" if val > 0.55 * vmax else PALETTE["text"],
        )
    return fig


def plot_risk_histogram(
    histogram: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    threshold: float | None = None,
    threshold_label: str | None = None,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Customers per churn-risk band (columns ``lower``, ``upper``, ``customers``), bars coloured by risk.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"lower": [0, .5], "upper": [.5, 1], "customers": [10, 4]})
    >>> len(plot_risk_histogram(h, title="t", xlabel="x", ylabel="y").axes[0].patches)
    2
    """
    fig, ax = _new_axes(ax, 7, width)
    lo = histogram["lower"].to_numpy(dtype=float)
    hi = histogram["upper"].to_numpy(dtype=float)
    n = histogram["customers"].to_numpy(dtype=float)
    mid = (lo + hi) / 2
    ax.bar(mid, n, width=(hi - lo) * 0.92, color=[risk_color(m) for m in mid], edgecolor="white")
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlim(0, 1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _set_title(ax, title)
    ax.grid(axis="y", color=PALETTE["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    top = max(float(n.max()) if len(n) else 1.0, 1.0)
    ax.set_ylim(0, top * 1.25)
    if threshold is not None:
        ax.axvline(threshold, color=PALETTE["risk"], linestyle="--", linewidth=1.2)
        if threshold_label:
            ax.annotate(
                threshold_label,
                (threshold, top * 1.18),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
                color=PALETTE["risk"],
            )
    for m, c in zip(mid, n, strict=True):
        if c > 0:
            ax.annotate(
                f"{c:,.0f}", (m, c), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8
            )
    return fig


def plot_calibration(
    calibration: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    model_label: str,
    perfect_label: str,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Predicted against observed churn per risk bin (columns ``mean_predicted``, ``observed_rate``, ``n``).

    Points are sized by the number of customers in the bin; the diagonal is perfect calibration.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"mean_predicted": [.1, .5, .9], "observed_rate": [.12, .45, .85], "n": [50, 30, 20]})
    >>> fig = plot_calibration(c, title="t", xlabel="x", ylabel="y", model_label="m", perfect_label="p")
    >>> len(fig.axes[0].lines)
    2
    """
    style = CalibrationStyle(
        diagonal={"linestyle": "--", "color": PALETTE["muted"], "linewidth": 1.2},
        curve={"color": PALETTE["primary"], "linewidth": 1.8, "marker": None},
        points={"color": PALETTE["primary"], "alpha": 0.85, "zorder": 3, "edgecolor": "white"},
        diagonal_first=True,
        percent_axes=True,
        grid={"color": PALETTE["grid"], "linewidth": 0.8},
        legend={"loc": "upper left", "frameon": False, "fontsize": 9},
    )
    fig, ax = _new_axes(ax, 9, width)
    plot_calibration_curves(
        {model_label: calibration},
        xlabel=xlabel,
        ylabel=ylabel,
        perfect_label=perfect_label,
        style=style,
        ax=ax,
    )
    _set_title(ax, title)
    return fig


def plot_health_history(
    history: pd.DataFrame,
    lines: Sequence[tuple[str, str, str]],
    *,
    title: str,
    ylabel: str,
    percent: bool = False,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Lines over scoring dates (``as_of``): one per ``(column, label, style)``, style ``solid``/``dashed``/``dotted``.

    Missing values leave gaps (a realised line stops where outcomes are not known yet).

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"as_of": pd.to_datetime(["2025-01-01", "2025-02-01"]), "a": [0.8, 0.8], "b": [0.79, None]})
    >>> fig = plot_health_history(h, [("a", "promised", "dashed"), ("b", "realised", "solid")], title="t", ylabel="y")
    >>> len(fig.axes[0].lines)
    2
    """
    fig, ax = _new_axes(ax, 6, width)
    x = pd.to_datetime(history["as_of"])
    colours = [PALETTE["subtle"], PALETTE["primary"], PALETTE["risk"]]
    for k, (col, label, style) in enumerate(lines):
        y = pd.to_numeric(history[col], errors="coerce").to_numpy(dtype=float)
        ax.plot(
            x, y, linestyle=style, marker="o", markersize=4, linewidth=1.8, color=colours[k % 3], label=label
        )
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_ylabel(ylabel)
    _set_title(ax, title)
    ax.grid(color=PALETTE["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="best", frameon=False, fontsize=9)
    fig.autofmt_xdate()
    return fig


def plot_profit_curve(
    curve: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    plan_share: float | None = None,
    plan_label: str = "",
    value_format: Callable[[float], str] | None = None,
    width: float = 5.2,
    ax: Axes | None = None,
) -> Figure:
    """Cumulative expected profit against the share of customers contacted (columns ``share``, ``profit``).

    ``plan_share`` draws the plan's budget line (the share it contacts).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"share": [0, 0.5, 1], "profit": [0.0, 40.0, -10.0]})
    >>> fig = plot_profit_curve(c, title="t", xlabel="x", ylabel="y", plan_share=0.5, plan_label="plan")
    >>> len(fig.axes[0].lines)
    3
    """
    fig, ax = _new_axes(ax, 8, width)
    x = curve["share"].to_numpy(dtype=float)
    y = curve["profit"].to_numpy(dtype=float)
    ax.plot(x, y, color=PALETTE["primary"], linewidth=1.8)
    ax.axhline(0, color=PALETTE["subtle"], linewidth=1)
    if plan_share is not None:
        ax.axvline(plan_share, color=PALETTE["good"], linestyle="--", linewidth=1.2, label=plan_label)
        ax.legend(loc="lower left", frameon=False, fontsize=9)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    if value_format is not None:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: value_format(v)))
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _set_title(ax, title)
    ax.grid(color=PALETTE["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    return fig


_SVG_HEAD = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_ID_ATTR = re.compile(r'(\bid="|url\(#|xlink:href="#|href="#)([A-Za-z_][\w.-]*)')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def figure_to_svg(fig: Figure, *, id_prefix: str = "c", title: str | None = None) -> str:
    """The figure as an inline ``<svg>`` element: no XML prologue, natural size in pt, ``viewBox``, ids prefixed.

    Ids are prefixed with ``id_prefix`` so that several charts in one HTML page never share an id; ``title``
    adds an accessible ``<title>``. Text is kept as text when the figure was drawn under :func:`chart_style`.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib import rc_context
    >>> with rc_context(chart_style()):
    ...     svg = figure_to_svg(plot_bars(pd.Series({"A": 1}), title="T", axis_label="n"), id_prefix="x1")
    >>> svg.startswith("<svg") and 'id="x1-' in svg and "<text" in svg
    True
    """
    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none"}), warnings.catch_warnings():
        # Without a CJK font matplotlib only measures Chinese text approximately; the browser draws it.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = _SVG_HEAD.sub("", buf.getvalue(), count=1)
    svg = _METADATA.sub("", svg)
    svg = _ID_ATTR.sub(lambda m: f"{m.group(1)}{id_prefix}-{m.group(2)}", svg)
    attrs = ' role="img" class="chart-svg" preserveAspectRatio="xMidYMid meet"'
    svg = svg.replace("<svg ", f"<svg{attrs} ", 1)
    if title:
        svg = re.sub(r"(<svg[^>]*>)", lambda m: f"{m.group(1)}<title>{escape(title)}</title>", svg, count=1)
    return svg.strip()
