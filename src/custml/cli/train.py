"""CLI: ``custml train churn|repurchase`` builds the training set, trains, logs to MLflow, registers and gates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from custml.models.params import TrainParams

__all__ = ["load_train_params", "register"]


def load_train_params(task: str, config: Path | None) -> TrainParams:
    """``TrainParams`` from a YAML file (top level or its ``train:`` section), with ``task`` from the command line.

    The file's own ``task`` must agree when present; otherwise the command-line task fills it in (and with it
    the task's default horizon).

    Raises
    ------
    custml.errors.ConfigError
        Missing or invalid file, unknown field (named), or a task that disagrees with the command.
    """
    from custml.config import read_yaml, validate_params
    from custml.errors import ConfigError
    from custml.models.params import TrainParams

    if config is None:
        return TrainParams(task=task)
    path = Path(config)
    raw = read_yaml(path)
    section = raw.get("train", raw) if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: expected a mapping of TrainParams fields (optionally under 'train:')")
    if section.get("task", task) != task:
        raise ConfigError(f"{path}: task is {section['task']!r} but the command asks for {task!r}")
    return validate_params({**section, "task": task}, TrainParams, path)


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
        from rich.console import Console
        from rich.table import Table

        from custml import workflows
        from custml.config import get_paths
        from custml.errors import ConfigError
        from custml.io import read_json, read_table, read_tables

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

        with console.status(f"building the {task} training set and training"):
            outcome = workflows.run_train(
                task,  # type: ignore[arg-type]
                tables=tables,
                data_end=data_end,
                params=params,
                truth_customers=truth_customers,
                id_map=id_map,
                register=not no_register,
                config_path=config,
                extra_params={"data_dir": str(data)},
            )
        result, run_id = outcome.result, outcome.run_id

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
            f"fit {result.timings['fit_total_s']:.1f} s, total {outcome.seconds:.1f} s; MLflow run {run_id}"
        )
        if outcome.decision:
            decision = outcome.decision
            verdict = (
                "[green]promoted to champion[/]" if decision["promoted"] else "[yellow]kept as challenger[/]"
            )
            console.print(f"{decision['name']} v{decision['version']}: {verdict} ({decision['reason']})")
