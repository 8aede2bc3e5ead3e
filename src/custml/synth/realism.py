"""Realism statistics of a transactions table, to set a synthetic world next to real data such as CDNOW.

:func:`realism_metrics`: each customer is followed for ``window_weeks`` from their own first purchase (only
customers whose window fits before the data end count), and purchases on the same day count as one purchase
day, as in the BTYD literature.

The calendar statistics work on plain order frames (one row per order: customer and time), so they measure a
synthetic world, CDNOW and a real shop's invoices alike: :func:`monthly_order_index` (orders per complete month
over their mean), :func:`churn_base_rates` (the 90-day churn base rate among active customers at each cut-off,
the definition of ``custml.features.labels.churn_labels``; the synthetic world may not import features, and a
test checks both agree), :func:`seasonal_swing` (its change from September to December) and
:func:`repeat_gap_quantiles` (days between a customer's consecutive purchase days).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

__all__ = [
    "CalendarProfile",
    "calendar_profile",
    "calendar_table",
    "churn_base_rates",
    "invoice_orders",
    "load_cdnow",
    "monthly_cutoffs",
    "monthly_order_index",
    "realism_metrics",
    "realism_table",
    "repeat_gap_quantiles",
    "seasonal_swing",
]


def _order_events(transactions: pd.DataFrame, customer_col: str, ts_col: str) -> pd.DataFrame:
    """``c`` and ``ts`` of each row (one row per order), with the columns checked."""
    for col in (customer_col, ts_col):
        if col not in transactions.columns:
            raise ValueError(f"transactions: required column '{col}' is missing")
    ts = pd.to_datetime(transactions[ts_col])
    if getattr(ts.dtype, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    keep = transactions[customer_col].notna().to_numpy() & ts.notna().to_numpy()
    return pd.DataFrame({"c": transactions[customer_col].to_numpy()[keep], "ts": ts.to_numpy()[keep]}).astype(
        {"ts": "datetime64[ns]"}
    )


def monthly_order_index(
    transactions: pd.DataFrame,
    *,
    last_months: int | None = None,
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
) -> pd.Series:
    """Orders per calendar month over the mean of the complete months (1.0 = an average month).

    One row per order. A month counts only when the data cover it whole (from the first to the last order's
    day), so a file that starts on 1 December and ends on 9 December of the next year gives 12 months.
    ``last_months=12`` keeps the last twelve complete months: the season of one year, with less of the
    growth of a young shop in it.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": list("abcd"), "order_ts": pd.to_datetime(
    ...     ["2020-01-01", "2020-01-20", "2020-02-10", "2020-03-31"])})
    >>> monthly_order_index(tx).round(2).tolist()
    [1.5, 0.75, 0.75]
    """
    ev = _order_events(transactions, customer_col, ts_col)
    if ev.empty:
        raise ValueError("transactions: no orders to count")
    first, last = ev["ts"].min().normalize(), ev["ts"].max().normalize()
    month = ev["ts"].dt.to_period("M")
    counts = month.value_counts().sort_index()
    months = pd.period_range(first.to_period("M"), last.to_period("M"), freq="M")
    counts = counts.reindex(months, fill_value=0)
    whole = [m for m in months if m.start_time >= first and m.end_time.normalize() <= last]
    if not whole:
        raise ValueError(f"transactions: no complete calendar month between {first.date()} and {last.date()}")
    if last_months is not None:
        if last_months <= 0:
            raise ValueError(f"last_months must be positive, got {last_months}")
        whole = whole[-last_months:]
    counts = counts.loc[whole].astype(float)
    out = counts / counts.mean()
    out.index.name = "month"
    return out.rename("order_index")


def monthly_cutoffs(
    data_start: object, data_end: object, *, horizon_days: int = 90, history_days: int = 0
) -> list[pd.Timestamp]:
    """First days of the months ``c`` with ``c - history_days >= data_start`` and ``c + horizon_days`` within
    the data (``<= data_end`` + 1 day: the label window ``[c, c + horizon)`` is observed whole)."""
    start, end = pd.Timestamp(data_start), pd.Timestamp(data_end)
    first = (start + pd.Timedelta(days=history_days)).to_period("M").start_time
    if first < start + pd.Timedelta(days=history_days):
        first = (first.to_period("M") + 1).start_time
    months = pd.date_range(first, end, freq="MS")
    return [
        c for c in months if c + pd.Timedelta(days=horizon_days) <= end.normalize() + pd.Timedelta(days=1)
    ]


def churn_base_rates(
    transactions: pd.DataFrame,
    cutoffs: list[pd.Timestamp] | list[str],
    *,
    horizon_days: int = 90,
    active_days: int = 365,
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
) -> pd.DataFrame:
    """The churn base rate among active customers at each cut-off (the churn label's definition).

    Active: an order in ``[c - active_days, c)``; churned: no order in ``[c, c + horizon_days)``, as in
    ``custml.features.labels.churn_labels``. One row per order (refunds removed by the caller).

    Returns
    -------
    pandas.DataFrame
        ``cutoff``, ``active`` (customers), ``churned`` (of them), ``base_rate`` (churned / active).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "order_ts": pd.to_datetime(
    ...     ["2025-09-01", "2025-10-15", "2025-08-01", "2023-01-01"])})
    >>> churn_base_rates(tx, ["2025-10-01"])
          cutoff  active  churned  base_rate
    0 2025-10-01       2        1        0.5
    """
    if horizon_days <= 0 or active_days <= 0:
        raise ValueError("horizon_days and active_days must be positive")
    ev = _order_events(transactions, customer_col, ts_col)
    codes, uniques = pd.factorize(ev["c"])  # integer ids: set operations on strings are slow
    ts = ev["ts"].to_numpy()
    rows = []
    for cut in cutoffs:
        c = pd.Timestamp(cut)
        lo, hi = np.datetime64(c - pd.Timedelta(days=active_days)), np.datetime64(c)
        end = np.datetime64(c + pd.Timedelta(days=horizon_days))
        is_active = np.zeros(len(uniques), dtype=bool)
        is_active[codes[(ts >= lo) & (ts < hi)]] = True
        bought = np.zeros(len(uniques), dtype=bool)
        bought[codes[(ts >= hi) & (ts < end)]] = True
        active = np.flatnonzero(is_active)
        churned = int((~bought[active]).sum())
        rows.append((c, len(active), churned, churned / len(active) if len(active) else float("nan")))
    return pd.DataFrame(rows, columns=["cutoff", "active", "churned", "base_rate"]).astype(
        {"cutoff": "datetime64[ns]", "active": "int64", "churned": "int64", "base_rate": "float64"}
    )


def seasonal_swing(base_rates: pd.DataFrame, *, from_month: int = 9, to_month: int = 12) -> float:
    """Mean change of the base rate from the ``from_month`` cut-off to the next ``to_month`` cut-off.

    Pairs the cut-off in ``from_month`` of a year with the one in ``to_month`` that follows it (within a year);
    NaN when no pair is in ``base_rates`` (a frame of :func:`churn_base_rates`).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"cutoff": pd.to_datetime(["2024-09-01", "2024-12-01"]), "base_rate": [0.5, 0.7]})
    >>> round(seasonal_swing(r), 3)
    0.2
    """
    for col in ("cutoff", "base_rate"):
        if col not in base_rates.columns:
            raise ValueError(f"base_rates: required column '{col}' is missing")
    cut = pd.to_datetime(base_rates["cutoff"])
    rate = dict(zip(cut, base_rates["base_rate"], strict=True))
    diffs = []
    for c in cut[cut.dt.month == from_month]:
        later = [d for d in cut[cut.dt.month == to_month] if c < d <= c + pd.DateOffset(years=1)]
        if later:
            diffs.append(rate[min(later)] - rate[c])
    return float(np.mean(diffs)) if diffs else float("nan")


def repeat_gap_quantiles(
    transactions: pd.DataFrame,
    quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9),
    *,
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
) -> dict[str, float]:
    """Quantiles of the days between a customer's consecutive purchase days (same-day orders count once).

    Returns ``{"gap_p10": ..., "gap_p50": ..., "gaps": n}``; NaN quantiles when no customer bought twice.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"], "order_ts": pd.to_datetime(
    ...     ["2020-01-01", "2020-01-01", "2020-01-11", "2020-01-01", "2020-01-31"])})
    >>> repeat_gap_quantiles(tx, (0.5,))
    {'gap_p50': 20.0, 'gaps': 2.0}
    """
    ev = _order_events(transactions, customer_col, ts_col)
    days = ev.assign(day=ev["ts"].dt.floor("D")).drop_duplicates(["c", "day"]).sort_values(["c", "day"])
    gaps = (days.groupby("c")["day"].diff().dropna() / pd.Timedelta(days=1)).to_numpy(dtype=float)
    out = {
        f"gap_p{round(q * 100):02d}": float(np.quantile(gaps, q)) if len(gaps) else float("nan")
        for q in quantiles
    }
    return out | {"gaps": float(len(gaps))}


def realism_metrics(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
    amount_col: str = "net_amount",
    window_weeks: float = 78.0,
    repeat_weeks: float = 39.0,
    data_end: pd.Timestamp | str | None = None,
) -> dict[str, float]:
    """Repeat, frequency, gap and concentration statistics of purchase transactions.

    Returns ``customers`` (number followed), ``no_repeat_share`` (share with no repeat purchase day within
    ``repeat_weeks`` of their first purchase), ``orders_mean``, ``orders_median``, ``orders_p90``
    (purchase days per customer in the window), ``share_1_order``, ``share_2_3_orders``, ``share_4plus_orders``,
    ``median_gap_days`` (between consecutive purchase days), ``top20_revenue_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_ts": pd.to_datetime(
    ...     ["2020-01-01", "2020-01-11", "2020-01-02"]), "net_amount": [10.0, 10.0, 80.0]})
    >>> m = realism_metrics(tx, data_end="2022-01-01")
    >>> m["no_repeat_share"], m["median_gap_days"], m["top20_revenue_share"]
    (0.5, 10.0, 0.8)
    """
    for col in (customer_col, ts_col, amount_col):
        if col not in transactions.columns:
            raise ValueError(f"transactions: required column '{col}' is missing")
    tx = pd.DataFrame(
        {
            "c": transactions[customer_col].to_numpy(),
            "day": pd.to_datetime(transactions[ts_col]).dt.floor("D").to_numpy(),
            "amount": pd.to_numeric(transactions[amount_col]).to_numpy(dtype=float),
        }
    )
    days = tx.groupby(["c", "day"], as_index=False, sort=True)["amount"].sum()
    first = days.groupby("c")["day"].transform("min")
    end = pd.Timestamp(data_end) if data_end is not None else days["day"].max()
    window = pd.Timedelta(weeks=window_weeks)
    followed = days[first + window <= end + pd.Timedelta(days=1)]
    followed = followed[followed["day"] < first.loc[followed.index] + window]
    first_f = followed.groupby("c")["day"].transform("min")
    per = followed.groupby("c").agg(n=("day", "size"), revenue=("amount", "sum"))
    repeat = followed[
        (followed["day"] > first_f) & (followed["day"] < first_f + pd.Timedelta(weeks=repeat_weeks))
    ]
    has_repeat = per.index.isin(repeat["c"].unique())
    gaps = followed.groupby("c")["day"].diff().dropna() / pd.Timedelta(days=1)
    rev = np.sort(per["revenue"].to_numpy())[::-1]
    top = max(1, int(round(0.2 * len(rev))))
    return {
        "customers": float(len(per)),
        "no_repeat_share": float(1.0 - has_repeat.mean()) if len(per) else float("nan"),
        "orders_mean": float(per["n"].mean()),
        "orders_median": float(per["n"].median()),
        "orders_p90": float(per["n"].quantile(0.9)),
        "share_1_order": float((per["n"] == 1).mean()),
        "share_2_3_orders": float(per["n"].between(2, 3).mean()),
        "share_4plus_orders": float((per["n"] >= 4).mean()),
        "median_gap_days": float(np.median(gaps)) if len(gaps) else float("nan"),
        "top20_revenue_share": float(rev[:top].sum() / rev.sum()) if rev.sum() > 0 else float("nan"),
    }


def load_cdnow(text: str) -> pd.DataFrame:
    """Parse ``CDNOW_master.txt`` (header ``customer_id date number_of_cds dollar_value``) into a transactions frame."""
    from io import StringIO

    df = pd.read_csv(StringIO(text), sep=r"\s+", dtype={"customer_id": str, "date": str})
    return pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "order_ts": pd.to_datetime(df["date"], format="%Y%m%d"),
            "net_amount": df["dollar_value"].astype(float),
        }
    )


def realism_table(metrics: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Side-by-side table of several :func:`realism_metrics` results (columns = sources)."""
    return pd.DataFrame(metrics)


