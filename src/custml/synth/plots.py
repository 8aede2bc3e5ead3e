"""Figures of a synthetic world: order counts over calendar time and the dirt the generator put in.

Pure summaries (``order_counts``, ``dirt_summary``) return tables; the ``plot_*`` functions take ``ax=None``
and return the figure. Nothing here knows how a world is cleaned or modelled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custml.errors import SchemaError
from custml.plotting import figure_and_axes

__all__ = ["dirt_summary", "order_counts", "plot_order_counts"]


def order_counts(orders: pd.DataFrame, freq: str = "W", *, purchases_only: bool = True) -> pd.Series:
    """Number of orders per calendar period (``freq`` a pandas offset alias: "D", "W", "MS").

    Refund rows are left out when ``purchases_only``; unparseable timestamps (dirty worlds write text) are
    dropped. Periods without orders count 0.

    Examples
    --------
    >>> o = pd.DataFrame({"order_ts": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-03"]),
    ...                   "is_refund": [False, False, True]})
    >>> order_counts(o, "D").tolist()
    [1, 0, 1]
    """
    if "order_ts" not in orders.columns:
        raise SchemaError("orders", "order_ts", "is missing")
    rows = orders
    if purchases_only and "is_refund" in rows.columns:
        rows = rows[~rows["is_refund"].fillna(False).astype(bool)]
    ts = pd.to_datetime(rows["order_ts"], errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
    ts = ts.dropna()
    counts = ts.dt.to_period(freq).value_counts().sort_index()
    if len(counts):
        counts = counts.reindex(
            pd.period_range(counts.index.min(), counts.index.max(), freq=freq), fill_value=0
        )
    counts.index = counts.index.to_timestamp()
    counts.name = "orders"
    return counts.astype(np.int64)


def plot_order_counts(
    counts: pd.Series,
    ax: Any = None,
    *,
    label: str | None = None,
    marks: dict[str, str] | None = None,
    title: str | None = None,
) -> Any:
    """Line chart of :func:`order_counts`; ``marks`` maps a date to a text label drawn as a vertical line."""
    fig, ax = figure_and_axes(ax, (9, 3.5))
    ax.plot(counts.index, counts.to_numpy(), label=label, linewidth=1.2)
    for when, text in (marks or {}).items():
        ax.axvline(pd.Timestamp(when), color="grey", linestyle=":", linewidth=1)
        ax.annotate(text, (pd.Timestamp(when), 1.0), xycoords=("data", "axes fraction"), rotation=90,
                    va="top", ha="right", fontsize=8, color="grey")  # fmt: skip
    ax.set_ylabel("orders")
    ax.set_title(title or "Orders over time")
    if label:
        ax.legend()
    return fig


def dirt_summary(orders: pd.DataFrame, customers: pd.DataFrame, end: Any) -> pd.DataFrame:
    """Count the anomalies a dirty world carries, as a reader of the raw tables can see them.

    Returns one row per anomaly type (``anomaly``, ``table``, ``rows``, ``share``): unparseable and
    future-dated timestamps, timestamps with a zone offset, exactly repeated order rows, non-refund orders with a
    negative amount, invalid-looking e-mails, missing phones and birth dates.

    Examples
    --------
    >>> o = pd.DataFrame({"order_id": ["a", "a", "b"], "order_ts": ["2024-01-01 10:00:00"] * 2 + ["n/a"],
    ...                   "net_amount": [5.0, 5.0, -1.0], "is_refund": [False, False, False]})
    >>> c = pd.DataFrame({"email": ["x@y.org", "bad"], "phone": [None, "1"]})
    >>> dirt_summary(o, c, "2025-01-01").set_index("anomaly")["rows"].to_dict()["repeated order row"]
    1
    """
    text = orders["order_ts"].astype("string")
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
    offset = text.str.contains(r"[+\-]\d{2}:\d{2}$|Z$", regex=True, na=False)
    refund = orders["is_refund"].fillna(False).astype(bool) if "is_refund" in orders else False
    end_ts = pd.Timestamp(end)
    rows: list[tuple[str, str, int, int]] = [
        ("unparseable timestamp", "orders", int(parsed.isna().sum()), len(orders)),
        ("future timestamp", "orders", int((parsed > end_ts).sum()), len(orders)),
        ("timestamp with zone offset", "orders", int(offset.sum()), len(orders)),
        ("repeated order row", "orders", int(orders.duplicated().sum()), len(orders)),
        ("negative amount (not a refund)", "orders", int(((orders["net_amount"] < 0) & ~refund).sum()),
         len(orders)),
    ]  # fmt: skip
    if "email" in customers:
        email = customers["email"].astype("string")
        bad = email.notna() & ~email.str.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", na=False)
        rows.append(("invalid e-mail", "customers", int(bad.sum()), len(customers)))
    for col in ("phone", "birth_date"):
        if col in customers:
            rows.append((f"missing {col.replace('_', ' ')}", "customers", int(customers[col].isna().sum()),
                         len(customers)))  # fmt: skip
    out = pd.DataFrame(rows, columns=["anomaly", "table", "rows", "of"])
    out["share"] = out["rows"] / out["of"].where(out["of"] > 0, 1)
    return out.drop(columns="of")
