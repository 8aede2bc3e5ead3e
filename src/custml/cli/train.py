"""CLI: ``custml train churn|repurchase`` builds the training set, trains, logs to MLflow, registers and gates.

``custml train uplift`` (and ``custml train churn`` when the data has campaigns, unless ``--no-uplift``) fits
the retention offer's uplift model from the latest randomised campaign in the clean
tables, logs it with its held-out Qini AUC, uplift AUC, uplift at 30 % and calibration, and registers it as
``custml-uplift`` (alias ``champion``), which ``custml score`` loads. ``--config`` takes
:class:`custml.uplift.UpliftParams` (top level or an ``uplift:`` section, as in ``experiments/*.yaml``).

With ``--table FILE --label COLUMN [--id COLUMN]`` it trains on a labelled snapshot table instead (one row per
customer): 5-fold ROC AUC / PR AUC / ECE against a logistic baseline, then fit, log, register and gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from custml.cli.options import Layers, argument, settings_command, step_context
from custml.pipeline.settings import TrainSettings
from custml.types import JSONObject

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from custml.contracts import GateDecision
    from custml.models.params import TrainParams
    from custml.pipeline import RunRecord, StepContext, TruthInputs

__all__ = ["clean_training_inputs", "load_train_params", "register"]


def load_train_params(
    task: str, config: Path | None, overrides: Mapping[str, JSONObject] | None = None
) -> TrainParams:
    """``TrainParams`` of the ``train`` step (:func:`custml.pipeline.step_settings`: parameters file, ``config``
    and ``overrides``), with ``task`` from the command line; a config whose own ``task`` differs is an error.

    Raises
    ------
    custml.errors.ConfigError
        Missing or invalid file, unknown field (named), or a task that disagrees with the command.
    """
    from custml.config import _experiment_section
    from custml.errors import ConfigError
    from custml.models.params import TrainParams
    from custml.pipeline import step_settings

    if config is not None:
        own = _experiment_section(config, "train").get("task", task)
        if own != task:
            raise ConfigError(f"{config}: task is {own!r} but the command asks for {task!r}")
    train: JSONObject = {**(overrides or {}).get("train", {}), "task": task}
    params = step_settings("train", experiment=config, overrides={**(overrides or {}), "train": train})
    assert isinstance(params, TrainParams)
    return params


def clean_training_inputs(
    data: Path, truth: Path | None
) -> tuple[dict[str, pd.DataFrame], TruthInputs | None]:
    """The clean tables of ``data`` and, for a synthetic world, its truth's customers and the id map."""
    from custml.config import get_paths
    from custml.io import read_table, read_tables
    from custml.pipeline import RAW_OPTIONAL, RAW_REQUIRED, TruthInputs

    paths = get_paths()
    tables = read_tables(data, required=RAW_REQUIRED, optional=RAW_OPTIONAL)
    folder = (truth or paths.truth).parent
    if not paths.truth_table_in(folder, "customers").is_file():
        return tables, None
    from custml.synth import read_truth

    id_map = read_table(paths.id_map) if paths.id_map.is_file() else None
    return tables, TruthInputs(customers=read_truth(folder)["customers"], id_map=id_map)


@settings_command(
    TrainSettings, None, [argument("task", "churn, repurchase or uplift")], others=["train", "uplift"]
)
def train(s: TrainSettings, layers: Layers, task: str) -> None:
    """Train a churn or repurchase model, log it to MLflow, register it and apply the champion gate.

    From the clean transaction tables by default; with --table FILE --label COLUMN from a labelled snapshot
    table (one row per customer), evaluated by 5-fold cross-validation against a logistic baseline.
    """
    from rich.console import Console

    from custml.config import get_paths
    from custml.errors import ConfigError
    from custml.pipeline import RunRecord, run_step

    if task not in ("churn", "repurchase", "uplift"):
        raise ConfigError(f"task must be churn, repurchase or uplift, got {task!r}")
    console = Console()
    data = s.data or get_paths().interim
    record = RunRecord(
        register=s.register_model, config_path=layers.config, extra_params={"data_dir": str(data)}
    )
    if task == "uplift":
        _train_uplift(console, data, layers, record)
        return
    if s.table is not None or s.label is not None:
        if s.table is None or s.label is None:
            raise ConfigError("--table and --label go together (a labelled snapshot table and its label)")
        _train_snapshot(console, task, s, record)
        return
    params = load_train_params(task, layers.config, layers.overrides)
    tables, truth = clean_training_inputs(data, s.truth)
    ctx = step_context()
    ctx.tables, ctx.truth, ctx.record = tables, truth, record
    with console.status(f"building the {task} training set and training"):
        outcome = run_step("train", params, ctx)
    _print_training(console, outcome)
    campaigns = tables.get("campaigns")
    if task == "churn" and s.uplift and campaigns is not None and len(campaigns):
        _train_uplift(console, data, Layers(), record, ctx)


def _print_training(console: Console, outcome: Any) -> None:
    from rich.table import Table

    result, run_id = outcome.result, outcome.run_id
    table = Table(title=f"custml train {result.task}: test cut-off {result.data_description['test_cutoff']}")
    metric_names = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top10")
    table.add_column("scorer")
    for m in metric_names:
        table.add_column(m, justify="right")
    for scorer, values in result.metrics.items():
        table.add_row(scorer, *(f"{values.get(m, float('nan')):.4f}" for m in metric_names))
    console.print(table)
    console.print(f"champion candidate: {result.data_description.get('champion', 'lightgbm')}")
    _print_baseline_intervals(console, result.metrics["model"])
    if result.data_description.get("cutoff_plan_note"):
        console.print(f"[yellow]{result.data_description['cutoff_plan_note']}[/]")
    if "oracle_auc_ratio" in result.metrics["model"]:
        console.print(f"model / oracle ROC AUC: {result.metrics['model']['oracle_auc_ratio']:.3f}")
    d = result.data_description
    console.print(
        f"rows: train {d['rows_train']:,}, validation {d['rows_validation']:,}, test {d['rows_test']:,}; "
        f"fit {result.timings['fit_total_s']:.1f} s, total {outcome.seconds:.1f} s; MLflow run {run_id}"
    )
    _print_decision(console, outcome.decision)


