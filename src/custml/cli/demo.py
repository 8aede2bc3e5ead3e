"""CLI: ``custml demo`` runs the main job end to end on embedded defaults (see :func:`custml.pipeline.run_demo`).

generate a synthetic world -> clean -> features -> segment -> train churn and repurchase (registry, champion
gate) -> score -> report, all under the project folder, with MLflow on SQLite there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from custml.cli.options import Layers, extra_option, settings_command
from custml.pipeline.settings import DemoSettings

if TYPE_CHECKING:
    from rich.console import Console

    from custml.pipeline import DemoResult

__all__ = ["register"]


@settings_command(
    DemoSettings,
    "demo",
    [
        extra_option(
            "root", None, Path | None, "--root", help="Project folder to write into (default: this project)."
        )
    ],
)
def demo(s: DemoSettings, layers: Layers, root: Path | None) -> None:
    """Run the whole pipeline on a generated world and print where the report is."""
    import time
    from contextlib import nullcontext

    from rich.console import Console

    from custml.errors import ConfigError
    from custml.pipeline import run_demo
    from custml.synth import PRESETS

    if s.preset not in PRESETS:
        raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {s.preset!r}")
    # MLflow's artefact download bars would interleave with ours.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    console = Console()
    t0 = time.perf_counter()

    def say(message: str) -> None:
        console.print(f"[bold cyan]{message}[/]  [dim]({time.perf_counter() - t0:.0f} s)[/]", highlight=False)

    with console.status("working...", spinner="dots") if s.quiet else nullcontext():
        result = run_demo(s, root=root, say=say)
    _print_demo(console, result, time.perf_counter() - t0)


def _print_demo(console: Console, result: DemoResult, total: float) -> None:
    """Seconds per step, the scores' headline, the gate's decisions and where to look next."""
    from rich.table import Table

    from custml.config import get_paths

    steps = Table(title="custml demo", show_header=True)
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for key, seconds in result.timings.items():
        steps.add_row(key.removesuffix("_s").replace("_", " "), f"{seconds:.1f}")
    steps.add_row("[bold]total[/]", f"[bold]{total:.1f}[/]")
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
