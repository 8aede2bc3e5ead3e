"""The declared steps: every entry point runs them, one settings story, one as-of rule."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import typer

from custml.cli import COMMAND_STEPS, UTILITY_COMMANDS, app, main
from custml.config import ProjectPaths, load_settings, parse_overrides
from custml.errors import ConfigError
from custml.io import write_table
from custml.pipeline import (
    DEMO_STEPS,
    STEPS,
    Catalogue,
    CleanSettings,
    GenerateSettings,
    ScoreSettings,
    StepContext,
    run_step,
    run_steps,
    step_names,
)
from custml.settings import Settings


def _commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(group.commands)  # type: ignore[attr-defined]


def test_cli_commands_and_steps_cover_each_other() -> None:
    assert _commands() == set(COMMAND_STEPS) | set(UTILITY_COMMANDS)
    ran = {step for steps in COMMAND_STEPS.values() for step in steps}
    assert ran == set(step_names())
    assert tuple(COMMAND_STEPS["demo"]) == DEMO_STEPS


def test_steps_declare_catalogue_datasets_and_settings() -> None:
    cat = Catalogue(ProjectPaths(Path("/p")))
    produced: set[str] = set()
    for step in STEPS:
        assert issubclass(step.settings, Settings), step.name
        for name in (*step.inputs, *step.outputs):
            cat.location(name, stamp="2025-01-01")  # every dataset has a place
        produced |= set(step.outputs)
    assert {"raw", "clean", "features", "models", "scores", "report"} <= produced
    with pytest.raises(KeyError, match="no dataset 'nope'"):
        cat.location("nope")


def test_runner_runs_steps_in_declared_order_and_logs_them(tmp_path: Path, caplog) -> None:
    ctx = StepContext.for_paths(ProjectPaths(tmp_path).ensure())
    caplog.set_level(logging.INFO, logger="custml.pipeline.runner")
    world = GenerateSettings(n_customers=200, seed=3, out=tmp_path / "raw")
    run = run_steps(
        ["features", "clean", "generate"],
        {"generate": world, "clean": CleanSettings(allow_demo_key=True, write=False)},
        context=ctx,
    )
    assert run.ran == ["generate", "clean", "features"]
    assert [r.getMessage() for r in caplog.records if r.name == "custml.pipeline.runner"] == [
        "step generate",
        "step clean",
        "step features",
    ]
    assert len(run.results["features"]) > 100  # type: ignore[arg-type]
    assert ctx.as_of == pd.Timestamp(run.results["clean"].report.as_of).normalize()  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="no step 'nope'"):
        run_steps(["nope"], context=ctx)
    with pytest.raises(ConfigError, match="settings must be ScoreSettings"):
        run_step("score", world, ctx)


def _steps_of(caplog) -> list[str]:
    steps = [
        r.getMessage().removeprefix("step ") for r in caplog.records if r.name == "custml.pipeline.runner"
    ]
    caplog.clear()
    return steps


def test_data_commands_run_through_their_steps(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    caplog.set_level(logging.INFO, logger="custml.pipeline.runner")
    assert main(["generate", "-n", "300", "--seed", "2"]) == 0
    assert _steps_of(caplog) == ["generate"]
    assert main(["clean", "--allow-demo-key"]) == 0
    assert _steps_of(caplog) == ["clean"]
    assert main(["features", "--data", str(tmp_path / "data" / "interim")]) == 0
    assert _steps_of(caplog) == ["features"]
    features = next((tmp_path / "data" / "processed").glob("features_*.parquet"))
    out = tmp_path / "segments.parquet"
    assert main(["segment", "--features", str(features), "--out", str(out), "--no-cluster"]) == 0
    assert _steps_of(caplog) == ["segment"] and out.is_file()
    for command, steps in COMMAND_STEPS.items():
        assert set(steps) <= set(step_names()), command


# --- one settings story ---------------------------------------------------------------------------------------


def _defaults(command: str) -> dict[str, object]:
    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    return {p.name: p.default for p in cmd.params}


@pytest.mark.parametrize(
    ("command", "model"),
    [("score", ScoreSettings), ("clean", CleanSettings), ("generate", GenerateSettings)],
)
def test_cli_defaults_and_help_are_the_settings(command: str, model: type[Settings]) -> None:
    from custml.cli.options import cli_fields

    defaults = _defaults(command)
    fields = cli_fields(model)
    assert fields and set(fields) <= set(defaults)
    for name, field in fields.items():
        assert defaults[name] == field.default, name
    group = typer.main.get_command(app)
    helps = {p.name: p.help for p in group.commands[command].params}  # type: ignore[attr-defined]
    assert helps["churn_model" if command == "score" else next(iter(fields))]
    if command == "score":
        assert defaults["churn_model"] == "models:/custml-churn@champion"
        assert "PSI >= 0.25" in helps["fail_on_drift"]


def test_settings_layers_defaults_project_file_experiment_and_command_line(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    assert load_settings(ScoreSettings, "score", paths=paths).chunk_size is None  # no project file: defaults
    paths.parameters.parent.mkdir(parents=True)
    paths.parameters.write_text("score:\n  chunk_size: 10\n  csv: true\n  engine: spark\n", encoding="utf-8")
    experiment = tmp_path / "exp.yaml"
    experiment.write_text("kind: train\nscore:\n  chunk_size: 20\n  engine: duckdb\n", encoding="utf-8")
    s = load_settings(ScoreSettings, "score", paths=paths)
    assert (s.chunk_size, s.csv, s.engine) == (10, True, "spark")
    s = load_settings(ScoreSettings, "score", paths=paths, experiment=experiment)
    assert (s.chunk_size, s.csv, s.engine) == (20, True, "duckdb")
    cli = parse_overrides(["score.chunk_size=30"])["score"]
    s = load_settings(ScoreSettings, "score", paths=paths, experiment=experiment, overrides=cli)
    assert (s.chunk_size, s.csv, s.engine) == (30, True, "duckdb")


def test_settings_errors_are_one_line_naming_file_section_and_key(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    paths.parameters.parent.mkdir(parents=True)
    paths.parameters.write_text("score:\n  chunk_sise: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(ScoreSettings, "score", paths=paths)
    message = str(err.value)
    assert "\n" not in message and str(paths.parameters) in message and "score.chunk_sise" in message
    with pytest.raises(ConfigError, match=r"command line: score.chunk_size: .*greater than or equal to 1"):
        load_settings(ScoreSettings, "score", paths=ProjectPaths(tmp_path / "x"), overrides={"chunk_size": 0})
    with pytest.raises(ConfigError, match="expected section.key=value"):
        parse_overrides(["chunk_size"])


def test_cli_set_and_named_options_override_the_parameters_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    paths = ProjectPaths(tmp_path)
    paths.parameters.parent.mkdir(parents=True)
    paths.parameters.write_text("generate:\n  n_customers: 250\n  seed: 5\n", encoding="utf-8")
    assert main(["generate", "--out", str(tmp_path / "a")]) == 0
    assert len(pd.read_parquet(tmp_path / "a" / "truth" / "customers.parquet")) == 250
    assert main(["generate", "--out", str(tmp_path / "b"), "--set", "generate.n_customers=220"]) == 0
    assert len(pd.read_parquet(tmp_path / "b" / "truth" / "customers.parquet")) == 220
    assert main(["generate", "--out", str(tmp_path / "c"), "-n", "210", "--set", "n_customers=220"]) == 0
    assert len(pd.read_parquet(tmp_path / "c" / "truth" / "customers.parquet")) == 210
    assert main(["generate", "--out", str(tmp_path / "d"), "--set", "generate.n_custmers=1"]) == 2


def test_cli_set_reaches_every_section_a_command_reads_and_refuses_others(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    # train reads train: and uplift:; a misspelt section is an error, not silently ignored (a full training)
    assert main(["train", "churn", "--set", "trian.n_estimators=5"]) == 2
    assert "no section 'trian' here (this command reads train, uplift)" in capsys.readouterr().err.replace(
        "\n", " "
    )
    # backtest reads its own section and train: (the training settings), which must not be read as backtest.train
    assert main(["backtest", "churn", "--set", "train.n_estimators=-1"]) == 2
    err = capsys.readouterr().err
    assert "train.n_estimators" in err and "backtest.train" not in err


# --- one as-of rule -------------------------------------------------------------------------------------------


def test_experiments_on_clean_tables_leave_a_far_future_typo_out(tmp_path: Path) -> None:
    from custml.experiments import ExperimentConfig, _prepare_data

    days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(len(days) + 1)], "customer_id": "c1",
                           "order_ts": [*days, pd.Timestamp("2099-01-01")], "net_amount": 1.0})  # fmt: skip
    write_table(orders, tmp_path / "clean" / "orders.parquet")
    write_table(pd.DataFrame({"customer_id": ["c1"]}), tmp_path / "clean" / "customers.parquet")
    config = ExperimentConfig.model_validate(
        {"kind": "segmentation", "data": {"clean": str(tmp_path / "clean")}}
    )
    data = _prepare_data(config, tmp_path)
    assert data.as_of == pd.Timestamp("2025-01-01")


def test_campaign_reads_the_scores_meta_under_either_name_as_the_report_does(tmp_path: Path) -> None:
    from custml.contracts import UpliftSummary
    from custml.io import read_table
    from custml.pipeline import CampaignSettings
    from custml.report.meta import read_meta
    from custml.report.sample import sample_scores

    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "uplift": [0.2, 0.1, -0.1],
            "expected_value_12m": [100.0, 80.0, 50.0],
        }
    )
    path = write_table(scores, tmp_path / "scores_x.parquet")
    ctx = StepContext.for_paths(ProjectPaths(tmp_path))
    settings = CampaignSettings(scores=path, budget=100.0)
    with pytest.raises(ConfigError, match=r"no offer cost in scores_x\.parquet \(no meta file beside it\)"):
        run_step("campaign", settings, ctx)
    meta = read_meta(sample_scores(20, seed=0)[1])
    assert meta is not None
    meta.uplift = UpliftSummary(status="fitted", offer_cost=2.0, margin=0.5)
    meta.write_json(tmp_path / "scores_x.parquet.meta.json")  # named after the full file name
    totals = run_step("campaign", settings, ctx)
    assert isinstance(totals, dict)
    assert (totals["contacted"], totals["spend"]) == (2.0, 4.0)  # the meta's cost: a and b (c loses money)
    assert read_table(ProjectPaths.contacts_for(path))["customer_id"].tolist() == ["a", "b"]
