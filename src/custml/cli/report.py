"""CLI: ``custml report`` runs the ``report`` step: the management report of a scores table.

Options, defaults and help are those of :class:`custml.pipeline.settings.ReportSettings`.
"""

from __future__ import annotations

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import ReportSettings

__all__ = ["register"]


@settings_command(ReportSettings, "report")
def report(s: ReportSettings, layers: Layers) -> None:
    """Write the management report (one offline HTML file; optionally a PDF) from a scores table."""
    from rich.console import Console

    from custml.pipeline import run_step

    ctx = step_context()
    target = run_step("report", s, ctx)
    console = Console()
    console.print(f"report written: {target}", highlight=False)
    if "report_pdf" in ctx.targets:
        console.print(f"PDF written: {ctx.targets['report_pdf']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``custml report`` to ``app``."""
    app.command("report")(report)
