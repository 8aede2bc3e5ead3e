"""End to end at small scale: the demo pipeline, `custml score` (reproducible, crash-safe, drift) and a PII scan.

One small project (2,000 persons, light training settings; conftest's ``trained_project``, built once per session
and worker) in a temporary CUSTML_HOME with MLflow on a temporary SQLite store; the tests read its outputs and
re-score it through the CLI, writing only to their own temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scoring_project import project_env

from custml.cli import main
from custml.cli.score import EXIT_DRIFT
from custml.io import read_json, read_table, write_table
from custml.privacy import scan_for_pii
from custml.scoring import SCORE_COLUMNS
from custml.uplift.scoring import UPLIFT_SCORE_COLUMNS

pytestmark = pytest.mark.slow

AS_OF = "2026-01-01"
FIXED = "2026-01-02T03:04:05"


@pytest.fixture(scope="module")
def project(trained_project):
    """The session's trained project (conftest), with its CUSTML_HOME and MLflow store set for this module."""
    root, result = trained_project
    with project_env(root):
        yield root, result


def test_demo_writes_every_stage(project) -> None:
    root, result = project
    assert result.as_of == pd.Timestamp(AS_OF)
    for rel in (
        "data/raw/customers.parquet",
        "data/interim/orders.parquet",
        "data/interim/quality_report.json",
        f"data/processed/features_{AS_OF}.parquet",
        f"data/processed/segments_{AS_OF}.parquet",
        "models/segmentation.joblib",
        "mlflow.db",
    ):
        assert (root / rel).is_file(), rel
    assert result.scores_path == root / "data" / "scores" / f"scores_{AS_OF}.parquet"
    assert result.report_path.is_file() and result.report_path.suffix == ".html"
    assert "<html" in result.report_path.read_text(encoding="utf-8")[:2000].lower()
    for task in ("churn", "repurchase"):
        assert result.gate[task].promoted is True  # first model of a fresh registry becomes champion
    assert set(result.timings) >= {
        "generate_s",
        "clean_s",
        "train_s",
        "train_uplift_s",
        "score_s",
        "report_s",
    }


def test_scores_follow_the_contract(project) -> None:
    root, result = project
    scores = read_table(result.scores_path)
    assert tuple(scores.columns) == (*SCORE_COLUMNS, *UPLIFT_SCORE_COLUMNS, "p_alive")
    assert scores["customer_id"].is_unique
    assert scores["customer_id"].str.fullmatch(r"[0-9a-f]{16}").all()  # pseudonyms, never raw ids
    for col in ("churn_probability", "repurchase_probability"):
        assert scores[col].between(0, 1).all()
    np.testing.assert_allclose(
        scores["revenue_at_risk"], scores["churn_probability"] * scores["expected_value_12m"]
    )
    assert scores["recommended_action"].notna().all()
    assert scores["cluster_name"].notna().all()
    assert scores["churn_model_name"].eq("custml-churn").all() and scores["churn_model_version"].eq("1").all()
    # Reasons exactly for the actions whose rule asks for them.
    explained = scores["recommended_action"].isin(["personal outreach", "onboarding offer", "win-back offer"])
    assert scores.loc[explained, "reason_1"].notna().mean() > 0.95
    assert scores.loc[~explained, "reason_1"].isna().all()


