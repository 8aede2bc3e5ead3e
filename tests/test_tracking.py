"""MLflow tracking on a temporary SQLite store: run logging, pyfunc model, registry gate, helpers, PII scan.

Every test writes to a temporary folder (``$CUSTML_HOME`` and ``$MLFLOW_TRACKING_URI`` are patched), never to
the repository's ``mlflow.db`` or ``mlartifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custml import tracking
from custml.errors import ConfigError
from custml.models.params import GateParams, TrainParams
from custml.models.train import train_model
from custml.testing import synthetic_training_table


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("mlflow_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTML_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        tracking.configure()
        yield home
    tracking.configure()


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return synthetic_training_table(1500, seed=11)


@pytest.fixture(scope="module")
def result(table: pd.DataFrame):
    return train_model(table, params=TrainParams(task="churn", shap_sample=200))


@pytest.fixture(scope="module")
def run_id(store: Path, result) -> str:
    return tracking.log_training_run(result, {"data_dir": "synthetic"}, run_name="test-run")


def _artifacts(store: Path, run_id: str) -> set[str]:
    roots = [p for p in (store / "mlartifacts").rglob(run_id) if p.is_dir()]
    assert roots, f"no artefact folder for run {run_id} under {store / 'mlartifacts'}"
    return {str(p.relative_to(roots[0] / "artifacts")) for p in roots[0].rglob("*") if p.is_file()}


def test_run_logs_params_metrics_and_artefacts(store: Path, run_id: str, result) -> None:
    files = _artifacts(store, run_id)
    for expected in (
        "plots/roc.png",
        "plots/pr.png",
        "plots/calibration.png",
        "plots/lift.png",
        "explain/shap_beeswarm.png",
        "explain/shap_bar.png",
        "explain/feature_importance.csv",
        "explain/top_drivers.json",
        "evaluation/calibration.json",
        "evaluation/metrics.json",
        "data/description.json",
        "config/train_params.yaml",
        "model_card.md",
    ):
        assert expected in files
    card = next((store / "mlartifacts").rglob("model_card.md")).read_text()
    assert run_id in card


def test_pyfunc_returns_calibrated_probabilities(run_id: str, result, table: pd.DataFrame) -> None:
    test_rows = table[table["cutoff"] == table["cutoff"].max()]
    model = tracking.load_model(f"runs:/{run_id}/model")
    probs = np.asarray(model.predict(test_rows), dtype=float)
    np.testing.assert_allclose(probs, result.test_predictions["model"].to_numpy())
    # As the features stage may deliver it: strings for categoricals, an optional column missing.
    loose = test_rows.drop(columns=["complaints_90d"]).assign(region=test_rows["region"].astype(str))
    assert np.asarray(model.predict(loose)).shape == probs.shape
    inputs = model.metadata.get_input_schema().input_names()
    assert "recency_days" in inputs and "region" in inputs and "label" not in inputs
    assert tracking.load_customer_model(f"runs:/{run_id}/model").feature_names == result.model.feature_names


def test_gate_promotes_first_and_keeps_champion_without_margin(store: Path, run_id: str, result) -> None:
    name = "test-gate-margin"
    first = tracking.register_and_gate(run_id, name, metric="roc_auc", margin=0.002)
    assert first.promoted and first.reason.startswith("no champion yet")
    # Same model again: equal score does not beat the champion by the margin.
    second = tracking.register_and_gate(run_id, name, metric="roc_auc", margin=0.002)
    assert not second.promoted and second.champion_version == first.version
    assert second.champion_score == pytest.approx(second.challenger_score)
    info = tracking.get_model_version_info(f"models:/{name}@champion")
    assert info.version == first.version and "champion" in info.aliases
    challenger = tracking.get_model_version_info(f"models:/{name}@challenger")
    assert challenger.version == second.version
    assert challenger.gate is not None
    assert not challenger.gate.promoted and "does not beat" in challenger.gate.reason
    assert challenger.gate.version is None  # the tags hold the decision; the version is the record's own
    # With no margin an equal score is enough.
    third = tracking.register_and_gate(run_id, name, metric="brier", margin=0.0)
    assert third.promoted


def test_gate_on_holdout_rejects_worse_and_promotes_better(store: Path, table: pd.DataFrame, result) -> None:
    name = "test-gate-holdout"
    rng = np.random.default_rng(0)
    # A weak model: trained with most non-test labels shuffled.
    test_mask = table["cutoff"] == table["cutoff"].max()
    noisy = table["label"].to_numpy().copy()
    idx = np.flatnonzero(~test_mask.to_numpy())
    noisy[idx] = rng.permutation(noisy[idx])
    # (without the baseline check: this test is about the champion comparison, the next one about that check)
    weak = train_model(
        table.assign(label=noisy),
        params=TrainParams(
            task="churn", shap_sample=50, btyd_features=False, gate=GateParams(baseline_bootstrap=0)
        ),
    )
    weak_run = tracking.log_training_run(weak, run_name="weak")
    good_run = tracking.log_training_run(result, run_name="good")
    holdout, labels = result.test_features, result.test_predictions["label"]
    assert tracking.register_and_gate(weak_run, name, holdout=holdout, holdout_labels=labels).promoted
    better = tracking.register_and_gate(good_run, name, holdout=holdout, holdout_labels=labels)
    assert better.promoted and better.challenger_score > better.champion_score + 0.002
    worse = tracking.register_and_gate(weak_run, name, holdout=holdout, holdout_labels=labels)
    assert not worse.promoted
    assert tracking.get_model_version_info(f"models:/{name}@champion").version == better.version


def test_gate_refuses_a_model_that_a_printed_baseline_beats_beyond_noise(
    store: Path, table: pd.DataFrame
) -> None:
    # Labels of every cut-off but the test one shuffled: the booster learns noise, BG/NBD (fitted on the
    # orders, not on the labels) still ranks the test customers, and the shipped model falls far below it.
    rng = np.random.default_rng(1)
    test_mask = (table["cutoff"] == table["cutoff"].max()).to_numpy()
    noisy = table["label"].to_numpy().copy()
    noisy[~test_mask] = rng.permutation(noisy[~test_mask])
    weak = train_model(
        table.assign(label=noisy),
        params=TrainParams(task="churn", shap_sample=50, candidates=["lightgbm"]),
    )
    m = weak.metrics["model"]
    assert m["baseline_beats_model"] == 1.0, m
    assert weak.data_description["baselines_beating_model"]
    run = tracking.log_training_run(weak, run_name="beaten")
    decision = tracking.register_and_gate(run, "test-gate-baseline")
    assert not decision.promoted and "beyond noise" in decision.reason
    assert weak.data_description["baselines_beating_model"][0] in decision.reason
    # refused with no champion yet: the registry has a challenger and no champion, and says why on the version
    assert decision.champion_version is None
    gate = tracking.get_model_version_info("models:/test-gate-baseline@challenger").gate
    assert gate is not None and not gate.promoted and gate.reasons == decision.reasons
    with pytest.raises(tracking.TrackingError, match="test-gate-baseline"):
        tracking.load_model("models:/test-gate-baseline@champion")


def test_model_version_info_matches_scores_contract(store: Path, run_id: str) -> None:
    tracking.register_and_gate(run_id, "test-info")
    info = tracking.get_model_version_info("models:/test-info@champion")
    assert all(v is not None for v in info.metrics.model_dump().values())
    assert info.metrics.test_cutoff == "2025-10-01"
    assert info.calibration and info.calibration[0].n > 0
    assert info.top_drivers and info.top_drivers[0].mean_abs_shap > 0
    assert info.gate is not None and info.gate.promoted
    assert tracking.get_model_version_info("models:/test-info/1").run_id == run_id


def test_errors_name_the_problem(store: Path) -> None:
    with pytest.raises(ConfigError, match="file store"):
        tracking.configure("file:///tmp/mlruns")
    tracking.configure()
    with pytest.raises(tracking.TrackingError, match="no model version"):
        tracking.get_model_version_info("models:/does-not-exist@champion")
    with pytest.raises(tracking.TrackingError, match="expected models:/"):
        tracking.get_model_version_info("runs:/abc/model")
    with pytest.raises(tracking.TrackingError, match="cannot load model"):
        tracking.load_model("models:/does-not-exist/1")


def test_log_segmentation_run_and_experiment_config(store: Path, tmp_path: Path) -> None:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(200, 3))
    pipe = make_pipeline(StandardScaler(), KMeans(3, n_init=2, random_state=0)).fit(X)
    k_curve = pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.3, 0.35, 0.32]})
    profiles = pd.DataFrame(
        {"size": [70, 60, 70], "recency_days": [10.0, 50.0, 200.0]}, index=["a", "b", "c"]
    )
    run = tracking.log_segmentation_run(
        {"k": 3, "features": ["a", "b"]}, k_curve, profiles, pipe, {"silhouette": 0.35}
    )
    files = _artifacts(store, run)
    assert {"segmentation/k_curve.csv", "segmentation/profiles.csv"} <= files
    assert any(f.startswith("pipeline") or "MLmodel" in f for f in files) or list(
        (store / "mlartifacts").rglob("MLmodel")
    )
    cfg = tmp_path / "exp.yaml"
    cfg.write_text("train:\n  seed: 1\n")
    tracking.log_experiment_config(cfg, run_id=run)
    assert "config/exp.yaml" in _artifacts(store, run)
    with pytest.raises(ConfigError, match="not found"):
        tracking.log_experiment_config(tmp_path / "missing.yaml", run_id=run)


def test_log_comparison_run(store: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "cmp.yaml"
    cfg.write_text("kind: segment\n")
    run = tracking.log_comparison_run(
        "cmp",
        experiment="custml-segmentation",
        params={"methods": ["kmeans", "gmm"]},
        metrics={"kmeans.silhouette": 0.3, "gmm.silhouette": float("nan")},
        tags={"custml.task": "segmentation"},
        tables={"segmentation/k_curve.csv": pd.DataFrame({"k": [2, 3]})},
        files={"config": cfg},
    )
    assert {"segmentation/k_curve.csv", "config/cmp.yaml"} <= _artifacts(store, run)


def test_run_logs_every_candidate_and_a_baseline_champion_round_trips(
    store: Path, run_id: str, table: pd.DataFrame
) -> None:
    from mlflow import MlflowClient

    default_run = MlflowClient().get_run(run_id)
    for scorer in ("model", "lightgbm", "logistic", "bgnbd", "pareto_nbd", "stack"):
        assert f"{scorer}.roc_auc" in default_run.data.metrics
    assert "validation.pareto_nbd.roc_auc" in default_run.data.metrics
    assert default_run.data.tags["custml.champion"] in ("lightgbm", "stack")
    # Only BG/NBD may win; the printed logistic baseline is still fitted and logged.
    params = TrainParams(task="churn", shap_sample=100, candidates=["bgnbd"])
    result = train_model(table, params=params)
    assert result.data_description["champion"] == "bgnbd"
    bg_run_id = tracking.log_training_run(result, run_name="bgnbd-champion")
    run = MlflowClient().get_run(bg_run_id)
    assert run.data.tags["custml.champion"] == "bgnbd"
    assert {"model.roc_auc", "lightgbm.roc_auc", "logistic.roc_auc", "bgnbd.roc_auc"} <= set(run.data.metrics)
    test_rows = table[table["cutoff"] == table["cutoff"].max()]
    model = tracking.load_model(f"runs:/{bg_run_id}/model")
    probs = np.asarray(model.predict(test_rows), dtype=float)
    np.testing.assert_allclose(probs, result.test_predictions["model"].to_numpy())
    assert "btyd_frequency" in model.metadata.get_input_schema().input_names()


def test_importing_tracking_gives_no_mlflow_type_hint_advice() -> None:
    """MLflow warns at the definition of each PythonModel subclass under its own filter (so notebooks' filters
    cannot silence it); custml.tracking drops that one notice, in a fresh interpreter."""
    import subprocess
    import sys

    code = "import warnings; warnings.simplefilter('always'); import custml.tracking"
    run = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, check=True
    )
    assert "Add type hints" not in run.stderr