def invoice_orders(
    lines: pd.DataFrame,
    *,
    invoice_col: str = "Invoice",
    customer_col: str = "Customer ID",
    ts_col: str = "InvoiceDate",
) -> pd.DataFrame:
    """Invoice lines of a shop's export (such as ``online_retail_II``) -> one order per invoice.

    Cancellations (invoices starting with ``C``) and lines without a customer are dropped; an order's time is
    its invoice's first line time. Returns ``customer_id`` (str), ``order_id``, ``order_ts``, sorted by time.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"Invoice": ["1", "1", "C2", "3", "4"], "Customer ID": ["7.0", "7.0", "7.0", None, "8.0"],
    ...     "InvoiceDate": pd.to_datetime(["2010-01-02 10:00"] * 2 + ["2010-01-03 10:00"] * 3)})
    >>> invoice_orders(lines)
      customer_id order_id            order_ts
    0         7.0        1 2010-01-02 10:00:00
    1         8.0        4 2010-01-03 10:00:00
    """
    for col in (invoice_col, customer_col, ts_col):
        if col not in lines.columns:
            raise ValueError(f"invoice lines: required column '{col}' is missing")
    invoice = lines[invoice_col].astype(str)
    keep = lines[customer_col].notna() & ~invoice.str.startswith("C")
    kept = pd.DataFrame(
        {
            "order_id": invoice[keep].to_numpy(),
            "customer_id": lines.loc[keep, customer_col].astype(str).to_numpy(),
            "order_ts": pd.to_datetime(lines.loc[keep, ts_col]).to_numpy(),
        }
    )
    orders = kept.groupby("order_id", as_index=False, sort=False).agg(
        customer_id=("customer_id", "first"), order_ts=("order_ts", "min")
    )
    orders = orders.sort_values(["order_ts", "order_id"], kind="stable").reset_index(drop=True)
    return orders[["customer_id", "order_id", "order_ts"]]


