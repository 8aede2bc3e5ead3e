"""Transactions -> the per-customer RFM summary ``(frequency, recency, T, monetary_value)`` the BTYD models take.

Purchases are first collapsed to calendar days (several purchases by one customer on one day count as one
transaction day, their amounts are summed), the convention of the published CDNOW summaries. Then, per
customer:

- ``frequency``: number of repeat transaction days (transaction days minus one);
- ``recency``: time between the first and the last transaction day (``t_x``; 0 without repeats);
- ``T``: time between the first transaction day and the end of the (calibration) period;
- ``monetary_value``: mean value of the repeat transaction days, the first excluded (0 without repeats;
  only when an amount column is given).

With a calibration end the summary above describes the calibration period (transactions up to and including
that day) and three holdout columns describe the days after it up to the observation end:
``frequency_holdout`` (transaction days), ``monetary_value_holdout`` (mean value per transaction day, only with
an amount column) and ``duration_holdout`` (length of the holdout period). Only customers whose first
purchase falls in the calibration period are kept, as in ``lifetimes.utils.calibration_and_holdout_data``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custml.errors import ConfigError, SchemaError

__all__ = ["rfm_summary"]

# Length of one time unit in days. Months use the mean Gregorian month.
_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}


def _to_day(value: Any, tz: Any, name: str) -> pd.Timestamp:
    """Parse a cut-off date and align it with the time zone of the transaction timestamps."""
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ConfigError(f"{name} must be a date, got {value!r}")
    if tz is not None and stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    elif tz is None and stamp.tzinfo is not None:
        raise ConfigError(
            f"{name} is time-zone aware ({stamp.tzinfo}) but the transaction timestamps are naive"
        )
    elif tz is not None:
        stamp = stamp.tz_convert(tz)
    return stamp.normalize()


def _daily_summary(
    daily: pd.DataFrame, customer_col: str, end: pd.Timestamp, unit_days: float
) -> pd.DataFrame:
    """Per-customer frequency, recency, T and mean repeat value from one row per (customer, day)."""
    per = daily.groupby(customer_col, sort=True).agg(
        first=("_day", "min"),
        last=("_day", "max"),
        n_days=("_day", "size"),
        total=("_amount", "sum"),
        first_amount=("_amount", "first"),
    )
    one_day = pd.Timedelta(days=1)
    frequency = per["n_days"].to_numpy(dtype=np.int64) - 1
    repeat_value = (per["total"] - per["first_amount"]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_value / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": ((per["last"] - per["first"]) / one_day).to_numpy(dtype=float) / unit_days,
            "T": ((end - per["first"]) / one_day).to_numpy(dtype=float) / unit_days,
            "monetary_value": monetary,
        },
        index=per.index,
    )


def rfm_summary(
    transactions: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    amount_col: str | None,
    observation_end: Any,
    calibration_end: Any = None,
    freq: str = "W",
    freq_multiplier: float = 1,
) -> pd.DataFrame:
    """Summarise a transaction log into the per-customer RFM table the BTYD models take.

    The columns, and the holdout columns added with ``calibration_end``, are described in the module
    docstring (:mod:`custml.models.btyd.rfm`).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase. Not modified.
    customer_col, ts_col : str
        Customer identifier and purchase timestamp columns.
    amount_col : str or None
        Purchase value column, or ``None`` to skip ``monetary_value``.
    observation_end : date-like
        Last observed day, inclusive (time of day is ignored). Later transactions are dropped.
    calibration_end : date-like, optional
        Last day of the calibration period, inclusive; must be before ``observation_end``.
    freq : {"W", "D", "M"}
        Time unit of the durations: weeks, days or mean months (365.25/12 days). Timestamps are never truncated
        to the unit (unlike ``lifetimes``): CDNOW customer 1 has recency 30.43 weeks, T 38.86 weeks.
    freq_multiplier : float
        Further divides durations (``freq="D", freq_multiplier=7`` equals ``freq="W"``), for lifetimes parity.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer (index name ``customer_col``), sorted by customer.

    Raises
    ------
    custml.errors.SchemaError
        (a ``ValueError``) when a column is missing, holds nulls or unparseable timestamps, or no transaction
        falls in the observed period.
    custml.errors.ConfigError
        (a ``ValueError``) on an unknown ``freq`` or inconsistent dates.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"]),
    ...     "net_amount": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> summary = rfm_summary(tx, "customer_id", "order_ts", "net_amount", observation_end="2024-01-29")
    >>> summary.reset_index()
      customer_id  frequency  recency    T  monetary_value
    0           a          1      2.0  4.0            20.0
    1           b          0      0.0  3.0             0.0
    """
    unit_days = _validated_unit_days(transactions, customer_col, ts_col, amount_col, freq, freq_multiplier)
    frame, tz = _purchases(transactions, customer_col, ts_col, amount_col)
    end, cal_end = _period_ends(observation_end, calibration_end, tz)
    frame = frame.loc[frame["_day"] <= end]
    # One row per customer and day: same-day purchases are one transaction day.
    daily = frame.groupby([customer_col, "_day"], sort=True, as_index=False)["_amount"].sum()
    calibration = daily if cal_end is None else daily.loc[daily["_day"] <= cal_end]
    if calibration.empty:
        last = cal_end if cal_end is not None else end
        raise SchemaError("transactions", ts_col, f"has no transaction on or before {last.date()}")

    summary = _daily_summary(calibration, customer_col, cal_end if cal_end is not None else end, unit_days)
    summary["frequency"] = summary["frequency"].astype(np.int64)
    if cal_end is not None:
        _add_holdout_columns(summary, daily, customer_col, cal_end, end, unit_days, amount_col is not None)
    if amount_col is None:
        summary = summary.drop(columns="monetary_value")
    summary.index.name = customer_col
    summary.columns.name = None
    return summary


def _period_ends(
    observation_end: Any, calibration_end: Any, tz: Any
) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    """The observation end and the calibration end (or ``None``) as days in the timestamps' time zone."""
    end = _to_day(observation_end, tz, "observation_end")
    cal_end = _to_day(calibration_end, tz, "calibration_end") if calibration_end is not None else None
    if cal_end is not None and not cal_end < end:
        raise ConfigError(f"calibration_end ({cal_end.date()}) must be before observation_end ({end.date()})")
    return end, cal_end


