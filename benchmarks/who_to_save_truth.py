"""Score a demo project's "Who to save" plan against the synthetic truth: true profit of the plan vs other rules.

Run after ``custml demo`` (the retail preset) in the same project root. The truth's per-customer uplift is the
oracle's for an offer like the world's campaign sent at the data end (each person's uplift type and effects,
the outcome of ``custml.uplift.UpliftParams``: no order in the last 90 of 180 days). True profit = true uplift x
the scores' 12-month value x margin - offer cost, for the plan's customers and for as many chosen by value x
risk (``revenue_at_risk``), churn risk, value, at random, and by the true profit itself (the oracle).

    .venv/bin/python benchmarks/who_to_save_truth.py [--root PROJECT] [--margin 0.3] [--cost 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from custml.config import ProjectPaths, get_paths
from custml.io import read_table
from custml.synth import WorldParams, oracle_campaign_uplift, read_truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=None)
    ap.add_argument("--margin", type=float, default=0.3)
    ap.add_argument("--cost", type=float, default=10.0)
    args = ap.parse_args()
    paths = get_paths(args.root)
    truth = read_truth(paths.raw)
    tc = truth["customers"]
    params = WorldParams.model_validate(tc.attrs["world_params"])
    scores_file = sorted(ProjectPaths.scores_files_in(paths.scores))[-1]
    scores = read_table(scores_file, "scores")
    data_end = pd.Timestamp(scores["as_of"].iloc[0]) - pd.Timedelta(seconds=1)
    hypothetical = params.model_copy(
        update={"campaign": params.campaign.model_copy(update={"sent": str(data_end)})}
    )
    everyone = tc.assign(campaign_eligible=pd.to_datetime(tc["signup_ts"]) < data_end)
    everyone.attrs = tc.attrs
    uplift = oracle_campaign_uplift(everyone, 180, hypothetical, window_start_days=90).set_index(
        "customer_id"
    )

    # pseudonym -> surviving raw record -> the person's original record (the truth's customer_id)
    id_map = read_table(ProjectPaths.id_map_in(paths.private), "id_map").drop_duplicates("customer_id")
    raw = id_map.set_index("customer_id").loc[scores["customer_id"], "golden_raw_id"].to_numpy()
    person_of = truth["duplicates"].set_index("customer_id")["person_id"]
    original = tc.set_index("person_id")["customer_id"]
    orig = np.array([r if r in uplift.index else original.get(person_of.get(r)) for r in raw], dtype=object)
    s = scores.assign(true_uplift=uplift["true_uplift"].reindex(orig).to_numpy())
    s = s[s["true_uplift"].notna()].reset_index(drop=True)
    s["true_profit"] = s["true_uplift"] * s["expected_value_12m"] * args.margin - args.cost
    plan = (s["chosen_action"].astype(str) != "no action").to_numpy()
    k = int(plan.sum())

    def top(values: np.ndarray) -> np.ndarray:
        m = np.zeros(len(s), dtype=bool)
        m[np.argsort(-values, kind="stable")[:k]] = True
        return m

    rng = np.random.default_rng(0)
    random = np.zeros(len(s), dtype=bool)
    random[rng.choice(len(s), k, replace=False)] = True
    policies = {
        "plan (Who to save)": plan,
        "value x risk": top(s["revenue_at_risk"].to_numpy(dtype=float)),
        "churn risk": top(s["churn_probability"].to_numpy(dtype=float)),
        "value": top(s["expected_value_12m"].to_numpy(dtype=float)),
        "random": random,
        "oracle (true profit)": top(s["true_profit"].to_numpy(dtype=float)),
    }
    rho = spearmanr(s["uplift"], s["true_uplift"]).statistic
    print(f"{len(s):,} scored customers matched to the truth; Spearman(uplift, true uplift) {rho:.3f}")
    rows = [
        {
            "policy": name,
            "contacted": int(m.sum()),
            "true_profit": float(s.loc[m, "true_profit"].sum()),
            "expected_profit": float(s.loc[m, "expected_profit"].sum()),
            "mean_true_uplift": float(s.loc[m, "true_uplift"].mean()),
        }
        for name, m in policies.items()
    ]
    print(pd.DataFrame(rows).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
