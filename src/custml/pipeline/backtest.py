"""Step ``backtest``: rolling-origin backtest of the churn or repurchase model (table, chart, MLflow run)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custml.pipeline._wiring import (
    Progress,
    configure_tracking,
    project_paths,
    tell,
)
from custml.pipeline.runner import TruthInputs
from custml.pipeline.train import stacked_table, training_setup

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.models.backtest import BacktestResult
    from custml.pipeline.settings import BacktestSettings

__all__ = ["BacktestRun", "run_backtest"]

logger = logging.getLogger(__name__)


@dataclass
class BacktestRun:
    """What :func:`run_backtest` produced: the pure result, the files written and the MLflow run."""

    result: BacktestResult
    table_path: Path | None
    figure_path: Path | None
    run_id: str
    seconds: float


def run_backtest(
    settings: BacktestSettings | None = None,
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    data_end: Any = None,
    params: Any = None,
    truth: TruthInputs | None = None,
    say: Progress | None = None,
) -> BacktestRun:
    """Train as of each of ``months`` test cut-offs and score the next horizon (``custml backtest``).

    The stacked training table is built once over every cut-off the origins need
    (:func:`custml.models.backtest.backtest_cutoffs`), with the same data end, horizon and cut-off plans as
    :func:`custml.pipeline.run_train`; then :func:`custml.models.backtest.rolling_backtest` trains once per
    origin. Writes ``reports/backtest_<task>.csv`` and ``.png`` (``write``) and logs one MLflow run in
    ``custml-<task>-backtest`` (``log``) with the table, the chart and the summary metrics. With
    ``truth_customers`` (synthetic worlds) the oracle's ROC AUC is tabulated too.
    """
    from custml.models.backtest import backtest_cutoffs, backtest_plans, plot_backtest, rolling_backtest
    from custml.pipeline.settings import BacktestSettings

    t0 = time.perf_counter()
    s = settings or BacktestSettings()
    task, truth = s.task, truth or TruthInputs()
    tables, params, end, data_start = training_setup(task, "run_backtest", root, tables, data_end, params)
    plans = backtest_plans(params, end, s.months, data_start=data_start)
    cutoffs = backtest_cutoffs(plans)
    tell(say, f"building the {task} table over {len(cutoffs)} cut-offs for {len(plans)} test months")
    oracle = None
    if truth.customers is not None:
        from custml.synth import oracle_probabilities

        oracle = pd.concat(
            [oracle_probabilities(truth.customers, p.test).assign(cutoff=p.test) for p in plans],
            ignore_index=True,
        )
    training = stacked_table(tables, task, params, cutoffs, end, s.engine, oracle, truth.id_map)
    result = rolling_backtest(training, plans, params, progress=say)
    paths = project_paths(root)
    table_path = figure_path = None
    fig = plot_backtest(result)
    if s.write:
        from custml.io import atomic_write

        table_path, figure_path = paths.backtest_table(task), paths.backtest_figure(task)
        out = result.table.merge(result.runs, on="test_cutoff", how="left")
        atomic_write(table_path, lambda tmp: out.to_csv(tmp, index=False))
        atomic_write(figure_path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    run_id = ""
    if s.log:
        from custml import tracking

        configure_tracking(paths)
        model = result.scorer("model")
        metrics = dict(result.summary)
        for cutoff, row in model.iterrows():
            day = pd.Timestamp(cutoff).strftime("%Y_%m_%d")
            metrics[f"ece_{day}"] = float(row["ece"])
            metrics[f"roc_auc_{day}"] = float(row["roc_auc"])
        run_id = tracking.log_comparison_run(
            f"backtest-{task}-{len(plans)}m",
            experiment=f"custml-{task}-backtest",
            params={"task": task, "months": len(plans), "data_end": end.date().isoformat(), **params.flat()},
            metrics=metrics,
            tables={"backtest/months.csv": result.table, "backtest/runs.csv": result.runs},
            figures={"backtest/chart.png": fig},
        )
    return BacktestRun(result, table_path, figure_path, run_id, round(time.perf_counter() - t0, 3))
