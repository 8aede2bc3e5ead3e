"""Checks of a fitted BTYD model against what happened next: the figures of the BG/NBD paper.

:func:`holdout_by_frequency` is the conditional-expectation check (mean predicted vs actual holdout purchases
per calibration frequency); :func:`cumulative_repeat_purchases` is the tracking plot (expected vs actual
cumulative repeat purchases of a cohort over calendar time). Both take any fitted model with the lifetimes-like
API of :mod:`custml.models.btyd`; the ``plot_*`` functions draw their tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from custml.errors import SchemaError
from custml.plotting import figure_and_axes

__all__ = [
    "cumulative_repeat_purchases",
    "holdout_accuracy",
    "holdout_by_frequency",
    "plot_cumulative_repeat_purchases",
    "plot_holdout_by_frequency",
]


def holdout_accuracy(actual: ArrayLike, predicted: Mapping[str, ArrayLike]) -> pd.DataFrame:
    """How well each model's expected holdout purchases match the actual ones, customer by customer.

    Parameters
    ----------
    actual : array-like
        Holdout purchases per customer.
    predicted : dict of str to array-like
        Expected holdout purchases per customer, by model name (same order as ``actual``).

    Returns
    -------
    DataFrame
        One row per model: ``mae`` and ``rmse`` per customer, ``total_expected`` vs ``total_actual`` and their
        ratio, and the Pearson ``correlation`` across customers.

    Examples
    --------
    >>> holdout_accuracy([0, 2, 4], {"a": [1.0, 2.0, 3.0]}).round(3).to_dict("records")
    [{'model': 'a', 'mae': 0.667, 'rmse': 0.816, 'total_expected': 6.0, 'total_actual': 6.0, 'ratio': 1.0, 'correlation': 1.0}]
    """
    y = np.asarray(actual, dtype=float)
    rows = []
    for name, values in predicted.items():
        p = np.asarray(values, dtype=float)
        if p.shape != y.shape:
            raise SchemaError("predictions", name, f"has shape {p.shape}, the actual purchases {y.shape}")
        rows.append(
            {
                "model": name,
                "mae": float(np.mean(np.abs(p - y))),
                "rmse": float(np.sqrt(np.mean((p - y) ** 2))),
                "total_expected": float(p.sum()),
                "total_actual": float(y.sum()),
                "ratio": float(p.sum() / y.sum()) if y.sum() else float("nan"),
                "correlation": float(np.corrcoef(p, y)[0, 1]) if len(y) > 1 else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def holdout_by_frequency(model: Any, summary: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases per calibration frequency (the last bucket is ``max+``).

    Parameters
    ----------
    model : fitted BetaGeoFitter or ParetoNBDFitter
        Fitted on ``summary``'s calibration columns (same time unit).
    summary : DataFrame
        ``rfm_summary(..., calibration_end=...)`` output: ``frequency``, ``recency``, ``T``,
        ``frequency_holdout``, ``duration_holdout``.
    max_frequency : int
        Frequencies at or above this are pooled.

    Returns
    -------
    DataFrame
        Indexed by ``frequency`` label ("0", "1", ..., "7+"): ``customers``, ``actual`` and ``predicted`` (means),
        ``actual_total`` and ``predicted_total``.

    Examples
    --------
    >>> import pandas as pd
    >>> from custml.models.btyd import BetaGeoFitter
    >>> s = pd.DataFrame({"frequency": [0, 1, 3, 0, 2], "recency": [0, 5.0, 20, 0, 9], "T": [30.0, 30, 31, 25, 28],
    ...                   "frequency_holdout": [0, 1, 2, 0, 1], "duration_holdout": 10.0})
    >>> bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    >>> holdout_by_frequency(bg, s, max_frequency=2)["customers"].tolist()
    [2, 1, 2]
    """
    for col in ("frequency", "recency", "T", "frequency_holdout", "duration_holdout"):
        if col not in summary.columns:
            raise SchemaError("rfm_summary", col, "is missing (use rfm_summary(..., calibration_end=...))")
    predicted = model.conditional_expected_number_of_purchases_up_to_time(
        summary["duration_holdout"].to_numpy(dtype=float),
        summary["frequency"].to_numpy(dtype=float),
        summary["recency"].to_numpy(dtype=float),
        summary["T"].to_numpy(dtype=float),
    )
    freq = summary["frequency"].to_numpy(dtype=np.int64)
    bucket = np.minimum(freq, max_frequency)
    df = pd.DataFrame(
        {
            "bucket": bucket,
            "actual": summary["frequency_holdout"].to_numpy(dtype=float),
            "predicted": predicted,
        }
    )
    g = df.groupby("bucket")
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "actual": g["actual"].mean(),
            "predicted": g["predicted"].mean(),
            "actual_total": g["actual"].sum(),
            "predicted_total": g["predicted"].sum(),
        }
    )
    out.index = [f"{b}+" if b == max_frequency else str(b) for b in out.index]
    out.index.name = "frequency"
    return out


