"""Clustering pipeline: scikit-learn conventions, determinism, k selection, stability, persona agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from custml.errors import ConfigError, SchemaError
from custml.segment import CustomerClusterer, SkewTransformer, bootstrap_stability, select_k
from custml.segment.simulate import simulate_segment_features

PERSONA_FEATURES = [
    "monetary_mean",
    "frequency_orders",
    "discount_share_365d",
    "share_channel_app",
    "share_channel_store",
    "email_open_rate_90d",
    "app_sessions_90d",
]


@pytest.fixture(scope="module")
def skewed_blobs() -> tuple[pd.DataFrame, np.ndarray]:
    """Three groups of sizes 500/300/200, exponentiated (skewed like spend) with a few missing values."""
    X, y = make_blobs(
        n_samples=[500, 300, 200],
        centers=[[0, 0, 0], [3, 3, 0], [0, 3, 3]],
        cluster_std=0.5,
        random_state=3,
    )
    f = pd.DataFrame({"spend": np.exp(X[:, 0] + 3), "orders": np.exp(X[:, 1]), "score": X[:, 2]})
    f.loc[::97, "score"] = np.nan
    return f, y


def test_skew_transformer_choices_and_feature_names() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "spend": rng.lognormal(3, 1, 500),
            "flat": rng.normal(0, 1, 500),
            "neg_skew": -rng.lognormal(0, 1, 500),
        }
    )
    st = SkewTransformer().fit(X)
    assert st.transforms_ == ["log1p", "none", "yeo-johnson"]
    assert list(st.get_feature_names_out()) == ["spend", "flat", "neg_skew"]
    out = SkewTransformer().set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["spend", "flat", "neg_skew"]
    np.testing.assert_allclose(out["spend"], np.log1p(X["spend"]))
    np.testing.assert_allclose(out["flat"], X["flat"])
    assert abs(out["neg_skew"].skew()) < abs(X["neg_skew"].skew())


def test_recovers_skewed_blobs_and_numbers_clusters_by_size(skewed_blobs) -> None:
    f, y = skewed_blobs
    cc = CustomerClusterer(
        n_threads=1, features=["spend", "orders", "score"], k_range=(2, 6), random_state=0
    ).fit(f)
    assert cc.n_clusters_ == 3
    assert adjusted_rand_score(y, cc.labels_) > 0.95
    counts = np.bincount(cc.labels_)
    assert list(counts) == sorted(counts, reverse=True)
    np.testing.assert_array_equal(cc.predict(f), cc.labels_)
    assert cc.transforms_["spend"] == "log1p"
    curve = cc.k_curve_
    assert list(curve["k"]) == [2, 3, 4, 5, 6]
    assert {"silhouette", "calinski_harabasz", "davies_bouldin", "inertia", "chosen"} <= set(curve.columns)
    assert curve["chosen"].sum() == 1


def test_same_seed_same_labels_and_fixed_k(skewed_blobs) -> None:
    f, _ = skewed_blobs
    a = CustomerClusterer(
        n_threads=1, features=["spend", "orders", "score"], k_range=(2, 5), random_state=7
    ).fit(f)
    b = CustomerClusterer(
        n_threads=1, features=["spend", "orders", "score"], k_range=(2, 5), random_state=7
    ).fit(f)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.k_curve_, b.k_curve_)
    fixed = CustomerClusterer(
        n_threads=1, features=["spend", "orders", "score"], n_clusters=4, random_state=0
    ).fit(f)
    assert fixed.n_clusters_ == 4 and fixed.k_curve_ is None
    assert set(np.unique(fixed.labels_)) == {0, 1, 2, 3}


def test_sklearn_conventions(skewed_blobs) -> None:
    f, _ = skewed_blobs
    est = CustomerClusterer(n_threads=1, features=["spend", "orders", "score"], n_clusters=3, random_state=0)
    params = est.get_params()
    assert params["n_clusters"] == 3 and params["method"] == "kmeans"
    assert clone(est).get_params() == params
    with pytest.raises(NotFittedError):
        est.predict(f)
    assert est.fit(f) is est
    names = est.get_feature_names_out()
    assert list(names) == ["cluster_0_distance", "cluster_1_distance", "cluster_2_distance"]
    out = est.set_output(transform="pandas").transform(f)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(names)
    # the nearest centre is the predicted cluster
    np.testing.assert_array_equal(out.to_numpy().argmin(axis=1), est.predict(f))
    assert list(est.feature_names_in_) == ["spend", "orders", "score"]
    assert est.cluster_centers().shape == (3, 3)
    labels = CustomerClusterer(n_threads=1, features=["spend", "orders", "score"], n_clusters=3).fit_predict(
        f
    )
    np.testing.assert_array_equal(labels, est.labels_)


def test_gmm_probabilities_and_bic_curve(skewed_blobs) -> None:
    f, y = skewed_blobs
    gm = CustomerClusterer(
        n_threads=1, method="gmm", features=["spend", "orders", "score"], k_range=(2, 5), random_state=0
    )
    gm.fit(f)
    curve = gm.k_curve_
    assert {"bic", "aic"} <= set(curve.columns)
    assert gm.n_clusters_ == int(curve.loc[curve["bic"].idxmin(), "k"])
    assert gm.n_clusters_ in (3, 4)  # the imputed spike may earn its own component
    gm = CustomerClusterer(
        n_threads=1, method="gmm", features=["spend", "orders", "score"], n_clusters=3
    ).fit(f)
    assert adjusted_rand_score(y, gm.labels_) > 0.9
    proba = gm.set_output(transform="pandas").transform(f)
    assert list(proba.columns) == [f"cluster_{i}_proba" for i in range(3)]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.to_numpy().argmax(axis=1), gm.predict(f))


def test_fit_on_sample_labels_everyone(skewed_blobs) -> None:
    f, y = skewed_blobs
    cc = CustomerClusterer(
        n_threads=1,
        features=["spend", "orders", "score"],
        k_range=(2, 4),
        selection_sample_size=300,
        fit_sample_size=300,
    ).fit(f)
    assert len(cc.labels_) == len(f)
    assert adjusted_rand_score(y, cc.labels_) > 0.9


def test_errors_name_the_problem(skewed_blobs) -> None:
    f, _ = skewed_blobs
    with pytest.raises(SchemaError, match="'nope'"):
        CustomerClusterer(n_threads=1, features=["spend", "nope"]).fit(f)
    with pytest.raises(ConfigError, match="method"):
        CustomerClusterer(n_threads=1, method="dbscan", features=["spend"]).fit(f)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="k_range"):
        CustomerClusterer(n_threads=1, features=["spend"], k_range=(1, 3)).fit(f)
    fitted = CustomerClusterer(n_threads=1, features=["spend", "orders"], n_clusters=2).fit(f)
    with pytest.raises(SchemaError, match="'orders'"):
        fitted.predict(f.drop(columns="orders"))
    with pytest.raises(SchemaError, match="numeric"):
        CustomerClusterer(n_threads=1, features=["spend", "tier"], n_clusters=2).fit(f.assign(tier="a"))


def test_select_k_function(skewed_blobs) -> None:
    f, _ = skewed_blobs
    three = ["spend", "orders", "score"]
    curve = select_k(f, CustomerClusterer(k_range=(2, 5), n_threads=1, features=three))
    assert int(curve.loc[curve["chosen"], "k"].iloc[0]) == 3
    ch = select_k(
        f,
        CustomerClusterer(k_range=(2, 5), n_threads=1, features=three, selection_metric="calinski_harabasz"),
    )
    assert ch["calinski_harabasz"].idxmax() == ch.index[ch["chosen"]][0]
    with pytest.raises(ConfigError, match="bic"):
        select_k(
            f,
            CustomerClusterer(
                k_range=(2, 3), n_threads=1, features=["spend", "orders"], selection_metric="bic"
            ),
        )
    # the clusterer's own choice of k is the curve's
    fitted = CustomerClusterer(k_range=(2, 5), n_threads=1, features=three, fit_sample_size=None).fit(f)
    pd.testing.assert_frame_equal(fitted.k_curve_, curve)


def test_bootstrap_stability_high_for_clear_groups_low_for_noise(skewed_blobs) -> None:
    f, _ = skewed_blobs
    cc = CustomerClusterer(
        n_threads=1, features=["spend", "orders", "score"], n_clusters=3, random_state=0
    ).fit(f)
    stab = bootstrap_stability(cc, f, n_boot=4, random_state=0)
    assert set(stab) == {"ari_mean", "ari_std", "ari_min", "ari_max", "n_boot", "aris"}
    assert stab["ari_min"] > 0.9 and len(stab["aris"]) == 4
    noise = pd.DataFrame(np.random.default_rng(0).normal(size=(600, 4)), columns=list("abcd"))
    cn = CustomerClusterer(n_threads=1, features=list("abcd"), n_clusters=6, random_state=0).fit(noise)
    assert bootstrap_stability(cn, noise, n_boot=4)["ari_mean"] < stab["ari_mean"] - 0.2


def test_persona_agreement_on_simulated_features() -> None:
    """Floor that a broken pipeline (no de-skewing, no scaling, wrong labels) would not reach."""
    f, persona = simulate_segment_features(5000, seed=11)
    cc = CustomerClusterer(n_threads=1, features=PERSONA_FEATURES, n_clusters=5, random_state=0).fit(f)
    ari = adjusted_rand_score(persona, cc.labels_)
    assert ari >= 0.4, ari
    # without de-skewing and scaling, money dominates the distance and agreement collapses
    raw = f[PERSONA_FEATURES].fillna(0).to_numpy()
    from sklearn.cluster import KMeans

    naive = KMeans(5, n_init=4, random_state=0).fit_predict(raw)
    assert adjusted_rand_score(persona, naive) < ari - 0.15


def test_kmeans_predict_proba_is_one_hot_of_prediction(skewed_blobs) -> None:
    f, _ = skewed_blobs
    cc = CustomerClusterer(n_threads=1, features=["spend", "orders", "score"], n_clusters=3).fit(f)
    proba = cc.predict_proba(f)
    np.testing.assert_array_equal(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), cc.labels_)
    assert cc.preprocess(f).shape == (len(f), 3)
    np.testing.assert_allclose(cc.preprocess(f).mean(axis=0), 0.0, atol=1e-9)
