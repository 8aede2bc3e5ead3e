"""Benchmark: agreement of the segmentation clusters with the synthetic world's true personas.

Generates a clean world, cleans it (fixed demo key), builds features at the reference cutoff, runs
:func:`custml.segment.segment_customers` (k-means and GMM, k chosen by the pipeline) and prints the adjusted Rand
index against the true personas (mapped raw customer id -> pseudonym through the id map), plus a supervised upper
bound (LightGBM on all numeric and categorical features, 5-fold out-of-fold predictions) on all clustered customers and on those
with at least three orders. Also prints the cluster names and the persona mix of each cluster. Asserts nothing.

    .venv/bin/python benchmarks/persona_agreement.py [--n 50000] [--seed 0] [--no-supervised]
        [--features default|previous|COL,COL,...] [--k K]

``--features previous`` is the pre-sim4 default six (frequency_orders, monetary_mean, items_365d,
share_channel_app, app_sessions_365d, email_open_rate_365d), kept for before/after comparisons.
"""

from __future__ import annotations

import argparse
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, adjusted_rand_score
from sklearn.model_selection import StratifiedKFold

from custml.features import build_features
from custml.quality import clean_tables
from custml.segment import ClusterParams, SegmentationRunParams, segment_customers
from custml.segment.rules import has_orders
from custml.synth import WorldParams, generate_world

KEY = b"persona-agreement-benchmark-key-0123456789"
PREVIOUS_DEFAULT = (
    "frequency_orders",
    "monetary_mean",
    "items_365d",
    "share_channel_app",
    "app_sessions_365d",
    "email_open_rate_365d",
)


def _feature_set(option: str) -> tuple[str, ...] | None:
    if option == "default":
        return None
    if option == "previous":
        return PREVIOUS_DEFAULT
    return tuple(c.strip() for c in option.split(",") if c.strip())


def _supervised(X: pd.DataFrame, y: np.ndarray, seed: int) -> np.ndarray:
    pred = np.empty(len(y), dtype=object)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    for train, test in folds.split(X, y):
        model = lgb.LGBMClassifier(n_estimators=120, learning_rate=0.1, num_leaves=15, verbose=-1, n_jobs=2)
        model.fit(X.iloc[train], y[train])
        pred[test] = model.predict(X.iloc[test])
    return pred


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-supervised", action="store_true")
    ap.add_argument("--features", default="default", help="default, previous, or comma-separated columns")
    ap.add_argument("--k", type=int, default=None, help="fixed number of clusters (default: chosen)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    params = WorldParams(n_customers=args.n, seed=args.seed)
    world = generate_world(params)
    cutoff = pd.Timestamp(params.reference_cutoff)
    clean = clean_tables(world.tables, cutoff, KEY)
    tables = {k: v for k, v in clean.tables.items() if k in {"customers", "orders", "interactions"}}
    features = build_features(tables, cutoff).reset_index(drop=True)
    truth = world.truth["customers"][["customer_id", "persona"]].rename(
        columns={"customer_id": "raw_customer_id"}
    )
    to_persona = clean.id_map[["raw_customer_id", "customer_id"]].merge(truth, on="raw_customer_id")
    to_persona = to_persona.drop_duplicates("customer_id").set_index("customer_id")["persona"]
    persona = features["customer_id"].map(to_persona).astype(str).to_numpy()
    print(
        f"world n={args.n} seed={args.seed}: {len(features)} customers, prep {time.perf_counter() - t0:.0f} s"
    )

    buyers = has_orders(features).to_numpy()
    print(f"clustered (with orders): {buyers.sum()}")
    print(
        "persona shares among buyers:",
        pd.Series(persona[buyers]).value_counts(normalize=True).round(3).to_dict(),
    )
    for method in ("kmeans", "gmm"):
        t1 = time.perf_counter()
        cluster = ClusterParams(
            method=method, features=_feature_set(args.features), n_clusters=args.k, stability_boots=0
        )
        run = SegmentationRunParams(cluster=cluster)
        res = segment_customers(features, run)
        seg = res.segments
        ok = seg["cluster"].to_numpy() >= 0
        ari = adjusted_rand_score(persona[ok], seg.loc[ok, "cluster"])
        used = ", ".join(res.clusterer.feature_names_in_)
        print(
            f"\n{method} [{used}]: k={res.clusterer.n_clusters_} ARI={ari:.3f} ({time.perf_counter() - t1:.0f} s)"
        )
        mix = pd.crosstab(seg.loc[ok, "cluster_name"], persona[ok], normalize="index").round(2)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(mix)

    if not args.no_supervised:
        X = features.loc[buyers].drop(columns=["customer_id"]).reset_index(drop=True)
        X = X.select_dtypes(include=["number", "bool", "category"])
        X = X.astype({c: float for c in X.columns if X[c].dtype == bool})
        y = persona[buyers]
        t1 = time.perf_counter()
        pred = _supervised(X, y, args.seed)
        many = features.loc[buyers, "frequency_orders"].to_numpy() >= 3
        print(
            f"\nsupervised bound (LightGBM, {X.shape[1]} features, 5-fold): ARI={adjusted_rand_score(y, pred):.3f} "
            f"accuracy={accuracy_score(y, pred):.3f}; >=3 orders ({many.mean():.0%}): "
            f"ARI={adjusted_rand_score(y[many], pred[many]):.3f} ({time.perf_counter() - t1:.0f} s)"
        )


if __name__ == "__main__":
    main()
