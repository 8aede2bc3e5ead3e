"""CLI: ``custml features`` runs the ``features`` step: the feature catalogue of every customer as of a date.

Options, defaults and help are those of :class:`custml.pipeline.settings.FeaturesSettings`.
"""

from __future__ import annotations

from typing import Any

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import FeaturesSettings

__all__ = ["register"]


@settings_command(FeaturesSettings, "features")
def features(s: FeaturesSettings, layers: Layers) -> None:
    """Compute the feature catalogue as of CUTOFF: one row per customer (see docs/features.md)."""
    from rich.console import Console

    from custml.pipeline import run_step

    ctx = step_context()
    result: Any = run_step("features", s, ctx)
    console = Console()
    console.print(
        f"[bold]features[/] as of {ctx.as_of}: {len(result):,} customers x {result.shape[1] - 2} features "
        f"({s.engine}) -> {ctx.targets['features']}"
    )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""
    app.command("features")(features)
