"""Benchmark: monitoring 12 monthly scores files of 1M customers each (goal: under 60 s).

Draws a population of ``--customers`` persons with gamma purchase rates and exponential dropout over 2023-2025
(orders as a Poisson process until dropout), then writes one scores file per month of 2025 in the shape of
``custml score`` (every contract column, segments and actions as strings, probabilities from a logistic
function of recency and frequency at the as-of date, so the scores are informative but not perfect). Timed:
reading the 12 files, indexing the orders (:class:`custml.monitoring.OrderEvents`) and
:func:`custml.monitoring.monitor_scores` (realised metrics for the 9 matured files, label-free estimates and the
outcome so far for all, score drift against a training reference, and the breakdown by six segment and action
columns). Rebuilding the features at each as-of date for the input tests is not included: that is the scoring
job's feature step (about 20 s per million customers, ``benchmarks/bench_score.py``); ``custml monitor
--no-input-drift`` uses the PSI each scores file's sidecar recorded instead. Prints seconds and peak memory;
asserts nothing.

    .venv/bin/python benchmarks/bench_monitor.py [--customers 1000000] [--files 12] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from custml.contracts import ModelMetrics
from custml.io import read_table, write_table
from custml.monitoring import GROUP_COLUMNS, OrderEvents, ScoresSnapshot, monitor_scores, score_reference

# The columns custml.pipeline.run_monitor reads of a scores file.
READ = (
    "customer_id",
    "as_of",
    "churn_probability",
    "churn_model_name",
    "churn_model_version",
    *GROUP_COLUMNS,
)

START, END = pd.Timestamp("2023-01-01"), pd.Timestamp("2026-01-01")
LEVELS = {
    "rfm_segment": [
        "Champions",
        "Loyal",
        "Potential loyalist",
        "New",
        "At risk",
        "Hibernating",
        "Lost",
        "(none)",
    ],
    "value_tier": ["high", "medium", "low"],
    "activity_tier": ["active", "lapsing", "inactive"],
    "lifecycle_stage": ["new", "active", "at_risk", "churned", "prospect"],
    "cluster_name": ["Frequent", "Bargain", "Big basket", "Occasional", "One-off"],
    "recommended_action": [
        "personal_outreach",
        "retention_offer",
        "win_back",
        "loyalty_reward",
        "onboarding",
        "none",
    ],
}


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn``; return (result, seconds, peak RSS growth in MiB) sampling RSS every 20 ms."""
    proc = psutil.Process()
    start_rss = proc.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    done.set()
    thread.join()
    return out, seconds, (peak[0] - start_rss) / 2**20


def simulate_orders(n: int, rng: np.random.Generator) -> pd.DataFrame:
    days = (END - START).days
    signup = rng.uniform(0, days * 0.8, n)
    rate = rng.gamma(1.2, 6.0 / 1.2, n) / 365.0  # orders per day
    dropout = signup + rng.exponential(500.0, n)
    life = np.clip(np.minimum(dropout, days) - signup, 0, None)
    counts = rng.poisson(rate * life) + 1
    who = np.repeat(np.arange(n), counts)
    t = signup[who] + rng.random(len(who)) * life[who]
    return pd.DataFrame(
        {
            "customer_id": np.char.add("c", np.arange(n).astype(str))[who],
            "order_ts": START + pd.to_timedelta(t, unit="D"),
        }
    )


def scores_at(events: OrderEvents, as_of: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    a = np.datetime64(as_of)
    before = events.ts < a
    codes, ts = events.codes[before], events.ts[before]
    last = np.full(len(events.ids), np.datetime64("NaT"), dtype="datetime64[ns]")
    last[codes] = ts  # sorted by customer then time: the last write per customer is the latest order
    freq = np.bincount(codes, minlength=len(events.ids))
    recency = (a - last) / np.timedelta64(1, "D")
    seen = freq > 0
    logit = -1.2 + recency[seen] / 60.0 - 0.6 * np.log1p(freq[seen]) + rng.normal(0, 0.6, int(seen.sum()))
    n = int(seen.sum())
    frame = pd.DataFrame(
        {
            "customer_id": events.ids[seen].astype(str),
            "as_of": as_of,
            "churn_probability": 1 / (1 + np.exp(-logit)),
            "repurchase_probability": rng.random(n),
            "expected_value_12m": rng.gamma(2.0, 50.0, n),
        }
    )
    frame["revenue_at_risk"] = frame["expected_value_12m"] * frame["churn_probability"]
    for col, levels in LEVELS.items():
        frame[col] = np.asarray(levels, dtype=object)[rng.integers(0, len(levels), n)]
    for col in ("reason_1", "reason_2", "reason_3"):
        frame[col] = None
    frame["churn_model_name"] = "custml-churn"
    frame["churn_model_version"] = "1"
    frame["repurchase_model_name"] = "custml-repurchase"
    frame["repurchase_model_version"] = "1"
    frame["scored_at"] = as_of
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    orders = simulate_orders(args.customers, rng)
    events_all = OrderEvents.from_orders(orders, end=END)
    dates = [pd.Timestamp("2025-01-01") + pd.DateOffset(months=k) for k in range(args.files)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for d in dates:
            path = Path(tmp) / f"scores_{d.date()}.parquet"
            write_table(scores_at(events_all, d, rng), path)
            paths.append(path)
        train_p = pd.read_parquet(paths[0], columns=["churn_probability"])["churn_probability"].to_numpy()
        reference = score_reference(train_p[:200_000])
        promised = ModelMetrics(roc_auc=0.80, lift_top10=2.0, ece=0.02, base_rate=0.6)
        print(
            f"set-up: {len(orders):,} orders of {args.customers:,} customers, {len(paths)} scores files "
            f"({sum(p.stat().st_size for p in paths) / 2**20:.0f} MiB) in {time.perf_counter() - t0:.0f} s"
        )
        del events_all

        frames, t_read, m_read = measured(lambda: [read_table(p, "scores", columns=READ) for p in paths])
        events, t_index, m_index = measured(lambda: OrderEvents.from_orders(orders, end=END))
        snaps = [
            ScoresSnapshot(f, d, "custml-churn", "1", 90, promised, reference, None, p.name)
            for f, d, p in zip(frames, dates, paths, strict=True)
        ]
        result, t_monitor, m_monitor = measured(lambda: monitor_scores(snaps, events))
    h = result.health
    print(
        f"read {len(frames)} files ({sum(len(f) for f in frames):,} rows): {t_read:.1f} s, +{m_read:.0f} MiB"
    )
    print(f"index the orders: {t_index:.1f} s, +{m_index:.0f} MiB")
    print(
        f"monitor_scores: {t_monitor:.1f} s, +{m_monitor:.0f} MiB "
        f"({int(h['matured'].sum())} matured, {len(result.groups)} segment rows, verdict {result.verdict})"
    )
    print(f"total (read + index + monitor): {t_read + t_index + t_monitor:.1f} s (goal < 60 s)")
    cols = ["n_population", "realised_roc_auc", "estimated_roc_auc", "realised_rate", "expected_rate"]
    print(h[["as_of", "matured", *cols]].round(dict.fromkeys(cols, 3)).to_string(index=False))


if __name__ == "__main__":
    main()
