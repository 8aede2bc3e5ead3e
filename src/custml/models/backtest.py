"""Rolling-origin backtest: train as of each month, score the next horizon, measure every scorer per test month.

A single test cut-off is one draw of the calendar: a model calibrated on spring cut-offs and read before
Christmas can be off by many points while the test month the training run happened to use looks fine. The
backtest moves the test cut-off back month by month (``step_days`` apart, the training plan's own step), repeats
the whole fit for each (:func:`custml.models.train.train_model` on exactly the cut-offs of that origin's
:meth:`~custml.models.params.TrainParams.cutoff_plan`), and tabulates, per test month and scorer, ROC AUC, PR AUC,
ECE and the predicted against the realised base rate. Every origin's cut-offs lie on one grid, so the stacked
table is built once for all of them (:func:`backtest_cutoffs`).

Pure: no files, no MLflow (``custml backtest`` and :func:`custml.pipeline.run_backtest` do the wiring).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custml.errors import ConfigError, SchemaError
from custml.models.candidates import baseline_names
from custml.models.params import TrainParams
from custml.models.split import CutoffPlan
from custml.models.train import TrainResult, train_model

__all__ = [
    "BacktestResult",
    "backtest_cutoffs",
    "backtest_plans",
    "plot_backtest",
    "rolling_backtest",
]

logger = logging.getLogger(__name__)

# Columns of BacktestResult.table, one row per test month and scorer.
_METRICS = ("roc_auc", "pr_auc", "ece", "brier")


@dataclass
class BacktestResult:
    """Per test month and scorer: metrics and base rates; plus what each origin's run chose.

    Attributes
    ----------
    task : str
    table : pandas.DataFrame
        ``test_cutoff, scorer, roc_auc, pr_auc, ece, brier, predicted_rate, realised_rate, rows`` for
        every scorer of every origin (``model`` is the shipped champion; the candidates and the printed
        baselines ``logistic``, ``bgnbd``, ``pareto_nbd`` follow; ``oracle`` on synthetic data).
    runs : pandas.DataFrame
        One row per origin: ``test_cutoff, champion, n_train, n_validation, plan_note, seconds``.
    summary : dict[str, float]
        The shipped model's ``ece_mean``, ``ece_worst``, ``roc_auc_mean``, its mean and worst ROC AUC margin
        over the best printed baseline (``auc_margin_vs_best_baseline_mean`` / ``_worst``), the mean margin over
        each baseline (``auc_gain_vs_<baseline>``), ``months`` and ``months_ece_over_<threshold>``.
    """

    task: str
    table: pd.DataFrame
    runs: pd.DataFrame
    summary: dict[str, float] = field(default_factory=dict)

    def scorer(self, name: str = "model") -> pd.DataFrame:
        """One scorer's rows, oldest test month first, indexed by test cut-off."""
        rows = self.table[self.table["scorer"] == name]
        return rows.set_index("test_cutoff").sort_index()


def backtest_plans(
    params: TrainParams,
    data_end: object,
    months: int,
    data_start: object | None = None,
) -> list[CutoffPlan]:
    """The cut-off plans of ``months`` origins: the latest test cut-off is ``data_end - horizon``, the others
    ``params.cutoff_step_days`` apart before it, oldest first.

    Origins whose plan does not fit the data (before ``data_start + min_history_days`` can train) are left out
    with a warning; if none fits, the error of the latest one is raised.

    Examples
    --------
    >>> plans = backtest_plans(TrainParams(task="churn", n_train_cutoffs=2), "2025-12-30", months=3)
    >>> [p.test.date().isoformat() for p in plans]
    ['2025-08-02', '2025-09-01', '2025-10-01']
    """
    if months < 1:
        raise ConfigError(f"backtest: months must be at least 1, got {months}")
    latest = (pd.Timestamp(data_end) - pd.Timedelta(days=params.horizon)).normalize()
    step = pd.Timedelta(days=params.cutoff_step_days)
    plans: list[CutoffPlan] = []
    first_error: ConfigError | None = None
    for k in range(months):
        test = latest - k * step
        try:
            plans.append(params.cutoff_plan(test, data_start=data_start))
        except ConfigError as exc:
            first_error = first_error or exc
    if not plans:
        assert first_error is not None
        raise first_error
    if len(plans) < months:
        logger.warning(
            "backtest: %d of %d test months fit the data (the earliest test cut-off is %s)",
            len(plans),
            months,
            min(p.test for p in plans).date(),
        )
    return sorted(plans, key=lambda p: p.test)


def backtest_cutoffs(plans: list[CutoffPlan]) -> list[pd.Timestamp]:
    """Every cut-off any of ``plans`` uses, in time order (the stacked table needs exactly these)."""
    return sorted({c for plan in plans for c in plan.all})


# One row of the backtest's tables (a test month's scorer, or a run).
_Row = dict[str, float | str | pd.Timestamp]


def _scorer_rows(result: TrainResult, test_cutoff: pd.Timestamp) -> list[_Row]:
    preds: pd.DataFrame = result.test_predictions
    rows = []
    for scorer, metrics in result.metrics.items():
        if scorer not in preds.columns:
            continue
        p = pd.to_numeric(preds[scorer], errors="coerce")
        known = p.notna()
        rows.append(
            {
                "test_cutoff": test_cutoff,
                "scorer": scorer,
                **{m: float(metrics.get(m, np.nan)) for m in _METRICS},
                "predicted_rate": float(p[known].mean()),
                "realised_rate": float(preds.loc[known, "label"].mean()),
                "rows": int(known.sum()),
            }
        )
    return rows


