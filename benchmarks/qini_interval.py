"""Benchmark: the cost of the held-out Qini AUC's bootstrap interval (issue 28) at 100,000 campaign rows.

:func:`custml.uplift.metrics.qini_auc_interval` resamples customers within each arm ``--boot`` times (default
200, ``UpliftParams.qini_bootstrap``) over out-of-fold-like scores of a campaign with a small real effect; the
uplift fit computes it once per fit. Prints the point Qini AUC's time, the interval's time (best of
``--repeats``) and its cost per replicate.

Usage::

    python benchmarks/qini_interval.py [--rows 100000] [--boot 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from custml.uplift.metrics import qini_auc_interval, qini_auc_score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    treated = rng.integers(0, 2, n)
    x = rng.random(n)
    retained = (rng.random(n) < 0.3 + 0.05 * treated * (x > 0.5)).astype(int)
    score = x + rng.normal(0, 1, n)  # a noisy ranking of who the offer works on
    t0 = time.perf_counter()
    qini = qini_auc_score(retained, score, treated)
    t_point = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        lo, hi = qini_auc_interval(retained, score, treated, n_boot=args.boot)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(
        f"{n:,} rows: Qini AUC {qini:.5f} in {t_point:.3f} s; 95 % interval [{lo:+.5f}, {hi:+.5f}] "
        f"({args.boot} replicates) in {best:.2f} s (best of {args.repeats}; all {', '.join(f'{t:.2f}' for t in times)}), "
        f"{1000 * best / args.boot:.1f} ms per replicate"
    )


if __name__ == "__main__":
    main()
