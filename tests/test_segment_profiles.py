"""Cluster profiles, generated names, the segmentation workflow, plots and the CLI."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from custml.errors import SchemaError
from custml.segment import (
    ClusterParams,
    CustomerClusterer,
    SegmentationRunParams,
    assign_segments,
    cluster_profiles,
    name_clusters,
    segment_customers,
    standardised_medians,
)
from custml.segment.plots import (
    plot_cluster_profiles,
    plot_cluster_projection,
    plot_rfm_grid,
    plot_segment_sizes,
)
from custml.segment.simulate import simulate_segment_features


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.Series]:
    return simulate_segment_features(2000, seed=5, prospect_share=0.1)


def test_cluster_profiles_hand_built() -> None:
    f = pd.DataFrame(
        {
            "revenue_365d": [10.0, 30, 20, 400, 600],
            "frequency_orders": [1.0, 1, 2, 8, 10],
            "discount_share_365d": [0.9, 0.8, np.nan, 0.1, 0.0],
        }
    )
    p = cluster_profiles(f, [1, 1, 1, 0, 0], churn=[1, 0, np.nan, 0, 0])
    assert list(p.index) == [0, 1]
    assert p["n_customers"].tolist() == [2.0, 3.0]
    assert p["share_customers"].tolist() == pytest.approx([0.4, 0.6])
    assert p["revenue"].tolist() == pytest.approx([1000.0, 60.0])
    assert p["revenue_share"].sum() == pytest.approx(1.0)
    assert p["orders_share"].tolist() == pytest.approx([18 / 22, 4 / 22])
    assert name_clusters(p) == {
        0: "full-price high-value frequent buyers",
        1: "discount-driven low-value occasional buyers",
    }
    assert p["churn_rate"].tolist() == pytest.approx([0.0, 0.5])
    assert p.loc[1, "median_discount_share_365d"] == pytest.approx(0.85)
    assert p.loc[0, "z_revenue_365d"] > 0 > p.loc[1, "z_revenue_365d"]
    with pytest.raises(SchemaError, match="cluster labels"):
        cluster_profiles(f, [0, 1])
    with pytest.raises(SchemaError, match="'revenue_365d'"):
        cluster_profiles(f[["frequency_orders"]], [0, 0, 1, 1, 1])


def test_standardised_medians_zero_spread_is_zero() -> None:
    f = pd.DataFrame({"x": [0.0, 0, 0, 0], "y": [1.0, 2, 3, 4]})
    z = standardised_medians(f, [0, 0, 1, 1], ["x", "y"])
    assert z["x"].tolist() == [0.0, 0.0]
    assert z.loc[0, "y"] < 0 < z.loc[1, "y"]


def test_names_follow_profile_and_are_unique() -> None:
    p = pd.DataFrame(
        {
            "z_revenue_365d": [1.5, -0.9, -0.1, -0.9, -0.8],
            "z_orders_365d": [1.2, -0.8, 0.1, -0.7, -0.9],
            "z_discount_share_365d": [-0.1, 1.4, 0.0, 0.0, 0.0],
            "z_recency_days": [-0.2, 0.2, 0.0, 1.2, 1.0],
            "z_tenure_days": [0.0, 0.0, 0.0, 0.0, -0.6],
        },
        index=[0, 1, 2, 3, 4],
    )
    names = name_clusters(p)
    assert names[0] == "high-value frequent buyers"
    assert names[1] == "discount-driven low-value occasional buyers"
    assert names[2] == "mid-value regular buyers"
    assert names[3] == "lapsing low-value occasional buyers"
    # cluster 4 would also be "lapsing low-value occasional": the next trait tells it apart
    assert names[4] == "lapsing, new low-value occasional buyers"
    assert len(set(names.values())) == len(names)


def test_identical_profiles_get_numbered_names() -> None:
    p = pd.DataFrame({"z_revenue_365d": [0.0, 0.0], "z_orders_365d": [0.0, 0.0]}, index=[0, 1])
    assert name_clusters(p) == {0: "mid-value regular buyers (1)", 1: "mid-value regular buyers (2)"}


def test_segment_customers_labels_everyone(world) -> None:
    f, persona = world
    params = SegmentationRunParams(cluster=ClusterParams(k_range=(3, 5), stability_boots=2))
    churn = (f["recency_days"] > 300).astype(float)
    res = segment_customers(f, params, churn=churn)
    seg = res.segments
    assert len(seg) == len(f)
    prospects = persona.to_numpy() == "prospect"
    assert (seg.loc[prospects, "cluster"] == -1).all()
    assert (seg.loc[prospects, "lifecycle_stage"] == "prospect").all()
    assert (seg.loc[~prospects, "cluster"] >= 0).all()
    assert seg["cluster_name"].notna().all()
    assert set(seg.loc[~prospects, "cluster_name"]) == set(res.cluster_names.values())
    assert res.profiles is not None and "churn_rate" in res.profiles.columns
    churned = (seg.loc[~prospects, "lifecycle_stage"] == "churned").mean()
    weights = res.profiles["share_customers"]
    assert (res.profiles["churned_share"] * weights).sum() == pytest.approx(churned)
    assert res.profiles["n_customers"].sum() == (~prospects).sum()
    assert res.metrics["k"] == res.clusterer.n_clusters_
    assert 0 <= res.metrics["stability_ari_mean"] <= 1
    flat = res.params(params)
    assert flat["cluster.n_clusters_chosen"] == res.clusterer.n_clusters_
    off = segment_customers(f, SegmentationRunParams(cluster=ClusterParams(enabled=False)))
    assert off.clusterer is None and "cluster" not in off.segments.columns


def test_plots_return_figures(world) -> None:
    import matplotlib.pyplot as plt

    f, _ = world
    seg = assign_segments(f)
    fig = plot_segment_sizes(seg, "rfm_segment", value=f["revenue_365d"])
    assert isinstance(fig, Figure) and fig.axes[0].get_title().startswith("Customers and value")
    stages = plot_segment_sizes(seg, "lifecycle_stage").axes[0]
    # one bar per lifecycle stage present, bar lengths are shares of customers
    n_stages = seg["lifecycle_stage"].nunique()
    assert len(stages.patches) == n_stages
    assert sum(bar.get_width() for bar in stages.patches) == pytest.approx(1.0, abs=0.02)
    fig = plot_rfm_grid(seg)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("Champions") for t in texts) and len(texts) == 25
    valued = plot_rfm_grid(seg, value=f["revenue_365d"]).axes[0]
    assert len(valued.get_images()) == 1 and valued.get_images()[0].get_array().shape == (5, 5)
    buyers = f[f["frequency_orders"] > 0].reset_index(drop=True)
    cc = CustomerClusterer(n_threads=1, n_clusters=4, random_state=0).fit(buyers)
    prof = cluster_profiles(buyers, cc.labels_)
    names = name_clusters(prof)
    fig = plot_cluster_profiles(prof, names)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0].startswith(names[0])
    ext_fig, ax = plt.subplots()
    assert plot_cluster_projection(cc, buyers, names=names, sample_size=500, ax=ax) is ext_fig
    assert len(ax.collections) == 4
    plt.close("all")
    with pytest.raises(SchemaError):
        plot_segment_sizes(seg, "nope")
    with pytest.raises(SchemaError):
        plot_cluster_profiles(prof[["n_customers"]])


def test_cli_segment_writes_table_and_tracks(tmp_path, world, monkeypatch) -> None:
    from custml.cli import main
    from custml.io import read_table, write_table

    f, _ = world
    src = write_table(f, tmp_path / "features.parquet")
    cfg = tmp_path / "seg.yaml"
    cfg.write_text("segment:\n  cluster:\n    k_range: [3, 4]\n    stability_boots: 1\n", encoding="utf-8")
    calls: list[tuple] = []
    fake = types.ModuleType("custml.tracking")

    def log_segmentation_run(params, k_curve, profiles, pipeline, metrics):
        calls.append((params, k_curve, profiles, pipeline, metrics))
        return "run123"

    fake.log_segmentation_run = log_segmentation_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "custml.tracking", fake)
    monkeypatch.setattr("custml.tracking", fake, raising=False)
    out = tmp_path / "segments.parquet"
    labels = write_table(
        pd.DataFrame({"customer_id": f["customer_id"], "churned": (f["recency_days"] > 200).astype(int)}),
        tmp_path / "labels.parquet",
    )
    rc = main(
        [
            "segment",
            "--features",
            str(src),
            "--out",
            str(out),
            "--config",
            str(cfg),
            "--churn",
            str(labels),
            "--track",
        ]
    )
    assert rc == 0
    seg = read_table(out)
    assert len(seg) == len(f) and {"rfm_segment", "cluster_name"} <= set(seg.columns)
    profiles = pd.read_csv(tmp_path / "segments.profiles.csv")
    assert {"churn_rate", "churned_share", "at_risk_share", "name"} <= set(profiles.columns)
    assert profiles["churn_rate"].between(0, 1).all()
    assert (tmp_path / "segments.k_curve.csv").is_file()
    assert len(calls) == 1 and calls[0][1]["k"].tolist() == [3, 4]
    rc = main(["segment", "--features", str(tmp_path / "missing.parquet"), "--out", str(out)])
    assert rc == 2

    def failing(*args):
        raise RuntimeError("tracking store unreachable")

    fake.log_segmentation_run = failing  # type: ignore[attr-defined]
    out.unlink()
    rc = main(["segment", "--features", str(src), "--out", str(out), "--config", str(cfg), "--track"])
    assert rc == 2 and out.is_file()


@pytest.mark.slow
def test_segmentation_run_logged_to_mlflow_and_reloaded(tmp_path, world, monkeypatch) -> None:
    from custml import tracking

    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.configure()
    f, _ = world
    params = SegmentationRunParams(cluster=ClusterParams(k_range=(3, 4), stability_boots=1))
    res = segment_customers(f, params)
    run_id = tracking.log_segmentation_run(
        res.params(params), res.k_curve, res.profiles, res.clusterer, res.metrics
    )
    import mlflow.sklearn

    loaded = mlflow.sklearn.load_model(f"runs:/{run_id}/pipeline")
    clustered = res.segments["cluster"].to_numpy() >= 0
    buyers = f.reset_index(drop=True).loc[clustered]
    np.testing.assert_array_equal(loaded.predict(buyers), res.segments.loc[clustered, "cluster"].to_numpy())
