"""CLI: ``custml monitor`` checks earlier scores against what happened since (see :func:`custml.pipeline.run_monitor`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EXIT_RETRAIN", "register"]

#: Exit status of ``custml monitor --fail-on-retrain`` when the verdict is "retrain" (2 is a usage/data error).
EXIT_RETRAIN = 3


def _fmt(value: object, digits: int = 3) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if v != v else f"{v:.{digits}f}"


def monitor(
    scores: Annotated[
        Path | None,
        typer.Option(
            "--scores", help="Folder of scores_*.parquet files (or one file; default: data/scores)."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Folder with the tables (raw or clean; default: data/interim)."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="Monitor as of this date: only orders before it count (default: data end)."
        ),
    ] = None,
    thresholds: Annotated[
        Path | None,
        typer.Option("--thresholds", help="YAML of HealthThresholds (default: the built-in thresholds)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the health tables (default: data/monitoring).")
    ] = None,
    input_drift: Annotated[
        bool,
        typer.Option(
            "--input-drift/--no-input-drift",
            help="Rebuild the features at each as-of date for the input tests (else PSI from the sidecars).",
        ),
    ] = True,
    log: Annotated[bool, typer.Option("--log/--no-log", help="Log the health history to MLflow.")] = True,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also render the latest scores' report with its Model health section."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Report language: en or zh.")] = "en",
    fail_on_retrain: Annotated[
        bool,
        typer.Option("--fail-on-retrain", help=f"Exit with status {EXIT_RETRAIN} if the verdict is retrain."),
    ] = False,
    allow_demo_key: Annotated[
        bool,
        typer.Option("--allow-demo-key", help="Demo run: use the local demo pseudonymisation key."),
    ] = False,
) -> None:
    """Did the scores come true? Realised and estimated performance, drift, and a healthy/watch/retrain verdict."""
    from rich.console import Console
    from rich.table import Table

    from custml.config import load_params
    from custml.monitoring import HealthThresholds
    from custml.pipeline import run_monitor, run_report

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    th = load_params(thresholds, HealthThresholds) if thresholds is not None else HealthThresholds()
    console = Console(stderr=True)
    run = run_monitor(
        scores,
        data,
        now=now,
        thresholds=th,
        input_drift=input_drift,
        log=log,
        out=out,
        allow_demo_key=allow_demo_key,
        say=lambda m: console.print(f"[dim]-[/] {m}", highlight=False),
    )
    res = run.result
    show = Console()
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
    if report is not None:
        latest = [p for p in run.scores_files if p.name == res.latest["source"]]
        target = run_report(latest[0], out=report, lang=lang, health=res)
        show.print(f"report   -> {target}")
    if fail_on_retrain and res.verdict == "retrain":
        raise typer.Exit(code=EXIT_RETRAIN)


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to ``app``."""
    app.command("monitor")(monitor)
