"""The shopping calendar: daily seasonality, promotion days and the cumulative purchase intensity per persona.

Time inside the simulator is measured in days since the world's start (float). The purchase intensity of a
person ``i`` of persona ``p`` while active is ``lambda_i * g_p(t)`` orders per year with
``g_p(t) = season_p(t) * (1 + kappa_p * promo(t) / 0.25)`` (``season_p = 1 + strength_p * (season - 1)``), piecewise constant per day. :func:`cumulative_intensity`
returns ``G_p(t) = integral_0^t g_p(u) du / 365.25`` at the day boundaries, so the expected number of orders in
``[a, b]`` is ``lambda_i * (G_p(b) - G_p(a))`` and order times are drawn by inverting ``G_p``. The simulator and
the oracle both use these functions, which makes the oracle exact for the simulated process.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custml.synth.params import WorldParams

__all__ = [
    "HORIZON_PAD_DAYS",
    "cumulative_intensity",
    "promo_depth",
    "seasonality",
    "window",
]

# The calendar extends past the data end so that the oracle can look 90 days ahead of any cutoff.
HORIZON_PAD_DAYS = 200

_SPRING_FESTIVAL = {
    2022: "2022-02-01",
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
    2028: "2028-01-26",
    2029: "2029-02-13",
    2030: "2030-02-03",
    2031: "2031-01-23",
    2032: "2032-02-11",
    2033: "2033-01-31",
    2034: "2034-02-19",
    2035: "2035-02-08",
}


def window(params: WorldParams) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """(start, data end (last second), number of calendar days including the padding)."""
    start = pd.Timestamp(params.start)
    end = start + pd.DateOffset(years=params.years) - pd.Timedelta(seconds=1)
    n_days = int(np.ceil((end - start) / pd.Timedelta(days=1))) + HORIZON_PAD_DAYS
    return start, end, n_days


def _days(params: WorldParams) -> pd.DatetimeIndex:
    start, _, n_days = window(params)
    return pd.date_range(start, periods=n_days, freq="D")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> pd.Timestamp:
    """n-th (1-based; -1 = last) given weekday (Mon=0) of a month."""
    days = pd.date_range(f"{year}-{month:02d}-01", periods=31, freq="D")
    days = days[(days.month == month) & (days.day_of_week == weekday)]
    return days[n - 1] if n > 0 else days[n]


def seasonality(params: WorldParams) -> np.ndarray:
    """Daily demand multiplier (mean 1 over the window), scaled by ``params.seasonality`` around 1."""
    days = _days(params)
    s = np.ones(len(days))
    month, dom = days.month.to_numpy(), days.day.to_numpy()
    # gentle weekly rhythm: weekends busier
    s *= np.where(days.day_of_week.to_numpy() >= 5, 1.12, 0.95)
    if params.monthly_demand is None:
        s *= np.where(month == 1, 0.85, 1.0) * np.where(month == 2, 0.9, 1.0)
    if params.monthly_demand is not None:  # a month-by-month profile instead of the holiday shape
        s *= np.asarray(params.monthly_demand, dtype=float)[month - 1]
    elif params.locale == "zh_CN":
        s *= np.where((month == 6) & (dom <= 18), 1.25, 1.0)
        s *= np.where((month == 11) & (dom <= 11), 1.35, 1.0)
        s *= np.where(month == 12, 1.1, 1.0)
        for year in sorted(set(days.year)):
            if year not in _SPRING_FESTIVAL:
                continue
            sf = pd.Timestamp(_SPRING_FESTIVAL[year])
            before = (days >= sf - pd.Timedelta(days=21)) & (days < sf - pd.Timedelta(days=3))
            holiday = (days >= sf - pd.Timedelta(days=3)) & (days < sf + pd.Timedelta(days=7))
            s *= np.where(before, 1.2, 1.0) * np.where(holiday, 0.5, 1.0)
    else:
        s *= np.where((month == 11) & (dom >= 15), 1.3, 1.0)
        s *= np.where((month == 12) & (dom <= 22), 1.55, 1.0)
        s *= np.where((month == 12) & (dom > 22), 1.15, 1.0)
    s = 1.0 + params.seasonality * (s - 1.0)
    return s / s.mean()


def promo_depth(params: WorldParams) -> np.ndarray:
    """Daily promotion discount depth (0 = no promotion; 0.25 = a quarter off sitewide)."""
    days = _days(params)
    depth = np.zeros(len(days))
    if not params.promotions:
        return depth

    def put(first: pd.Timestamp, n_days: int, d: float) -> None:
        m = (days >= first) & (days < first + pd.Timedelta(days=n_days))
        depth[m] = np.maximum(depth[m], d)

    for year in sorted(set(days.year)):
        if params.locale == "zh_CN":
            put(pd.Timestamp(f"{year}-03-07"), 2, 0.1)  # Women's Day
            put(pd.Timestamp(f"{year}-06-16"), 3, 0.2)  # 6.18
            put(pd.Timestamp(f"{year}-11-10"), 2, 0.3)  # Singles' Day 11.11
            put(pd.Timestamp(f"{year}-12-12"), 1, 0.15)  # 12.12
            put(pd.Timestamp(f"{year}-08-18"), 1, 0.1)  # mid-year anniversary sales
        else:
            put(pd.Timestamp(f"{year}-01-01"), 3, 0.15)  # New Year sale
            put(_nth_weekday(year, 5, 0, -1) - pd.Timedelta(days=2), 3, 0.15)  # Memorial Day weekend
            put(pd.Timestamp(f"{year}-07-11"), 2, 0.2)  # mid-July members' days
            put(_nth_weekday(year, 9, 0, 1) - pd.Timedelta(days=2), 3, 0.15)  # Labor Day weekend
            bf = _nth_weekday(year, 11, 3, 4) + pd.Timedelta(days=1)
            put(bf, 4, 0.25)  # Black Friday to Cyber Monday
            put(pd.Timestamp(f"{year}-12-26"), 2, 0.15)  # Boxing Day
    return depth


def intensity_multiplier(params: WorldParams) -> np.ndarray:
    """``g_p`` per persona (rows in ``params.personas`` order) and day."""
    s = seasonality(params)
    d = promo_depth(params)
    kappa = np.array([p.discount_sensitivity for p in params.personas.values()])
    strength = [p.season_strength for p in params.personas.values()]
    if all(a == 1.0 for a in strength):
        season = s[None, :]
    else:  # a persona's own swing around the calendar's mean of 1 (kept above a floor of 0.05)
        season = np.stack([s if a == 1.0 else np.maximum(1.0 + a * (s - 1.0), 0.05) for a in strength])
    return season * (1.0 + kappa[:, None] * d[None, :] / 0.25)


def cumulative_intensity(params: WorldParams) -> np.ndarray:
    """``G_p`` at day boundaries, shape (n_personas, n_days + 1), in years of base-rate exposure."""
    g = intensity_multiplier(params)
    out = np.zeros((g.shape[0], g.shape[1] + 1))
    np.cumsum(g / 365.25, axis=1, out=out[:, 1:])
    return out
