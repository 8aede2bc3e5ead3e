"""Print the calendar realism table: the retail preset and the default world beside CDNOW and a real shop's year.

For each source: the monthly order index (orders per month over the mean month, the last 12 complete
months), the 90-day churn base rate among active customers (an order in the 365 days before) at the first of
every month, by calendar month of the cut-off, and a summary (November index, September-to-December swing,
range of the base rate, repeat-gap quantiles in days between a customer's consecutive purchase days).

The real shop is the UK online retailer of ``online_retail_II`` (2009-12-01 to 2010-12-09, invoice lines;
cancellations and lines without a customer dropped, one order per invoice). Its 13 months leave no cut-off
with a full year of history, so its active window starts at the data start (a January cut-off sees one month
of history); its September-to-December swing cannot be measured (no December cut-off has 90 days after it).
CDNOW is one cohort that first bought in Q1 1997, so its base rate rises as the cohort ages.

    .venv/bin/python benchmarks/realism_retail.py [--customers 50000] [--seed 0] [--markdown]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from custml.datasets import load_cdnow_transactions
from custml.synth import generate_world, world_preset
from custml.synth.realism import calendar_profile, calendar_table, invoice_orders

RETAIL = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "online_retail_ii"
    / "online_retail_II_2009-2010.csv.gz"
)


def _retail_orders(path: Path) -> pd.DataFrame:
    lines = pd.read_csv(
        path,
        usecols=["Invoice", "InvoiceDate", "Customer ID"],
        dtype={"Invoice": str, "Customer ID": str},
        encoding="latin-1",  # the descriptions hold a few non-UTF-8 bytes (pound signs)
    )
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    return invoice_orders(lines)


def _markdown(table: pd.DataFrame) -> str:
    head = "| | " + " | ".join(table.columns) + " |"
    rule = "|---|" + "---:|" * len(table.columns)
    rows = [
        f"| {i} | " + " | ".join("" if pd.isna(v) else f"{v:.3g}" for v in r) + " |"
        for i, r in table.iterrows()
    ]
    return "\n".join([head, rule, *rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--retail", type=Path, default=RETAIL)
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = ap.parse_args()
    profiles = {}
    for preset in ("retail", "default"):
        t0 = time.perf_counter()
        w = generate_world(world_preset(preset, n_customers=args.customers, seed=args.seed))
        seconds = time.perf_counter() - t0
        purchases = w.orders[~w.orders["is_refund"]]
        profiles[f"{preset} preset"] = calendar_profile(purchases)
        print(
            f"{preset} preset: {args.customers:,} persons, {len(purchases):,} orders, generated in {seconds:.1f} s"
        )
    cdnow = load_cdnow_transactions("master")
    profiles["CDNOW"] = calendar_profile(cdnow)
    profiles["online retail 2009-10"] = calendar_profile(_retail_orders(args.retail), history_days=0)
    tables = calendar_table(profiles)
    for name, table in tables.items():
        print(f"\n{name}")
        with pd.option_context("display.width", 160):
            print(_markdown(table) if args.markdown else table.round(3).to_string())


if __name__ == "__main__":
    main()
