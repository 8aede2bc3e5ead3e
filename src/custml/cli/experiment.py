"""CLI: ``custml experiment run PATH`` runs an experiment config and logs it to MLflow; ``list`` shows the configs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``experiment`` command group (``run``, ``list``) to ``app``."""
    group = typer.Typer(
        name="experiment",
        help="Run experiment configs (experiments/NAME.yaml) and log them to MLflow.",
        no_args_is_help=True,
    )

    @group.command("run")
    def run(
        path: Annotated[
            Path, typer.Argument(help="Experiment YAML, e.g. experiments/churn-lgbm-baseline.yaml.")
        ],
        customers: Annotated[
            int | None,
            typer.Option(
                "--customers", "-n", min=200, help="Override the synthetic world's size (run small)."
            ),
        ] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", help="Override the synthetic world's seed.")
        ] = None,
        name: Annotated[
            str | None, typer.Option("--name", help="Run name (default: the file's stem).")
        ] = None,
    ) -> None:
        """Run one experiment: data -> pipeline -> one MLflow run named after the file, config as artefact."""
        from rich.console import Console
        from rich.table import Table

        from custml.experiments import load_experiment, run_experiment

        console = Console()
        config = load_experiment(path)  # validate before any work
        with console.status(f"running experiment {name or path.stem} ({config.kind})"):
            result = run_experiment(
                config,
                name or path.stem,
                n_customers_override=customers,
                seed_override=seed,
                config_path=path,
            )
        table = Table(title=f"experiment {result.name}: {result.kind} ({result.seconds:.0f} s)")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in _headline(result.metrics, result.kind).items():
            table.add_row(key, f"{value:.4f}")
        console.print(table)
        console.print(f"MLflow run [bold]{result.run_id}[/] in {result.tracking_uri}")
        if result.decision is not None:
            verdict = "promoted to champion" if result.decision.promoted else "kept as challenger"
            console.print(f"{result.decision.name} v{result.decision.version}: {verdict}")

    @group.command("list")
    def list_(
        folder: Annotated[
            Path | None, typer.Argument(help="Folder of configs (default: the project's experiments/).")
        ] = None,
    ) -> None:
        """List the experiment configs of a folder and whether each one validates."""
        from rich.console import Console
        from rich.table import Table

        from custml.experiments import list_experiments

        frame = list_experiments(folder)
        table = Table(title="experiments")
        table.add_column("name", no_wrap=True)
        for col in ("kind", "task", "data", "description"):
            table.add_column(col)
        for row in frame.itertuples():
            desc = f"[red]{row.error}[/]" if row.error else row.description
            table.add_row(row.name, row.kind, row.task, row.data, desc)
        Console().print(table)
        if (frame["error"] != "").any():
            raise typer.Exit(code=1)

    app.add_typer(group)


def _headline(metrics: dict[str, float], kind: str) -> dict[str, float]:
    """The metrics worth a line in the terminal (the run holds them all)."""
    if kind == "train":
        from custml.models.candidates import baseline_names

        keys = ["roc_auc", "pr_auc", "ece", "lift_top10", "capture_top10"]
        keys += [f"{b}.roc_auc" for b in baseline_names()] + ["oracle.roc_auc", "oracle_auc_ratio"]
        keys += [f"auc_gain_vs_{b}" for b in baseline_names()]
        return {k: metrics[k] for k in keys if k in metrics}
    wanted = ("k", "silhouette", "persona_ari", "stability_ari_mean", "seconds")
    return {k: v for k, v in metrics.items() if k.split(".", 1)[-1] in wanted or k.startswith("best_is_")}
