"""Labels: what happens in the horizon after a cutoff (churn: no order; repurchase: any order).

Both look only at non-refund orders. The population is decided by the history before the cutoff, the label by
the window ``[cutoff, cutoff + horizon)``, so features (strictly before the cutoff) and labels never overlap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custml.errors import SchemaError
from custml.features.sql import cutoff_literal
from custml.frames import isin

__all__ = [
    "DEFAULT_ACTIVE_DAYS",
    "churn_labels",
    "model_population",
    "horizon_from_repeat_gaps",
    "lapse_times",
    "order_events",
    "repeat_gaps",
    "repurchase_labels",
    "resolve_horizon_days",
]

#: The churn model's population: customers with an order in the last ``active_days`` before the cutoff.
DEFAULT_ACTIVE_DAYS = 365


def order_events(orders: pd.DataFrame) -> pd.DataFrame:
    """``customer_id`` and ``order_ts`` of the non-refund orders, checked (refund rows are dropped).

    Raises
    ------
    custml.errors.SchemaError
        If ``customer_id`` or ``order_ts`` is missing, or ``order_ts`` does not hold datetimes.
    """
    for col in ("customer_id", "order_ts"):
        if col not in orders.columns:
            raise SchemaError("orders", col, "required column is missing")
    if not pd.api.types.is_datetime64_any_dtype(orders["order_ts"].dtype):
        raise SchemaError(
            "orders",
            "order_ts",
            f"has dtype {orders['order_ts'].dtype}, expected datetimes (clean the data first)",
            len(orders),
        )
    keep = np.ones(len(orders), dtype=bool)
    if "is_refund" in orders.columns:
        keep &= ~orders["is_refund"].fillna(False).astype(bool).to_numpy()
    keep &= orders["customer_id"].notna().to_numpy()
    ts = orders["order_ts"]
    if getattr(ts.dtype, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DataFrame(
        {"customer_id": orders["customer_id"].astype(str).to_numpy()[keep], "order_ts": ts.to_numpy()[keep]}
    )


def _window_customers(events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Index:
    ts = events["order_ts"]
    return pd.Index(events.loc[(ts >= start) & (ts < end), "customer_id"].unique())


def _labels(population: pd.Index, positive: pd.Index, cutoff: pd.Timestamp, name: str) -> pd.DataFrame:
    ids = population.sort_values()
    return pd.DataFrame(
        {
            "customer_id": ids.astype(str).to_numpy(dtype=object),
            "cutoff": pd.Series(cutoff, index=range(len(ids)), dtype="datetime64[ns]"),
            name: isin(ids, positive),
        }
    ).astype({"customer_id": str})


def churn_labels(
    orders: pd.DataFrame,
    cutoff: object,
    horizon_days: int = 90,
    active_days: int = DEFAULT_ACTIVE_DAYS,
    *,
    window_start_days: int = 0,
) -> pd.DataFrame:
    """Churn label: among customers active at the cutoff, no order in the next ``horizon_days``.

    Active means at least one (non-refund) order in ``[cutoff - active_days, cutoff)``; churned means no order
    in ``[cutoff + window_start_days, cutoff + horizon_days)``: with ``window_start_days`` > 0, "lapsed by the
    end of the horizon" (orders early in the horizon do not count), the outcome an offer that delays leaving
    moves most.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``cutoff``, ``churned`` (bool), one row per active customer, sorted by id.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "order_ts": pd.to_datetime(["2025-09-01", "2025-10-15", "2025-08-01", "2023-01-01"])})
    >>> churn_labels(orders, "2025-10-01")
      customer_id     cutoff  churned
    0           a 2025-10-01    False
    1           b 2025-10-01     True
    """
    if horizon_days <= 0 or active_days <= 0:
        raise ValueError("horizon_days and active_days must be positive")
    if not 0 <= window_start_days < horizon_days:
        raise ValueError(f"window_start_days must be in [0, horizon_days), got {window_start_days}")
    cut, _ = cutoff_literal(cutoff)
    events = order_events(orders)
    active = _window_customers(events, cut - pd.Timedelta(days=active_days), cut)
    start = cut + pd.Timedelta(days=window_start_days)
    bought = _window_customers(events, start, cut + pd.Timedelta(days=horizon_days))
    out = _labels(active, bought, cut, "churned")
    out["churned"] = ~out["churned"]
    return out


def repurchase_labels(orders: pd.DataFrame, cutoff: object, horizon_days: int = 30) -> pd.DataFrame:
    """Repurchase label: among customers with an order before the cutoff, any order in the next ``horizon_days``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``cutoff``, ``repurchased`` (bool), one row per customer with order history.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-09-01", "2025-10-15", "2024-08-01"])})
    >>> repurchase_labels(orders, "2025-10-01")
      customer_id     cutoff  repurchased
    0           a 2025-10-01         True
    1           b 2025-10-01        False
    """
    if horizon_days <= 0:
        raise ValueError("horizon_days must be positive")
    cut, _ = cutoff_literal(cutoff)
    events = order_events(orders)
    history = pd.Index(events.loc[events["order_ts"] < cut, "customer_id"].unique())
    bought = _window_customers(events, cut, cut + pd.Timedelta(days=horizon_days))
    return _labels(history, bought, cut, "repurchased")


def repeat_gaps(orders: pd.DataFrame, cutoff: object | None = None) -> np.ndarray:
    """Days between consecutive purchase days of the same customer (non-refund orders before ``cutoff``).

    Several orders on one calendar day count as one purchase day, so a basket split in two is not a gap of 0.
    """
    events = order_events(orders)
    if cutoff is not None:
        cut, _ = cutoff_literal(cutoff)
        events = events[events["order_ts"] < cut]
    days = events.assign(day=events["order_ts"].dt.floor("D")).drop_duplicates(["customer_id", "day"])
    days = days.sort_values(["customer_id", "day"], kind="stable")
    gaps = days.groupby("customer_id", sort=False)["day"].diff().dt.days
    return gaps.dropna().to_numpy(dtype=float)


def horizon_from_repeat_gaps(
    orders: pd.DataFrame,
    quantile: float = 0.9,
    round_to_days: int = 30,
    cutoff: object | None = None,
    min_gaps: int = 100,
) -> int:
    """A churn horizon chosen from the data: the gap within which ``quantile`` of repeat purchases happen.

    The rule: take every gap between consecutive purchase days of the same customer (:func:`repeat_gaps`,
    before ``cutoff`` when given, so a horizon chosen for a cut-off sees no later data), its ``quantile``, and
    round it to the nearest ``round_to_days`` (a month), at least one. A customer silent for longer than that
    has stopped buying more often than any regular gap of the customers explains, so "no purchase within the
    horizon" reads as leaving rather than a normal pause.

    Raises
    ------
    custml.errors.SchemaError
        If fewer than ``min_gaps`` repeat purchases exist (too few to read a rhythm from).

    Examples
    --------
    >>> import pandas as pd
    >>> days = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-06-01"]  # gaps of 31, 28 and 92 days
    >>> orders = pd.DataFrame({"customer_id": [str(c) for c in range(50) for _ in days],
    ...     "order_ts": pd.to_datetime(days * 50)})
    >>> horizon_from_repeat_gaps(orders, min_gaps=10)
    90
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if round_to_days <= 0:
        raise ValueError("round_to_days must be positive")
    gaps = repeat_gaps(orders, cutoff)
    if len(gaps) < min_gaps:
        raise SchemaError(
            "orders",
            "order_ts",
            f"only {len(gaps)} repeat purchases: too few to choose a horizon from",
            len(orders),
        )
    q = float(np.quantile(gaps, quantile))
    return int(max(1, round(q / round_to_days)) * round_to_days)


