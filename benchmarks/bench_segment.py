"""Benchmark: rule-based segments and clustering at 50k and 1M customers.

The feature table is drawn by :func:`custml.segment.simulate.simulate_segment_features` (five persona-like
groups, 8 % prospects). For each size it times ``assign_segments``, the clusterer fit (k chosen over 4..8 on a
20k sample, final fit on a 200k sample, every customer labelled), profiles + names and a 3-round bootstrap
stability check, and prints seconds, peak resident memory above the start of the step, k, the agreement with
the simulated personas (adjusted Rand index) and the stability ARI. Asserts nothing.

    .venv/bin/python benchmarks/bench_segment.py [--sizes 50000 1000000] [--method kmeans] [--seed 0] [--threads N]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
from sklearn.metrics import adjusted_rand_score

from custml.segment import (
    CustomerClusterer,
    assign_segments,
    bootstrap_stability,
    cluster_profiles,
    name_clusters,
)
from custml.segment.rules import has_orders
from custml.segment.simulate import simulate_segment_features


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn``; return (result, seconds, peak RSS growth in MiB) sampling RSS every 20 ms."""
    proc = psutil.Process()
    start_rss = proc.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            done.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        result = fn()
    finally:
        seconds = time.perf_counter() - t0
        done.set()
        thread.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    return result, seconds, (peak[0] - start_rss) / 2**20


def run(n: int, method: str, seed: int, threads: int | None) -> None:
    (features, persona), s_sim, _ = measured(
        lambda: simulate_segment_features(n, seed=seed, prospect_share=0.08)
    )
    print(f"\n== {n:,} customers ({method}); simulated in {s_sim:.1f} s")
    segments, s_rules, m_rules = measured(lambda: assign_segments(features))
    print(
        f"assign_segments        {s_rules:7.2f} s  {m_rules:8.0f} MiB  ({segments['rfm_segment'].nunique()} segments)"
    )
    buyers = has_orders(features).to_numpy()
    X = features.loc[buyers].reset_index(drop=True)
    truth = persona.to_numpy()[buyers]
    clusterer, s_fit, m_fit = measured(
        lambda: CustomerClusterer(method=method, random_state=seed, n_threads=threads).fit(X)
    )
    ari = adjusted_rand_score(truth, clusterer.labels_)
    print(
        f"clusterer fit+label    {s_fit:7.2f} s  {m_fit:8.0f} MiB  (k={clusterer.n_clusters_} of 4..8, "
        f"{len(X):,} labelled, ARI vs personas {ari:.3f})"
    )
    (profiles, names), s_prof, m_prof = measured(
        lambda: (lambda p: (p, name_clusters(p)))(cluster_profiles(X, clusterer.labels_))
    )
    print(f"profiles + names       {s_prof:7.2f} s  {m_prof:8.0f} MiB")
    stab, s_stab, m_stab = measured(lambda: bootstrap_stability(clusterer, X, n_boot=3, random_state=seed))
    print(f"bootstrap stability x3 {s_stab:7.2f} s  {m_stab:8.0f} MiB  (ARI mean {stab['ari_mean']:.3f})")
    total = s_rules + s_fit + s_prof
    print(f"total (rules + fit + profiles) {total:.1f} s")
    curve = clusterer.k_curve_
    if curve is not None:
        print(curve.round(3).to_string(index=False))
    for cid in profiles.index:
        row = profiles.loc[cid]
        print(
            f"  cluster {cid}: {names[int(cid)]:<50} {row['share_customers']:6.1%} of customers, "
            f"{row['revenue_share']:6.1%} of revenue"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 1_000_000])
    parser.add_argument("--method", choices=["kmeans", "gmm"], default="kmeans")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="cap on OpenMP/BLAS threads (n_threads)")
    args = parser.parse_args()
    print(
        f"cpus: {psutil.cpu_count()}  load average: {psutil.getloadavg()[0]:.1f}  threads: {args.threads or 'default'}"
    )
    for n in args.sizes:
        run(n, args.method, args.seed, args.threads)


if __name__ == "__main__":
    main()
