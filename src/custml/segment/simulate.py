"""A fast feature-level simulator of customers with known personas, for tests and benchmarks of segmentation.

This is not the synthetic world (:mod:`custml.synth` simulates orders and events); it draws the *feature
table* directly from five persona-like groups with skewed, overlapping distributions, so that clustering can
be tested and benchmarked at 1M customers in seconds with a known truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PERSONA_NAMES", "simulate_segment_features"]

PERSONA_NAMES: tuple[str, ...] = ("bargain_hunter", "loyal_regular", "big_spender", "occasional", "one_timer")

# share, orders/year, expected lifetime (years), order value median, discount share (beta mean),
# app share, store share, email open, app sessions per 90 days, satisfaction mean
_PERSONAS = {
    "bargain_hunter": (0.22, 3.0, 1.5, 25.0, 0.7, 0.4, 0.05, 0.35, 6.0, 3.6),
    "loyal_regular": (0.14, 8.0, 4.0, 60.0, 0.1, 0.6, 0.2, 0.55, 15.0, 4.2),
    "big_spender": (0.07, 4.0, 3.0, 300.0, 0.05, 0.15, 0.45, 0.3, 6.0, 3.9),
    "occasional": (0.32, 2.0, 2.0, 50.0, 0.15, 0.1, 0.3, 0.2, 2.0, 3.8),
    "one_timer": (0.25, 1.0, 0.3, 40.0, 0.3, 0.05, 0.1, 0.08, 0.5, 3.5),
}


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float, size: int) -> np.ndarray:
    m = np.clip(mean, 0.01, 0.99)
    return rng.beta(m * concentration, (1 - m) * concentration, size=size)


def simulate_segment_features(
    n_customers: int, *, seed: int = 0, prospect_share: float = 0.0
) -> tuple[pd.DataFrame, pd.Series]:
    """Feature table (contract column names) and the true persona of each customer.

    Parameters
    ----------
    n_customers : int
        Number of rows.
    seed : int
        Random seed; the same seed gives the same frame.
    prospect_share : float
        Share of customers without orders (order features missing, persona ``"prospect"``).

    Returns
    -------
    (DataFrame, Series)
        Features with ``customer_id`` and the columns segmentation uses; persona per row.

    Examples
    --------
    >>> f, persona = simulate_segment_features(1000, seed=1)
    >>> len(f), sorted(persona.unique())[:2]
    (1000, ['bargain_hunter', 'big_spender'])
    """
    rng = np.random.default_rng(seed)
    names = list(_PERSONAS)
    table = np.array([_PERSONAS[p] for p in names])
    idx = rng.choice(len(names), size=n_customers, p=table[:, 0] / table[:, 0].sum())
    p = table[idx]
    n = n_customers
    h = _order_history(p, rng)
    recency, freq, start, orders_365 = h.recency, h.freq, h.start, h.orders_365
    disc = _beta(rng, p[:, 4], 12.0, n)
    app = _beta(rng, p[:, 5], 10.0, n)
    store = (1 - app) * _beta(rng, p[:, 6], 10.0, n)
    market = (1 - app - store) * _beta(rng, np.full(n, 0.25), 6.0, n)
    web = 1 - app - store - market
    open_rate = _beta(rng, p[:, 7], 15.0, n)
    sessions = rng.poisson(p[:, 8] * (recency < 180))
    complaints = rng.poisson(0.15 * np.minimum(orders_365, 10) / 3 + 0.02)
    satisfaction = np.clip(rng.normal(p[:, 9], 0.6, size=n), 1, 5)
    entropy = np.clip(np.log(np.minimum(freq, 8)) * _beta(rng, np.full(n, 0.7), 8.0, n), 0, None)
    features = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "recency_days": np.round(recency),
            "frequency_orders": freq.astype(float),
            "monetary_total": h.monetary_total,
            "monetary_mean": h.monetary_total / freq,
            "tenure_days": np.round(start),
            "orders_365d": orders_365,
            "revenue_365d": orders_365 * h.order_value,
            "gap_mean_days": h.gap,
            "discount_share_365d": np.where(orders_365 > 0, disc, np.nan),
            "category_entropy": entropy,
            "share_channel_app": app,
            "share_channel_store": store,
            "share_channel_web": web,
            "share_channel_marketplace": market,
            "complaints_365d": complaints.astype(float),
            "open_complaints": (rng.random(n) < 0.3 * (complaints > 0)).astype(float),
            "satisfaction_mean": np.where(rng.random(n) < 0.4, satisfaction, np.nan),
            "email_open_rate_90d": open_rate,
            "email_open_rate_365d": np.clip(open_rate + rng.normal(0, 0.03, size=n), 0, 1),
            "app_sessions_90d": sessions.astype(float),
            "app_sessions_365d": (sessions + rng.poisson(p[:, 8] * 3 * (recency < 365))).astype(float),
            "items_365d": orders_365 + rng.poisson(0.4 * orders_365),
        }
    )
    persona = pd.Series(np.asarray(names, dtype=object)[idx], name="persona")
    if prospect_share > 0:
        _make_prospects(features, persona, rng.random(n) < prospect_share)
    return features, persona


@dataclass(frozen=True)
class _History:
    """Each customer's order history at the cut-off (days before it; values in currency)."""

    start: np.ndarray  # the first order
    recency: np.ndarray  # the last order
    freq: np.ndarray
    gap: np.ndarray
    order_value: np.ndarray
    monetary_total: np.ndarray
    orders_365: np.ndarray


def _order_history(p: np.ndarray, rng: np.random.Generator) -> _History:
    """Orders over three years from each persona's rate, lifetime and order value (rows of ``p``)."""
    n = len(p)
    horizon = 3.0 * 365
    rate = rng.gamma(2.0, p[:, 1] / 2.0)  # orders per year
    lifetime = rng.exponential(p[:, 2]) * 365  # days active
    start = rng.uniform(0, horizon, size=n)  # days before cutoff of the first order
    active_days = np.minimum(lifetime, start)
    freq = 1 + rng.poisson(rate * active_days / 365)
    last = start - active_days * rng.beta(5, 1, size=n)  # recency of the last order
    recency = np.where(freq == 1, start, np.clip(last, 0, start))
    gap = np.where(freq > 1, (start - recency) / np.maximum(freq - 1, 1), np.nan)
    order_value = np.exp(np.log(p[:, 3]) + rng.normal(0, 0.35, size=n))
    monetary_total = order_value * freq * np.exp(rng.normal(0, 0.15, size=n))
    in_365 = np.clip((365 - recency) / np.maximum(start - recency, 1), 0, 1)
    orders_365 = np.where(recency <= 365, np.maximum(1, np.round(freq * np.minimum(1, in_365 + 0.1))), 0)
    return _History(start, recency, freq, gap, order_value, monetary_total, orders_365)


def _make_prospects(features: pd.DataFrame, persona: pd.Series, prospect: np.ndarray) -> None:
    """Customers without orders: order features missing (e-mail rates stay), persona ``"prospect"``."""
    order_cols = [c for c in features.columns if c != "customer_id" and not c.startswith("email_open_rate")]
    features.loc[prospect, order_cols] = np.nan
    persona[prospect] = "prospect"
