"""Benchmark: customer de-duplication precision, recall and runtime on a dirty synthetic world.

Generates a world (default 100k persons, ``dirty=0.02``, about 2% of persons with a second record), runs the whole
quality stage (``clean_tables``: validation, quarantine, normalisation, de-duplication, pseudonymisation) and
measures pairwise precision/recall of the duplicate clusters against ``truth/duplicates``. Targets: precision
>= 0.98, recall >= 0.95, de-duplication under 60 s. Exits 1 if a target is missed.

    .venv/bin/python benchmarks/bench_dedup.py [--customers 100000] [--locale en_US] [--seed 11] [--dirty 0.02]
    .venv/bin/python benchmarks/bench_dedup.py --data data/raw      # a world written by `custml generate`
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import pandas as pd

from custml.io import read_json, read_tables
from custml.quality import clean_tables, pairwise_precision_recall

TARGETS = {"precision": 0.98, "recall": 0.95, "dedup_seconds": 60.0}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def load_world(args: argparse.Namespace) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, str, str]:
    """Raw tables, truth/duplicates, as_of and a description of the world."""
    if args.data:
        folder = Path(args.data)
        raw = read_tables(folder, ("customers", "orders"), ("interactions", "campaigns"))
        manifest = read_json(folder / "manifest.json")
        truth = pd.read_parquet(folder / "truth" / "duplicates.parquet")
        return (
            raw,
            truth,
            manifest["end"],
            f"{folder} ({manifest.get('locale')}, dirty {manifest.get('dirty')})",
        )
    from custml.synth import WorldParams, generate_world

    t0 = time.perf_counter()
    world = generate_world(
        WorldParams(n_customers=args.customers, seed=args.seed, locale=args.locale, dirty=args.dirty)
    )
    print(
        f"generated {args.customers:,} persons ({args.locale}, dirty {args.dirty}) in {time.perf_counter() - t0:.1f} s"
    )
    return world.tables, world.truth["duplicates"], world.manifest["end"], f"synthetic {args.locale}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--locale", default="en_US", choices=["en_US", "zh_CN"])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dirty", type=float, default=0.02)
    parser.add_argument("--data", help="read a written world instead of generating one")
    args = parser.parse_args()

    raw, truth, as_of, what = load_world(args)
    t0 = time.perf_counter()
    result = clean_tables(raw, as_of, b"benchmark-key-0123456789")
    total = time.perf_counter() - t0
    dedup = result.report["dedup"]
    clusters = result.id_map.set_index("raw_customer_id")["golden_raw_id"]
    m = pairwise_precision_recall(clusters, truth)

    print(
        f"world: {what}; {len(raw['customers']):,} customer records, {result.report['rows_in']:,} rows in all"
    )
    print(
        f"candidate pairs {dedup['candidate_pairs']:,}, linked pairs {dedup['matched_pairs']:,}, "
        f"records merged {dedup['records_merged']:,}, largest cluster {dedup['largest_cluster']}"
    )
    print(
        f"pairwise precision {m['precision']:.4f}  recall {m['recall']:.4f}  f1 {m['f1']:.4f}  "
        f"(true pairs {m['true_pairs']:,}, predicted {m['predicted_pairs']:,}, correct {m['true_positive_pairs']:,})"
    )
    print(
        f"de-duplication {dedup['seconds']:.1f} s; whole clean_tables {total:.1f} s; peak RSS {peak_rss_mib():,.0f} MiB"
    )
    print(
        f"quarantined {result.report['rows_quarantined']:,} rows: {result.report['quarantined_by_reason']}; "
        f"orders net revenue before/after merge: {result.report['reconciliation']['orders']}"
    )
    ok = (
        m["precision"] >= TARGETS["precision"]
        and m["recall"] >= TARGETS["recall"]
        and float(dedup["seconds"]) < TARGETS["dedup_seconds"]
    )
    print(f"targets {TARGETS}: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
