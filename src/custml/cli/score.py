"""CLI: ``custml score`` scores every customer of a data folder as of a date (see :func:`custml.pipeline.score.run_score`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from custml.config import DriftThresholds

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from custml.pipeline import ScoreRun
    from custml.scoring import ScoreParams

__all__ = ["EXIT_DRIFT", "register"]

#: Exit status of ``custml score --fail-on-drift`` when a model feature drifted (2 is a usage/data error).
EXIT_DRIFT = 3


def score(
    data: Annotated[
        Path | None, typer.Option("--data", help="Folder with the raw tables (default: data/raw).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Score as of this date (default: the day after the data ends)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Scores parquet file (default: data/scores/scores_<as-of>.parquet)."),
    ] = None,
    churn_model: Annotated[
        str, typer.Option("--churn-model", help="Model URI of the churn model.")
    ] = "models:/custml-churn@champion",
    repurchase_model: Annotated[
        str, typer.Option("--repurchase-model", help="Model URI of the repurchase model.")
    ] = "models:/custml-repurchase@champion",
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb (default) or spark (local mode, MLflow spark_udf).")
    ] = "duckdb",
    csv: Annotated[
        bool, typer.Option("--csv", help="Also write a CSV copy beside the parquet file.")
    ] = False,
    fail_on_drift: Annotated[
        bool,
        typer.Option(
            "--fail-on-drift",
            help=f"Exit with status {EXIT_DRIFT} if a model feature drifted ({DriftThresholds().rule()}).",
        ),
    ] = False,
    reasons: Annotated[
        str,
        typer.Option("--reasons", help="Reason codes for: actioned (default) customers, all, or none."),
    ] = "actioned",
    max_explained: Annotated[
        int | None,
        typer.Option(
            "--max-explained", min=0, help="Explain at most this many customers (highest revenue at risk)."
        ),
    ] = None,
    actions: Annotated[
        Path | None, typer.Option("--actions", help="YAML action table (default: the built-in table).")
    ] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Rows per scoring chunk.")] = 100_000,
    scored_at: Annotated[
        str | None,
        typer.Option("--scored-at", help="Fix the scoring timestamp (reproduce a run byte for byte)."),
    ] = None,
    allow_demo_key: Annotated[
        bool,
        typer.Option("--allow-demo-key", help="Demo run: use the local demo pseudonymisation key."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", help="Source mapping (YAML) reading any export in --data (as `custml clean`)."
        ),
    ] = None,
) -> None:
    """Score every customer: probabilities, expected value, segments, reasons and a recommended action."""
    from rich.console import Console

    from custml.pipeline import run_score

    # MLflow's artefact download bars would interleave with ours.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    params = _score_params(engine, reasons, max_explained, actions, chunk_size)
    console = Console(stderr=True)

    def say(message: str) -> None:
        if not quiet:
            console.print(f"[dim]-[/] {message}", highlight=False)

    run = run_score(
        data,
        as_of,
        out,
        churn_model=churn_model,
        repurchase_model=repurchase_model,
        engine=engine,  # type: ignore[arg-type]
        csv=csv,
        scored_at=scored_at,
        params=params,
        allow_demo_key=allow_demo_key,
        progress=not quiet,
        say=say,
        mapping=mapping,
    )
    _print_summary(run)
    verdict = run.drift_result
    if fail_on_drift and verdict is not None and verdict.verdict == "drift":
        console.print(f"[bold red]drift:[/] {verdict.reason} (--fail-on-drift)", highlight=False)
        raise typer.Exit(code=EXIT_DRIFT)


def _score_params(
    engine: str, reasons: str, max_explained: int | None, actions: Path | None, chunk_size: int
) -> ScoreParams:
    """The scoring settings of the command line, checked (a one-line error names the bad option)."""
    from custml.config import load_params
    from custml.errors import ConfigError
    from custml.scoring import DEFAULT_ACTION_TABLE, ActionTable, ScoreParams

    if engine not in {"duckdb", "spark"}:
        raise ConfigError(f"--engine must be duckdb or spark, got {engine!r}")
    if reasons not in {"actioned", "all", "none"}:
        raise ConfigError(f"--reasons must be actioned, all or none, got {reasons!r}")
    table = load_params(actions, ActionTable) if actions is not None else DEFAULT_ACTION_TABLE
    return ScoreParams(chunk_size=chunk_size, reasons=reasons, max_explained=max_explained, actions=table)


def _print_summary(run: ScoreRun) -> None:
    """Row counts, actions, drift, models and files of a scoring run, as tables on stdout."""
    from rich.console import Console

    show = Console()
    show.print(_counts_table(run))
    show.print(_actions_table(run.scores))
    _print_drift(show, run)
    models = run.meta.models
    show.print(
        f"models: {models['churn'].name} v{models['churn'].version}, "
        f"{models['repurchase'].name} v{models['repurchase'].version}"
    )
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
