"""Realism statistics of a transactions table, to set a synthetic world next to real data such as CDNOW.

Each customer is followed for ``window_weeks`` from their own first purchase (only customers whose window fits
before the data end count), and purchases on the same day count as one purchase day, as in the BTYD
literature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["load_cdnow", "realism_metrics", "realism_table"]


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