def _validated_unit_days(
    transactions: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    amount_col: str | None,
    freq: str,
    freq_multiplier: float,
) -> float:
    """Check the columns and the time unit of :func:`rfm_summary`; return the unit's length in days."""
    needed = [customer_col, ts_col] + ([amount_col] if amount_col is not None else [])
    for col in needed:
        if col not in transactions.columns:
            raise SchemaError("transactions", col, "is missing")
    if freq not in _UNIT_DAYS:
        raise ConfigError(f"freq must be one of {sorted(_UNIT_DAYS)}, got {freq!r}")
    if not freq_multiplier > 0:
        raise ConfigError(f"freq_multiplier must be positive, got {freq_multiplier!r}")
    for col in needed:
        n_null = int(transactions[col].isna().sum())
        if n_null:
            raise SchemaError("transactions", col, "has null values", n_rows=n_null)
    return _UNIT_DAYS[freq] * float(freq_multiplier)


def _purchases(
    transactions: pd.DataFrame, customer_col: str, ts_col: str, amount_col: str | None
) -> tuple[pd.DataFrame, Any]:
    """Customer, purchase day (``_day``) and amount (``_amount``, 0 without ``amount_col``); and the time zone."""
    try:
        stamps = pd.to_datetime(transactions[ts_col])
    except (ValueError, TypeError) as exc:
        raise SchemaError("transactions", ts_col, f"cannot be parsed as timestamps ({exc})") from exc
    frame = pd.DataFrame(
        {
            customer_col: transactions[customer_col].to_numpy(),
            "_day": stamps.dt.normalize().array,  # .array keeps a time zone if there is one
            "_amount": (
                pd.to_numeric(transactions[amount_col]).to_numpy(dtype=float)
                if amount_col is not None
                else np.zeros(len(transactions))
            ),
        }
    )
    return frame, stamps.dt.tz


def _add_holdout_columns(
    summary: pd.DataFrame,
    daily: pd.DataFrame,
    customer_col: str,
    cal_end: pd.Timestamp,
    end: pd.Timestamp,
    unit_days: float,
    with_amount: bool,
) -> None:
    """Add ``frequency_holdout`` (, ``monetary_value_holdout``) and ``duration_holdout`` to ``summary`` in place."""
    holdout = daily.loc[daily["_day"] > cal_end]
    per = holdout.groupby(customer_col, sort=True)["_amount"].agg(["size", "sum"])
    per = per.reindex(summary.index)
    n_days = per["size"].fillna(0).to_numpy(dtype=np.int64)
    summary["frequency_holdout"] = n_days
    if with_amount:
        totals = per["sum"].fillna(0.0).to_numpy(dtype=float)
        summary["monetary_value_holdout"] = np.where(n_days > 0, totals / np.maximum(n_days, 1), 0.0)
    summary["duration_holdout"] = ((end - cal_end) / pd.Timedelta(days=1)) / unit_days
