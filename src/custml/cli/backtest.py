"""CLI: ``custml backtest churn|repurchase``: train as of each month, score the next horizon, table every scorer.

Per test month: ROC AUC, PR AUC, ECE and predicted against realised base rate of the shipped model and every
baseline; the table and chart go to ``reports/backtest_<task>.csv`` / ``.png`` and to an MLflow run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def backtest(
    task: Annotated[str, typer.Argument(help="churn or repurchase")],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Clean tables (default: data/interim); with --mapping, the raw export, cleaned in memory.",
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", help="Source mapping (YAML) reading any export in --data (as `custml clean`)."
        ),
    ] = None,
    months: Annotated[
        int,
        typer.Option(
            "--months", help="Test cut-offs, 30 days apart, ending at the data end minus the horizon."
        ),
    ] = 12,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Experiment YAML with TrainParams (e.g. experiments/NAME.yaml)."),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth", help="Synthetic world's truth/ folder for the oracle (default: data/raw/truth)."
        ),
    ] = None,
    no_log: Annotated[bool, typer.Option("--no-log", help="Do not log an MLflow run.")] = False,
) -> None:
    """Rolling-origin backtest: one training run per test month, every scorer measured on the next horizon."""
    from rich.console import Console
    from rich.table import Table

    from custml import pipeline
    from custml.cli.train import clean_training_inputs, load_train_params
    from custml.config import get_paths
    from custml.errors import ConfigError

    if task not in ("churn", "repurchase"):
        raise ConfigError(f"task must be churn or repurchase, got {task!r}")
    console = Console()
    params = load_train_params(task, config)
    truth_customers = id_map = None
    data_end = None
    if mapping is not None:
        if data is None:
            raise ConfigError("--mapping needs --data: the folder holding the export the mapping reads")
        tables = dict(pipeline.run_clean(data, mapping=mapping, write=False).tables)
    else:
        tables, data_end, truth_customers, id_map = clean_training_inputs(data or get_paths().interim, truth)
    out = pipeline.run_backtest(
        task,  # type: ignore[arg-type]
        months=months,
        tables=tables,
        data_end=data_end,
        params=params,
        truth_customers=truth_customers,
        id_map=id_map,
        log=not no_log,
        say=lambda line: console.print(line, highlight=False),
    )
    result = out.result
    model = result.scorer("model")
    from custml.models.candidates import candidate_names

    # Column heads: the shipped model, every registered candidate (two abbreviated to fit), the oracle.
    short = {
        n: {"lightgbm": "lgbm", "pareto_nbd": "pnbd"}.get(n, n)
        for n in ["model", *candidate_names(), "oracle"]
    }
    for metric in ("roc_auc", "ece"):
        wide = result.table.pivot(index="test_cutoff", columns="scorer", values=metric)
        scorers = [s for s in short if s in wide]
        tab = Table(title=f"custml backtest {task}: {metric} per test month")
        tab.add_column("test cut-off", no_wrap=True, min_width=10)
        for name in scorers:
            tab.add_column(short[name], justify="right", no_wrap=True)
        if metric == "ece":
            tab.add_column("pred.", justify="right", no_wrap=True)
            tab.add_column("real.", justify="right", no_wrap=True)
        for cutoff in model.index:
            cells = [f"{wide.loc[cutoff, name]:.3f}" for name in scorers]
            if metric == "ece":
                cells += [f"{model.loc[cutoff, c]:.3f}" for c in ("predicted_rate", "realised_rate")]
            tab.add_row(pd_date(cutoff), *cells)
        console.print(tab)
    s = result.summary
    line = (
        f"shipped model: ECE mean {s['ece_mean']:.4f}, worst {s['ece_worst']:.4f}; ROC AUC mean "
        f"{s['roc_auc_mean']:.4f}"
    )
    if "auc_margin_vs_best_baseline_mean" in s:
        line += (
            f"; margin over the best baseline: mean {s['auc_margin_vs_best_baseline_mean']:+.4f}, worst "
            f"{s['auc_margin_vs_best_baseline_worst']:+.4f}"
        )
    console.print(line, highlight=False)
    for run in result.runs.itertuples(index=False):
        rule = " (seasonal rule: only the booster may win)" if run.champion_rule == "seasonal" else ""
        line = f"test {pd_date(run.test_cutoff)}: champion {run.champion}{rule}"
        console.print(line + (f"; [yellow]{run.plan_note}[/]" if run.plan_note else ""), highlight=False)
    if out.table_path is not None:
        console.print(
            f"table -> {out.table_path}; chart -> {out.figure_path}; {out.seconds:.0f} s", highlight=False
        )
    if out.run_id:
        console.print(f"MLflow run {out.run_id} (experiment custml-{task}-backtest)", highlight=False)


def pd_date(value: object) -> str:
    """A cut-off as an ISO date."""
    import pandas as pd

    return pd.Timestamp(value).date().isoformat()


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to ``app``."""
    app.command("backtest")(backtest)
