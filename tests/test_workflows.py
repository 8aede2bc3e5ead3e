"""Pipeline helpers that need no trained model: the default as-of date, drift populations, row counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.errors import DataFileError
from custml.features.labels import model_population
from custml.io import count_rows, write_json, write_table
from custml.pipeline import default_as_of
from custml.scoring import DRIFT_COLUMNS, drift_reference, model_drift


def test_default_as_of_is_the_day_after_the_data_ends(tmp_path) -> None:
    write_json({"end": "2025-12-31 23:59:59"}, tmp_path / "manifest.json")
    assert default_as_of(tmp_path) == pd.Timestamp("2026-01-01")
    other = tmp_path / "no_manifest"
    other.mkdir()
    orders = pd.DataFrame({"order_ts": ["2025-03-04 10:00:00", "2025-03-05T22:00:00+08:00", "n/a"]})
    write_table(orders, other / "orders.parquet")
    assert default_as_of(other) == pd.Timestamp("2025-03-06")
    with pytest.raises(DataFileError, match="not found"):
        default_as_of(tmp_path / "missing")


def test_each_model_is_checked_for_drift_on_its_own_population() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    active = pd.DataFrame(
        {
            "orders_365d": rng.integers(1, 6, n).astype(float),
            "frequency_orders": rng.integers(1, 20, n).astype(float),
            "recency_days": rng.uniform(0, 365, n),
        }
    )
    reference = drift_reference(active)
    # At scoring time half of the customers are long gone: no order in a year.
    gone = pd.DataFrame(
        {"orders_365d": 0.0, "frequency_orders": rng.integers(1, 20, n).astype(float), "recency_days": 900.0}
    )
    scored = pd.concat([active.sample(frac=1, random_state=1), gone], ignore_index=True)
    assert len(model_population(scored, "churn")) == n
    assert len(model_population(scored, "repurchase")) == 2 * n

    inputs = {"churn": ("orders_365d", "recency_days")}
    table = model_drift({"churn": reference, "repurchase": None}, scored, inputs).table
    assert set(table["model"]) == {"churn"} and set(table["feature"]) == {"orders_365d", "recency_days"}
    assert (table["status"] == "ok").all()  # the churned customers are outside the churn model's population
    empty = model_drift({"churn": None}, scored, inputs).table
    assert empty.empty and list(empty.columns) == ["model", *DRIFT_COLUMNS]


def test_the_churn_population_follows_its_active_days() -> None:
    features = pd.DataFrame(
        {"orders_365d": [1.0, 1.0, 0.0], "recency_days": [10.0, 200.0, 400.0], "frequency_orders": [1, 2, 3]}
    )
    assert len(model_population(features, "churn")) == 2  # the default, 365 days: the orders_365d window
    # no orders_180d column: the recency rule, with the same number of days
    assert model_population(features, "churn", active_days=180)["recency_days"].tolist() == [10.0]
    assert len(model_population(features, "repurchase", active_days=180)) == 3


def test_row_counts_of_frames_and_parquet_files(tmp_path) -> None:
    frame = pd.DataFrame({"a": range(7)})
    path = write_table(frame, tmp_path / "t.parquet")
    assert count_rows(frame) == 7 and count_rows(path) == 7 and count_rows(str(path)) == 7


def test_the_saved_segmentation_is_the_contract_beside_the_clusterer(tmp_path) -> None:
    import joblib

    from custml.contracts import SegmentationBundle
    from custml.pipeline._wiring import project_paths
    from custml.pipeline.segment import load_segmentation

    paths = project_paths(tmp_path)
    assert load_segmentation(paths) is None
    meta = SegmentationBundle(as_of="2025-10-01T00:00:00", cluster_names={0: "Loyal"}, params={})
    joblib.dump((meta.to_json(), "a fitted clusterer"), paths.segmentation)
    saved = load_segmentation(paths)
    assert saved is not None and saved.clusterer == "a fitted clusterer"
    assert (saved.as_of, saved.cluster_names) == (meta.as_of, meta.cluster_names)
    joblib.dump(
        (meta.to_json().replace('"schema_version": 1', '"schema_version": 0'), None), paths.segmentation
    )
    with pytest.raises(
        DataFileError, match=r"segmentation\.joblib: segmentation bundle of schema version 0, expected 1"
    ):
        load_segmentation(paths)
    joblib.dump(
        {"clusterer": None, "cluster_names": {}}, paths.segmentation
    )  # the bundle before the contract
    with pytest.raises(DataFileError, match="schema version None, expected 1"):
        load_segmentation(paths)
