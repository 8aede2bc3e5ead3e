"""Test data for the modelling code: a small simulated customer-x-cut-off training table with known probabilities.

Like ``pandas._testing`` or ``sklearn.utils._testing``, a helper for tests, doctests and benchmarks, not a
stage: it sits above ``custml.models`` (its cut-offs are those of ``custml.models.split.plan_cutoffs``), so it
cannot live in ``custml.synth``, which imports no later stage, and ``custml.models`` never imports it.
Without the full synthetic world: customers buy at a
Poisson rate while alive and drop out at an exponential time (Pareto/NBD-like); complaints are more
frequent among customers prone to drop out. Features are computed from purchases strictly before each
cut-off, labels from the horizon after it, and ``oracle_probability`` from the latent state at the cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custml.models.params import DEFAULT_HORIZON_DAYS, DEFAULT_VALIDATION_CUTOFFS
from custml.models.split import plan_cutoffs

__all__ = ["synthetic_snapshot_table", "synthetic_training_table"]

_REGIONS = np.array(["north", "south", "east", "west"])
_CHANNELS = np.array(["organic", "paid_search", "social", "referral"])


def synthetic_training_table(
    n_customers: int = 3000,
    task: str = "churn",
    n_train_cutoffs: int = 4,
    step_days: int = 30,
    seed: int = 0,
    n_validation_cutoffs: int | None = None,
) -> pd.DataFrame:
    """Simulate customers and return features + ``label`` + ``oracle_probability`` over planned cut-offs.

    The cut-offs are those of :func:`custml.models.split.plan_cutoffs` for the task's horizon (with
    ``n_validation_cutoffs`` defaulting to the task's default, ``DEFAULT_VALIDATION_CUTOFFS``), so that
    :func:`custml.models.split.time_split` drops none.

    Examples
    --------
    >>> df = synthetic_training_table(300, seed=1)
    >>> sorted(df["cutoff"].dt.date.astype(str).unique())[-1]
    '2025-10-01'
    >>> set(df["label"].unique()) <= {0, 1}
    True
    """
    rng = np.random.default_rng(seed)
    horizon = DEFAULT_HORIZON_DAYS[task]
    if n_validation_cutoffs is None:
        n_validation_cutoffs = DEFAULT_VALIDATION_CUTOFFS[task]
    plan = plan_cutoffs(
        "2025-10-01", horizon, n_train_cutoffs, step_days, n_validation_cutoffs=n_validation_cutoffs
    )
    origin = pd.Timestamp("2023-01-01")
    cut_days = np.array([(c - origin).days for c in plan.all], dtype=float)
    people, events = _simulate_people(n_customers, cut_days[-1], cut_days[-1] + horizon, rng)
    frames = [_cutoff_rows(people, events, c, origin, horizon, task, rng) for c in cut_days]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class _People:
    """The simulated customers' latent parameters (one value per customer)."""

    region: np.ndarray
    channel: np.ndarray
    lam: np.ndarray  # purchases per day while alive
    mu: np.ndarray  # dropout hazard per day
    death: np.ndarray  # day of dropout


def _simulate_people(
    n_customers: int, last_cut: float, end_day: float, rng: np.random.Generator
) -> tuple[_People, pd.DataFrame]:
    """Customers and their purchases (``cid``, ``day``, ``amount``): first at sign-up, then Poisson(lam) until
    dropout or the end of the window."""
    region = rng.choice(_REGIONS, n_customers)
    channel = rng.choice(_CHANNELS, n_customers)
    region_effect = pd.Series({"north": 1.2, "south": 0.9, "east": 1.0, "west": 0.8})[region].to_numpy()
    lam = rng.gamma(1.5, 1.0 / 45.0, n_customers) * region_effect
    mu = rng.gamma(1.2, 1.0 / 500.0, n_customers)
    spend_mean = rng.gamma(4.0, 12.0, n_customers)
    start = rng.uniform(0, last_cut - 30, n_customers)
    death = start + rng.exponential(1.0 / mu)
    stop = np.minimum(death, end_day)
    n_more = rng.poisson(lam * np.maximum(stop - start, 0))
    cid = np.repeat(np.arange(n_customers), n_more)
    t = start[cid] + rng.uniform(0, 1, n_more.sum()) * (stop - start)[cid]
    cid = np.concatenate([np.arange(n_customers), cid])
    t = np.floor(np.concatenate([start, t]))
    amount = rng.gamma(3.0, spend_mean[cid] / 3.0)
    events = pd.DataFrame({"cid": cid, "day": t, "amount": amount}).sort_values(["cid", "day"], kind="stable")
    return _People(region, channel, lam, mu, death), events


