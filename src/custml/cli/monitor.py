"""CLI: ``custml monitor`` runs the ``monitor`` step: earlier scores checked against what happened since.

Options, defaults and help are those of :class:`custml.pipeline.settings.MonitorSettings`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import MonitorSettings

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["EXIT_RETRAIN", "register"]

#: Exit status of ``custml monitor --fail-on-retrain`` when the verdict is "retrain" (2 is a usage/data error).
EXIT_RETRAIN = 3


def _fmt(value: object, digits: int = 3) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if v != v else f"{v:.{digits}f}"


@settings_command(MonitorSettings, "monitor")
def monitor(s: MonitorSettings, layers: Layers) -> None:
    """Did the scores come true? Realised and estimated performance, drift, and a healthy/watch/retrain verdict."""
    from rich.console import Console

    from custml.pipeline import ReportSettings, run_step

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    console = Console(stderr=True)
    ctx = step_context(lambda m: console.print(f"[dim]-[/] {m}", highlight=False))
    run: Any = run_step("monitor", s, ctx)
    show = Console()
    _print_health(show, run)
    res = run.result
    if s.report is not None:
        latest = [p for p in run.scores_files if p.name == res.latest["source"]]
        target = run_step("report", ReportSettings(scores=latest[0], out=s.report, lang=s.lang), ctx)
        show.print(f"report   -> {target}")
    if s.fail_on_retrain and res.verdict == "retrain":
        raise typer.Exit(code=EXIT_RETRAIN)


def _print_health(show: Console, run: Any) -> None:
    """The health table per scores file, the verdict and its reasons, the files written and the MLflow runs."""
    from rich.table import Table

    res = run.result
    table = Table(title=f"custml monitor: model health as of {run.now.date()}")
    for col in ("as of", "labels", "promised AUC", "realised AUC", "estimated AUC", "churn rate", "expected"):
        table.add_column(col, justify="left" if col in {"as of", "labels"} else "right")
    table.add_column("score PSI", justify="right")
    table.add_column("inputs drifted", justify="right")
    table.add_column("verdict")
    colours = {"healthy": "green", "watch": "yellow", "retrain": "red"}
    for r in res.health.itertuples(index=False):
        drifted = (
            "–"
            if r.inputs_checked != r.inputs_checked
            else f"{int(r.inputs_drifted)}/{int(r.inputs_checked)}"
        )
        table.add_row(
            str(r.as_of.date()),
            "realised" if r.matured else "maturing",
            _fmt(r.promised_roc_auc),
            _fmt(r.realised_roc_auc),
            _fmt(r.estimated_roc_auc),
            _fmt(r.realised_rate),
            _fmt(r.expected_rate),
            _fmt(r.score_psi),
            drifted,
            f"[{colours[r.verdict]}]{r.verdict}[/]",
        )
    show.print(table)
    show.print(f"verdict: [bold {colours[res.verdict]}]{res.verdict}[/]")
    for reason in res.reasons:
        show.print(f"  - {reason}", highlight=False)
    for name, path in run.written.items():
        show.print(f"{name:8s} -> {path}")
    for model, run_id in run.run_ids.items():
        show.print(f"MLflow   -> run {run_id} ({model})")


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to ``app``."""
    app.command("monitor")(monitor)
