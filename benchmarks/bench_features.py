"""Benchmark: the full feature catalogue at one cutoff vs a bare DuckDB scan-and-aggregate of the same parquet.

Generates synthetic orders (and interactions and customers) with numpy for 700k customers at 1M and 10M orders,
writes them as parquet in a temporary folder, then, in a fresh child process per size (so that peak memory is
the feature computation's, not the generator's), times

- the bare scan: ``SELECT customer_id, count(*), sum(net_amount), max(order_ts) FROM read_parquet(...) GROUP BY 1``
  (median of three runs after a warm-up);
- ``custml.features.build_features`` on the parquet paths (full catalogue, DuckDB, ``threads=2``),

and prints seconds, their ratio and the child's peak RSS. Target: catalogue within 30x of the bare scan at 10M
orders and under 4 GB peak memory.

Usage::

    python benchmarks/bench_features.py                 # 1M and 10M orders
    python benchmarks/bench_features.py --orders 1000000 --customers 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CUTOFF = "2025-10-01"
START = np.datetime64("2023-01-01T00:00:00", "s")
END = np.datetime64("2025-12-31T23:59:59", "s")
CATEGORIES = [
    "books",
    "music",
    "electronics",
    "home",
    "garden",
    "toys",
    "fashion",
    "beauty",
    "sports",
    "food",
]
CHANNELS = ["web", "app", "store", "marketplace"]
KINDS = ["support_ticket", "complaint", "survey", "email_sent", "email_open", "email_click", "app_session"]


def _ids(n: int, rng: np.random.Generator) -> pa.Array:
    """Ids shaped like the cleaner's pseudonyms: 16 hex characters (too long for DuckDB's inlined strings)."""
    return pa.array([f"{v:016x}" for v in rng.integers(0, 2**63, n, dtype=np.int64)], type=pa.string())


def _take(dictionary: pa.Array, idx: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32)), dictionary).cast(pa.string())


def generate(out: Path, n_orders: int, n_customers: int, seed: int = 7) -> dict[str, Path]:
    """Write orders, interactions and customers parquet files for a synthetic population; return the paths."""
    rng = np.random.default_rng(seed)
    span = int((END - START) / np.timedelta64(1, "s"))
    cust_ids = _ids(n_customers, rng)
    # Heterogeneous purchase rates (gamma), normalised to the wanted number of orders.
    rate = rng.gamma(0.8, 1.0, n_customers)
    counts = rng.multinomial(n_orders, rate / rate.sum())
    cust = np.repeat(np.arange(n_customers), counts)
    first = rng.integers(0, span, n_customers)
    offset = first[cust] + (rng.random(n_orders) * (span - first[cust])).astype(np.int64)
    order_ts = START + offset.astype("timedelta64[s]")
    refund = rng.random(n_orders) < 0.03
    gross = np.round(rng.gamma(2.0, 30.0, n_orders), 2)
    discount = np.round(gross * (rng.random(n_orders) < 0.3) * rng.uniform(0.05, 0.3, n_orders), 2)
    net = gross - discount
    sign = np.where(refund, -1.0, 1.0)
    orders = pa.table(
        {
            "order_id": pa.array(np.arange(n_orders).astype(str)),
            "customer_id": _take(cust_ids, cust),
            "order_ts": pa.array(order_ts.astype("datetime64[us]")),
            "channel": _take(pa.array(CHANNELS), rng.integers(0, len(CHANNELS), n_orders)),
            "n_items": pa.array(rng.integers(1, 6, n_orders)),
            "gross_amount": pa.array(gross * sign),
            "discount_amount": pa.array(np.where(refund, 0.0, discount)),
            "net_amount": pa.array(np.where(refund, -net, net)),
            "category": _take(pa.array(CATEGORIES), rng.integers(0, len(CATEGORIES), n_orders)),
            "is_refund": pa.array(refund),
        }
    )
    n_inter = n_orders // 2
    icust = rng.integers(0, n_customers, n_inter)
    kind = rng.choice(len(KINDS), n_inter, p=[0.04, 0.02, 0.04, 0.4, 0.2, 0.05, 0.25])
    its = START + rng.integers(0, span, n_inter).astype("timedelta64[s]")
    interactions = pa.table(
        {
            "interaction_id": pa.array(np.arange(n_inter).astype(str)),
            "customer_id": _take(cust_ids, icust),
            "ts": pa.array(its.astype("datetime64[us]")),
            "kind": _take(pa.array(KINDS), kind),
            "score": pa.array(np.where(kind == 2, rng.integers(1, 6, n_inter), np.nan)),
            "resolved": pa.array(
                np.where(kind <= 1, rng.random(n_inter) < 0.8, None).tolist(), type=pa.bool_()
            ),
            "resolution_hours": pa.array(np.where(kind <= 1, rng.gamma(2, 24, n_inter), np.nan)),
        }
    )
    signup = START + (first - rng.integers(0, 86_400 * 60, n_customers)).astype("timedelta64[s]")
    customers = pa.table(
        {
            "customer_id": cust_ids,
            "signup_date": pa.array(signup.astype("datetime64[us]")),
            "age_band": _take(
                pa.array(["<25", "25-34", "35-44", "45-54", "55-64", "65+"]), rng.integers(0, 6, n_customers)
            ),
            "region": _take(pa.array([f"R{i}" for i in range(12)]), rng.integers(0, 12, n_customers)),
            "acquisition_channel": _take(
                pa.array(["organic", "paid_search", "social", "referral"]), rng.integers(0, 4, n_customers)
            ),
            "loyalty_member": pa.array(rng.random(n_customers) < 0.3),
        }
    )
    paths = {}
    for name, table in (("orders", orders), ("interactions", interactions), ("customers", customers)):
        paths[name] = out / f"{name}.parquet"
        pq.write_table(table, paths[name], row_group_size=1_000_000)
    return paths


def measure(folder: Path, threads: int) -> dict[str, float]:
    """Time the bare scan and the full catalogue in this process; return seconds and peak RSS."""
    import duckdb

    from custml.features import FeatureParams, build_features

    orders = str(folder / "orders.parquet")
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    bare_sql = (
        "SELECT customer_id, count(*), sum(net_amount), max(order_ts) "
        f"FROM read_parquet('{orders}') GROUP BY 1"
    )
    con.execute(bare_sql).fetchall()  # warm the file cache
    times = []
    for _ in range(3):  # the median of three: one short query is easily disturbed by other processes
        t0 = time.perf_counter()
        n_bare = len(con.execute(bare_sql).fetchall())
        times.append(time.perf_counter() - t0)
    bare = float(np.median(times))
    con.close()

    tables = {name: folder / f"{name}.parquet" for name in ("orders", "interactions", "customers")}
    params = FeatureParams(duckdb_threads=threads)
    t0 = time.perf_counter()
    feats = build_features(tables, CUTOFF, params=params)
    full = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bare_s": bare,
        "catalogue_s": full,
        "ratio": full / bare,
        "peak_rss_mb": peak_mb,
        "customers_bare": n_bare,
        "rows": len(feats),
        "features": feats.shape[1] - 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--customers", type=int, default=700_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.threads)))
        return
    print(
        f"{'orders':>11} {'customers':>9} {'bare scan s':>11} {'catalogue s':>11} {'ratio':>6} {'peak MB':>8} features"
    )
    for n in args.orders:
        with tempfile.TemporaryDirectory(prefix="custml-bench-") as tmp:
            folder = Path(tmp)
            t0 = time.perf_counter()
            generate(folder, n, args.customers)
            gen_s = time.perf_counter() - t0
            res = subprocess.run(
                [sys.executable, __file__, "--measure", str(folder), "--threads", str(args.threads)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(res.stdout.strip().splitlines()[-1])
            print(
                f"{n:>11,} {args.customers:>9,} {r['bare_s']:>11.3f} {r['catalogue_s']:>11.2f} {r['ratio']:>6.1f} "
                f"{r['peak_rss_mb']:>8.0f} {r['features']} (rows {r['rows']:,}; data generated in {gen_s:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
