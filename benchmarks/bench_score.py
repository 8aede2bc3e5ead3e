"""Benchmark: score 1M customers (features, both models, reason codes, segments, expected value, write).

Set-up (not timed): a base project is built with the demo pipeline (``--base`` persons, default 20k; or reuse a
project with ``--base-root``, e.g. the folder ``make demo`` wrote), so that the registry holds trained
champions, the segmentation is fitted and the clean tables exist. The clean tables are then tiled to ``--n``
customers with DuckDB: every copy of a customer gets a new id, its timestamps shifted back by 0-59 days and
its amounts scaled by 0.80-1.20 (a hash of id and copy), so the copies are distinct customers with realistic
histories.

Timed: :func:`custml.pipeline.run_score` on the tiled clean tables, read before the timer (features on DuckDB, model
loading, drift, segments and clusters, BTYD expected value, both models, reason codes, actions, atomic parquet
write). Prints the seconds of each step, the total against the 120 s target and the peak memory.

    .venv/bin/python benchmarks/bench_score.py [--n 1000000] [--base 20000] [--base-root DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import time
from pathlib import Path

import duckdb
import pandas as pd

TARGET_S = 120.0


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def build_base(root: Path, n_base: int) -> None:
    from custml.pipeline import DemoSettings, run_demo

    t0 = time.perf_counter()
    run_demo(
        DemoSettings(n_customers=n_base, seed=2024, preset="default", quiet=True),
        root=root,
        say=lambda m: print(f"  base: {m}", flush=True),
    )
    print(f"base project ({n_base:,} persons) built in {time.perf_counter() - t0:.0f} s")


def tile(interim: Path, out: Path, n: int) -> int:
    """Tile the clean tables of ``interim`` to ``n`` customers under ``out``; return the number of copies."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    n_base = con.execute(f"SELECT count(*) FROM '{interim}/customers.parquet'").fetchone()[0]
    copies = math.ceil(n / n_base)
    con.execute(
        f"""
        CREATE TEMP TABLE keys AS
        SELECT c.customer_id AS base_id, k AS copy,
               c.customer_id || '-' || lpad(k::VARCHAR, 3, '0') AS new_id,
               (hash(c.customer_id || '/' || k) % 60)::INTEGER AS shift_days,
               0.8 + (hash(k || '/' || c.customer_id) % 41) / 100.0 AS factor
        FROM '{interim}/customers.parquet' c, range({copies}) t(k)
        QUALIFY row_number() OVER (ORDER BY k, c.customer_id) <= {n}
        """
    )
    con.execute(
        f"""COPY (SELECT c.* REPLACE (k.new_id AS customer_id, c.signup_date - to_days(k.shift_days) AS signup_date)
            FROM '{interim}/customers.parquet' c JOIN keys k ON c.customer_id = k.base_id)
            TO '{out}/customers.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT o.* REPLACE (k.new_id AS customer_id, o.order_id || '-' || k.copy AS order_id,
                   o.order_ts - to_days(k.shift_days) AS order_ts,
                   o.gross_amount * k.factor AS gross_amount, o.discount_amount * k.factor AS discount_amount,
                   o.net_amount * k.factor AS net_amount,
                   CASE WHEN o.refund_of_order_id IS NULL THEN NULL
                        ELSE o.refund_of_order_id || '-' || k.copy END AS refund_of_order_id)
            FROM '{interim}/orders.parquet' o JOIN keys k ON o.customer_id = k.base_id)
            TO '{out}/orders.parquet' (FORMAT parquet)"""
    )
    if (interim / "interactions.parquet").is_file():
        con.execute(
            f"""COPY (SELECT i.* REPLACE (k.new_id AS customer_id,
                       i.interaction_id || '-' || k.copy AS interaction_id, i.ts - to_days(k.shift_days) AS ts)
                FROM '{interim}/interactions.parquet' i JOIN keys k ON i.customer_id = k.base_id)
                TO '{out}/interactions.parquet' (FORMAT parquet)"""
        )
    con.close()
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="customers to score")
    parser.add_argument("--base", type=int, default=20_000, help="persons of the base world (when built)")
    parser.add_argument("--base-root", type=Path, default=None, help="reuse this project (models, interim)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/bench_score"), help="work folder")
    parser.add_argument("--max-explained", type=int, default=None, help="cap on explained customers")
    args = parser.parse_args()

    out = args.out.resolve()
    root = (args.base_root or out / "base").resolve()
    os.environ["CUSTML_HOME"] = str(root)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    if not (root / "data" / "interim" / "customers.parquet").is_file():
        build_base(root, args.base)

    from custml.contracts import QualityReport, TableQuality
    from custml.pipeline import ScoreSettings, default_as_of, run_score
    from custml.quality.pipeline import CleanResult

    as_of = default_as_of(root / "data" / "raw")
    tiled = out / f"tiled_{args.n}"
    if not (tiled / "customers.parquet").is_file():
        t0 = time.perf_counter()
        copies = tile(root / "data" / "interim", tiled, args.n)
        print(f"tiled the clean tables {copies}x to {args.n:,} customers in {time.perf_counter() - t0:.0f} s")
    con = duckdb.connect()
    sizes = {
        t: con.execute(f"SELECT count(*) FROM '{tiled}/{t}.parquet'").fetchone()[0]
        for t in ("customers", "orders", "interactions")
        if (tiled / f"{t}.parquet").is_file()
    }
    con.close()
    print("input rows: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))

    n = sizes["customers"]
    report = QualityReport(
        as_of=str(as_of),
        mode="already_clean",
        rows_in=n,
        rows_kept=n,
        rows_quarantined=0,
        tables={"customers": TableQuality(rows_in=n, rows_kept=n, rows_quarantined=0, rows_out=n)},
        quarantined_by_table={},
        quarantined_by_reason={},
    )
    clean = CleanResult(
        # frames, not paths: the expected value's model choice and the drift's data start read the orders as a
        # DataFrame (reading them is set-up, not timed)
        tables={t: pd.read_parquet(tiled / f"{t}.parquet") for t in sizes},
        quarantine=pd.DataFrame(),
        id_map=pd.DataFrame(),
        report=report,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    settings = ScoreSettings(
        data=root / "data" / "raw",
        as_of=str(as_of),
        out=out / "scores_1m.parquet",
        max_explained=args.max_explained,
    )
    run = run_score(settings, root=root, clean=clean, raw_rows=n)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    print()
    for step, seconds in run.timings.items():
        print(f"  {step:<16} {seconds:8.1f} s")
    explained = int(run.scores["reason_1"].notna().sum())
    print(
        f"scored {len(run.scores):,} customers as of {as_of.date()} in {total:.1f} s "
        f"(target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'MISSED'}); "
        f"reason codes for {explained:,} ({explained / len(run.scores):.1%}); CPU {cpu:.1f} s (all threads; "
        f"compare with the wall time on a busy machine); peak RSS {peak_rss_gib():.1f} GiB"
    )
    print(f"actions: {run.scores['recommended_action'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
