"""Benchmark: the 12-month value's purchase model chosen on a held-out period, against the truth.

- ``retail``: the seasonal retail world (``world_preset("retail")``, run for 4 years so that a whole year
  follows the as-of date 2026-01-01; clean tables). At the as-of date the value candidates of
  :mod:`custml.models.value` are compared on the 180 held-out days before it (what ``custml score`` does and
  writes in ``meta["value_model"]``); then each candidate, refitted at the as-of date as scoring refits the
  chosen one, predicts the next 12 months, compared with what the simulated customers then did: MAE of the
  purchase days per customer, total predicted vs realised purchase days, and MAE of the 12-month value (spend
  from Gamma-Gamma as in scoring, undiscounted) against the realised net spend.
- ``cdnow``: the same choice on CDNOW (no covariates: BG/NBD vs Pareto/NBD) as of 1998-01-01, truth the
  next 26 weeks (to the data end).

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/value_model_choice.py [--part retail|cdnow|all] [--n 50000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from custml.models.value import (
    ValueChoiceParams,
    choose_value_model,
    fit_value_model,
    value_candidate_names,
    value_split,
)
from custml.scoring.score import ClvParams, expected_value_12m, value_inputs_at


def realised(orders: pd.DataFrame, start: pd.Timestamp, days: int) -> pd.DataFrame:
    """Purchase days and net spend per customer in ``[start, start + days)`` (refunds out)."""
    o = orders.loc[~orders["is_refund"].astype(bool)] if "is_refund" in orders else orders
    o = o.loc[(o["order_ts"] >= start) & (o["order_ts"] < start + pd.Timedelta(days=days))]
    per = o.assign(day=o["order_ts"].dt.normalize()).groupby("customer_id")
    return pd.DataFrame({"purchases": per["day"].nunique(), "spend": per["net_amount"].sum()})


def compare(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: pd.Timestamp,
    future_days: int,
    customers: pd.DataFrame | None,
    campaigns: pd.DataFrame | None,
) -> None:
    params = ValueChoiceParams()
    start = time.perf_counter()
    choice = choose_value_model(
        value_split(orders, as_of, customers=customers, campaigns=campaigns, params=params), params
    )
    print(f"choice ({time.perf_counter() - start:.1f} s, {choice.n_customers:,} customers in calibration):")
    print(choice.table.round(4).to_string())
    print(f"chosen: {choice.reason}")
    truth = realised(orders, as_of, future_days).reindex(features["customer_id"]).fillna(0.0)
    t_days = pd.to_numeric(features["btyd_T_days"], errors="coerce").to_numpy(dtype=float)
    buyers = np.isfinite(t_days) & (t_days > 0)  # as scoring values them (no history: value 0)
    print(
        f"\ntruth: {int(buyers.sum()):,} buyers at {as_of.date()}, next {future_days} days: "
        f"{truth['purchases'].to_numpy()[buyers].sum():,.0f} purchase days, {truth['spend'].to_numpy()[buyers].sum():,.0f} spend"
    )
    print(f"{'candidate':<24}{'MAE purch':>10}{'sum pred':>10}{'MAE value':>11}{'sum value':>12}{'fit s':>7}")
    clv = ClvParams(monthly_discount_rate=0.0, horizon_months=round(future_days / 30.4))
    true_p = truth["purchases"].to_numpy()[buyers]
    true_v = truth["spend"].to_numpy()[buyers]
    for name in value_candidate_names():
        if name not in choice.fitted:
            continue
        start = time.perf_counter()
        # Refitted at the as-of date as scoring refits the chosen candidate.
        histories, z = value_inputs_at(
            features,
            as_of,
            customers=customers,
            campaigns=campaigns,
            columns=choice.fitted[name].columns,
            params=params,
        )
        fitted = fit_value_model(name, histories, params)
        seconds = time.perf_counter() - start
        pred = fitted.expected_purchases(clv.horizon_months * 4.345, histories)
        value = expected_value_12m(features, clv, purchase_model=fitted, covariates=z)
        value_b = value["expected_value_12m"].to_numpy()[buyers]
        print(
            f"{name:<24}{np.mean(np.abs(pred - true_p)):>10.4f}{pred.sum():>10,.0f}"
            f"{np.mean(np.abs(value_b - true_v)):>11.2f}{value_b.sum():>12,.0f}{seconds:>7.1f}"
        )


def bench_retail(n: int, seed: int) -> None:
    from custml.features import build_features
    from custml.synth import generate_world, world_preset

    print(f"== retail world, {n:,} persons, seed {seed}, 4 years; as of 2026-01-01 ==")
    world = generate_world(world_preset("retail", n_customers=n, seed=seed, years=4))
    as_of = pd.Timestamp("2026-01-01")
    tables = {"orders": world.orders, "customers": world.customers}
    features = build_features(tables, as_of).sort_values("customer_id").reset_index(drop=True)
    compare(features, world.orders, as_of, 365, world.customers, world.campaigns)


def bench_cdnow() -> None:
    from custml.datasets import load_cdnow_transactions
    from custml.features import build_features

    print(
        "== CDNOW master (23,570 customers), as of 1998-01-01, truth the next 26 weeks (to the data end) =="
    )
    orders = load_cdnow_transactions("master")
    as_of = pd.Timestamp("1998-01-01")
    features = build_features({"orders": orders}, as_of).sort_values("customer_id").reset_index(drop=True)
    compare(features, orders, as_of, 181, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["retail", "cdnow", "all"], default="all")
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.part in ("retail", "all"):
        bench_retail(args.n, args.seed)
    if args.part in ("cdnow", "all"):
        bench_cdnow()


if __name__ == "__main__":
    main()
