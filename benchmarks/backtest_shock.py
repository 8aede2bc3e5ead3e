"""How much of each backtest month's churn rate is the preset's price rise and retention campaign? The oracle
with and without them.

Why: the retail preset raises prices on 2025-03-01 (``ShockParams``: dropout hazard x2 and purchase rate x0.8 for
the price-sensitive personas). A model trained before that date cannot see it, and test months whose 90-day
label window reaches past it are under-predicted by the shock's size whatever the calibration. The world's
oracle is exact with ``in_oracle=True`` (the preset) and describes the world before the change with
``in_oracle=False``; the flag changes the oracle only, not the simulation, so both read the same persons on the
same dates. Per test cut-off (the 12 of ``custml backtest churn --months 12`` on the preset), over the persons
with an order in the 365 days before it (the churn population): the realised 90-day churn rate, the oracle's
mean with and without the shock, and their difference (the part of the rate no history before the cut-off can
show). ``ece_oracle_without_events`` is the ECE of the oracle that knows every person's latent state but
neither event: what a perfect model trained before the events would score (10 equal-mass bins, as the backtest).
The preset's retention campaign (sent 2025-06-01, a lower dropout hazard for the persuadable who got the
offer, for 180 days) is the other dated event: ``oracle_without_events`` is the oracle that knows neither (the
campaign's arms left out of the truth it reads), ``campaign_effect`` its part.

    .venv/bin/python benchmarks/backtest_shock.py [--customers 50000] [--seed 0]

Prints the table and writes ``benchmarks/out/backtest_shock.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from custml.models.metrics import expected_calibration_error
from custml.synth import generate_world, world_preset
from custml.synth.oracle import oracle_probabilities

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first", default="2024-11-07", help="the first test cut-off")
    ap.add_argument("--months", type=int, default=12)
    args = ap.parse_args()
    known = world_preset("retail", n_customers=args.customers, seed=args.seed, dirty=0.02)
    assert known.shock is not None
    unknown = known.model_copy(update={"shock": known.shock.model_copy(update={"in_oracle": False})})
    world = generate_world(known)
    truth = world.truth["customers"]
    person = truth.set_index("customer_id")["person_id"]
    untreated = truth.drop(columns=[c for c in truth.columns if str(c).startswith("campaign_")])
    untreated.attrs = dict(truth.attrs)
    orders = world.orders.copy()
    orders["order_ts"] = pd.to_datetime(orders["order_ts"], errors="coerce", format="mixed", utc=True)
    orders["order_ts"] = orders["order_ts"].dt.tz_localize(None)
    orders["person_id"] = person.reindex(orders["customer_id"]).to_numpy()
    if "is_refund" in orders.columns:
        orders = orders[~orders["is_refund"].astype(bool)]
    rows = []
    for cut in pd.date_range(args.first, periods=args.months, freq="30D"):
        before = orders[(orders["order_ts"] < cut) & (orders["order_ts"] >= cut - pd.Timedelta(days=365))]
        after = orders[(orders["order_ts"] >= cut) & (orders["order_ts"] < cut + pd.Timedelta(days=90))]
        active = pd.Index(before["person_id"].dropna().unique())
        with_shock = oracle_probabilities(truth, cut, known).set_index("person_id")["p_no_purchase_90d"]
        without = oracle_probabilities(truth, cut, unknown).set_index("person_id")["p_no_purchase_90d"]
        neither = oracle_probabilities(untreated, cut, unknown).set_index("person_id")["p_no_purchase_90d"]
        active = active.intersection(with_shock.index)
        churned = ~np.isin(active, after["person_id"].dropna().unique())
        rows.append(
            {
                "test_cutoff": cut.date().isoformat(),
                "population": len(active),
                "realised": float(churned.mean()),
                "ece_oracle": expected_calibration_error(churned, with_shock.reindex(active).to_numpy()),
                "ece_oracle_without_events": expected_calibration_error(
                    churned, neither.reindex(active).to_numpy()
                ),
                "oracle": float(with_shock.reindex(active).mean()),
                "oracle_without_shock": float(without.reindex(active).mean()),
                "oracle_without_events": float(neither.reindex(active).mean()),
            }
        )
    table = pd.DataFrame(rows)
    table["shock_effect"] = table["oracle"] - table["oracle_without_shock"]
    table["campaign_effect"] = table["oracle_without_shock"] - table["oracle_without_events"]
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "backtest_shock.csv", index=False)
    print(f"shock: {known.shock.name} from {known.shock.start} ({known.shock.description})")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
