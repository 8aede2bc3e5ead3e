"""Figures for segments and clusters; each function draws on ``ax`` (or a new figure) and returns the Figure.

Nothing here saves files or sets global matplotlib state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from custml.errors import SchemaError
from custml.plotting import figure_and_axes
from custml.segment.cluster import CustomerClusterer
from custml.segment.rules import RfmParams, rfm_grid_frame

__all__ = [
    "plot_cluster_profiles",
    "plot_cluster_projection",
    "plot_rfm_grid",
    "plot_segment_sizes",
]


def plot_segment_sizes(
    segments: pd.DataFrame,
    column: str = "rfm_segment",
    value: pd.Series | Sequence[float] | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bars: share of customers and (when ``value`` is given) share of value per segment.

    Parameters
    ----------
    segments : DataFrame
        Output of :func:`custml.segment.assign_segments` (or any frame with ``column``).
    column : str
        The label column to count (``rfm_segment``, ``value_tier``, ``lifecycle_stage``, ``cluster_name``...).
    value : array-like, optional
        Value per row (e.g. 12-month revenue) to show each segment's share of the total.
    """
    if column not in segments.columns:
        raise SchemaError("segments", column, "column to plot is missing")
    labels = segments[column].astype(str)
    share = labels.value_counts(normalize=True)
    fig, ax = figure_and_axes(ax, (7, 0.4 * len(share) + 1.5), pyplot=False)
    y = np.arange(len(share))
    height = 0.4 if value is not None else 0.7
    ax.barh(y, share.to_numpy(), height=height, label="customers", color="#4C72B0")
    if value is not None:
        val = pd.Series(np.asarray(value, dtype=float), index=segments.index).fillna(0.0)
        total = val.sum()
        vshare = (val.groupby(labels).sum() / total).reindex(share.index).fillna(0.0) if total else share * 0
        ax.barh(y + height, vshare.to_numpy(), height=height, label="value", color="#DD8452")
        ax.legend(loc="lower right")
    ax.set_yticks(y + (height / 2 if value is not None else 0), share.index)
    ax.invert_yaxis()
    ax.set_xlabel("share of total")
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0%}")
    ax.set_title(f"Customers{' and value' if value is not None else ''} by {column.replace('_', ' ')}")
    return fig


def plot_rfm_grid(
    segments: pd.DataFrame,
    value: pd.Series | Sequence[float] | None = None,
    *,
    params: RfmParams | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Heat map of the R x FM grid (R 5 at the top): customer count, or mean ``value``, per cell.

    Each cell is annotated with its segment name and number; prospects are left out.
    """
    for col in ("r_score", "f_score", "m_score"):
        if col not in segments.columns:
            raise SchemaError("segments", col, "column to plot is missing")
    scored = segments["r_score"].notna() & segments["f_score"].notna() & segments["m_score"].notna()
    r = segments.loc[scored, "r_score"].astype(int)
    fm = np.floor((segments.loc[scored, "f_score"].astype(float) + segments.loc[scored, "m_score"]) / 2 + 0.5)
    cell = pd.DataFrame({"R": r.to_numpy(), "FM": fm.astype(int).to_numpy()})
    if value is None:
        grid = cell.groupby(["R", "FM"]).size()
        what = "customers"
    else:
        cell["value"] = pd.Series(np.asarray(value, dtype=float), index=segments.index)[scored].to_numpy()
        grid = cell.groupby(["R", "FM"])["value"].mean()
        what = "mean value"
    mat = grid.unstack("FM").reindex(index=range(5, 0, -1), columns=range(1, 6))
    names = rfm_grid_frame(params)
    fig, ax = figure_and_axes(ax, (8, 6), pyplot=False)
    data = mat.to_numpy(dtype=float)
    im = ax.imshow(np.nan_to_num(data, nan=0.0), cmap="YlGnBu", aspect="auto")
    vmax = np.nanmax(data) if np.isfinite(data).any() else 0.0
    for i in range(5):
        for j in range(5):
            v = data[i, j]
            txt = "0" if np.isnan(v) else (f"{v:,.0f}")
            colour = "white" if vmax and not np.isnan(v) and v > 0.6 * vmax else "black"
            ax.text(j, i, f"{names.iat[i, j]}\n{txt}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(5), [str(c) for c in mat.columns])
    ax.set_yticks(range(5), [str(i) for i in mat.index])
    ax.set_xlabel("FM score (mean of F and M)")
    ax.set_ylabel("R score")
    ax.set_title(f"RFM grid: {what} per cell")
    fig.colorbar(im, ax=ax, label=what)
    return fig


def plot_cluster_profiles(
    profiles: pd.DataFrame,
    names: Mapping[int, str] | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Heat map of standardised medians (``z_*`` columns of :func:`cluster_profiles`), clusters x features."""
    zcols = [c for c in profiles.columns if c.startswith("z_")]
    if not zcols:
        raise SchemaError("profiles", "z_*", "no standardised-median columns to plot")
    z = profiles[zcols].astype(float)
    fig, ax = figure_and_axes(ax, (max(6, 0.55 * len(zcols) + 3), 0.55 * len(z) + 2), pyplot=False)
    lim = max(1.0, float(np.nanmax(np.abs(z.to_numpy()))))
    im = ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            ax.text(j, i, f"{z.iat[i, j]:.1f}", ha="center", va="center", fontsize=7)
    ylabels = []
    for cid in z.index:
        size = profiles.loc[cid, "share_customers"] if "share_customers" in profiles.columns else None
        label = names.get(int(cid), str(cid)) if names else f"cluster {cid}"
        ylabels.append(f"{label} ({size:.0%})" if size is not None else label)
    ax.set_yticks(range(len(z)), ylabels)
    ax.set_xticks(range(len(zcols)), [c[2:] for c in zcols], rotation=45, ha="right")
    ax.set_title("Cluster profiles: standardised medians (0 = population median)")
    fig.colorbar(im, ax=ax, label="standardised median")
    return fig


def plot_cluster_projection(
    clusterer: CustomerClusterer,
    features: pd.DataFrame,
    labels: Any = None,
    *,
    names: Mapping[int, str] | None = None,
    sample_size: int = 5_000,
    random_state: int | None = 0,
    ax: Axes | None = None,
) -> Figure:
    """2-D PCA projection of the clusterer's standardised features on a sample, coloured by cluster.

    ``labels`` defaults to ``clusterer.predict(features)``.
    """
    n = len(features)
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(n, size=min(sample_size, n), replace=False))
    sample = features.iloc[rows]
    Z = clusterer.preprocess(sample)
    lab = clusterer.predict(sample) if labels is None else np.asarray(labels)[rows]
    pca = PCA(n_components=2, random_state=random_state).fit(Z)
    P = pca.transform(Z)
    fig, ax = figure_and_axes(ax, (7, 6), pyplot=False)
    cmap = _colours(len(np.unique(lab)))
    for i, cid in enumerate(np.unique(lab)):
        m = lab == cid
        label = names.get(int(cid), str(cid)) if names else f"cluster {cid}"
        ax.scatter(P[m, 0], P[m, 1], s=4, alpha=0.5, color=cmap[i], label=label)
    ev = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
    ax.set_title(f"Clusters in 2-D (PCA of standardised features, {len(rows):,} customers)")
    ax.legend(markerscale=3, fontsize=7, loc="best")
    return fig


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]
