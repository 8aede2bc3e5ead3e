"""End to end on a small synthetic world: clean -> training set -> train -> MLflow; no personal data in artefacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from custml import pipeline as workflows
from custml import tracking
from custml.models.params import TrainParams
from custml.privacy import scan_for_pii
from custml.quality import clean_tables
from custml.synth import WorldParams, generate_world


@pytest.mark.slow
def test_mlartifacts_hold_no_personal_data_after_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.configure()
    world = generate_world(WorldParams(n_customers=2500, seed=5, dirty=0.05))
    raw = {
        "customers": world.customers,
        "orders": world.orders,
        "interactions": world.interactions,
        "campaigns": world.campaigns,
    }
    clean = clean_tables(raw, world.manifest["end"], b"test-key-0123456789abcdef0123456", None)
    params = TrainParams(task="churn", n_train_cutoffs=3, shap_sample=300)
    outcome = workflows.run_train(
        "churn",
        root=tmp_path,
        tables=clean.tables,
        data_end=world.manifest["end"],
        params=params,
        truth=workflows.TruthInputs(customers=world.truth["customers"], id_map=clean.id_map),
    )
    result = outcome.result
    assert "oracle" in result.metrics  # the truth gave the oracle scorer
    assert result.metrics["model"]["roc_auc"] > 0.6  # a floor that catches a broken pipeline, not a target
    assert outcome.decision.promoted

    artefacts = tmp_path / "mlartifacts"
    assert any(artefacts.rglob("model_card.md"))
    # Known personal data (this world's names, e-mails, phones): none anywhere, model pickles included.
    scan = scan_for_pii(artefacts, world.customers, generic=False)
    assert not scan.found, scan.summary() + "\n" + scan.findings.to_string()
    # Generic e-mail/phone patterns: none in any artefact (the scanner applies them to text, not to the bytes of
    # plots and pickles).
    generic = scan_for_pii(artefacts, None)
    assert not generic.found, generic.summary() + "\n" + generic.findings.to_string()
    # The pseudonymised customer ids do not leave the training table either.
    ids = set(clean.tables["customers"]["customer_id"].astype(str))
    texts = [
        p.read_text(errors="ignore")
        for p in artefacts.rglob("*")
        if p.suffix in {".json", ".csv", ".md", ".yaml", ".txt"}
    ]
    assert not any(i in t for t in texts for i in list(ids)[:200])
    tracking.configure()


@pytest.mark.slow
def test_custml_train_cli_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from custml.cli import main
    from custml.synth import write_world

    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    tracking.configure()
    raw, interim = tmp_path / "data" / "raw", tmp_path / "data" / "interim"
    write_world(generate_world(WorldParams(n_customers=2000, seed=9)), raw)
    assert main(["clean", "--data", str(raw), "--out", str(interim), "--allow-demo-key"]) == 0
    cfg = tmp_path / "small.yaml"
    cfg.write_text("train:\n  n_train_cutoffs: 3\n  shap_sample: 200\n")
    assert main(["train", "repurchase", "--data", str(interim), "--config", str(cfg)]) == 0
    info = tracking.get_model_version_info("models:/custml-repurchase@champion")
    assert info.version == "1" and info.metrics.roc_auc > 0.6
    # The truth/ beside the raw tables gave the oracle: logged as the oracle scorer's metrics.
    run_metrics = tracking.get_model_version_info("models:/custml-repurchase/1")
    assert run_metrics.run_id
    # The CLI trains through workflows.run_train, so the run carries the drift reference scoring needs.
    reference = tracking.load_run_dict(run_metrics.run_id, "drift_reference.json")
    assert "recency_days" in reference["features"]
    with pytest.raises(tracking.TrackingError, match="cannot read artefact"):
        tracking.load_run_dict(run_metrics.run_id, "no-such.json")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("train:\n  task: repurchase\n")
    assert (
        main(["train", "churn", "--data", str(interim), "--config", str(wrong)]) == 2
    )  # ConfigError, one line
    tracking.configure()