def resolve_horizon_days(horizon: int | str, orders: pd.DataFrame, cutoff: object | None = None) -> int:
    """``horizon`` as days: an int as given, ``"auto"`` by :func:`horizon_from_repeat_gaps` (before ``cutoff``)."""
    if isinstance(horizon, str):
        if horizon != "auto":
            raise ValueError(f"horizon_days must be a number of days or 'auto', got {horizon!r}")
        return horizon_from_repeat_gaps(orders, cutoff=cutoff)
    if horizon <= 0:
        raise ValueError("horizon_days must be positive")
    return int(horizon)


def model_population(
    features: pd.DataFrame, task: str, active_days: int = DEFAULT_ACTIVE_DAYS
) -> pd.DataFrame:
    """The rows of a feature table that a model of ``task`` is trained on (the populations of the labels above).

    ``churn``: active customers, an order in the last ``active_days`` (``orders_<active_days>d > 0`` when the
    table has that window, else ``recency_days <= active_days``); ``repurchase``: at least one order. Used to
    compare like with like at scoring and monitoring time (see :func:`custml.features.build_training_set`).

    Examples
    --------
    >>> f = pd.DataFrame({"orders_365d": [0, 2], "recency_days": [900, 10], "frequency_orders": [3, 2]})
    >>> len(model_population(f, "churn")), len(model_population(f, "repurchase"))
    (1, 2)
    """
    window = f"orders_{active_days}d"
    if task == "churn":
        if window in features.columns:
            mask = pd.to_numeric(features[window], errors="coerce") > 0
        else:
            mask = pd.to_numeric(features["recency_days"], errors="coerce") <= active_days
    else:
        mask = pd.to_numeric(features["frequency_orders"], errors="coerce") > 0
    return features.loc[mask.fillna(False).to_numpy()]