def test_meta_sidecar_counts_reconcile(project) -> None:
    root, result = project
    meta = read_json(result.scores_path.with_suffix(".meta.json"))
    raw = read_table(root / "data" / "raw" / "customers.parquet")
    assert meta["rows_in"] == len(raw)
    assert meta["rows_in"] == meta["rows_scored"] + meta["rows_quarantined"]
    assert meta["rows_quarantined"] == sum(meta["rows_not_scored"].values())
    assert meta["quality"]["duplicates_merged"] == meta["rows_not_scored"]["merged_duplicates"]
    for task in ("churn", "repurchase"):
        model = meta["models"][task]
        assert {"name", "version", "metrics", "calibration", "top_drivers"} <= set(model)
        assert 0.5 < model["metrics"]["roc_auc"] <= 1
    assert meta["drift"] and {"feature", "psi", "status", "model"} <= set(meta["drift"][0])
    # the 12-month value's purchase model, chosen on a held-out period, is named with its figures
    value = meta["value_model"]
    assert value["model"] in value["candidates"] and value["reason"].startswith(value["model"])
    assert value["holdout_log_likelihood"] is not None and value["holdout_mae_purchases"] > 0
    # the report's headline: the model's expectation over the churn label's population, and the same season a
    # year earlier (the demo's world has three years of history)
    outlook = meta["churn_outlook"]
    assert outlook["population"] > 0 and 0 < outlook["expected_rate"] < 1 and not outlook["short_history"]
    last = outlook["same_season_last_year"]
    assert last["population"] > 0 and 0 < last["realised_rate"] < 1


def test_nothing_the_demo_writes_holds_personal_data(project) -> None:
    root, _ = project
    customers_raw = read_table(root / "data" / "raw" / "customers.parquet")
    written = [p for p in root.iterdir() if p.name != "data"]
    written += [p for p in (root / "data").iterdir() if p.name not in {"raw", "private"}]
    result = scan_for_pii(written, customers_raw)
    assert result.files_scanned > 10
    found = result.findings
    # No customer's name, e-mail or phone anywhere; generic phone/e-mail-like patterns only inside binary
    # files (digits in a pickled model or the SQLite store), never in tables, JSON, HTML or text.
    binary = found["file"].str.endswith((".pkl", ".joblib", ".db", ".ubj"))
    real = found[found["kind"].isin(["name", "email", "phone"]) | ~binary]
    assert real.empty, real.to_string()


def _score(root: Path, out: Path, *extra: str, data: Path | None = None) -> int:
    args = ["score", "--data", str(data or root / "data" / "raw"), "--as-of", AS_OF, "--out", str(out)]
    return main([*args, "--allow-demo-key", "--quiet", *extra])


def test_cli_commands_on_a_trained_project_run_their_declared_steps(
    project, challenger_scored, tmp_path: Path, caplog
) -> None:
    import logging

    from custml.cli import COMMAND_STEPS
    from custml.pipeline import DEMO_STEPS

    root, result = project
    assert set(result.timings) == {f"{name}_s" for name in DEMO_STEPS}  # the demo ran exactly its steps
    caplog.set_level(logging.INFO, logger="custml.pipeline.runner")
    scores = str(challenger_scored.out)  # scored with the uplift model: a campaign can be planned
    commands = {
        "score": lambda: _score(root, tmp_path / f"scores_{AS_OF}.parquet"),
        "campaign": lambda: main(
            ["campaign", "plan", "--scores", scores, "--budget", "50", "--out", str(tmp_path / "c.csv")]
        ),
        "report": lambda: main(["report", "--scores", scores, "--out", str(tmp_path / "r.html")]),
    }
    for command, run in commands.items():
        caplog.clear()
        assert run() == 0, command
        ran = [r.getMessage() for r in caplog.records if r.name == "custml.pipeline.runner"]
        assert ran == [f"step {step}" for step in COMMAND_STEPS[command]], command


def test_rerun_with_same_inputs_gives_the_same_bytes(project, tmp_path: Path) -> None:
    root, _ = project
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert _score(root, a, "--scored-at", FIXED, "--csv") == 0
    assert _score(root, b, "--scored-at", FIXED) == 0
    # Frames first (a readable diff), then bytes by digest (a bytes assert would make pytest diff megabytes).
    pd.testing.assert_frame_equal(read_table(a), read_table(b))
    assert hashlib.sha256(a.read_bytes()).hexdigest() == hashlib.sha256(b.read_bytes()).hexdigest()
    assert a.with_suffix(".csv").is_file()
    meta_a, meta_b = read_json(a.with_suffix(".meta.json")), read_json(b.with_suffix(".meta.json"))
    assert meta_a == meta_b and meta_a["scored_at"] == FIXED
    scores = read_table(a)
    assert (scores["scored_at"] == pd.Timestamp(FIXED)).all()


