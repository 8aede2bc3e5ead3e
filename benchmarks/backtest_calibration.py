"""Backtest: calibration (ECE) and ranking across test months, worlds and numbers of validation cut-offs.

Why: a calibrator fitted on one validation month inherits that month's own deviation of the base rate, which
neither the features nor the season feature predict (on the 50k world the booster's mean bias moves by
+-0.01-0.02 from one month to the next). Pooling several validation cut-offs averages it out. One test month
cannot show that (the issue-6 test cut-off is one draw), so this script moves the test cut-off back month by
month and repeats the whole fit for each setting of ``n_validation_cutoffs``.

For each world (``--seeds``; 50k persons, 2 % dirt, like ``experiments/churn-lgbm-with-btyd-features.yaml``):
generate, clean and pseudonymise in memory, build the stacked table of ``--task`` (churn by default) once over
every cut-off needed (monthly, 30 days apart), join the oracle, then for each test cut-off (the latest fully
labelled one and ``--months - 1`` earlier ones) and each ``--n-validation`` value, train with ``TrainParams``
defaults (``--n-train`` training cut-offs) on exactly the cut-offs of its ``cutoff_plan`` and print test ECE,
ROC AUC, the model's mean probability against the observed rate, and trees. The last
lines summarise mean and worst ECE per setting; every run is also written to
``benchmarks/out/backtest_<task>.csv``. Nothing is logged to MLflow.

    .venv/bin/python benchmarks/backtest_calibration.py [--seeds 0 1 2] [--months 4] [--n-validation 1 3]
    .venv/bin/python benchmarks/backtest_calibration.py --task repurchase --seeds 0 --months 3

About 2.5 minutes per world for the default two settings on 2 cores (about 16 s per churn fit, 30 s per
repurchase fit).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from custml import pipeline as workflows
from custml.features import FeatureParams, build_training_set, join_oracle
from custml.models.params import TrainParams
from custml.models.train import ORACLE_COLUMN, train_model
from custml.synth import WorldParams, generate_world, oracle_probabilities

STEP = 30
ORACLE = {"churn": "p_no_purchase_90d", "repurchase": "p_purchase_30d"}
OUT = Path(__file__).resolve().parent / "out"


def world_table(n: int, seed: int, months: int, settings: list[TrainParams]) -> tuple[pd.DataFrame, list]:
    """One synthetic world's stacked table over every cut-off the backtest needs, with the oracle.

    Returns ``(table, runs)``: one ``(test cut-off, params, cut-off plan)`` per test month and setting; the
    latest test cut-off is the world's data end minus the horizon.
    """
    task, horizon = settings[0].task, settings[0].horizon
    world = generate_world(WorldParams(n_customers=n, seed=seed, dirty=0.02))
    data_end = workflows.as_of_after(world.manifest["end"])
    latest_test = data_end - pd.Timedelta(days=horizon)
    tests = [latest_test - pd.Timedelta(days=STEP * i) for i in range(months)]
    runs = [(t, params, params.cutoff_plan(t)) for t in tests for params in settings]
    cutoffs = sorted({c for _, _, plan in runs for c in plan.all})
    raw = {"customers": world.customers, "orders": world.orders}
    raw.update({k: getattr(world, k) for k in ("interactions", "campaigns")})
    clean = workflows.run_clean(None, as_of=data_end, allow_demo_key=True, raw=raw, write=False)
    inputs = {k: v for k, v in clean.tables.items() if k in ("customers", "orders", "interactions")}
    # One DuckDB thread, as the pipeline builds training sets: bit-identical tables, so re-runs agree exactly.
    features = FeatureParams(duckdb_threads=1)
    table = build_training_set(
        inputs, cutoffs, task, horizon_days=horizon, data_end=data_end, params=features
    )
    truth = world.truth["customers"]
    oracle = pd.concat([oracle_probabilities(truth, c).assign(cutoff=c) for c in tests], ignore_index=True)
    joined = join_oracle(table, oracle[["customer_id", "cutoff", ORACLE[task]]], clean.id_map)
    return joined.rename(columns={ORACLE[task]: ORACLE_COLUMN}), runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="churn", choices=["churn", "repurchase"])
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument(
        "--months", type=int, default=4, help="test cut-offs: the latest and this many - 1 earlier"
    )
    ap.add_argument("--n-validation", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--n-train", type=int, default=TrainParams().n_train_cutoffs, help="training cut-offs")
    args = ap.parse_args()

    settings = [
        TrainParams(
            task=args.task, n_train_cutoffs=args.n_train, n_validation_cutoffs=nv, cutoff_step_days=STEP
        )
        for nv in args.n_validation
    ]
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        table, runs = world_table(args.customers, seed, args.months, settings)
        print(
            f"world seed {seed}: {len(table):,} {args.task} rows over {table['cutoff'].nunique()} cut-offs in "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        for test, params, plan in runs:
            nv = params.n_validation
            t0 = time.perf_counter()
            result = train_model(table[table["cutoff"].isin(plan.all)], params=params)
            m = result.metrics["model"]
            preds = result.test_predictions
            row = {
                "task": args.task,
                "seed": seed,
                "test_cutoff": test.date().isoformat(),
                "n_train": args.n_train,
                "n_validation": nv,
                "ece": m["ece"],
                "roc_auc": m["roc_auc"],
                "auc_over_oracle": m.get("oracle_auc_ratio", float("nan")),
                "mean_p": preds["model"].mean(),
                "observed": preds["label"].mean(),
                "validation_rate": result.data_description["label_rate_validation"],
                "trees": int(m["best_iteration"]),
                "seconds": time.perf_counter() - t0,
            }
            rows.append(row)
            print(
                f"  test {row['test_cutoff']}  n_validation {nv}:  ECE {row['ece']:.4f}  "
                f"ROC AUC {row['roc_auc']:.4f}  mean p {row['mean_p']:.3f} vs observed {row['observed']:.3f} "
                f"(validation {row['validation_rate']:.3f})  trees {row['trees']}  {row['seconds']:.0f} s",
                flush=True,
            )
    df = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / f"backtest_{args.task}.csv"
    df.to_csv(csv, index=False)
    summary = df.groupby("n_validation").agg(
        runs=("ece", "size"),
        ece_mean=("ece", "mean"),
        ece_worst=("ece", "max"),
        share_ece_at_most_002=("ece", lambda s: float((s <= 0.02).mean())),
        roc_auc_mean=("roc_auc", "mean"),
        fit_s_mean=("seconds", "mean"),
    )
    print(
        f"\nsummary over worlds and test months ({args.task}, {args.n_train} training cut-offs; runs in {csv}):"
    )
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
