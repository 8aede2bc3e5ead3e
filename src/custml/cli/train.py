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

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

    from custml.models.params import TrainParams
    from custml.uplift import UpliftParams

__all__ = ["clean_training_inputs", "load_train_params", "load_uplift_params", "register"]


def load_uplift_params(config: Path | None) -> UpliftParams:
    """``UpliftParams`` from a YAML file (top level, its ``uplift:`` section, or that section's ``params:``).

    Raises
    ------
    custml.errors.ConfigError
        Missing or invalid file, or an unknown field (named).
    """
    from custml.config import read_yaml, validate_params
    from custml.errors import ConfigError
    from custml.uplift import UpliftParams

    if config is None:
        return UpliftParams()
    path = Path(config)
    raw = read_yaml(path)
    section = raw.get("uplift", raw) if isinstance(raw, dict) else None
    if isinstance(section, dict) and isinstance(section.get("params"), dict):
        section = section["params"]
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: expected a mapping of UpliftParams fields (optionally under 'uplift:')")
    return validate_params(section, UpliftParams, path)


def load_train_params(task: str, config: Path | None) -> TrainParams:
    """``TrainParams`` from a YAML file (top level or its ``train:`` section), with ``task`` from the command line.

    The file's own ``task`` must agree when present; otherwise the command-line task fills it in (and with it
    the task's default horizon).

    Raises
    ------
    custml.errors.ConfigError
        Missing or invalid file, unknown field (named), or a task that disagrees with the command.
    """
    from custml.config import read_yaml, validate_params
    from custml.errors import ConfigError
    from custml.models.params import TrainParams

    if config is None:
        return TrainParams(task=task)
    path = Path(config)
    raw = read_yaml(path)
    section = raw.get("train", raw) if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: expected a mapping of TrainParams fields (optionally under 'train:')")
    if section.get("task", task) != task:
        raise ConfigError(f"{path}: task is {section['task']!r} but the command asks for {task!r}")
    return validate_params({**section, "task": task}, TrainParams, path)