class CalendarProfile(TypedDict):
    """The calendar statistics of one source (:func:`calendar_profile`)."""

    order_index: pd.Series
    base_rates: pd.DataFrame
    swing: float
    gaps: dict[str, float]


def calendar_profile(
    transactions: pd.DataFrame,
    *,
    history_days: int = 365,
    horizon_days: int = 90,
    last_months: int = 12,
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
) -> CalendarProfile:
    """The calendar statistics of one source (one row per order): what :func:`calendar_table` sets side by side.

    ``order_index``: :func:`monthly_order_index` of the last ``last_months`` complete months, indexed by
    calendar month (1-12); ``base_rates``: :func:`churn_base_rates` at the first of every month with
    ``history_days`` of data before it and the horizon inside the data (``history_days=0`` for a short
    export: the active window is then cut by the data start); ``swing``: :func:`seasonal_swing`;
    ``gaps``: :func:`repeat_gap_quantiles`.
    """
    ev = _order_events(transactions, customer_col, ts_col)
    tx = pd.DataFrame({"customer_id": ev["c"], "order_ts": ev["ts"]})
    idx = monthly_order_index(tx, last_months=last_months)
    cuts = monthly_cutoffs(
        ev["ts"].min().normalize(), ev["ts"].max(), horizon_days=horizon_days, history_days=history_days
    )
    rates = churn_base_rates(tx, cuts, horizon_days=horizon_days)
    return {
        "order_index": pd.Series(idx.to_numpy(), index=[m.month for m in idx.index], name="order_index"),
        "base_rates": rates,
        "swing": seasonal_swing(rates),
        "gaps": repeat_gap_quantiles(tx),
    }


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def calendar_table(profiles: dict[str, CalendarProfile]) -> dict[str, pd.DataFrame]:
    """Side-by-side tables of several :func:`calendar_profile` results (columns = sources).

    ``order_index``: rows Jan..Dec; ``base_rate``: the 90-day churn base rate by the calendar month of the
    cut-off (the mean when a source has that month in several years; blank when none); ``summary``: the
    November index, the September-to-December swing, the base rate's range over the cut-offs, the number of
    cut-offs, and the repeat-gap quantiles in days.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "b"] * 6, "order_ts": pd.date_range(
    ...     "2020-01-01", periods=24, freq="20D")})
    >>> t = calendar_table({"toy": calendar_profile(tx, history_days=0)})
    >>> sorted(t), t["order_index"].shape
    (['base_rate', 'order_index', 'summary'], (12, 1))
    """
    index, rates, summary = {}, {}, {}
    for name, prof in profiles.items():
        index[name] = prof["order_index"].reindex(range(1, 13))
        br = prof["base_rates"]
        by_month = br.groupby(pd.to_datetime(br["cutoff"]).dt.month)["base_rate"].mean()
        rates[name] = by_month.reindex(range(1, 13))
        summary[name] = {
            "november_index": float(prof["order_index"].get(11, np.nan)),
            "swing_sep_to_dec": prof["swing"],
            "base_rate_min": float(br["base_rate"].min()),
            "base_rate_max": float(br["base_rate"].max()),
            "cutoffs": float(len(br)),
        } | {k: v for k, v in prof["gaps"].items() if k != "gaps"}
    months = list(_MONTHS)
    return {
        "order_index": pd.DataFrame(index).set_axis(months, axis=0),
        "base_rate": pd.DataFrame(rates).set_axis(months, axis=0),
        "summary": pd.DataFrame(summary),
    }
