"""The settings of each declared step: one :class:`custml.settings.Settings` class per step, read by the CLI.

Each class is one section of the project parameters file (``conf/parameters.yaml``; the section is the step's
name) and the options of the step's command: a field's description is the option's help and its default the
option's default (:func:`custml.cli.options.settings_command`). Stage settings that the stages own
(:class:`custml.models.params.TrainParams`, :class:`custml.segment.rules.SegmentParams`, ``UpliftParams``...)
are used as they are. Heavy libraries are not imported here: ``custml --help`` reads these classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from custml.config import DriftThresholds
from custml.settings import Settings, option

__all__ = [
    "BacktestSettings",
    "CampaignSettings",
    "CleanSettings",
    "DemoSettings",
    "Engine",
    "FeaturesSettings",
    "GenerateSettings",
    "MonitorSettings",
    "ReportSettings",
    "ScoreSettings",
    "SegmentSettings",
    "SnapshotSettings",
    "TrainSettings",
]

Engine = Literal["duckdb", "spark"]
_AS_OF = "the day after the data ends (a manifest's end, else the last plausible order)"


class GenerateSettings(Settings):
    """Step ``generate``: a synthetic world written to a folder."""

    n_customers: int = option(50_000, "Number of real persons.", "--customers", "-n", ge=1)
    seed: int = option(0, "Random seed (same seed, identical files).", "-s", ge=0)
    locale: str = option("en_US", "en_US or zh_CN (names, phones, calendar).")
    dirty: float = option(0.0, "Dirt rate (0 = clean data).", ge=0.0, le=0.5)
    dirt: str | None = option(
        None,
        "Dirt preset: light (the default) or heavy (swapped, missing and replaced names, nicknames, birth-date, "
        "address and e-mail corruption of duplicate records, as real CRMs hold).",
    )
    out: Path | None = option(None, "Output folder (default: data/raw).", "-o")
    params_file: Path | None = option(
        None, "YAML file with WorldParams (options given here override it).", "--params"
    )
    preset: str | None = option(
        None,
        "A named world: 'retail' (Q4 peak, seasonal churn, waves, a price rise, a campaign that differs by "
        "customer) or 'default'. Options given here override it.",
    )


class CleanSettings(Settings):
    """Step ``clean``: validate, quarantine, clean, de-duplicate and pseudonymise the raw tables."""

    data: Path | None = option(None, "Folder with the raw tables (default: data/raw).")
    out: Path | None = option(None, "Folder for the clean tables (default: data/interim).")
    private_dir: Path | None = option(None, "Folder for id_map and other files linking pseudonyms to people.")
    as_of: str | None = option(
        None, f"Reference time: later timestamps are quarantined (default: {_AS_OF}, as every step takes it)."
    )
    allow_demo_key: bool = option(False, "Demo run: create/use a local pseudonymisation key if none is set.")
    dedup: bool = option(True, "De-duplicate customer records (--no-dedup skips it).")
    mapping: Path | None = option(
        None, "Source mapping (YAML) reading any export in --data (see `custml sources infer FILE`)."
    )
    threshold: float | None = option(
        None,
        "Match probability to link two records (default: estimated, the one maximising expected F1).",
        ge=0.0,
        le=1.0,
    )
    blocking: str = option("standard", "Blocking preset: narrow, standard or wide.")
    fresh_ids: bool = option(
        False, "Ignore the earlier id map in the private folder (default: keep its ids)."
    )
    engine: str = option("duckdb", "Where Splink runs: duckdb or spark (local, needs Java).")
    incremental: bool = True
    write: bool = True


class FeaturesSettings(Settings):
    """Step ``features``: the feature catalogue of every customer as of a date."""

    data: Path | None = option(
        None, "Folder with cleaned orders (required), customers, interactions (default: data/interim)."
    )
    as_of: str | None = option(
        None,
        f"Point in time (e.g. 2025-10-01): only earlier events are used (default: {_AS_OF}).",
        "--cutoff",
    )
    engine: Engine = option("duckdb", "duckdb or spark.")
    out: Path | None = option(
        None, "Output parquet file (default: data/processed/features_<cutoff>.parquet)."
    )
    csv: bool = option(False, "Also write a CSV copy beside the parquet file.")
    write: bool = True


class ScoreSettings(Settings):
    """Step ``score``: every customer of a data folder scored as of a date."""

    data: Path | None = option(None, "Folder with the raw tables (default: data/raw).")
    as_of: str | None = option(None, f"Score as of this date (default: {_AS_OF}).")
    out: Path | None = option(None, "Scores parquet file (default: data/scores/scores_<as-of>.parquet).")
    churn_model: str = option("models:/custml-churn@champion", "Model URI of the churn model.")
    repurchase_model: str = option("models:/custml-repurchase@champion", "Model URI of the repurchase model.")
    uplift_model: str | None = option(
        "models:/custml-uplift@champion",
        "Model URI of the uplift model (the rule-based actions stand when none is registered).",
    )
    uplift_budget: float | None = option(
        None, "Spend the chosen actions plan for (default: the uplift model's own budget).", ge=0
    )
    engine: Engine = option("duckdb", "duckdb or spark (local mode, MLflow spark_udf).")
    csv: bool = option(False, "Also write a CSV copy beside the parquet file.")
    fail_on_drift: bool = option(
        False, f"Exit with status 3 if a model feature drifted ({DriftThresholds().rule()})."
    )
    reasons: Literal["actioned", "all", "none"] | None = option(
        None, "Reason codes for: actioned customers, all, or none (default: the scoring settings')."
    )
    max_explained: int | None = option(
        None, "Explain at most this many customers (highest revenue at risk).", ge=0
    )
    actions: Path | None = option(None, "YAML action table (default: the built-in table).")
    chunk_size: int | None = option(None, "Rows per scoring chunk (default: the scoring settings').", ge=1)
    scored_at: str | None = option(None, "Fix the scoring timestamp (reproduce a run byte for byte).")
    allow_demo_key: bool = option(False, "Demo run: use the local demo pseudonymisation key.")
    quiet: bool = option(False, "No progress bars.", "-q")
    mapping: Path | None = option(
        None, "Source mapping (YAML) reading any export in --data (as `custml clean`)."
    )


class CampaignSettings(Settings):
    """Step ``campaign``: the contact list of a retention campaign under a budget."""

    scores: Path | None = option(
        None, "Scores table written by `custml score` (default: this run's, else the latest in data/scores)."
    )
    budget: float = option(0.0, "Most to spend on offers.", ge=0)
    out: Path | None = option(
        None, "Contact list CSV (default: contacts_<scores name>.csv beside the scores)."
    )
    cost: float | None = option(None, "Cost of one offer (default: the learnt campaign's own cost).", ge=0)
    margin: float | None = option(None, "Profit share of value (default: the scoring's).", ge=0, le=1)


class ReportSettings(Settings):
    """Step ``report``: the management report of a scores file (one offline HTML file)."""

    scores: Path | None = option(
        None,
        "Scores table (parquet or CSV) (default: this run's, else the latest scores_<as-of> in data/scores).",
    )
    out: Path | None = option(
        None, "HTML file to write (default: reports/report_<as-of>.html, or customer-report.html)."
    )
    previous: Path | None = option(None, "Previous scores table, to show what changed since then.")
    pdf: bool = option(False, "Also print a PDF beside the HTML (needs Chromium).")
    lang: str = option("en", "Language of the report: en or zh.")


class MonitorSettings(Settings):
    """Step ``monitor``: earlier scores checked against the orders known now."""

    scores: Path | None = option(
        None, "Folder of scores_*.parquet files (or one file; default: data/scores)."
    )
    data: Path | None = option(None, "Folder with the tables (raw or clean; default: data/interim).")
    now: str | None = option(
        None, "Monitor as of this date: only orders before it count (default: data end)."
    )
    thresholds: Path | None = option(None, "YAML of HealthThresholds (default: the built-in thresholds).")
    out: Path | None = option(None, "Folder for the health tables (default: data/monitoring).")
    input_drift: bool = option(
        True, "Rebuild the features at each as-of date for the input tests (else PSI from the sidecars)."
    )
    log: bool = option(True, "Log the health history to MLflow.")
    write: bool = True
    report: Path | None = option(None, "Also render the latest scores' report with its Model health section.")
    lang: str = option("en", "Report language: en or zh.")
    fail_on_retrain: bool = option(False, "Exit with status 3 if the verdict is retrain.")
    allow_demo_key: bool = option(False, "Demo run: use the local demo pseudonymisation key.")


class BacktestSettings(Settings):
    """Step ``backtest``: rolling-origin backtest (one training per test month, the next horizon scored)."""

    task: Literal["churn", "repurchase"] = "churn"
    data: Path | None = option(
        None, "Clean tables (default: data/interim); with --mapping, the raw export, cleaned in memory."
    )
    mapping: Path | None = option(
        None, "Source mapping (YAML) reading any export in --data (as `custml clean`)."
    )
    months: int = option(12, "Test cut-offs, 30 days apart, ending at the data end minus the horizon.", ge=1)
    truth: Path | None = option(
        None, "Synthetic world's truth/ folder for the oracle (default: data/raw/truth)."
    )
    log: bool = option(True, "Log an MLflow run (--no-log: do not).")
    write: bool = True
    engine: Engine = "duckdb"


class DemoSettings(Settings):
    """``custml demo``: the main job on embedded defaults (generate to report)."""

    n_customers: int = option(50_000, "Number of real persons.", "--customers", "-n", ge=100)
    seed: int = option(42, "Random seed of the world and the models.")
    dirty: float = option(0.02, "Dirt rate of the raw data (0: clean).", ge=0.0, le=0.5)
    locale: str = option("en_US", "en_US or zh_CN.")
    preset: str = option(
        "retail",
        "The synthetic world: 'retail' (seasonal churn, a retention offer that works for some customers) or "
        "'default' (the nearly stationary world).",
    )
    n_train_cutoffs: int = option(4, "Training cut-offs of both models.", ge=1)
    quiet: bool = option(False, "No progress bars.", "-q")


class SegmentSettings(Settings):
    """``custml segment``: the files of the segment step (its settings are ``SegmentationRunParams``)."""

    features: Path | None = option(
        None, "Feature table (parquet or CSV), one row per customer (default: this as-of date's)."
    )
    out: Path | None = option(
        None, "Segment table to write (default: data/processed/segments_<as-of>.parquet)."
    )
    churn: Path | None = option(
        None,
        "Table of customer_id and a 0/1 'churned' (or 'label') column: adds each cluster's churn rate to the "
        "profiles.",
    )
    cluster: bool = option(True, "Also fit clusters and profiles.")
    track: bool = option(False, "Log the run to MLflow via custml.tracking.")


class SnapshotSettings(Settings):
    """``custml train --table``: training on a labelled snapshot table (one row per customer)."""

    task: str = "churn"
    id_column: str | None = None
    n_splits: int = Field(5, ge=2)
    seed: int = 0
    source: str | None = None


class TrainSettings(Settings):
    """``custml train``: the inputs and switches of the train steps (their settings are ``TrainParams`` and
    ``UpliftParams``, the ``train:`` and ``uplift:`` sections)."""

    data: Path | None = option(None, "Folder with the clean tables (default: data/interim).")
    truth: Path | None = option(
        None, "Synthetic world's truth/ folder for the oracle (default: data/raw/truth if present)."
    )
    register_model: bool = option(
        True, "Register the model and apply the champion gate (--no-register: log only).", "--register"
    )
    table: Path | None = option(
        None, "Labelled snapshot table (CSV or parquet, one row per customer) to train on."
    )
    label: str | None = option(None, "Label column of --table (0/1, true/false, yes/no).")
    id_column: str | None = option(None, "Customer id column of --table (dropped from the features).", "--id")
    uplift: bool = option(
        True, "With `train churn`: also fit and register the uplift model when the data has campaigns."
    )
