"""The churn outlook of a scoring: the model's expected rate for the coming horizon, beside what the calendar did.

A churn rate moves with the season (a real gift shop's 90-day rate went from 0.42 in September to 0.67 in
December), so a headline rate means little alone: :func:`churn_outlook` puts the model's expectation over its
own population (customers with a non-refund order in the last ``active_days``, the churn label's) beside the
realised rate of the same season a year earlier, when the data reaches back that far, and says when the
history is shorter than a year plus a horizon (no season of the year before is in the data).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custml.contracts import ChurnOutlook, SeasonRate
from custml.features.labels import DEFAULT_ACTIVE_DAYS, churn_labels, order_events
from custml.frames import isin

__all__ = ["YEAR_DAYS", "churn_outlook"]

#: A year of history: below it no cut-off of the same season lies in the data.
YEAR_DAYS = 365


def churn_outlook(
    scores: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: Any,
    horizon_days: int,
    *,
    active_days: int = DEFAULT_ACTIVE_DAYS,
) -> ChurnOutlook:
    """Expected churn over the coming horizon and the same season's realised rate a year earlier.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``customer_id`` and ``churn_probability`` (the keys of ``orders``).
    orders : pandas.DataFrame
        Clean orders (``customer_id``, ``order_ts``, optionally ``is_refund``), all of history.
    as_of : date-like
        The scoring date.
    horizon_days : int
        The churn model's horizon.

    Returns
    -------
    ChurnOutlook
        ``population`` (active customers scored), ``expected_rate`` (their mean churn probability, ``None``
        without any), ``horizon_days``, ``history_days`` (first order to ``as_of``), ``short_history``
        (less than a year plus a horizon of history: no season of the year before is observed), and
        ``same_season_last_year`` (``cutoff``, ``realised_rate``, ``population``) at ``as_of`` minus 365 days,
        or ``None`` when the data does not reach back that far.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b", "c"],
    ...     "order_ts": pd.to_datetime(["2024-06-01", "2024-06-01", "2024-10-20", "2025-09-25"])})
    >>> scores = pd.DataFrame({"customer_id": ["a", "b", "c"], "churn_probability": [0.9, 0.2, 0.4]})
    >>> out = churn_outlook(scores, orders, "2025-10-01", 90)
    >>> out.population, round(out.expected_rate, 2), out.same_season_last_year.realised_rate
    (2, 0.3, 0.5)
    """
    cut = pd.Timestamp(as_of)
    events = order_events(orders)  # non-refund orders with a customer, naive UTC: the churn label's events
    ts = events["order_ts"]
    before = (ts < cut).to_numpy()
    active_from = cut - pd.Timedelta(days=active_days)
    recent = events.loc[before & (ts >= active_from).to_numpy(), "customer_id"].unique()
    ids = scores["customer_id"].astype(str).to_numpy(dtype=object)
    in_population = isin(ids, recent)
    p = pd.to_numeric(scores["churn_probability"], errors="coerce").to_numpy()[in_population]
    p = p[~np.isnan(p)]
    first = ts[before].min() if before.any() else pd.NaT
    history = int((cut - first).days) if pd.notna(first) else 0
    out = ChurnOutlook(
        population=int(len(p)),
        expected_rate=float(p.mean()) if len(p) else None,
        horizon_days=int(horizon_days),
        history_days=history,
        short_history=history < YEAR_DAYS + horizon_days,
    )
    earlier = cut - pd.Timedelta(days=YEAR_DAYS)
    # The year-earlier rate needs a population with history of its own: at least a horizon before that cut-off.
    if pd.notna(first) and first <= earlier - pd.Timedelta(days=horizon_days):
        labels = churn_labels(events[before], earlier, horizon_days, active_days)
        if len(labels):
            out.same_season_last_year = SeasonRate(
                cutoff=earlier.date().isoformat(),
                realised_rate=float(labels["churned"].mean()),
                population=int(len(labels)),
            )
    return out
