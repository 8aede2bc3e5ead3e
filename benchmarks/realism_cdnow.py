"""Print realism statistics of the default synthetic world next to the real CDNOW data.

Customers are followed 65 weeks from their own first purchase (CDNOW's cohort bought first in Q1 1997 and the
data end on 1998-06-30); purchases on the same day count once.

    .venv/bin/python benchmarks/realism_cdnow.py [--customers 50000] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from custml.synth import WorldParams, generate_world
from custml.synth.realism import load_cdnow, realism_metrics, realism_table

CDNOW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cdnow" / "CDNOW_master.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cdnow", type=Path, default=CDNOW)
    args = ap.parse_args()
    results = {
        "CDNOW": realism_metrics(load_cdnow(args.cdnow.read_text()), data_end="1998-06-30", window_weeks=65)
    }
    for locale in ("en_US", "zh_CN"):
        w = generate_world(WorldParams(n_customers=args.customers, seed=args.seed, locale=locale))
        purchases = w.orders[~w.orders["is_refund"]]
        results[f"synthetic {locale}"] = realism_metrics(
            purchases, data_end=w.manifest["end"], window_weeks=65
        )
    with pd.option_context("display.width", 160):
        print(realism_table(results).round(3).to_string())


if __name__ == "__main__":
    main()