def plot_holdout_by_frequency(table: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Actual vs predicted mean holdout purchases per calibration frequency (from :func:`holdout_by_frequency`)."""
    fig, ax = figure_and_axes(ax, (6, 4))
    x = np.arange(len(table))
    ax.plot(x, table["actual"], "o-", label="actual", color="black")
    ax.plot(x, table["predicted"], "s--", label="predicted", color="tab:blue")
    ax.set_xticks(x, table.index.astype(str))
    ax.set_xlabel("purchases in the calibration period (repeat days)")
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title(title or "Conditional expectations: holdout purchases")
    ax.legend()
    return fig


def cumulative_repeat_purchases(
    transactions: pd.DataFrame,
    model: Any,
    *,
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
    start: Any = None,
    end: Any = None,
    unit_days: float = 7.0,
) -> pd.DataFrame:
    """Actual and model-expected cumulative repeat purchases (transaction days) of a cohort, per time unit.

    Expected repeats by time ``t`` are ``sum_i E[X(t - s_i)]`` over customers with first purchase at ``s_i``
    (``model.expected_number_of_purchases_up_to_time``); actual repeats are transaction days after each
    customer's first one. Time is counted in units of ``unit_days`` (weeks) from ``start`` (default: the first
    purchase day) to ``end`` (default: the last).

    Returns
    -------
    DataFrame
        ``period`` (1, 2, ...), ``period_end`` (timestamp), ``actual`` and ``expected`` (cumulative).
    """
    for col in (customer_col, ts_col):
        if col not in transactions.columns:
            raise SchemaError("transactions", col, "is missing")
    day = pd.to_datetime(transactions[ts_col]).dt.normalize()
    days = pd.DataFrame({"c": transactions[customer_col].to_numpy(), "day": day.to_numpy()}).drop_duplicates()
    t0 = pd.Timestamp(start).normalize() if start is not None else days["day"].min()
    t1 = pd.Timestamp(end).normalize() if end is not None else days["day"].max()
    days = days[(days["day"] >= t0) & (days["day"] <= t1)]
    first = days.groupby("c")["day"].transform("min")
    repeat_day = days.loc[days["day"] > first, "day"]
    n_periods = int(np.ceil(((t1 - t0) / pd.Timedelta(days=1) + 1) / unit_days))
    period = ((repeat_day - t0) / pd.Timedelta(days=1) // unit_days).astype(np.int64)
    actual = np.cumsum(np.bincount(period, minlength=n_periods)[:n_periods])
    # end of each period, in units since start; customers enter at their first purchase day
    ends = np.arange(1, n_periods + 1, dtype=float)
    s = ((days.groupby("c")["day"].min() - t0) / pd.Timedelta(days=1)).to_numpy(dtype=float) / unit_days
    s_values, s_counts = np.unique(s, return_counts=True)
    expected = np.zeros(n_periods)
    for sv, cnt in zip(s_values, s_counts, strict=True):
        live = ends > sv
        if live.any():
            expected[live] += cnt * np.asarray(model.expected_number_of_purchases_up_to_time(ends[live] - sv))
    return pd.DataFrame(
        {
            "period": np.arange(1, n_periods + 1),
            "period_end": t0 + pd.to_timedelta(ends * unit_days, unit="D"),
            "actual": actual.astype(float),
            "expected": expected,
        }
    )


def plot_cumulative_repeat_purchases(
    table: pd.DataFrame, calibration_end: Any = None, ax: Any = None, title: str | None = None
) -> Any:
    """Tracking plot of :func:`cumulative_repeat_purchases`; a vertical line marks the calibration end."""
    fig, ax = figure_and_axes(ax, (7, 4))
    ax.plot(table["period_end"], table["actual"], color="black", label="actual")
    ax.plot(table["period_end"], table["expected"], "--", color="tab:blue", label="model")
    if calibration_end is not None:
        ax.axvline(pd.Timestamp(calibration_end), color="grey", linestyle=":", label="end of calibration")
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title(title or "Tracking cumulative repeat purchases")
    ax.legend()
    fig.autofmt_xdate()
    return fig
