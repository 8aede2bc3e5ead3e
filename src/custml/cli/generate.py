"""CLI: ``custml generate`` runs the ``generate`` step: a synthetic customer world (tables, truth, manifest).

Options, defaults and help are those of :class:`custml.pipeline.settings.GenerateSettings`.
"""

from __future__ import annotations

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import GenerateSettings

__all__ = ["register"]


@settings_command(GenerateSettings, "generate")
def generate(s: GenerateSettings, layers: Layers) -> None:
    """Generate a synthetic customer world: customers, orders, interactions, campaigns, truth/, manifest."""
    import time
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from custml.config import ProjectPaths
    from custml.io import read_json
    from custml.pipeline import run_step

    t0 = time.perf_counter()
    folder = Path(str(run_step("generate", s, step_context())))
    manifest = read_json(ProjectPaths.manifest_in(folder))
    name = f"{s.preset} preset, " if s.preset else ""
    table = Table(title=f"Synthetic world ({name}{s.locale}, seed {s.seed}, dirty {s.dirty}) -> {folder}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for tname, n in manifest["row_counts"].items():
        table.add_row(tname, f"{n:,}")
    console = Console()
    console.print(table)
    console.print(f"written in {time.perf_counter() - t0:.1f} s")


def register(app: typer.Typer) -> None:
    """Add ``generate`` to ``app``."""
    app.command("generate")(generate)
