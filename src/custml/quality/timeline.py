"""Where the data ends, robust to typos: timestamps after the current date or far beyond the bulk do not count.

Real exports carry the odd date typo (an order dated 2099, a year written 2201 for 2021). Taking the latest
timestamp as the data's end would move every default (the as-of date, the training window) to that typo.
:func:`infer_data_end` leaves out two kinds of timestamps, each with a rule one can check by hand:

- **after the current date** (plus :data:`FUTURE_TOLERANCE`, for clocks and time zones): no export holds
  orders from the future; the quality stage quarantines them as ``future_timestamp``;
- **an isolated far outlier**: at most :data:`OUTLIER_SHARE` of the values (at least one) that lie more than
  :data:`OUTLIER_GAP` after every other value (a column of at least :data:`OUTLIER_MIN_VALUES` values).

The end is the latest of the other values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "FUTURE_TOLERANCE",
    "OUTLIER_GAP",
    "OUTLIER_MIN_VALUES",
    "OUTLIER_SHARE",
    "DataEnd",
    "infer_data_end",
    "wall_clock_ceiling",
]

FUTURE_TOLERANCE = pd.Timedelta(days=1)
OUTLIER_GAP = pd.Timedelta(days=365)
OUTLIER_SHARE = 0.001
OUTLIER_MIN_VALUES = 100


@dataclass(frozen=True)
class DataEnd:
    """The last plausible timestamp of a column and the values left out to find it."""

    end: pd.Timestamp | None
    """Latest timestamp that is neither after the current date nor an isolated far outlier (naive UTC)."""
    after_now: int = 0
    """Values later than the current date plus the tolerance."""
    outliers: int = 0
    """Values more than :data:`OUTLIER_GAP` after all the others (and few)."""
    first_left_out: pd.Timestamp | None = None
    """The earliest value left out (an example for the message)."""

    @property
    def left_out(self) -> int:
        return self.after_now + self.outliers

    def note(self, where: str) -> str | None:
        """One line saying what was left out of ``where`` (e.g. ``orders.order_ts``), or None."""
        if not self.left_out:
            return None
        parts = []
        if self.after_now:
            parts.append(f"{self.after_now:,} after the current date")
        if self.outliers:
            parts.append(f"{self.outliers:,} more than {OUTLIER_GAP.days} days after all others")
        end = "" if self.end is None else f"; the data end is taken as {self.end}"
        return (
            f"{where}: {self.left_out:,} timestamp(s) left out when inferring where the data ends "
            f"({', '.join(parts)}; e.g. {self.first_left_out}){end}"
        )


def _naive_utc(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def wall_clock_ceiling(now: pd.Timestamp, tolerance: pd.Timedelta = FUTURE_TOLERANCE) -> pd.Timestamp:
    """The latest timestamp a real export can hold: ``now`` (naive UTC, to the second) plus ``tolerance``."""
    return _naive_utc(now).floor("s") + tolerance


def infer_data_end(
    values: pd.Series, now: pd.Timestamp | None, tolerance: pd.Timedelta = FUTURE_TOLERANCE
) -> DataEnd:
    """The last plausible timestamp of ``values`` (parsed timestamps; nulls ignored; aware ones read as UTC).

    ``now`` None skips the current-date rule (clean tables, already checked; a generated world in the future).

    Examples
    --------
    >>> ts = pd.Series(pd.date_range("2011-01-01", "2011-12-09", periods=500).tolist() + ["2099-01-01"])
    >>> d = infer_data_end(pd.to_datetime(ts), now=pd.Timestamp("2026-12-02"))
    >>> str(d.end.date()), d.after_now, d.outliers
    ('2011-12-09', 1, 0)
    >>> ts = pd.Series(pd.date_range("2011-01-01", "2011-12-09", periods=500).tolist() + ["2021-05-01"])
    >>> d = infer_data_end(pd.to_datetime(ts), now=pd.Timestamp("2026-12-02"))
    >>> str(d.end.date()), d.after_now, d.outliers
    ('2011-12-09', 0, 1)
    """
    ts = pd.to_datetime(values, errors="coerce", utc=True).dropna().dt.tz_localize(None)
    future = ts > wall_clock_ceiling(now, tolerance) if now is not None else pd.Series(False, index=ts.index)
    rest = ts[~future].sort_values(ignore_index=True)
    excluded = list(ts[future])
    n_outliers = 0
    n = len(rest)
    if n >= OUTLIER_MIN_VALUES:
        k = max(1, int(n * OUTLIER_SHARE))
        tail = rest.iloc[n - k - 1 :]
        gaps = tail.diff().iloc[1:]
        big = gaps[gaps > OUTLIER_GAP]
        if len(big):
            cut = int(big.index[0])  # the first value after the first big gap, and everything after it
            n_outliers = n - cut
            excluded += list(rest.iloc[cut:])
            rest = rest.iloc[:cut]
    end = pd.Timestamp(rest.iloc[-1]) if len(rest) else None
    first = min(excluded) if excluded else None
    return DataEnd(end, int(future.sum()), n_outliers, first)
