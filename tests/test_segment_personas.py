"""Agreement of the clusters with the synthetic world's true personas (small scale, floors over several seeds).

At 5,000 customers the default pipeline (monetary_mean, app_sessions_365d, loyalty_member, email_open_rate_365d)
with k = 5 reaches an adjusted Rand index of 0.348 / 0.332 / 0.371 against the five personas on seeds 0 / 1 / 2
(measured 2026-12-02); clustering raw, un-deskewed features is lower and shuffled labels give 0. The floor of
0.28 on the *minimum* over the three seeds catches a broken pipeline (a lost feature or transform).
``segment_customers`` chooses k by silhouette, which varies more with the sample: 0.212 (k = 4) / 0.394 (k = 8) /
0.411 (k = 8) on the same seeds, mean 0.339; its floor is on the mean over seeds (0.28) with a lower bound on
the minimum (0.18). docs/segmentation.md has the 50k figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from custml.segment import CustomerClusterer, SegmentationRunParams, segment_customers
from custml.segment.rules import has_orders

SEEDS = (0, 1, 2)
ARI_FLOOR = 0.28  # fixed k = 5: minimum over SEEDS; k by silhouette: mean over SEEDS
ARI_FLOOR_SILHOUETTE_MIN = 0.18  # k by silhouette: minimum over SEEDS (seed 0 picks k = 4: 0.21)


@pytest.fixture(scope="module")
def small_worlds(cached_world) -> list[tuple[pd.DataFrame, np.ndarray]]:
    from custml.features import build_features

    out = []
    for seed in SEEDS:
        world = cached_world(n_customers=5000, seed=seed)
        tables = {"customers": world.customers, "orders": world.orders, "interactions": world.interactions}
        features = build_features(tables, world.manifest["reference_cutoff"])
        truth = world.truth["customers"][["customer_id", "persona"]]
        persona = features[["customer_id"]].merge(truth, how="left")["persona"].astype(str).to_numpy()
        out.append((features, persona))
    return out


@pytest.mark.slow
def test_default_pipeline_agrees_with_personas_above_floor(small_worlds) -> None:
    aris, naive_aris = [], []
    for features, persona in small_worlds:
        buyers = has_orders(features).to_numpy()
        X = features.loc[buyers].reset_index(drop=True)
        cc = CustomerClusterer(n_threads=1, n_clusters=5, random_state=0).fit(X)
        aris.append(adjusted_rand_score(persona[buyers], cc.labels_))
        raw = X[list(cc.feature_names_in_)].copy()
        raw["loyalty_member"] = (raw["loyalty_member"].astype(str) == "yes").astype(float)
        naive = KMeans(5, n_init=4, random_state=0).fit_predict(raw.fillna(0).to_numpy())
        naive_aris.append(adjusted_rand_score(persona[buyers], naive))
    assert min(aris) >= ARI_FLOOR, aris
    # The transforms matter on every seed, not only on average.
    assert all(n < a for n, a in zip(naive_aris, aris, strict=True)), (naive_aris, aris)


@pytest.mark.slow
def test_segment_customers_on_the_synthetic_world(small_worlds) -> None:
    aris = []
    for features, persona in small_worlds:
        res = segment_customers(features, SegmentationRunParams())
        seg = res.segments
        assert len(seg) == len(features)
        clustered = seg["cluster"].to_numpy() >= 0
        assert 4 <= res.clusterer.n_clusters_ <= 8
        aris.append(adjusted_rand_score(persona[clustered], seg.loc[clustered, "cluster"]))
        assert res.profiles["name"].is_unique
        assert set(seg["lifecycle_stage"]) >= {"new", "active", "churned"}
    assert float(np.mean(aris)) >= ARI_FLOOR, aris
    assert min(aris) >= ARI_FLOOR_SILHOUETTE_MIN, aris


def test_yes_no_flag_is_clustered_as_zero_one() -> None:
    X = pd.DataFrame(
        {
            "spend": [10.0, 11.0, 12.0, 10.5, 11.5, 12.5],
            "member": pd.Categorical(["yes", "yes", "yes", "no", "no", None]),
        }
    )
    cc = CustomerClusterer(features=["spend", "member"], n_clusters=2, random_state=0).fit(X)
    assert cc.labels_[:3].tolist() == [cc.labels_[0]] * 3
    assert set(cc.labels_[3:5]) == {1 - cc.labels_[0]}


def test_text_column_that_is_not_yes_no_is_rejected() -> None:
    X = pd.DataFrame({"spend": [1.0, 2.0, 3.0], "region": ["north", "south", "north"]})
    with pytest.raises(ValueError, match="region"):
        CustomerClusterer(features=["spend", "region"], n_clusters=2).fit(X)
