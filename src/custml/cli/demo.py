"""CLI: ``custml demo`` runs the main job end to end on embedded defaults (see :func:`custml.pipeline.run_demo`).

generate a synthetic world -> clean -> features -> segment -> train churn and repurchase (registry, champion
gate) -> score -> report, all under the project folder, with MLflow on SQLite there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def demo(
    customers: Annotated[
        int, typer.Option("--customers", "-n", min=100, help="Number of real persons.")
    ] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the world and the models.")] = 42,
    dirty: Annotated[
        float, typer.Option("--dirty", min=0.0, max=0.5, help="Dirt rate of the raw data (0: clean).")
    ] = 0.02,
    locale: Annotated[str, typer.Option("--locale", help="en_US or zh_CN.")] = "en_US",
    preset: Annotated[
        str,
        typer.Option(
            "--preset",
            help="The synthetic world: 'retail' (seasonal churn, a retention offer that works for some "
            "customers) or 'default' (the nearly stationary world).",
        ),
    ] = "retail",
    root: Annotated[
        Path | None, typer.Option("--root", help="Project folder to write into (default: this project).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run the whole pipeline on a generated world and print where the report is."""
    import time
    from contextlib import nullcontext

    from rich.console import Console
    from rich.table import Table

    from custml.config import get_paths
    from custml.errors import ConfigError
    from custml.pipeline import run_demo
    from custml.synth import PRESETS

    if preset not in PRESETS:
        raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")

    # MLflow's artefact download bars would interleave with ours.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    console = Console()
    t0 = time.perf_counter()

    def say(message: str) -> None:
        console.print(f"[bold cyan]{message}[/]  [dim]({time.perf_counter() - t0:.0f} s)[/]", highlight=False)

    with console.status("working...", spinner="dots") if quiet else nullcontext():
        result = run_demo(
            customers,
            seed=seed,
            root=root,
            progress=not quiet,
            dirty=dirty,
            locale=locale,
            preset=preset,
            say=say,
        )

    steps = Table(title="custml demo", show_header=True)
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for key, seconds in result.timings.items():
        steps.add_row(key.removesuffix("_s").replace("_", " "), f"{seconds:.1f}")
    steps.add_row("[bold]total[/]", f"[bold]{time.perf_counter() - t0:.1f}[/]")
    console.print(steps)

    summary = result.summary
    console.print(
        f"scored {summary['customers']:,} customers as of {result.as_of.date()}: expected 12-month value "
        f"{summary['expected_value_12m']:,.0f}, revenue at risk {summary['revenue_at_risk']:,.0f}"
    )
    for task, decision in result.gate.items():
        if decision.promoted:
            verdict = "champion"
        elif decision.champion_version:
            verdict = f"challenger (champion kept: {decision.reason})"
        else:  # refused by the promotion rule with no champion yet: scoring goes without this model
            verdict = f"not promoted ({decision.reason})"
        console.print(
            f"{task} model: {decision.name} v{decision.version} -> {verdict}; "
            f"{decision.metric} {float(decision.challenger_score or float('nan')):.3f}"
        )
    paths = get_paths(result.root)
    console.print()
    console.print(f"[bold]report[/]: {result.report_path}")
    console.print(f"scores: {result.scores_path}")
    console.print(
        "MLflow UI: [bold]make mlflow-ui[/]  (or: mlflow ui --backend-store-uri "
        f"sqlite:///{paths.mlflow_db} --host 127.0.0.1 --port 5000)",
        highlight=False,
    )
    console.print(
        f"JupyterLab: [bold]make lab[/]  (or: MLFLOW_TRACKING_URI={result.tracking_uri} jupyter lab "
        f"--notebook-dir={paths.notebooks})",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
