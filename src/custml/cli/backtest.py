"""CLI: ``custml backtest churn|repurchase``: train as of each month, score the next horizon, table every scorer.

Per test month: ROC AUC, PR AUC, ECE and predicted against realised base rate of the shipped model and every
baseline; the table and chart go to ``reports/backtest_<task>.csv`` / ``.png`` and to an MLflow run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from custml.cli.options import Layers, argument, settings_command, step_context
from custml.pipeline.settings import BacktestSettings

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["register"]


@settings_command(BacktestSettings, "backtest", [argument("task", "churn or repurchase")], others=["train"])
def backtest(s: BacktestSettings, layers: Layers, task: str) -> None:
    """Rolling-origin backtest: one training run per test month, every scorer measured on the next horizon."""
    from rich.console import Console

    from custml.cli.train import clean_training_inputs, load_train_params
    from custml.errors import ConfigError
    from custml.pipeline import CleanSettings, run_step

    if task not in ("churn", "repurchase"):
        raise ConfigError(f"task must be churn or repurchase, got {task!r}")
    console = Console()
    s = s.model_copy(update={"task": task})
    ctx = step_context(lambda line: console.print(line, highlight=False))
    ctx.train_params = load_train_params(task, layers.config, layers.overrides)
    if s.mapping is not None:
        if s.data is None:
            raise ConfigError("--mapping needs --data: the folder holding the export the mapping reads")
        run_step("clean", CleanSettings(data=s.data, mapping=s.mapping, write=False), ctx)
    else:
        ctx.tables, ctx.truth = clean_training_inputs(s.data or ctx.paths.interim, s.truth)
    out: Any = run_step("backtest", s, ctx)
    _print_backtest(console, task, out)


def _print_backtest(console: Console, task: str, out: Any) -> None:
    """The per-month ROC AUC and ECE tables of every scorer, the summary and each month's champion."""
    from rich.table import Table

    from custml.models.candidates import candidate_names

    result = out.result
    model = result.scorer("model")
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
        if str(run.calibration).startswith("season"):
            rule += ", calibrated on the training year with the validation level"
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
