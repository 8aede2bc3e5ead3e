"""Benchmark: the 12-month value's purchase model chosen on a held-out period, against the truth.

- ``retail``: the seasonal retail world (``world_preset("retail")``, run for 4 years so that a whole year
  follows the as-of date 2026-01-01; clean tables). At the as-of date the value candidates of
  :mod:`custml.models.value` are compared on the 180 held-out days before it (what ``custml score`` does and
  writes in ``meta["value_model"]``); then each candidate, refitted at the as-of date as scoring refits the
  chosen one, predicts the next 12 months, compared with what the simulated customers then did: MAE of the
  purchase days per customer, total predicted vs realised purchase days, and MAE of the 12-month value (spend
  from Gamma-Gamma as in scoring, undiscounted) against the realised net spend. Then the time-varying
  Pareto/NBD (not a value candidate: its weekly fit costs too much at scoring) with a Q4 week indicator on the
  purchase rate and the retention offer's active window on both processes, on the same held-out period and truth.
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
) -> pd.Series:
    """Print the choice and each candidate against the truth; return the buyers' Gamma-Gamma spend per purchase."""
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
        spend = value_b / np.where(pred > 0, pred, np.nan)
    return pd.Series(spend, index=features["customer_id"].to_numpy()[buyers])


def _season_table(
    customer_ids: np.ndarray, weeks: pd.DatetimeIndex, campaigns: pd.DataFrame, effect_days: int
) -> pd.DataFrame:
    """Weekly covariates per customer: ``q4`` (a week in October-December) and ``offer_active`` (an offer sent
    in the last ``effect_days``, the window the campaign's manifest states)."""
    offers = campaigns.loc[campaigns["arm"] == "offer"].groupby("customer_id")["sent_ts"].min()
    cust = np.repeat(customer_ids, len(weeks))
    week = np.tile(weeks.to_numpy(), len(customer_ids))
    sent = pd.to_datetime(pd.Series(cust).map(offers)).to_numpy()
    since = (week - sent) / np.timedelta64(1, "D")
    active = np.nan_to_num(since, nan=-1e9)
    return pd.DataFrame(
        {
            "customer_id": cust,
            "period": week,
            "q4": np.tile(weeks.month.isin([10, 11, 12]).astype(float), len(customer_ids)),
            "offer_active": ((active > -7) & (active < effect_days)).astype(float),
        }
    )


def dynamic_season(
    world: object, as_of: pd.Timestamp, features: pd.DataFrame, spend: pd.Series, sample: int = 10_000
) -> None:
    """The time-varying Pareto/NBD (season and active offer; not a value candidate: too slow for scoring) on
    the same held-out period and against the same truth."""
    from custml.models.btyd import ParetoNBDDynamicFitter, dynamic_covariates

    orders = world.orders  # type: ignore[attr-defined]
    campaigns = world.campaigns  # type: ignore[attr-defined]
    effect_days = int(world.manifest["parameters"]["campaign"]["effect_days"])  # type: ignore[attr-defined]
    o = orders.loc[
        ~orders["is_refund"].astype(bool) & (orders["order_ts"] < as_of), ["customer_id", "order_ts"]
    ]
    weeks = pd.date_range(o["order_ts"].min().normalize(), as_of + pd.Timedelta(days=400), freq="7D")
    params = ValueChoiceParams()
    cal_end = as_of - pd.Timedelta(days=1 + params.holdout_days)
    last_day = as_of - pd.Timedelta(days=1)
    rng = np.random.default_rng(params.seed)
    kw = {"purchase": ["q4", "offer_active"], "dropout": ["offer_active"]}

    def data(ids: np.ndarray, end: pd.Timestamp) -> object:
        subset = o.loc[o["customer_id"].isin(ids)]
        return dynamic_covariates(
            subset,
            _season_table(ids, weeks, campaigns, effect_days),
            "customer_id",
            "order_ts",
            "period",
            end,
            **kw,
        )

    start = time.perf_counter()
    cal_ids = np.sort(o.loc[o["order_ts"] <= cal_end + pd.Timedelta(days=1), "customer_id"].unique())
    fit_ids = np.sort(rng.choice(cal_ids, size=min(sample, len(cal_ids)), replace=False))
    model = ParetoNBDDynamicFitter(standard_errors=False).fit(data(fit_ids, cal_end))
    cal, full = data(cal_ids, cal_end), data(cal_ids, last_day)
    ll = model.log_likelihood(full) - model.log_likelihood(cal)
    pred = model.conditional_expected_number_of_purchases_up_to_time(params.holdout_days / 7.0, cal)
    holdout = full.frequency - cal.frequency  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    coefs = {k: round(v, 3) for k, v in model.params_.items() if ":" in k}
    print(
        f"\ndynamic Pareto/NBD (q4 + offer_active; {seconds:.1f} s): held-out LL {ll.sum():,.1f}, "
        f"MAE {np.mean(np.abs(pred - holdout)):.4f}; {coefs}"
    )
    start = time.perf_counter()
    buyer_ids = np.sort(o["customer_id"].unique())
    fit_ids = np.sort(rng.choice(buyer_ids, size=min(sample, len(buyer_ids)), replace=False))
    model = ParetoNBDDynamicFitter(standard_errors=False).fit(data(fit_ids, last_day))
    now = data(buyer_ids, last_day)
    pred12 = model.conditional_expected_number_of_purchases_up_to_time(365.0 / 7.0, now)
    seconds = time.perf_counter() - start
    t_days = pd.to_numeric(features["btyd_T_days"], errors="coerce").to_numpy(dtype=float)
    buyers = features.loc[np.isfinite(t_days) & (t_days > 0), "customer_id"].to_numpy()
    truth = realised(orders, as_of, 365).reindex(buyers).fillna(0.0)["purchases"].to_numpy()
    predicted = pd.Series(pred12, index=now.customers).reindex(buyers).to_numpy()  # type: ignore[attr-defined]
    true_v = realised(orders, as_of, 365).reindex(buyers).fillna(0.0)["spend"].to_numpy()
    value = np.nan_to_num(predicted * spend.reindex(buyers).to_numpy())
    print(
        f"{'pareto_nbd_dynamic':<24}{np.mean(np.abs(predicted - truth)):>10.4f}{predicted.sum():>10,.0f}"
        f"{np.mean(np.abs(value - true_v)):>11.2f}{value.sum():>12,.0f}{seconds:>7.1f}"
    )


def bench_retail(n: int, seed: int) -> None:
    from custml.features import build_features
    from custml.synth import generate_world, world_preset

    print(f"== retail world, {n:,} persons, seed {seed}, 4 years; as of 2026-01-01 ==")
    world = generate_world(world_preset("retail", n_customers=n, seed=seed, years=4))
    as_of = pd.Timestamp("2026-01-01")
    tables = {"orders": world.orders, "customers": world.customers}
    features = build_features(tables, as_of).sort_values("customer_id").reset_index(drop=True)
    spend = compare(features, world.orders, as_of, 365, world.customers, world.campaigns)
    dynamic_season(world, as_of, features, spend)


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