def clean_training_inputs(
    data: Path, truth: Path | None
) -> tuple[dict[str, pd.DataFrame], str | None, pd.DataFrame | None, pd.DataFrame | None]:
    """The clean tables of ``data``, the data end of a synthetic world's manifest, and its truth and id map.

    Returns ``(tables, data_end, truth_customers, id_map)``; the last three are ``None`` for real data.
    """
    from custml.config import get_paths
    from custml.io import read_json, read_table, read_tables

    paths = get_paths()
    tables = read_tables(data, required=("customers", "orders"), optional=("interactions", "campaigns"))
    truth = truth or paths.truth
    truth_customers = id_map = None
    data_end = None
    for manifest in (paths.manifest_in(data), paths.manifest_in(truth.parent)):
        if manifest.is_file():
            data_end = read_json(manifest).get("end")
            break
    if paths.truth_table_in(truth.parent, "customers").is_file():
        from custml.synth import read_truth

        truth_customers = read_truth(truth.parent)["customers"]
        id_file = paths.id_map
        id_map = read_table(id_file) if id_file.is_file() else None
    return tables, data_end, truth_customers, id_map


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""

    @app.command()
    def train(
        task: Annotated[str, typer.Argument(help="churn, repurchase or uplift")],
        data: Annotated[
            Path | None, typer.Option("--data", help="Folder with the clean tables (default: data/interim).")
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", help="Experiment YAML with TrainParams (e.g. experiments/NAME.yaml)."),
        ] = None,
        truth: Annotated[
            Path | None,
            typer.Option(
                "--truth",
                help="Synthetic world's truth/ folder for the oracle (default: data/raw/truth if present).",
            ),
        ] = None,
        no_register: Annotated[
            bool, typer.Option("--no-register", help="Log the run but do not register or gate.")
        ] = False,
        table_file: Annotated[
            Path | None,
            typer.Option(
                "--table", help="Labelled snapshot table (CSV or parquet, one row per customer) to train on."
            ),
        ] = None,
        label: Annotated[
            str | None, typer.Option("--label", help="Label column of --table (0/1, true/false, yes/no).")
        ] = None,
        id_column: Annotated[
            str | None,
            typer.Option("--id", help="Customer id column of --table (dropped from the features)."),
        ] = None,
        uplift: Annotated[
            bool,
            typer.Option(
                "--uplift/--no-uplift",
                help="With `train churn`: also fit and register the uplift model when the data has campaigns.",
            ),
        ] = True,
    ) -> None:
        """Train a churn or repurchase model, log it to MLflow, register it and apply the champion gate.

        From the clean transaction tables by default; with --table FILE --label COLUMN from a labelled snapshot
        table (one row per customer), evaluated by 5-fold cross-validation against a logistic baseline.
        """
        from rich.console import Console
        from rich.table import Table

        from custml import pipeline as workflows
        from custml.config import get_paths
        from custml.errors import ConfigError

        if task not in ("churn", "repurchase", "uplift"):
            raise ConfigError(f"task must be churn, repurchase or uplift, got {task!r}")
        console = Console()
        if task == "uplift":
            _train_uplift(console, data, config, register=not no_register)
            return
        if table_file is not None or label is not None:
            if table_file is None or label is None:
                raise ConfigError("--table and --label go together (a labelled snapshot table and its label)")
            _train_snapshot(console, task, table_file, label, id_column, register=not no_register)
            return
        data = data or get_paths().interim
        params = load_train_params(task, config)
        tables, data_end, truth_customers, id_map = clean_training_inputs(data, truth)

        with console.status(f"building the {task} training set and training"):
            outcome = workflows.run_train(
                task,  # type: ignore[arg-type]
                tables=tables,
                data_end=data_end,
                params=params,
                truth_customers=truth_customers,
                id_map=id_map,
                register=not no_register,
                config_path=config,
                extra_params={"data_dir": str(data)},
            )
        result, run_id = outcome.result, outcome.run_id

        table = Table(title=f"custml train {task}: test cut-off {result.data_description['test_cutoff']}")
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
        console.print(
            f"rows: train {result.data_description['rows_train']:,}, validation "
            f"{result.data_description['rows_validation']:,}, test {result.data_description['rows_test']:,}; "
            f"fit {result.timings['fit_total_s']:.1f} s, total {outcome.seconds:.1f} s; MLflow run {run_id}"
        )
        if outcome.decision:
            decision = outcome.decision
            verdict = (
                "[green]promoted to champion[/]" if decision.promoted else "[yellow]kept as challenger[/]"
            )
            console.print(f"{decision.name} v{decision.version}: {verdict} ({decision.reason})")
        campaigns = tables.get("campaigns")
        if task == "churn" and uplift and campaigns is not None and len(campaigns):
            _train_uplift(console, data, None, register=not no_register, tables=tables)


def _print_baseline_intervals(console: object, model_metrics: dict[str, float]) -> None:
    """One line per printed baseline: shipped minus baseline test ROC AUC with its paired 95 % interval."""
    from custml.models.candidates import baseline_names

    parts = []
    for b in baseline_names():
        if f"auc_diff_lo_vs_{b}" in model_metrics:
            lo, hi = model_metrics[f"auc_diff_lo_vs_{b}"], model_metrics[f"auc_diff_hi_vs_{b}"]
            mark = " [red](baseline better beyond noise)[/]" if hi < 0 else ""
            parts.append(f"{b} {model_metrics[f'auc_gain_vs_{b}']:+.4f} [{lo:+.4f}, {hi:+.4f}]{mark}")
    if parts:
        console.print(  # type: ignore[attr-defined]
            "test ROC AUC, model minus baseline (paired bootstrap 95 % interval): " + "; ".join(parts)
        )


