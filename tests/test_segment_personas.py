"""Agreement of the clusters with the synthetic world's true personas (small scale, with a floor).

At 5,000 customers the default pipeline with k = 5 reaches an adjusted Rand index of about 0.25-0.34 against the
five personas (seeds 0-2; the segment_customers default, k chosen by silhouette, 0.23-0.25); clustering raw,
un-deskewed features gives 0.14-0.20 and shuffled labels 0. The floor of 0.18 catches a broken pipeline. Why the
figure stays below 0.6 on this world (most customers have one or two orders; one-timers and occasional buyers
with one order differ only in price, engagement and acquisition) is documented in docs/segmentation.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from custml.segment import CustomerClusterer, SegmentationRunParams, segment_customers
from custml.segment.rules import has_orders

ARI_FLOOR = 0.18


@pytest.fixture(scope="module")
def small_world() -> tuple[pd.DataFrame, np.ndarray]:
    from custml.features import build_features
    from custml.synth import WorldParams, generate_world

    world = generate_world(WorldParams(n_customers=5000, seed=1))
    tables = {"customers": world.customers, "orders": world.orders, "interactions": world.interactions}
    features = build_features(tables, world.manifest["reference_cutoff"])
    truth = world.truth["customers"][["customer_id", "persona"]]
    persona = features[["customer_id"]].merge(truth, how="left")["persona"].astype(str).to_numpy()
    return features, persona


def test_default_pipeline_agrees_with_personas_above_floor(small_world) -> None:
    features, persona = small_world
    buyers = has_orders(features).to_numpy()
    X = features.loc[buyers].reset_index(drop=True)
    cc = CustomerClusterer(n_threads=1, n_clusters=5, random_state=0).fit(X)
    ari = adjusted_rand_score(persona[buyers], cc.labels_)
    assert ari >= ARI_FLOOR, ari
    naive = KMeans(5, n_init=4, random_state=0).fit_predict(
        X[list(cc.feature_names_in_)].fillna(0).to_numpy()
    )
    assert adjusted_rand_score(persona[buyers], naive) < ari


def test_segment_customers_on_the_synthetic_world(small_world) -> None:
    features, persona = small_world
    res = segment_customers(features, SegmentationRunParams())
    seg = res.segments
    assert len(seg) == len(features)
    clustered = seg["cluster"].to_numpy() >= 0
    assert 4 <= res.clusterer.n_clusters_ <= 8
    assert adjusted_rand_score(persona[clustered], seg.loc[clustered, "cluster"]) >= ARI_FLOOR - 0.04
    assert res.profiles["name"].is_unique
    assert set(seg["lifecycle_stage"]) >= {"new", "active", "churned"}
