"""Which calibration carries across seasons? Rolling-origin backtest of calibration variants on one table.

Why: on a seasonal shop the 90-day churn base rate swings by 15+ points between September and December; a
calibrator fitted on the validation months (summer, for a December test) carries their base rate into winter.
The variants, all from the same trained models (no refit per variant):

- ``model``: the run's champion as it ships (with a year of training cut-offs: the booster with the season
  calibration of :mod:`custml.models.season`, Platt on the training year's out-of-fold scores, level on the
  validation cut-offs; otherwise calibrated on the pooled validation cut-offs);
- ``lightgbm``: the booster as the run scores it (the champion's calibration when it is the champion);
- ``validation_isotonic``: the booster with isotonic calibration on the validation cut-offs alone (what
  shipped before the season calibration);
- ``logistic``: the printed baseline's own probabilities;
- ``prior_shift``: the shipped probabilities with their log-odds moved from the validation base rate to a
  seasonal-naive estimate of the test month's base rate: the rate observed a year before the test cut-off,
  moved by how much the latest observed rate differs from its own year-earlier rate (all labels known by the
  test cut-off);
- ``season_rate`` (oracle of the idea, for reference only): the same shift to the realised test rate;
- ``booster_raw``: the booster's own probabilities, uncalibrated;
- ``booster_intercept``: the booster's log-odds moved by one intercept so that its mean on the validation
  cut-offs equals their base rate (the season the booster learnt from a year of training cut-offs stays);
- ``self_season``: the shipped probabilities moved by the model's own miss (log-odds) at the same season a year
  earlier (its training cut-off 360 days before the test).

    .venv/bin/python benchmarks/backtest_seasons.py [--preset retail] [--customers 50000] [--months 12] [--seed 0]
    .venv/bin/python benchmarks/backtest_seasons.py --task repurchase
    .venv/bin/python benchmarks/backtest_seasons.py --no-events      # control: no price rise, an offer with no effect
    .venv/bin/python benchmarks/backtest_seasons.py --project DIR     # the clean tables of a project (real data)

The stacked table is cached under ``benchmarks/out/`` by its arguments.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from custml import pipeline
from custml.io import read_tables
from custml.models.backtest import backtest_cutoffs, backtest_plans
from custml.models.gbm import ProbabilityCalibrator
from custml.models.metrics import binary_metrics
from custml.models.params import TrainParams
from custml.models.train import train_model
from custml.pipeline.train import stacked_table, training_data_end
from custml.synth import generate_world, world_preset

OUT = Path(__file__).resolve().parent / "out"
YEAR = 360  # twelve 30-day steps: the grid the plans share


def cached_table(args: argparse.Namespace, params: TrainParams) -> tuple[pd.DataFrame, list]:
    """The stacked table over every cut-off the backtest needs, and the plans (cached as parquet)."""
    if args.project:
        tables = read_tables(Path(args.project), required=("customers", "orders"), optional=("interactions",))
        end = training_data_end(tables["orders"])
        key = f"project_{Path(args.project).name}_{args.task}_{args.months}"
    else:
        overrides: dict[str, object] = {}
        if (
            args.no_events
        ):  # the control: no price rise, and a retention offer that changes nothing (sent as before)
            calm = {"effect_persuadable": 0.0, "effect_sleeping_dog": 0.0}
            calm |= {"rate_effect_persuadable": 1.0, "rate_effect_sleeping_dog": 1.0}
            overrides = {
                "shock": None,
                "campaign": world_preset(args.preset).campaign.model_copy(update=calm),
            }
        world = generate_world(
            world_preset(args.preset, n_customers=args.customers, seed=args.seed, dirty=0.02, **overrides)
        )
        end = pipeline.as_of_after(world.manifest["end"])
        raw = {k: getattr(world, k) for k in ("customers", "orders", "interactions", "campaigns")}
        tables = pipeline.run_clean(None, as_of=end, allow_demo_key=True, raw=raw, write=False).tables
        name = f"{args.preset}_noevents" if args.no_events else args.preset
        key = f"{name}_{args.customers}_{args.seed}_{args.task}_{args.months}"
    start = pd.Timestamp(tables["orders"]["order_ts"].min()).normalize()
    plans = backtest_plans(params, end, args.months, data_start=start)
    cache = OUT / f"seasons_{key}.parquet"
    if cache.is_file():
        return pd.read_parquet(cache), plans
    table = stacked_table(tables, args.task, params, backtest_cutoffs(plans), end)
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_parquet(cache)
    return table, plans


def seasonal_naive_rate(rates: pd.Series, test: pd.Timestamp, horizon: int) -> float | None:
    """Rate a year before ``test`` plus the change of the latest observed rate against its own year earlier."""
    latest = max((c for c in rates.index if c + pd.Timedelta(days=horizon) <= test), default=None)
    if latest is None:
        return None
    year_ago = test - pd.Timedelta(days=YEAR)
    latest_ago = latest - pd.Timedelta(days=YEAR)
    if year_ago not in rates.index or latest_ago not in rates.index:
        return None
    drift = logit(rates[latest]) - logit(rates[latest_ago])
    return float(expit(logit(rates[year_ago]) + drift))


def to_mean(p: np.ndarray, target: float) -> np.ndarray:
    """``p`` with its log-odds moved by the one constant that makes its mean ``target``."""
    from scipy.optimize import brentq

    z = logit(np.clip(p, 1e-6, 1 - 1e-6))
    delta = brentq(lambda d: float(expit(z + d).mean()) - target, -10, 10)
    return expit(z + delta)


def shift(p: np.ndarray, target: float, reference: float) -> np.ndarray:
    """Move calibrated probabilities from base rate ``reference`` to ``target`` (prior shift, log-odds)."""
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return expit(logit(q) + logit(target) - logit(reference))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="churn", choices=["churn", "repurchase"])
    ap.add_argument("--preset", default="retail")
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--project", default=None, help="read a project's clean tables instead of a world")
    ap.add_argument(
        "--no-events",
        action="store_true",
        help="control: the preset without its price rise, and a retention offer with no effect",
    )
    args = ap.parse_args()
    params = TrainParams(task=args.task)
    t0 = time.perf_counter()
    table, plans = cached_table(args, params)
    print(
        f"{len(table):,} rows over {table['cutoff'].nunique()} cut-offs, {len(plans)} test months "
        f"({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    cut = pd.to_datetime(table["cutoff"])
    rates = table.groupby(cut)["label"].mean()
    rows = []
    for plan in plans:
        t0 = time.perf_counter()
        result = train_model(table[cut.isin(plan.all).to_numpy()], params=params, plan=plan)
        preds = result.test_predictions
        y = preds["label"].to_numpy()
        reference = result.data_description["label_rate_validation"]
        variants = {s: preds[s].to_numpy() for s in ("model", "lightgbm", "logistic") if s in preds}
        naive = seasonal_naive_rate(rates[rates.index < plan.test], plan.test, params.horizon)
        if naive is not None:
            variants["prior_shift"] = shift(preds["model"].to_numpy(), naive, reference)
        variants["season_rate"] = shift(preds["model"].to_numpy(), float(y.mean()), reference)
        if naive is not None:
            # the population's mean moved to the seasonal-naive level (one shift per scoring date, from the mean)
            variants["naive_level"] = to_mean(preds["model"].to_numpy(), naive)
        # the booster alone: its raw probabilities, and with one intercept fitted on the validation cut-offs
        # (the level moves, the season the booster learnt from a year of training cut-offs stays)
        frame = table[cut.isin(plan.all).to_numpy()].reset_index(drop=True)
        fcut = pd.to_datetime(frame["cutoff"])
        raw_test = result.model.predict_raw(frame[fcut == plan.test])
        raw_val = result.model.predict_raw(frame[fcut.isin(plan.validation)])
        variants["booster_raw"] = raw_test
        variants["validation_isotonic"] = (
            ProbabilityCalibrator("isotonic")
            .fit(
                raw_val.reshape(-1, 1), frame.loc[fcut.isin(plan.validation).to_numpy(), "label"].astype(int)
            )
            .predict(raw_test.reshape(-1, 1))
        )
        variants["booster_intercept"] = shift(raw_test, reference, float(np.mean(raw_val)))
        # the shipped model's own miss in the same season a year earlier (its training rows), carried forward
        year_ago = plan.test - pd.Timedelta(days=YEAR)
        if year_ago in rates.index and (fcut == year_ago).any():
            p_year = result.model.predict_proba(frame[fcut == year_ago])
            variants["self_season"] = shift(
                preds["model"].to_numpy(), float(rates[year_ago]), float(np.mean(p_year))
            )
        for name, p in variants.items():
            m = binary_metrics(y, p)
            rows.append(
                {
                    "test": plan.test.date(),
                    "variant": name,
                    "ece": m["ece"],
                    "roc_auc": m["roc_auc"],
                    "predicted": float(np.mean(p)),
                    "realised": float(y.mean()),
                }
            )
        shown = " ".join(f"{r['variant']} {r['ece']:.3f}" for r in rows[-len(variants) :])
        print(
            f"test {plan.test.date()} realised {y.mean():.3f} validation {reference:.3f} naive "
            f"{naive if naive is None else round(naive, 3)} | ECE {shown} ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    df = pd.DataFrame(rows)
    df.to_csv(OUT / f"seasons_{args.task}{'_noevents' if args.no_events else ''}.csv", index=False)
    summary = df.groupby("variant").agg(
        ece_mean=("ece", "mean"),
        ece_worst=("ece", "max"),
        months_over_003=("ece", lambda s: int((s > 0.03).sum())),
        roc_auc=("roc_auc", "mean"),
    )
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