def _summary(table: pd.DataFrame, ece_threshold: float) -> dict[str, float]:
    wide = table.pivot(index="test_cutoff", columns="scorer", values="roc_auc")
    model = table[table["scorer"] == "model"].set_index("test_cutoff").sort_index()
    present = [b for b in baseline_names() if b in wide.columns]
    out: dict[str, float] = {
        "months": float(len(model)),
        "ece_mean": float(model["ece"].mean()),
        "ece_worst": float(model["ece"].max()),
        f"months_ece_over_{ece_threshold:g}": float((model["ece"] > ece_threshold).sum()),
        "roc_auc_mean": float(model["roc_auc"].mean()),
        "base_rate_error_worst": float((model["predicted_rate"] - model["realised_rate"]).abs().max()),
    }
    if present:
        margin = wide["model"] - wide[present].max(axis=1)
        out["auc_margin_vs_best_baseline_mean"] = float(margin.mean())
        out["auc_margin_vs_best_baseline_worst"] = float(margin.min())
        for b in present:
            out[f"auc_gain_vs_{b}"] = float((wide["model"] - wide[b]).mean())
    return out


def rolling_backtest(
    table: pd.DataFrame,
    plans: list[CutoffPlan],
    params: TrainParams,
    *,
    ece_threshold: float = 0.03,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Train and test once per origin of ``plans`` on the stacked ``table`` and tabulate every scorer.

    Parameters
    ----------
    table : pandas.DataFrame
        Stacked features + ``label`` + ``cutoff`` over (at least) :func:`backtest_cutoffs` of ``plans``;
        optionally ``oracle_probability``. Not modified.
    plans : list of CutoffPlan
        :func:`backtest_plans`.
    params : TrainParams
        The training settings every origin uses (its horizon is the label's).
    ece_threshold : float
        The summary counts the months whose shipped ECE is above it.
    progress : callable, optional
        Called with one line per finished origin.

    Raises
    ------
    custml.errors.SchemaError
        ``cutoff`` missing, or an origin's cut-off without rows.
    """
    if "cutoff" not in table.columns:
        raise SchemaError("training_set", "cutoff", "is missing")
    if not plans:
        raise ConfigError("backtest: no test months to run")
    cut = pd.to_datetime(table["cutoff"])
    rows: list[_Row] = []
    runs: list[_Row] = []
    # Nothing of a backtest reads the SHAP drivers or the baseline intervals: skip their cost per origin.
    params = params.model_copy(
        update={"shap_sample": 10, "gate": params.gate.model_copy(update={"baseline_bootstrap": 0})}
    )
    for plan in plans:
        t0 = time.perf_counter()
        result = train_model(table[cut.isin(plan.all).to_numpy()], params=params, plan=plan)
        rows.extend(_scorer_rows(result, plan.test))
        seconds = time.perf_counter() - t0
        m = result.metrics["model"]
        runs.append(
            {
                "test_cutoff": plan.test,
                "champion": result.data_description["champion"],
                "champion_rule": result.data_description.get("champion_rule", ""),
                "calibration": result.data_description.get("calibration", ""),
                "n_train": len(plan.train),
                "n_validation": len(plan.validation),
                "plan_note": plan.note,
                "seconds": round(seconds, 1),
            }
        )
        line = (
            f"test {plan.test.date()}: ROC AUC {m['roc_auc']:.4f}, ECE {m['ece']:.4f}, predicted "
            f"{result.test_predictions['model'].mean():.3f} vs realised "
            f"{result.test_predictions['label'].mean():.3f} ({result.data_description['champion']}, "
            f"{seconds:.0f} s)"
        )
        logger.info("backtest %s", line)
        if progress is not None:
            progress(line)
    out = pd.DataFrame(rows)
    return BacktestResult(
        task=params.task,
        table=out,
        runs=pd.DataFrame(runs),
        summary=_summary(out, ece_threshold),
    )


def plot_backtest(result: BacktestResult, scorers: list[str] | None = None, ax: Any = None) -> Any:
    """Two panels per test month: ECE of each scorer, and the shipped model's predicted vs realised base rate.

    With ``ax`` (a sequence of two axes) draws there; returns the figure. Never saves.
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 4), layout="constrained")
        axes = fig.subplots(1, 2)
    else:
        axes = ax
        fig = axes[0].figure
    present = list(result.table["scorer"].unique())
    scorers = scorers or [s for s in ("model", *baseline_names()) if s in present]
    for name in scorers:
        rows = result.scorer(name)
        axes[0].plot(rows.index, rows["ece"], marker="o", label=name, lw=2 if name == "model" else 1)
    axes[0].set_title(f"{result.task}: ECE per test month")
    axes[0].set_ylabel("ECE")
    axes[0].legend(fontsize=8)
    model = result.scorer("model")
    axes[1].plot(model.index, model["predicted_rate"], marker="o", label="predicted (mean probability)")
    axes[1].plot(model.index, model["realised_rate"], marker="s", label="realised")
    axes[1].set_title(f"{result.task}: base rate per test month")
    axes[1].legend(fontsize=8)
    for a in axes:
        a.tick_params(axis="x", rotation=45)
    return fig
