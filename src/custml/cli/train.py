"""CLI: ``custml train churn|repurchase`` builds the training set, trains, logs to MLflow, registers and gates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

    from custml.models.params import TrainParams

__all__ = ["load_train_params", "register", "training_table"]

_ORACLE_SOURCE = {"churn": "p_no_purchase_90d", "repurchase": "p_purchase_30d"}


def load_train_params(task: str, config: Path | None) -> TrainParams:
    """``TrainParams`` from a YAML file (top level or its ``train:`` section), with ``task`` from the command line.

    The file's own ``task`` must agree when present; otherwise the command-line task fills it in (and with it
    the task's default horizon).

    Raises
    ------
    custml.errors.ConfigError
        Missing or invalid file, unknown field (named), or a task that disagrees with the command.
    """
    import yaml
    from pydantic import ValidationError

    from custml.errors import ConfigError
    from custml.models.params import TrainParams

    if config is None:
        return TrainParams(task=task)
    path = Path(config)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    section = raw.get("train", raw) if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: expected a mapping of TrainParams fields (optionally under 'train:')")
    if section.get("task", task) != task:
        raise ConfigError(f"{path}: task is {section['task']!r} but the command asks for {task!r}")
    try:
        return TrainParams.model_validate({**section, "task": task})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None


def training_table(
    tables: dict[str, Any],
    params: TrainParams,
    data_end: Any = None,
    truth_customers: pd.DataFrame | None = None,
    id_map: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stacked training set over the planned cut-offs, with ``oracle_probability`` when the truth is given."""
    import pandas as pd

    from custml.features import build_training_set, join_oracle, rolling_cutoffs
    from custml.models.split import plan_cutoffs

    end = data_end if data_end is not None else pd.Timestamp(tables["orders"]["order_ts"].max())
    test_cutoff = rolling_cutoffs(end, 1, horizon_days=params.horizon)[-1]
    plan = plan_cutoffs(
        test_cutoff,
        params.horizon,
        params.n_train_cutoffs,
        params.cutoff_step_days,
        params.purge_label_overlap,
    )
    frame = build_training_set(tables, plan.all, params.task, horizon_days=params.horizon, data_end=end)
    if truth_customers is not None:
        from custml.synth import oracle_probabilities

        oracle = pd.concat(
            [
                oracle_probabilities(truth_customers, c).assign(cutoff=c)
                for c in sorted(frame["cutoff"].unique())
            ],
            ignore_index=True,
        )
        frame = join_oracle(frame, oracle.drop(columns=["person_id"], errors="ignore"), id_map)
        frame["oracle_probability"] = frame[_ORACLE_SOURCE[params.task]]
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("p_")])
    return frame


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""

    @app.command()
    def train(
        task: Annotated[str, typer.Argument(help="churn or repurchase")],
        data: Annotated[
            Path | None, typer.Option("--data", help="Folder with the clean tables (default: data/interim).")
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", help="Experiment YAML with TrainParams (e.g. experiments/NAME.yaml)."),
        ] = None,
        truth: Annotated[
            Path | None,
            typer.Option(
                "--truth",
                help="Synthetic world's truth/ folder for the oracle (default: data/raw/truth if present).",
            ),
        ] = None,
        no_register: Annotated[
            bool, typer.Option("--no-register", help="Log the run but do not register or gate.")
        ] = False,
    ) -> None:
        """Train a churn or repurchase model, log it to MLflow, register it and apply the champion gate."""
        import time

        from rich.console import Console
        from rich.table import Table

        from custml import tracking
        from custml.config import get_paths
        from custml.errors import ConfigError
        from custml.io import read_json, read_table, read_tables
        from custml.models.train import train_model

        if task not in ("churn", "repurchase"):
            raise ConfigError(f"task must be churn or repurchase, got {task!r}")
        console = Console()
        paths = get_paths()
        data = data or paths.interim
        params = load_train_params(task, config)
        tables = read_tables(data, required=("customers", "orders"), optional=("interactions", "campaigns"))
        truth = truth or (paths.raw / "truth")
        truth_customers = id_map = None
        data_end = None
        for manifest in (data / "manifest.json", truth.parent / "manifest.json"):
            if manifest.is_file():
                data_end = read_json(manifest).get("end")
                break
        if (truth / "customers.parquet").is_file():
            from custml.synth import read_truth

            truth_customers = read_truth(truth.parent)["customers"]
            id_file = paths.private / "id_map.parquet"
            id_map = read_table(id_file) if id_file.is_file() else None

        t0 = time.perf_counter()
        with console.status("building the training set"):
            frame = training_table(tables, params, data_end, truth_customers, id_map)
        t_features = time.perf_counter() - t0
        with console.status(f"training {task} ({len(frame):,} customer-cutoff rows)"):
            result = train_model(frame, task, params)
        tracking.configure()
        run_id = tracking.log_training_run(
            result,
            {"data_dir": str(data), "features_seconds": round(t_features, 1)},
            config_path=config,
        )

        table = Table(title=f"custml train {task}: test cut-off {result.data_description['test_cutoff']}")
        metric_names = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top10")
        table.add_column("scorer")
        for m in metric_names:
            table.add_column(m, justify="right")
        for scorer, values in result.metrics.items():
            table.add_row(scorer, *(f"{values.get(m, float('nan')):.4f}" for m in metric_names))
        console.print(table)
        if "oracle_auc_ratio" in result.metrics["model"]:
            console.print(f"model / oracle ROC AUC: {result.metrics['model']['oracle_auc_ratio']:.3f}")
        console.print(
            f"rows: train {result.data_description['rows_train']:,}, validation "
            f"{result.data_description['rows_validation']:,}, test {result.data_description['rows_test']:,}; "
            f"features {t_features:.1f} s, fit {result.timings['fit_total_s']:.1f} s; MLflow run {run_id}"
        )
        if not no_register:
            decision = tracking.register_and_gate(
                run_id,
                metric=params.gate.metric,
                margin=params.gate.margin,
                holdout=result.test_features,
                holdout_labels=result.test_predictions["label"],
            )
            verdict = (
                "[green]promoted to champion[/]" if decision["promoted"] else "[yellow]kept as challenger[/]"
            )
            console.print(f"{decision['name']} v{decision['version']}: {verdict} ({decision['reason']})")
