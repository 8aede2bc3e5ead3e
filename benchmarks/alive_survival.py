"""P(still a customer) and time to lapse: every estimate against the synthetic truth, and on CDNOW (observable only).

Synthetic world (``--n`` persons, ``--seed``): at 2025-10-01 the Pareto/NBD and BG/NBD posteriors, the
LightGBM long-horizon estimate (any purchase in the next 180 days, six monthly cut-offs matured by the as-of
date) and two naive references (``exp(-recency/365)``, ``1 - P(churn)``) scored by ROC AUC / ECE / Brier against
the truth's alive state (:func:`custml.models.alive.compare_alive`). Then the discrete-time survival model
(monthly periods to 12, lapse = 90 days without a purchase) trained before 2024-12-31 and tested on the year
after it: C-index and cumulative/dynamic AUC at 3/6/12 months against the observable lapse and the truth's
dropout (:func:`custml.models.survival.compare_survival`). CDNOW (the public path: ``custml.datasets``): the
same survival model tested at 1997-10-01 (five monthly training cut-offs before it, periods to 9 months, AUC at
3 and 6 months; the data end on 1998-06-30).

    .venv/bin/python benchmarks/alive_survival.py [--n 10000] [--seed 0] [--kind sample|master]

About 2 minutes at the defaults on 2 shared cores.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from custml.datasets import load_cdnow_transactions
from custml.models.alive import compare_alive
from custml.models.survival import compare_survival
from custml.synth import WorldParams, generate_world


def main() -> None:
    """Print the figures (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kind", choices=("sample", "master"), default="master")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    t0 = time.perf_counter()
    world = generate_world(WorldParams(n_customers=args.n, seed=args.seed))
    tables = {"orders": world.orders, "customers": world.customers}
    truth = world.truth["customers"]
    alive = compare_alive(tables, truth, "2025-10-01")
    print(f"== P(alive) at 2025-10-01 vs the truth, {args.n} persons, seed {args.seed}")
    for name in ("all_buyers", "churn_population"):
        print(f"-- {name}")
        print(alive[name].round(4).to_string(index=False))
    surv = compare_survival(tables, "2024-12-31", "2025-12-31 23:59:59", truth=truth)
    print(
        f"== survival, test cut-off 2024-12-31 ({surv['n_train']} train rows, {surv['n_test']} test customers)"
    )
    print(surv["metrics"].pivot_table(index=["target", "score"], columns="metric", values="value").round(4))
    print(f"synthetic: {time.perf_counter() - t0:.0f} s")
    tx = load_cdnow_transactions(args.kind)
    cd = compare_survival(
        {"orders": tx}, "1997-10-01", "1998-06-30 23:59:59", n_train_cutoffs=5, n_periods=9, at_periods=(3, 6)
    )
    print(
        f"== CDNOW {args.kind}: test cut-off 1997-10-01 ({cd['n_train']} train rows, {cd['n_test']} test customers)"
    )
    print(cd["metrics"].pivot_table(index=["target", "score"], columns="metric", values="value").round(4))
    print(f"total: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