def _print_decision(console: Console, decision: GateDecision | None) -> None:
    if decision is not None:
        verdict = "[green]promoted to champion[/]" if decision.promoted else "[yellow]kept as challenger[/]"
        console.print(f"{decision.name} v{decision.version}: {verdict} ({decision.reason})")


def _print_baseline_intervals(console: Console, model_metrics: dict[str, float]) -> None:
    """One line per printed baseline: shipped minus baseline test ROC AUC with its paired 95 % interval."""
    from custml.models.candidates import baseline_names

    parts = []
    for b in baseline_names():
        if f"auc_diff_lo_vs_{b}" in model_metrics:
            lo, hi = model_metrics[f"auc_diff_lo_vs_{b}"], model_metrics[f"auc_diff_hi_vs_{b}"]
            mark = " [red](baseline better beyond noise)[/]" if hi < 0 else ""
            parts.append(f"{b} {model_metrics[f'auc_gain_vs_{b}']:+.4f} [{lo:+.4f}, {hi:+.4f}]{mark}")
    if parts:
        console.print(
            "test ROC AUC, model minus baseline (paired bootstrap 95 % interval): " + "; ".join(parts)
        )


def _train_snapshot(console: Console, task: str, s: TrainSettings, record: RunRecord) -> None:
    from rich.table import Table

    from custml.io import read_table
    from custml.pipeline import SnapshotSettings, run_train_snapshot

    table_file = s.table
    assert table_file is not None and s.label is not None
    malformed: list[list[str]] = []
    frame = read_table(table_file, bad_lines=malformed)
    settings = SnapshotSettings(task=task, id_column=s.id_column, source=str(table_file))
    with console.status(f"5-fold evaluation and training on {table_file.name}") as status:
        outcome = run_train_snapshot(
            frame,
            s.label,
            settings,
            record=record,
            malformed_lines=malformed,
            progress=lambda msg: status.update(f"{table_file.name}: {msg}"),
        )
    summary = outcome.summary
    q = outcome.quarantine
    n_bad = 0 if q is None else len(q)
    if n_bad:
        reasons = ", ".join(f"{k} {v}" for k, v in q["reason"].value_counts().items())  # type: ignore[index]
        console.print(
            f"[yellow]{table_file.name}: {outcome.rows_in:,} rows in = {outcome.rows_in - n_bad:,} trained on + "
            f"{n_bad:,} quarantined ({reasons})[/]"
        )
    table = Table(
        title=f"custml train {task} --table {table_file.name}: {outcome.rows_in - n_bad:,} rows, 5-fold means"
    )
    for col in ("scorer", "roc_auc", "pr_auc", "ece", "brier"):
        table.add_column(col, justify="left" if col == "scorer" else "right")
    table.add_row("model", *(f"{summary[m]:.4f}" for m in ("roc_auc", "pr_auc", "ece", "brier")))
    table.add_row(
        "logistic", *(f"{summary['logistic.' + m]:.4f}" for m in ("roc_auc", "pr_auc", "ece", "brier"))
    )
    console.print(table)
    console.print(
        f"ROC AUC gain vs logistic: {summary['auc_gain_vs_logistic']:+.4f} (out-of-fold paired 95 % interval "
        f"{summary.get('auc_diff_lo_vs_logistic', float('nan')):+.4f}, "
        f"{summary.get('auc_diff_hi_vs_logistic', float('nan')):+.4f}); "
        "shipped candidate: "
        f"{outcome.estimator.champion_}; {outcome.seconds:.1f} s; MLflow run {outcome.run_id}"
    )
    _print_decision(console, outcome.decision)


def _train_uplift(
    console: Console, data: Path, layers: Layers, record: RunRecord, ctx: StepContext | None = None
) -> None:
    from custml.io import read_tables
    from custml.pipeline import RAW_OPTIONAL, RAW_REQUIRED, run_step, step_settings

    params = step_settings("train_uplift", experiment=layers.config, overrides=layers.overrides)
    if ctx is None:
        ctx = step_context()
        ctx.tables = read_tables(data, required=RAW_REQUIRED, optional=RAW_OPTIONAL)
        ctx.record = record
    with console.status("fitting the uplift model from the randomised campaign"):
        outcome: Any = run_step("train_uplift", params, ctx)
    if outcome.model is None:
        console.print(f"[yellow]no uplift model: {outcome.reason}[/]")
        return
    s = outcome.model.summary()
    h = s.holdout
    interval = f" [{h['qini_auc_lo']:+.4f}, {h['qini_auc_hi']:+.4f}]" if "qini_auc_lo" in h else ""
    slope = "not fitted" if s.calibration_slope is None else f"{s.calibration_slope:.3f}"
    console.print(
        f"uplift ({s.learner}-learner) from campaign {s.campaign_id} sent {s.send_day}: "
        f"{s.n_treated:,} treated, {s.n_control:,} control; average uplift {s.average_uplift:+.4f}; "
        f"held-out Qini AUC {h.get('qini_auc', float('nan')):.4f}{interval}, uplift@30% "
        f"{h.get('uplift_at_30', float('nan')):+.4f}, calibration slope {slope}; "
        f"{outcome.seconds:.1f} s; MLflow run {outcome.run_id}"
    )
    _print_decision(console, outcome.decision)


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command("train")(train)