def test_killed_scoring_run_leaves_the_previous_file_intact(project, tmp_path: Path) -> None:
    root, _ = project
    out = tmp_path / "scores.parquet"
    assert _score(root, out, "--scored-at", FIXED) == 0
    before = out.read_bytes()
    # A second run is killed (SIGKILL) in the middle of writing the parquet file.
    script = textwrap.dedent(
        f"""
        import os, signal
        import pyarrow.parquet as pq
        import custml.io

        def dying_write(table, where, **kw):
            with open(where, "wb") as fh:
                fh.write(b"PAR1 half a file")
                fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        custml.io.pq.write_table = dying_write
        from custml.cli import main
        main(["score", "--data", {str(root / "data" / "raw")!r}, "--as-of", "{AS_OF}", "--out", {str(out)!r},
              "--allow-demo-key", "--quiet"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert out.read_bytes() == before
    assert len(read_table(out)) > 0


def test_shifted_input_triggers_drift_and_the_exit_code(project, tmp_path: Path) -> None:
    root, _ = project
    shifted = tmp_path / "raw"
    shifted.mkdir()
    for f in (root / "data" / "raw").glob("*.parquet"):
        table = read_table(f)
        if f.stem == "orders":
            for col in ("net_amount", "gross_amount", "discount_amount"):
                if col in table.columns:
                    table[col] = pd.to_numeric(table[col], errors="coerce") * 8  # prices in another currency
        write_table(table, shifted / f.name)
    out = tmp_path / "shifted.parquet"
    assert _score(root, out, "--fail-on-drift", data=shifted) == EXIT_DRIFT
    meta = read_json(out.with_suffix(".meta.json"))  # written before exiting
    drifted = {d["feature"] for d in meta["drift"] if d["status"] == "drift"}
    assert {"monetary_total", "revenue_365d"} & drifted
    # Without the flag the same input scores with a warning and exit status 0.
    assert _score(root, tmp_path / "warn.parquet", data=shifted) == 0


def test_any_model_uri_can_be_used(project, tmp_path: Path) -> None:
    root, result = project
    run_id = result.gate["churn"].run_id
    out = tmp_path / "runs.parquet"
    assert _score(root, out, "--churn-model", f"runs:/{run_id}/model", "--reasons", "none") == 0
    scores = read_table(out)
    assert scores["churn_model_version"].eq("").all() and scores["churn_model_name"].eq("model").all()
    assert scores["reason_1"].isna().all()
    meta = json.loads(out.with_suffix(".meta.json").read_text())
    assert meta["reason_policy"] == "none"


@pytest.fixture(scope="module")
def challenger_scored(project, tmp_path_factory: pytest.TempPathFactory):
    """The demo's customers scored with the uplift model the gate kept as challenger (named explicitly)."""
    from custml.pipeline import ScoreSettings, run_score

    root, _ = project
    with project_env(root):
        return run_score(
            ScoreSettings(
                data=root / "data" / "raw",
                as_of=AS_OF,
                out=tmp_path_factory.mktemp("challenger") / f"scores_{AS_OF}.parquet",
                allow_demo_key=True,
                uplift_model="models:/custml-uplift@challenger",
            ),
            root=root,
        )


def test_scores_carry_uplift_and_the_campaign_plan_writes_a_contact_list(
    challenger_scored, tmp_path: Path
) -> None:
    scores, meta = read_table(challenger_scored.out), read_json(challenger_scored.meta_path)
    uplift = meta["uplift"]
    assert uplift["status"] == "fitted" and uplift["campaign_id"] == "RET-2025-07"
    assert uplift["n_treated"] > 100 and uplift["n_control"] > 100 and uplift["offer_cost"] == 10.0
    assert scores["uplift"].between(-1, 1).all()
    np.testing.assert_allclose(
        scores["expected_profit"], scores["uplift"] * scores["expected_value_12m"] * uplift["margin"] - 10.0
    )
    assert set(scores["chosen_action"]) <= {"retention offer", "no action"}
    assert (scores.loc[scores["chosen_action"] == "retention offer", "expected_profit"] > 0).all()
    buyers = scores["p_alive"].notna()
    assert buyers.mean() > 0.9 and scores.loc[buyers, "p_alive"].between(0, 1).all()

    # a budget-limited plan: the highest expected profit first, never more than the budget
    planned = scores.assign(uplift=scores["uplift"] + 0.2)  # make some offers pay, to have a list to check
    source = tmp_path / "scores_x.parquet"
    write_table(planned, source)
    (tmp_path / "scores_x.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    assert main(["campaign", "plan", "--scores", str(source), "--budget", "105"]) == 0
    contacts = pd.read_csv(tmp_path / "contacts_x.csv")
    assert len(contacts) == 10 and contacts["action_cost"].sum() <= 105
    assert contacts["contact_rank"].tolist() == list(range(1, 11))
    assert contacts["expected_profit"].is_monotonic_decreasing and (contacts["expected_profit"] > 0).all()
    top = planned.assign(p=planned["uplift"] * planned["expected_value_12m"] * uplift["margin"] - 10.0)
    assert set(contacts["customer_id"]) == set(top.nlargest(10, "p")["customer_id"])

    # scores made without campaign data: a one-line error, exit 2
    bare = tmp_path / "scores_bare.parquet"
    write_table(scores.assign(uplift=np.nan), bare)
    assert main(["campaign", "plan", "--scores", str(bare), "--budget", "100", "--cost", "10"]) == 2


def test_early_scoring_counts_later_rows_of_every_table_apart(project, tmp_path: Path) -> None:
    """As of before the world's campaign (July 2025; the world ends 2025-12-31): later sign-ups, orders, interactions and campaign sends are
    counted apart (quality.rows_after_as_of), not as future_timestamp quality losses."""
    from custml.quality.normalise import parse_timestamps

    root, _ = project
    early, out = "2025-06-01", tmp_path / "early.parquet"
    args = ["score", "--data", str(root / "data" / "raw"), "--as-of", early, "--out", str(out)]
    assert main([*args, "--allow-demo-key", "--quiet"]) == 0
    meta = read_json(out.with_suffix(".meta.json"))
    quality, later = meta["quality"], meta["quality"]["rows_after_as_of"]
    raw = {t: read_table(root / "data" / "raw" / f"{t}.parquet") for t in ("interactions", "campaigns")}
    assert later["interactions"] > 1000 and later["campaigns"] > 500
    for table, column in (("interactions", "ts"), ("campaigns", "sent_ts")):
        parsed = parse_timestamps(
            raw[table][column]
        ).values  # as the quality stage reads them (offsets, dirt)
        n_later = int((parsed > pd.Timestamp(early)).sum())
        if n_later:
            assert 0.9 * n_later <= later.get(table, 0) <= n_later, table  # a few also fail another rule
    assert later["orders"] == quality["orders_after_as_of"] > 0
    assert (
        later.get("customers", 0)
        == quality["customers_not_yet"]
        == meta["rows_not_scored"]["not_yet_a_customer"]
    )
    assert quality["rows_in"] == quality["rows_kept"] + quality["rows_quarantined"] + sum(later.values())
    assert quality["rows_quarantined"] == sum(quality["quarantined_by_table"].values())
    assert "interactions" in quality["after_as_of_explained"]


def test_uplift_model_is_trained_and_registered_and_the_gate_keeps_one_that_does_not_beat_random(
    project, challenger_scored
) -> None:
    from custml import tracking
    from custml.uplift import CampaignUplift

    root, result = project
    decision = result.gate["uplift"]
    # the small demo's campaign (about 1,000 customers, an offer that barely works on the default world) gives a
    # held-out Qini AUC whose interval holds 0: the promotion rule keeps the model as challenger (issue 28)
    assert decision.name == "custml-uplift" and decision.promoted is False
    assert decision.champion_version is None and "random targeting" in decision.reason
    with project_env(root):
        model, info = tracking.load_uplift_model("models:/custml-uplift@challenger")
        features = read_table(root / "data" / "processed" / f"features_{AS_OF}.parquet")
    assert isinstance(model, CampaignUplift) and info.version == decision.version
    metrics = ("holdout_qini_auc", "holdout_qini_auc_lo", "holdout_qini_auc_hi", "holdout_uplift_auc",
               "holdout_uplift_at_30", "calibration_slope")  # fmt: skip
    for metric in metrics:
        assert np.isfinite(info.metrics[metric]), metric
    assert info.metrics["holdout_qini_auc_lo"] <= 0
    # the demo's own scores (the champion alias) keep the rule-based actions and say why
    demo = read_json(result.scores_path.with_suffix(".meta.json"))["uplift"]
    assert demo["status"].startswith("no uplift model (the gate did not promote custml-uplift v1: ")
    assert demo["status"].endswith(": rule-based actions") and demo["model"] is None
    demo_scores = read_table(result.scores_path)
    assert demo_scores["uplift"].isna().all()
    assert (demo_scores["chosen_action"] == demo_scores["recommended_action"]).all()
    # named explicitly, the challenger scores: its uplift is the registered model's prediction on the scoring
    # features (no refit at scoring)
    uplift = challenger_scored.meta.uplift
    assert uplift is not None and uplift.model is not None
    assert uplift.model.model_dump() == {
        "name": "custml-uplift",
        "version": decision.version,
        "run_id": info.run_id,
    }
    scores = challenger_scored.scores
    by_id = features.set_index("customer_id").loc[scores["customer_id"]].reset_index()
    # (the value its calibration reads is the scores' 12-month value, from the value model scoring chose)
    np.testing.assert_allclose(
        scores["uplift"], model.predict(by_id, value=scores["expected_value_12m"].to_numpy()), atol=1e-9
    )


def test_scoring_without_a_registered_uplift_model_falls_back_to_the_rule_actions(project, tmp_path) -> None:
    from custml.pipeline import ScoreSettings, run_score

    root, result = project
    with project_env(root):
        run = run_score(
            ScoreSettings(
                data=root / "data" / "raw",
                as_of=AS_OF,
                out=tmp_path / "scores_none.parquet",
                allow_demo_key=True,
                uplift_model="models:/custml-uplift-never-trained@champion",
            ),
            root=root,
        )
    assert run.meta.uplift is not None and run.meta.uplift.status.startswith("no uplift model")
    assert run.scores["uplift"].isna().all() and run.scores["expected_profit"].isna().all()
    assert (run.scores["chosen_action"] == run.scores["recommended_action"]).all()
    assert run.scores["p_alive"].notna().mean() > 0.9


def test_cli_train_uplift_logs_a_run_and_rejects_a_bad_config(project, tmp_path: Path, capsys) -> None:
    root, _ = project
    with project_env(root):
        assert main(["train", "uplift", "--no-register"]) == 0
        out = capsys.readouterr().out
        assert "uplift (t-learner) from campaign RET-2025-07" in out and "Qini AUC" in out
        bad = tmp_path / "bad.yaml"
        bad.write_text("uplift:\n  horizon_days: 180\n  learnr: t\n", encoding="utf-8")
        assert main(["train", "uplift", "--config", str(bad)]) == 2
        assert "learnr" in capsys.readouterr().err
        # `train churn` fits the uplift model too when the data has campaigns (unless --no-uplift)
        light = tmp_path / "light.yaml"
        light.write_text(
            "n_train_cutoffs: 2\nn_estimators: 60\nearly_stopping_rounds: 10\nshap_sample: 100\n"
        )
        assert main(["train", "churn", "--no-register", "--config", str(light)]) == 0
        assert "uplift (t-learner) from campaign RET-2025-07" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------------------
# Drift that knows time (issue 27): no alarm right after training, one verdict for scoring and monitoring
# --------------------------------------------------------------------------------------------------------


def test_score_right_after_training_on_the_same_data_flags_no_drift(project) -> None:
    root, result = project
    meta = read_json(result.scores_path.with_suffix(".meta.json"))
    verdict = meta["drift_verdict"]
    drifted = [(d["model"], d["feature"], d["psi"]) for d in meta["drift"] if d["drifted"]]
    assert verdict["verdict"] == "ok" and verdict["drifted"] == 0 and not drifted, (verdict, drifted)
    assert verdict["compared"] > 40 and verdict["left_out"] == 0
    # Features that grow with time are compared relative to the days of history, not as raw days.
    aligned = {d["feature"] for d in meta["drift"] if d["compared"] == "relative to history"}
    assert {"tenure_days", "btyd_T_days"} <= aligned
    html = result.report_path.read_text(encoding="utf-8")
    assert "consider retraining" not in html and "monitored inputs has shifted strongly" in html


def _amounts_times(raw: Path, factor: float, out: Path) -> Path:
    out.mkdir()
    for f in raw.glob("*.parquet"):
        table = read_table(f)
        if f.stem == "orders":
            for col in ("net_amount", "gross_amount", "discount_amount"):
                if col in table.columns:
                    table[col] = pd.to_numeric(table[col], errors="coerce") * factor
        write_table(table, out / f.name)
    return out


def test_scoring_and_monitoring_give_the_same_drift_verdict(project, tmp_path: Path) -> None:
    from custml.pipeline import DriftError, MonitorSettings, ScoreSettings, run_monitor, run_score

    root, _ = project
    day = "2025-11-01"  # after the models' test cut-off, before the data end: monitoring can read it
    worlds = {
        "same": root / "data" / "raw",
        "doubled": _amounts_times(root / "data" / "raw", 2.0, tmp_path / "x2"),
    }
    verdicts = {}
    for name, raw in worlds.items():
        out = tmp_path / name / f"scores_{day}.parquet"
        settings = ScoreSettings(data=raw, as_of=day, out=out, allow_demo_key=True, scored_at=FIXED)
        if name == "doubled":  # a real shift: --fail-on-drift stops after writing the scores
            with pytest.raises(DriftError, match=r"drift: \d+ of \d+ model features drifted"):
                run_score(settings.model_copy(update={"fail_on_drift": True}), root=root)
        scored = run_score(settings, root=root)
        churn = scored.drift[scored.drift["model"] == "churn"]
        watch = MonitorSettings(scores=out.parent, data=raw, allow_demo_key=True, write=False, log=False)
        monitored = run_monitor(watch, root=root)
        inputs = monitored.result.drift[monitored.result.drift["source"] == "input"]
        health = monitored.result.health.iloc[0]
        verdicts[name] = scored.drift_result.verdict
        # The same rows, the same definition: the same features drifted, with the same PSI (up to age_band:
        # scoring cleans as of its date, monitoring as of now, and a birthday in between moves a band).
        assert set(churn.loc[churn["drifted"], "feature"]) == set(inputs.loc[inputs["drifted"], "feature"])
        assert int(health["inputs_drifted"]) == int(churn["drifted"].sum())
        pd.testing.assert_series_equal(
            churn.set_index("feature")["psi"].drop("age_band").sort_index(),
            inputs.set_index("feature")["psi"].drop("age_band").sort_index(),
            check_names=False,
        )
    assert verdicts == {"same": "ok", "doubled": "drift"}
