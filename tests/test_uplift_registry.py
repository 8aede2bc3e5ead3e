"""The uplift model in the registry: logged with its held-out quality, registered as ``custml-uplift``, gated by
its held-out Qini interval and campaign date, and loaded back predicting exactly what was fitted (real MLflow
SQLite store in a tmp folder)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from custml import tracking
from custml.uplift import CampaignData, UpliftParams, fit_campaign_uplift


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("mlflow_uplift")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTML_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        tracking.configure()
        yield home
    tracking.configure()


def _campaign(send_day: str, n: int = 3000, seed: int = 0, effect: float = 0.3) -> CampaignData:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.random(n), "noise": rng.random(n)})
    t = rng.integers(0, 2, n)
    retained = rng.random(n) < 0.4 + effect * t * (X["x"] > 0.5)
    return CampaignData("C1", pd.Timestamp(send_day), np.array([f"c{i}" for i in range(n)], dtype=object), X,
                        t, ~retained.to_numpy(), 10.0, value=rng.gamma(2.0, 200.0, n))  # fmt: skip


@pytest.fixture(scope="module")
def model():
    return fit_campaign_uplift(_campaign("2025-03-01"), UpliftParams(n_jobs=1))


def test_uplift_run_round_trip_and_held_out_metrics(store: Path, model) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_id = tracking.log_uplift_run(model, run_name="test-uplift")
    assert not [w for w in caught if "input example" in str(w.message)]  # the signature is explicit
    decision = tracking.register_uplift(run_id)
    assert decision.promoted is True and decision.reason.startswith("no champion yet; held-out Qini AUC")
    loaded, info = tracking.load_uplift_model("models:/custml-uplift@champion")
    # the default (value) calibration reads each row's 12-month value, here from the frame's column
    X = pd.DataFrame(
        {"x": [0.1, 0.9, 0.7], "noise": [0.5, 0.5, 0.2], "expected_value_12m": [90.0, 400.0, 2e3]}
    )
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    assert model.predict(X)[1] > model.predict(X)[0]  # x > 0.5 is where the offer works
    assert loaded.summary() == model.summary()
    for key in ("holdout_qini_auc", "holdout_qini_auc_lo", "holdout_qini_auc_hi", "holdout_uplift_auc",
                "holdout_uplift_at_30", "calibration_slope"):  # fmt: skip
        expected = model.summary().calibration_slope if key == "calibration_slope" else model.holdout[key[8:]]
        assert info.metrics[key] == pytest.approx(expected)
    assert info.metrics["holdout_qini_auc_lo"] > 0  # the effect is real and the ranking finds it
    assert tracking.load_model(f"runs:/{run_id}/model").predict(X).shape == (3,)


def test_uplift_gate_prefers_the_latest_campaign(
    store: Path, model, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "custml-uplift-gate"  # its own registered model: the test does not depend on the others' order
    first = tracking.register_uplift(tracking.log_uplift_run(model), model_name=name)
    assert first.promoted is True and first.reason.startswith("no champion yet")
    err = capsys.readouterr().err
    assert "already exists" not in err and f"Successfully registered model '{name}'" in err
    assert MlflowClient().get_registered_model(name).description.startswith("custml uplift model")
    older = replace(model, send_day=pd.Timestamp("2024-01-01"))
    d_old = tracking.register_uplift(tracking.log_uplift_run(older), model_name=name)
    assert d_old.promoted is False and "older campaign" in d_old.reason
    newer = replace(model, send_day=pd.Timestamp("2025-09-01"))
    d_new = tracking.register_uplift(tracking.log_uplift_run(newer), model_name=name)
    assert d_new.promoted is True and "later campaign" in d_new.reason
    _, info = tracking.load_uplift_model(f"models:/{name}@champion")
    assert info.version == d_new.version == "3"


def test_loading_a_missing_uplift_model_is_a_tracking_error(store: Path) -> None:
    with pytest.raises(tracking.TrackingError, match="custml-uplift-none"):
        tracking.load_uplift_model("models:/custml-uplift-none@champion")


def test_an_uplift_model_that_does_not_beat_random_targeting_is_kept_and_loading_says_why(
    store: Path,
) -> None:
    name = "custml-uplift-null"
    null = fit_campaign_uplift(_campaign("2025-03-01", effect=0.0, seed=1), UpliftParams(n_jobs=1))
    assert null.holdout["qini_auc_lo"] < 0 < null.holdout["qini_auc_hi"]
    decision = tracking.register_uplift(tracking.log_uplift_run(null), model_name=name)
    assert decision.promoted is False and decision.champion_version is None
    assert "does not lie above 0" in decision.reason or "<= 0" in decision.reason
    version = MlflowClient().get_model_version(name, decision.version)
    assert version.tags["gate.promoted"] == "False" and "kept as challenger" in version.description
    # scoring's loader names the refusal (scoring then keeps the rule-based actions and says why)
    with pytest.raises(
        tracking.TrackingError, match=f"the gate did not promote {name} v1: .*random targeting"
    ):
        tracking.load_uplift_model(f"models:/{name}@champion")
    # the challenger alias still loads the refused model for analysis
    assert tracking.load_uplift_model(f"models:/{name}@challenger")[1].version == "1"
