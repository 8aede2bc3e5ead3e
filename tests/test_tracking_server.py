"""The registry alias gate against a real ``mlflow server`` on 127.0.0.1 (SQLite backend, proxied artefacts)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import skip_or_fail

from custml import tracking
from custml.models.params import GateParams, TrainParams
from custml.models.train import train_model
from custml.testing import synthetic_training_table

pytestmark = pytest.mark.mlflow_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow_server")
    port = _free_port()
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    cmd = [
        str(mlflow_bin) if mlflow_bin.exists() else "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'server.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (root / "server.log").open("w")
    try:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    except OSError as exc:
        skip_or_fail(f"cannot start mlflow server: {exc}")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    ready = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                ready = resp.status == 200
        except OSError:
            pass
        if ready:
            break
        time.sleep(0.5)
    if not ready:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        skip_or_fail(f"mlflow server did not become ready: {(root / 'server.log').read_text()[-2000:]}")
    try:
        yield url
    finally:
        tracking.configure()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def results() -> tuple:
    table = synthetic_training_table(1200, seed=21)
    good = train_model(table, params=TrainParams(task="churn", shap_sample=100))
    rng = np.random.default_rng(1)
    test_mask = (table["cutoff"] == table["cutoff"].max()).to_numpy()
    labels = table["label"].to_numpy().copy()
    labels[~test_mask] = rng.permutation(labels[~test_mask])
    # the weak model's labels are shuffled, so printed baselines beat it beyond noise; this test is about the
    # comparison with the champion, so that gate (GateParams.baseline_bootstrap, tested in test_tracking) is off
    weak_params = TrainParams(
        task="churn", shap_sample=100, btyd_features=False, gate=GateParams(baseline_bootstrap=0)
    )
    weak = train_model(table.assign(label=labels), params=weak_params)
    return good, weak, table


def test_alias_gate_on_real_server(
    server: str, results: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, weak, table = results
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))  # nothing may land in the repository
    assert tracking.configure(server) == server
    name = "custml-churn"
    holdout, labels = good.test_features, good.test_predictions["label"]

    weak_run = tracking.log_training_run(weak, run_name="weak")
    first = tracking.register_and_gate(weak_run, name, holdout=holdout, holdout_labels=labels)
    assert first.promoted and first.reason == "no champion yet"

    good_run = tracking.log_training_run(good, run_name="good")
    better = tracking.register_and_gate(
        good_run, name, metric="roc_auc", margin=0.01, holdout=holdout, holdout_labels=labels
    )
    assert better.promoted and better.champion_version == first.version

    again = tracking.register_and_gate(weak_run, name, holdout=holdout, holdout_labels=labels)
    assert not again.promoted

    champion = tracking.get_model_version_info(f"models:/{name}@champion")
    challenger = tracking.get_model_version_info(f"models:/{name}@challenger")
    assert champion.version == better.version and challenger.version == again.version
    assert champion.gate.promoted and challenger.gate.promoted is False
    assert champion.calibration and champion.top_drivers

    # The champion served through the server's artefact proxy scores the feature frame as the features stage gives it.
    test_rows = table[table["cutoff"] == table["cutoff"].max()]
    probs = np.asarray(tracking.load_model(f"models:/{name}@champion").predict(test_rows), dtype=float)
    np.testing.assert_allclose(probs, good.test_predictions["model"].to_numpy())
    assert not (tmp_path / "mlartifacts").exists()  # artefacts went to the server, not to a local folder
    # The registry records the test cut-off the gate was decided on: the last cut-off of the table.
    assert pd.Timestamp(champion.metrics.test_cutoff) == pd.Timestamp(table["cutoff"].max())
