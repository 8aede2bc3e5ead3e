"""Benchmark: training time (features excluded) and test metrics of the churn model on ~500k customer-cutoff rows.

Builds the simulated training table of :func:`custml.testing.synthetic_training_table` (customers
buying at Poisson rates until an exponential dropout; BTYD inputs, RFM, complaints, two categoricals), widened
with uninformative numeric columns to the width of the real feature catalogue (~65 columns), then times
:func:`custml.models.train.train_model` (hybrid BTYD features, LightGBM with early stopping, calibration, both
baselines, SHAP drivers on a sample) for each ``--threads`` setting, and prints fit seconds per step and metrics.
Target: fit under 90 s on 500k rows.

Alternatively ``--table PATH`` times a saved training table (parquet from the real features pipeline).

Usage::

    python benchmarks/bench_train.py                      # ~500k rows, threads 1 and 2
    python benchmarks/bench_train.py --customers 20000 --threads 1
    python benchmarks/bench_train.py --table /tmp/churn_training.parquet
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from custml.models.params import LightGBMParams, TrainParams
from custml.models.train import train_model
from custml.testing import synthetic_training_table


def widen(frame: pd.DataFrame, n_columns: int, seed: int = 0) -> pd.DataFrame:
    """Add noise columns until the table has ``n_columns`` columns (realistic width for the booster)."""
    rng = np.random.default_rng(seed)
    extra = max(0, n_columns - frame.shape[1])
    noise = pd.DataFrame(
        rng.normal(size=(len(frame), extra)), columns=[f"noise_extra_{i}" for i in range(extra)]
    )
    return pd.concat([frame, noise], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--customers",
        type=int,
        default=96_000,
        help="simulated customers (~5.2 rows each for churn: 4 training, 3 validation and 1 test cut-off)",
    )
    ap.add_argument("--columns", type=int, default=65, help="table width after padding")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="LightGBM threads to time")
    ap.add_argument("--table", help="time this saved training table (parquet) instead of the simulated one")
    ap.add_argument("--task", default="churn", choices=["churn", "repurchase"])
    args = ap.parse_args()

    t0 = time.perf_counter()
    if args.table:
        frame = pd.read_parquet(args.table)
        source = args.table
    else:
        frame = widen(
            synthetic_training_table(args.customers, task=args.task, n_train_cutoffs=4, seed=0), args.columns
        )
        source = f"simulated, {args.customers:,} customers"
    print(
        f"table: {source}: {len(frame):,} rows x {frame.shape[1]} columns (built in {time.perf_counter() - t0:.1f} s)"
    )

    for threads in args.threads:
        params = TrainParams(task=args.task, lightgbm=LightGBMParams(num_threads=threads))
        t0 = time.perf_counter()
        result = train_model(frame, params=params)
        wall = time.perf_counter() - t0
        m = result.metrics
        steps = ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
        print(
            f"\nthreads={threads}: train_model wall {wall:.1f} s (fit {result.timings['fit_total_s']:.1f} s; {steps})"
        )
        print(
            f"  rows train/validation/test: {result.data_description['rows_train']:,} / "
            f"{result.data_description['rows_validation']:,} / {result.data_description['rows_test']:,}; "
            f"trees {int(m['model']['best_iteration'])}"
        )
        for scorer, values in m.items():
            print(
                f"  {scorer:13s} roc_auc {values['roc_auc']:.4f}  pr_auc {values['pr_auc']:.4f}  "
                f"brier {values['brier']:.4f}  ece {values['ece']:.4f}  lift@10% {values['lift_top10']:.2f}"
            )
        if "oracle_auc_ratio" in m["model"]:
            print(f"  model/oracle ROC AUC {m['model']['oracle_auc_ratio']:.3f}")
        verdict = "OK" if result.timings["fit_total_s"] < 90 else "over the 90 s target"
        print(f"  target fit < 90 s on {len(frame):,} rows: {verdict}")


if __name__ == "__main__":
    main()