def _cutoff_rows(
    people: _People,
    events: pd.DataFrame,
    c: float,
    origin: pd.Timestamp,
    horizon: int,
    task: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Features, label and oracle probability at cut-off day ``c`` of the customers active in the year before
    it; complaints are a Poisson count over the 90 days, more likely for dropout-prone customers."""
    lam, mu = people.lam, people.mu
    past = events[events["day"] < c]
    g = past.groupby("cid")
    per = g.agg(first=("day", "min"), last=("day", "max"), n=("day", "size"), total=("amount", "sum"))
    per["n_days"] = g["day"].nunique()
    per["first_amount"] = past.drop_duplicates("cid").set_index("cid")["amount"]
    recent = past[past["day"] >= c - 90].groupby("cid")
    per["orders_90d"] = recent.size()
    per["revenue_90d"] = recent["amount"].sum()
    per = per[(c - per["last"]) <= 365].fillna({"orders_90d": 0, "revenue_90d": 0.0})
    ids = per.index.to_numpy()
    alive = people.death[ids] > c
    future = events[(events["day"] >= c) & (events["day"] < c + horizon)]
    bought = np.isin(ids, future["cid"].unique())
    # True probability of no purchase in (c, c + h] given the latent state (memoryless dropout).
    rate = lam[ids] + mu[ids]
    p_none_alive = mu[ids] / rate * (1 - np.exp(-rate * horizon)) + np.exp(-rate * horizon)
    p_none = np.where(alive, p_none_alive, 1.0)
    complaints = rng.poisson(mu[ids] * 90 * 10)
    gaps = np.where(
        per["n_days"] > 1, (per["last"] - per["first"]) / np.maximum(per["n_days"] - 1, 1), np.nan
    )
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in ids],
            "cutoff": origin + pd.Timedelta(days=float(c)),
            "recency_days": c - per["last"].to_numpy(),
            "frequency_orders": per["n"].to_numpy(),
            "monetary_total": per["total"].to_numpy(),
            "monetary_mean": (per["total"] / per["n"]).to_numpy(),
            "tenure_days": c - per["first"].to_numpy(),
            "orders_90d": per["orders_90d"].to_numpy(),
            "revenue_90d": per["revenue_90d"].to_numpy(),
            "gap_mean_days": gaps,
            "overdue_ratio": (c - per["last"].to_numpy()) / gaps,
            "complaints_90d": complaints,
            "noise_1": rng.normal(size=len(ids)),
            "region": pd.Categorical(people.region[ids], categories=_REGIONS),
            "acquisition_channel": pd.Categorical(people.channel[ids], categories=_CHANNELS),
            "btyd_frequency": per["n_days"].to_numpy() - 1,
            "btyd_recency_days": (per["last"] - per["first"]).to_numpy(),
            "btyd_T_days": c - per["first"].to_numpy(),
            "btyd_monetary": np.where(
                per["n"] > 1, (per["total"] - per["first_amount"]) / np.maximum(per["n"] - 1, 1), 0.0
            ),
            "label": (~bought).astype(int) if task == "churn" else bought.astype(int),
            "oracle_probability": p_none if task == "churn" else 1.0 - p_none,
        }
    )


def synthetic_snapshot_table(n_customers: int = 4000, seed: int = 0) -> pd.DataFrame:
    """A subscription export as a data scientist gets it: one row per customer and a ``churned`` column.

    ``customer_id``; ``plan`` (category), ``region`` (text), ``payment`` (text with missing values),
    ``tenure_months``, ``monthly_fee``, ``support_tickets_90d``, ``days_since_login`` (missing for customers
    who never logged in), ``discount`` (yes/no text); ``churned`` (0/1). The churn log-odds hold interactions
    (a fee that is high for the plan, tickets that matter more early in tenure, a login gap that matters only
    on monthly payment) so a tree ensemble has something a logistic regression on the raw columns misses.

    Examples
    --------
    >>> df = synthetic_snapshot_table(500, seed=1)
    >>> df.shape, sorted(df["churned"].unique().tolist())
    ((500, 10), [0, 1])
    """
    rng = np.random.default_rng(seed)
    n = n_customers
    plan = rng.choice(["basic", "standard", "premium"], n, p=[0.5, 0.35, 0.15])
    base_fee = pd.Series(plan).map({"basic": 9.0, "standard": 19.0, "premium": 39.0}).to_numpy()
    fee = base_fee * rng.lognormal(0.0, 0.25, n)
    tenure = rng.gamma(1.5, 10.0, n)
    tickets = rng.poisson(np.where(tenure < 6, 1.5, 0.6))
    payment = rng.choice(["monthly", "annual", "card"], n, p=[0.55, 0.3, 0.15]).astype(object)
    payment[rng.random(n) < 0.05] = None
    never = rng.random(n) < 0.1
    login = np.where(never, np.nan, rng.exponential(12.0, n))
    discount = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    region = rng.choice(_REGIONS, n)
    monthly = pd.Series(payment).eq("monthly").to_numpy()
    logit = (
        -1.2
        + 1.8 * (fee / base_fee > 1.25)
        + 0.9 * tickets * (tenure < 6)
        - 0.04 * np.minimum(tenure, 36)
        + np.where(monthly, 0.08 * np.minimum(np.nan_to_num(login, nan=30.0), 40) - 0.8, -0.6)
        + 1.2 * never
        - 0.4 * (discount == "yes")
        + 0.3 * (region == "south")
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"S{i:06d}" for i in range(n)],
            "plan": pd.Categorical(plan, categories=["basic", "standard", "premium"]),
            "region": region,
            "payment": payment,
            "tenure_months": tenure.round(1),
            "monthly_fee": fee.round(2),
            "support_tickets_90d": tickets,
            "days_since_login": np.round(login, 0),
            "discount": discount,
            "churned": churned,
        }
    )
