"""Benchmark: uplift fit and planning time at a million customers (features and world generation excluded).

Generates a world (default 1M persons, clean), builds the feature catalogue at the campaign's send day (not
timed: the scoring benchmark times features), then times

* each customer's expected 12-month value (BTYD; scoring computes it anyway, counted here once because the
  value calibration and the plan read it),
* the campaign table (arms x features x churn label after the send day),
* the uplift fit (``--learner``; with the held-out calibration: ``calibration_folds`` extra fits),
* predicting the uplift of every customer, and
* the expected-profit plan under a budget (``plan_contacts``) over every customer.

Target: fit + planning under 60 s on 2 cores. By default LightGBM runs with the library's own threads: on a
machine of two cores or fewer one thread per model, with the calibration folds fitting and predicting side by
side (one per core; :func:`custml.uplift.learners.task_workers`). ``--threads N`` gives each model N threads
and runs the folds one after another.

Usage::

    python benchmarks/bench_uplift.py                         # 1M customers, T-learner, calibrated
    python benchmarks/bench_uplift.py --customers 100000 --learner x
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from custml.features import FeatureParams, build_features
from custml.synth import WorldParams, generate_world
from custml.uplift import (
    ActionOffer,
    UpliftParams,
    campaign_table,
    choose_campaign,
    fit_campaign_uplift,
    plan_contacts,
)
from custml.uplift.campaign import value_by_customer, with_value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--learner", choices=["t", "x", "dr"], default="t")
    ap.add_argument("--no-calibrate", action="store_true", help="skip the held-out calibration fits")
    ap.add_argument(
        "--threads", type=int, default=None, help="LightGBM threads per model (default: the library's choice)"
    )
    ap.add_argument("--budget-share", type=float, default=0.05, help="budget buys offers for this share")
    args = ap.parse_args()

    t = time.perf_counter()
    world = generate_world(WorldParams(n_customers=args.customers, seed=1))
    print(
        f"world: {args.customers:,} persons, {len(world.orders):,} orders in {time.perf_counter() - t:.1f} s"
    )
    tables = {"customers": world.customers, "orders": world.orders, "interactions": world.interactions}
    _, send_day = choose_campaign(world.campaigns)
    t = time.perf_counter()
    feats = build_features(tables, send_day, params=FeatureParams(duckdb_threads=2))
    print(f"features at the send day (not timed below): {feats.shape} in {time.perf_counter() - t:.1f} s")

    params = UpliftParams(learner=args.learner, calibrate=not args.no_calibrate, n_jobs=args.threads)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    value = value_by_customer(
        feats
    )  # the BTYD fit, once: the calibration, the prediction and the plan read it
    timings["value_btyd_s"] = time.perf_counter() - t
    t = time.perf_counter()
    data = campaign_table(world.campaigns, world.orders, feats, params)
    if params.needs_value:  # the default (value) calibration reads each row's 12-month value
        data = with_value(data, feats, value)
    timings["campaign_table_s"] = time.perf_counter() - t
    t = time.perf_counter()
    model = fit_campaign_uplift(data, params)
    timings["fit_s"] = time.perf_counter() - t
    t = time.perf_counter()
    row_value = value.reindex(feats["customer_id"].astype(str)).to_numpy(dtype=float)
    scored = feats[["customer_id"]].assign(
        uplift=model.predict(feats, value=row_value), expected_value_12m=row_value
    )
    timings["predict_s"] = time.perf_counter() - t
    t = time.perf_counter()
    budget = float(np.floor(args.budget_share * len(scored)) * model.offer_cost)
    plan = plan_contacts(
        scored, budget, [ActionOffer("retention offer", model.offer_cost)], margin=params.margin
    )
    timings["plan_s"] = time.perf_counter() - t
    total = sum(timings.values())
    workers = getattr(model.learner, "n_workers", 1)
    print(
        f"campaign rows: {len(data.customer_id):,} ({model.n_treated:,} offer, {model.n_control:,} control); "
        f"scored customers: {len(scored):,}; {args.learner}-learner, calibrated: {not args.no_calibrate}; "
        f"LightGBM threads per model: {args.threads or 'library default'}, folds at once: {workers} "
        f"({os.cpu_count()} cores)"
    )
    for k, v in timings.items():
        print(f"  {k:18s} {v:7.1f}")
    print(f"  {'total_s':18s} {total:7.1f}   (target < 60 s on 2 cores)")
    contacted = int((plan["chosen_action"] != "no action").sum())
    print(
        f"plan: budget {budget:,.0f}, {contacted:,} contacted, expected profit {plan['expected_profit'][plan['chosen_action'] != 'no action'].sum():,.0f}"
    )
    print(
        f"held-out: {model.holdout}, calibration slope {model.calibrator.slope_ if model.calibrator else None}"
    )


if __name__ == "__main__":
    main()