def lapse_times(orders: pd.DataFrame, cutoff: object, data_end: object, gap_days: int = 90) -> pd.DataFrame:
    """Observable time to lapse after ``cutoff``: when a customer first goes ``gap_days`` without a purchase.

    The population is the customers not yet lapsed at the cutoff: a (non-refund) order in
    ``[cutoff - gap_days, cutoff)``. From their last order before the cutoff onwards, the lapse happens at the
    first order followed by a silence of more than ``gap_days`` (or by no order at all): at that order's time
    plus ``gap_days``. It is observed when that moment is at or before ``data_end``; otherwise the time is
    censored at ``data_end``. Durations are in days from the cutoff (a lapse can be seen as soon as
    ``gap_days`` after the last order, so an observed lapse lies in ``(0, gap_days]`` for a customer who never
    buys again). Orders after ``data_end`` are ignored, so a table of all orders gives the same answer as one
    cut at ``data_end``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``cutoff``, ``duration_days`` (float), ``lapsed`` (bool: observed, not censored),
        one row per customer of the population, sorted by id.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
    ...     "order_ts": pd.to_datetime(["2025-09-01", "2025-10-15", "2026-03-01", "2025-09-20", "2025-01-01"])})
    >>> lapse_times(orders, "2025-10-01", "2026-06-30", gap_days=90)
      customer_id     cutoff  duration_days  lapsed
    0           a 2025-10-01          104.0    True
    1           b 2025-10-01           79.0    True
    """
    if gap_days <= 0:
        raise ValueError("gap_days must be positive")
    cut, _ = cutoff_literal(cutoff)
    end, _ = cutoff_literal(data_end)
    if end <= cut:
        raise ValueError(f"data_end {end} must be after the cutoff {cut}")
    gap = pd.Timedelta(days=gap_days)
    events = order_events(orders)
    ts = events["order_ts"]
    events = events.loc[(ts >= cut - gap) & (ts <= end)]
    before = events.loc[events["order_ts"] < cut]
    last = before.groupby("customer_id", sort=True)["order_ts"].max().rename("last_ts")
    after = events.loc[events["order_ts"] >= cut]
    after = after.loc[isin(after["customer_id"], last.index)]
    seq = pd.concat([last.reset_index().rename(columns={"last_ts": "order_ts"}), after], ignore_index=True)
    seq = seq.sort_values(["customer_id", "order_ts"], kind="stable")
    nxt = seq.groupby("customer_id", sort=False)["order_ts"].shift(-1)
    stop = seq.loc[nxt.isna().to_numpy() | ((nxt - seq["order_ts"]) > gap).to_numpy()]
    first = stop.groupby("customer_id", sort=True)["order_ts"].min()
    lapse_ts = first + gap
    observed = lapse_ts <= end
    duration = (lapse_ts.where(observed, end) - cut) / pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "customer_id": first.index.astype(str).to_numpy(dtype=object),
            "cutoff": pd.Series(cut, index=range(len(first)), dtype="datetime64[ns]"),
            "duration_days": duration.to_numpy(dtype=float),
            "lapsed": observed.to_numpy(dtype=bool),
        }
    ).astype({"customer_id": str})