def _train_snapshot(
    console: object, task: str, table_file: Path, label: str, id_column: str | None, register: bool
) -> None:
    from rich.table import Table

    from custml import pipeline as workflows
    from custml.io import read_table

    malformed: list[list[str]] = []
    frame = read_table(table_file, bad_lines=malformed)
    with console.status(f"5-fold evaluation and training on {table_file.name}") as status:  # type: ignore[attr-defined]
        outcome = workflows.run_train_snapshot(
            frame,
            label,
            task=task,
            id_column=id_column,
            register=register,
            source=str(table_file),
            malformed_lines=malformed,
            progress=lambda msg: status.update(f"{table_file.name}: {msg}"),
        )
    s = outcome.summary
    q = outcome.quarantine
    n_bad = 0 if q is None else len(q)
    if n_bad:
        reasons = ", ".join(f"{k} {v}" for k, v in q["reason"].value_counts().items())  # type: ignore[index]
        console.print(  # type: ignore[attr-defined]
            f"[yellow]{table_file.name}: {outcome.rows_in:,} rows in = {outcome.rows_in - n_bad:,} trained on + "
            f"{n_bad:,} quarantined ({reasons})[/]"
        )
    table = Table(
        title=f"custml train {task} --table {table_file.name}: {outcome.rows_in - n_bad:,} rows, 5-fold means"
    )
    for col in ("scorer", "roc_auc", "pr_auc", "ece", "brier"):
        table.add_column(col, justify="left" if col == "scorer" else "right")
    table.add_row("model", *(f"{s[m]:.4f}" for m in ("roc_auc", "pr_auc", "ece", "brier")))
    table.add_row("logistic", *(f"{s['logistic.' + m]:.4f}" for m in ("roc_auc", "pr_auc", "ece", "brier")))
    console.print(table)  # type: ignore[attr-defined]
    console.print(  # type: ignore[attr-defined]
        f"ROC AUC gain vs logistic: {s['auc_gain_vs_logistic']:+.4f} (out-of-fold paired 95 % interval "
        f"{s.get('auc_diff_lo_vs_logistic', float('nan')):+.4f}, {s.get('auc_diff_hi_vs_logistic', float('nan')):+.4f}); "
        "shipped candidate: "
        f"{outcome.estimator.champion_}; {outcome.seconds:.1f} s; MLflow run {outcome.run_id}"
    )
    if outcome.decision:
        d = outcome.decision
        verdict = "[green]promoted to champion[/]" if d.promoted else "[yellow]kept as challenger[/]"
        console.print(f"{d.name} v{d.version}: {verdict} ({d.reason})")  # type: ignore[attr-defined]


def _train_uplift(
    console: object,
    data: Path | None,
    config: Path | None,
    *,
    register: bool,
    tables: dict[str, pd.DataFrame] | None = None,
) -> None:
    from custml import pipeline as workflows
    from custml.config import get_paths
    from custml.io import read_tables

    data = data or get_paths().interim
    params = load_uplift_params(config)
    if tables is None:
        tables = read_tables(data, required=("customers", "orders"), optional=("interactions", "campaigns"))
    with console.status("fitting the uplift model from the randomised campaign"):  # type: ignore[attr-defined]
        outcome = workflows.run_train_uplift(
            tables=tables,
            params=params,
            register=register,
            extra_params={"data_dir": str(data)},
        )
    if outcome.model is None:
        console.print(f"[yellow]no uplift model: {outcome.reason}[/]")  # type: ignore[attr-defined]
        return
    s = outcome.model.summary()
    h = s["holdout"]
    interval = f" [{h['qini_auc_lo']:+.4f}, {h['qini_auc_hi']:+.4f}]" if "qini_auc_lo" in h else ""
    console.print(  # type: ignore[attr-defined]
        f"uplift ({s['learner']}-learner) from campaign {s['campaign_id']} sent {s['send_day']}: "
        f"{s['n_treated']:,} treated, {s['n_control']:,} control; average uplift {s['average_uplift']:+.4f}; "
        f"held-out Qini AUC {h.get('qini_auc', float('nan')):.4f}{interval}, uplift@30% {h.get('uplift_at_30', float('nan')):+.4f}, "
        f"calibration slope {s['calibration_slope']}; {outcome.seconds:.1f} s; MLflow run {outcome.run_id}"
    )
    if outcome.decision:
        d = outcome.decision
        verdict = "[green]promoted to champion[/]" if d.promoted else "[yellow]kept as challenger[/]"
        console.print(f"{d.name} v{d.version}: {verdict} ({d.reason})")  # type: ignore[attr-defined]
