"""CLI: ``custml score`` runs the ``score`` step: every customer of a data folder scored as of a date.

Options, defaults and help are those of :class:`custml.pipeline.settings.ScoreSettings`
(:func:`custml.pipeline.score.run_score` does the work).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.config import DriftThresholds
from custml.pipeline.settings import ScoreSettings

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from custml.pipeline import ScoreRun

__all__ = ["EXIT_DRIFT", "register"]

#: Exit status of ``custml score --fail-on-drift`` when a model feature drifted (2 is a usage/data error).
EXIT_DRIFT = 3


@settings_command(ScoreSettings, "score")
def score(s: ScoreSettings, layers: Layers) -> None:
    """Score every customer: probabilities, expected value, segments, reasons and a recommended action."""
    from rich.console import Console

    from custml.errors import DriftError
    from custml.pipeline import run_step

    # MLflow's artefact download bars would interleave with ours.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    console = Console(stderr=True)

    def say(message: str) -> None:
        if not s.quiet:
            console.print(f"[dim]-[/] {message}", highlight=False)

    ctx = step_context(say)
    try:
        run = run_step("score", s.model_copy(update={"fail_on_drift": False}), ctx)
    except DriftError:  # pragma: no cover - fail_on_drift is applied below, after the summary
        raise
    _print_summary(run)  # type: ignore[arg-type]
    verdict = run.drift_result  # type: ignore[attr-defined]
    if s.fail_on_drift and verdict is not None and verdict.verdict == "drift":
        console.print(
            f"[bold red]drift:[/] {verdict.reason} (--fail-on-drift, {DriftThresholds().rule()})",
            highlight=False,
        )
        raise typer.Exit(code=EXIT_DRIFT)


def _print_summary(run: ScoreRun) -> None:
    """Row counts, actions, drift, models and files of a scoring run, as tables on stdout."""
    from rich.console import Console

    show = Console()
    show.print(_counts_table(run))
    show.print(_actions_table(run.scores))
    _print_drift(show, run)
    models = run.meta.models
    names = [
        f"{m.name} v{m.version}" for task in ("churn", "repurchase") if (m := models.get(task)) is not None
    ]
    show.print(f"models: {', '.join(names)}")
    show.print(f"scores -> {run.out}" + (f" (and {run.csv_path.name})" if run.csv_path else ""))
    show.print(f"meta   -> {run.meta_path}")


def _counts_table(run: ScoreRun) -> Table:
    from rich.table import Table

    meta = run.meta
    counts = Table(title=f"custml score as of {meta.as_of[:10]}", show_header=False)
    counts.add_column("what")
    counts.add_column("rows", justify="right")
    counts.add_row("customer records in", f"{meta.rows_in:,}")
    counts.add_row("scored", f"{meta.rows_scored:,}")
    for reason, n in run.not_scored.items():
        counts.add_row(f"not scored: {reason.replace('_', ' ')}", f"{n:,}")
    counts.add_row("with reason codes", f"{int(run.scores['reason_1'].notna().sum()):,}")
    return counts


def _actions_table(scores: pd.DataFrame) -> Table:
    from rich.table import Table

    acts = Table(title="recommended actions")
    acts.add_column("action")
    acts.add_column("customers", justify="right")
    acts.add_column("revenue at risk", justify="right")
    by_action = scores.groupby("recommended_action", sort=False)["revenue_at_risk"].agg(["size", "sum"])
    for action, row in by_action.sort_values("size", ascending=False).iterrows():
        acts.add_row(str(action), f"{int(row['size']):,}", f"{row['sum']:,.0f}")
    return acts


def _print_drift(show: Console, run: ScoreRun) -> None:
    from rich.table import Table

    drift, verdict = run.drift, run.drift_result
    if len(drift) == 0 or verdict is None:
        show.print("[yellow]no drift reference stored with the models: drift not measured[/]")
        return
    shown = drift[drift["status"] != "ok"]
    if len(shown):
        dt = Table(title="feature drift against the training reference")
        for col in ("model", "feature", "psi", "status", "drifted", "compared", "note"):
            dt.add_column(col, justify="right" if col == "psi" else "left")
        colours = {"drift": "red", "warn": "yellow", "left out": "dim"}
        for r in shown.itertuples(index=False):
            colour = colours.get(str(r.status), "")
            psi = f"{r.psi:.3f}" if r.psi == r.psi else ""  # NaN: left out
            dt.add_row(
                str(r.model),
                str(r.feature),
                psi,
                f"[{colour}]{r.status}[/]",
                "yes" if r.drifted else "",
                str(r.compared),
                str(r.note),
            )
        show.print(dt)
    colour = "red" if verdict.verdict == "drift" else "green"
    show.print(f"drift verdict: [{colour}]{verdict.verdict}[/]: {verdict.reason}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``score`` to ``app``."""
    app.command("score")(score)
