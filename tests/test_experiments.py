"""Experiment configs: every committed YAML validates and runs at small size into an MLflow run named after it.

Each ``experiments/*.yaml`` is run on a 3,000-person world (``n_customers_override``) into a temporary project
root and SQLite store; the test then finds the run by name and checks its metrics, tags and config artefacts.
Bad configs fail with a :class:`custml.errors.ConfigError` that names the field.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mlflow import MlflowClient

from custml.cli import main
from custml.errors import ConfigError
from custml.experiments import (
    ExperimentConfig,
    WorldSpec,
    experiment_file,
    list_experiments,
    load_experiment,
    run_experiment,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "experiments").glob("*.yaml"))
SMALL = 3_000

# Metrics each kind of run must carry (train: model, both baselines and the oracle on a synthetic world).
TRAIN_METRICS = (
    "roc_auc",
    "ece",
    "lift_top10",
    "capture_top10",
    "logistic.roc_auc",
    "bgnbd.roc_auc",
    "oracle.roc_auc",
    "oracle_auc_ratio",
)
SEGMENTATION_METRICS = ("silhouette", "k", "persona_ari", "seconds")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.delenv("CUSTML_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("CUSTML_PSEUDONYM_KEY_FILE", raising=False)
    return tmp_path


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run_by_name(name: str):
    from custml import tracking

    tracking.configure()
    runs = MlflowClient().search_runs(
        experiment_ids=[e.experiment_id for e in MlflowClient().search_experiments()],
        filter_string=f"attributes.run_name = '{name}'",
    )
    assert len(runs) == 1, f"expected one run named {name}, found {len(runs)}"
    return runs[0]


def _artifacts(run_id: str, path: str) -> set[str]:
    return {Path(a.path).name for a in MlflowClient().list_artifacts(run_id, path)}


# ------------------------------------------------------------------------------------------------ configs


def test_the_experiments_the_notebooks_report_are_committed() -> None:
    names = {p.stem for p in CONFIGS}
    assert {
        "churn-lgbm-baseline",
        "churn-lgbm-with-btyd-features",
        "repurchase-lgbm-baseline",
        "segmentation-kmeans-vs-gmm",
    } <= names


def test_every_committed_config_validates() -> None:
    table = list_experiments(ROOT / "experiments")
    assert len(table) == len(CONFIGS)
    assert (table["error"] == "").all(), table.loc[table["error"] != "", ["name", "error"]].to_dict("records")
    assert set(table["kind"]) == {"train", "segmentation", "uplift"}


def test_churn_pair_differs_only_in_the_btyd_features() -> None:
    base = load_experiment(ROOT / "experiments" / "churn-lgbm-baseline.yaml")
    hybrid = load_experiment(ROOT / "experiments" / "churn-lgbm-with-btyd-features.yaml")
    assert base.world == hybrid.world
    assert base.train is not None and hybrid.train is not None
    assert (base.train.btyd_features, hybrid.train.btyd_features) == (False, True)
    assert base.train.model_copy(update={"btyd_features": True}) == hybrid.train


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("kind: train\ntrain:\n  task: churn\n  lightgbm:\n    num_leaves: 1\n", "train.lightgbm.num_leaves"),
        ("kind: train\ntrain:\n  task: churn\n  n_trian_cutoffs: 3\n", "train.n_trian_cutoffs"),
        ("kind: train\ntrain:\n  task: attrition\n", "train.task"),
        ("kind: clustering\n", "kind"),
        ("kind: segmentation\nworld:\n  n_customers: 10\n", "world.n_customers"),
        ("kind: segmentation\nsegment:\n  methods: [kmeans, dbscan]\n", "segment.methods"),
        ("kind: train\n", "train: section required"),
        ("kind: segmentation\nworld: {}\ndata:\n  raw: data/raw\n", "not both"),
        ("kind: segmentation\ndata:\n  raw: a\n  clean: b\n", "data"),
    ],
)
def test_bad_config_is_a_config_error_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")) as info:
        load_experiment(path)
    assert str(path) in str(info.value)


def test_missing_or_malformed_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_experiment(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_experiment(_write(tmp_path, "kind: [train\n"))
    with pytest.raises(ConfigError, match="nope"):
        experiment_file("nope")


def test_resized_changes_only_the_world() -> None:
    cfg = ExperimentConfig.model_validate(
        {
            "kind": "train",
            "world": {"n_customers": 50_000, "seed": 0, "dirty": 0.05},
            "train": {"task": "churn"},
        }
    )
    small = cfg.resized(3000, seed=7)
    assert small.world == WorldSpec(n_customers=3000, seed=7, dirty=0.05)
    assert small.train == cfg.train
    assert cfg.world is not None and cfg.world.n_customers == 50_000  # the original is unchanged
    data_cfg = ExperimentConfig.model_validate({"kind": "segmentation", "data": {"raw": "data/raw"}})
    assert data_cfg.resized(3000) is data_cfg


def test_experiment_file_finds_committed_configs_from_a_temporary_root(project: Path) -> None:
    path = experiment_file("churn-lgbm-baseline")
    assert path.is_file() and path.name == "churn-lgbm-baseline.yaml"


def test_experiment_folders_are_the_setting_then_the_project_and_nothing_else(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custml.config import ENV_EXPERIMENTS_DIR, experiment_dirs

    # Without the setting, a temporary project root has no configs: nothing is found beside the package.
    monkeypatch.delenv(ENV_EXPERIMENTS_DIR)
    assert experiment_dirs() == [project / "experiments"]
    with pytest.raises(ConfigError, match=r"churn-lgbm-baseline.*CUSTML_EXPERIMENTS_DIR"):
        experiment_file("churn-lgbm-baseline")
    # The project's own folder is read when the setting is unset ...
    (project / "experiments").mkdir()
    own = _write(project / "experiments", "kind: train\ntrain: {task: churn}\n", "mine.yaml")
    assert experiment_file("mine") == own
    # ... and the setting's folders (os.pathsep-separated) come first, in order.
    extra_a, extra_b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    shadow = _write(extra_b, "kind: train\ntrain: {task: repurchase}\n", "mine.yaml")
    monkeypatch.setenv(ENV_EXPERIMENTS_DIR, f"{extra_a}{os.pathsep}{extra_b}")
    assert experiment_dirs() == [extra_a.resolve(), extra_b.resolve(), project / "experiments"]
    assert experiment_file("mine") == shadow
    assert list(list_experiments()["name"]) == []  # the first existing folder of the setting: empty


def test_uplift_config_rejects_sections_of_other_kinds() -> None:
    with pytest.raises(ValueError, match="generated world"):
        ExperimentConfig.model_validate({"kind": "uplift", "train": {"task": "churn"}})
    with pytest.raises(ValueError, match="only used by kind 'uplift'"):
        ExperimentConfig.model_validate({"kind": "segmentation", "uplift": {}})
    cfg = ExperimentConfig.model_validate({"kind": "uplift", "uplift": {"learners": ["t"]}})
    assert cfg.task == "uplift" and cfg.resized(3000).source().n_customers == 3000


# ------------------------------------------------------------------------------------------------ runs


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs_at_small_size_into_a_named_mlflow_run(project: Path, config: Path) -> None:
    result = run_experiment(config, n_customers_override=SMALL, seed_override=7)
    cfg = load_experiment(config)

    run = _run_by_name(config.stem)
    assert run.info.run_id == result.run_id
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["custml.experiment"] == config.stem
    assert tags["custml.experiment_kind"] == cfg.kind
    assert tags["custml.experiment_file"].endswith(f"experiments/{config.name}")
    assert tags["custml.experiment.override"] == f"n_customers={SMALL},seed=7"
    assert "custml.git_commit" in tags
    assert {config.name, f"{config.stem}.resolved.yaml"} <= _artifacts(result.run_id, "config")

    logged = run.data.metrics
    if cfg.kind == "train":
        for key in TRAIN_METRICS:
            assert key in logged, key
            assert logged[key] == pytest.approx(result.metrics[key])
        assert 0.5 < logged["roc_auc"] <= 1.0
        assert 0.0 <= logged["ece"] <= 0.2
        assert logged["oracle.roc_auc"] > 0.5
        assert run.data.params["btyd_features"] == str(cfg.train.btyd_features)
        assert result.train is not None and result.train.task == cfg.task
    elif cfg.kind == "uplift":
        for learner in cfg.uplift.learners:
            for key in (
                "spearman",
                "policy_value_at_0.1",
                "plan_true_profit",
                "risk_true_profit",
                "fit_seconds",
            ):
                assert f"{learner}.{key}" in logged, f"{learner}.{key}"
                assert logged[f"{learner}.{key}"] == pytest.approx(result.metrics[f"{learner}.{key}"])
            assert logged[f"{learner}.oracle_true_profit"] >= logged[f"{learner}.plan_true_profit"] - 1e-6
        assert logged["n_test"] > 100 and run.data.params["campaign_world"] == cfg.uplift.campaign_world
        assert set(result.uplift.policies) == set(cfg.uplift.learners)
        assert {"learners.csv", "profit_curves.csv"} <= _artifacts(result.run_id, "uplift")
    else:
        methods = cfg.segment.methods
        for method in methods:
            for key in SEGMENTATION_METRICS:
                assert f"{method}.{key}" in logged, f"{method}.{key}"
            assert 4 <= logged[f"{method}.k"] <= 8
            assert -1.0 <= logged[f"{method}.persona_ari"] <= 1.0
        assert sum(logged.get(f"best_is_{m}", 0.0) for m in methods) == 1.0
        assert set(result.segmentation) == set(methods)
        assert {"k_curve.csv", "profiles.csv"} <= _artifacts(result.run_id, "segmentation")


@pytest.mark.slow
def test_cli_runs_and_lists_experiments(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal width
    config = _write(
        project,
        "kind: segmentation\nworld:\n  n_customers: 5000\n  dirty: 0.0\n"
        "segment:\n  methods: [kmeans]\n  cluster:\n    k_range: [3, 4]\n    stability_boots: 0\n",
        "tiny-seg.yaml",
    )
    assert main(["experiment", "run", str(config), "--customers", "1500"]) == 0
    out = capsys.readouterr().out
    run = _run_by_name("tiny-seg")
    assert run.info.run_id in out
    assert run.data.tags["custml.experiment.override"] == "n_customers=1500,seed=None"

    assert main(["experiment", "list", str(ROOT / "experiments")]) == 0
    listed = capsys.readouterr().out
    assert "churn-lgbm-baseline" in listed and "segmentation" in listed

    bad = _write(project, "kind: train\ntrain:\n  task: attrition\n", "broken.yaml")
    assert main(["experiment", "run", str(bad)]) == 2
    assert "train.task" in capsys.readouterr().err
    assert main(["experiment", "list", str(project)]) == 1
