"""The pipeline as declared steps, and the wiring each step calls.

:data:`STEPS` (:mod:`custml.pipeline.steps`) declares every step once: its function, the catalogue datasets
it reads and writes (:mod:`custml.pipeline.catalogue`, located by :class:`custml.config.ProjectPaths`) and its
settings class (:mod:`custml.pipeline.settings`; one section of ``conf/parameters.yaml`` each).
:func:`run_steps` runs a subset in order with settings and overrides; the CLI commands, :func:`run_demo`
(``make demo``), experiments and notebooks all go through it::

    generate     -> data/raw/                      (synthetic world; truth/ beside it)
    clean        -> data/interim/ (+ data/private/ id map, dedup pairs, golden records)
    features     -> data/processed/features_<as_of>.parquet
    segment      -> data/processed/segments_<as_of>.parquet, models/segmentation.joblib (+ MLflow run)
    train        -> MLflow run + registered model version, champion gate, drift reference
    train_uplift -> MLflow run + registered custml-uplift version (when campaign data exists)
    backtest     -> reports/backtest_<task>.csv and .png + MLflow run (rolling-origin test months)
    score        -> data/scores/scores_<as_of>.parquet (+ .meta.json, optional .csv)
    campaign     -> contacts_<as_of>.csv beside the scores
    report       -> reports/report_<as_of>.html
    monitor      -> data/monitoring/ health, groups and drift tables (+ MLflow run per model version)

Each step calls the ``run_*`` function of its module (``custml.pipeline.score.run_score``...), which reads
its inputs, calls the pure functions of its stage and writes its outputs. The as-of date follows one rule,
:func:`default_as_of`. Heavy libraries (MLflow, Spark, LightGBM) are imported inside the steps.
"""

from __future__ import annotations

from custml.errors import DriftError
from custml.pipeline._wiring import as_of_after, default_as_of
from custml.pipeline.backtest import BacktestRun, run_backtest
from custml.pipeline.catalogue import DATASETS, Catalogue
from custml.pipeline.clean import (
    RAW_OPTIONAL,
    RAW_REQUIRED,
    CleanTargets,
    read_clean,
    read_inputs,
    read_raw,
    run_clean,
)
from custml.pipeline.demo import DemoResult, run_demo
from custml.pipeline.features import features_path_for, run_features
from custml.pipeline.generate import run_generate
from custml.pipeline.monitor import MonitorRun, run_monitor
from custml.pipeline.report import run_report
from custml.pipeline.runner import (
    RunRecord,
    StepContext,
    StepsRun,
    TruthInputs,
    run_step,
    run_steps,
    step_settings,
)
from custml.pipeline.score import (
    DEFAULT_CHURN_MODEL,
    DEFAULT_REPURCHASE_MODEL,
    ScoreRun,
    load_scoring_model,
    run_score,
    scores_path_for,
)
from custml.pipeline.segment import run_segment
from custml.pipeline.settings import (
    BacktestSettings,
    CampaignSettings,
    CleanSettings,
    DemoSettings,
    FeaturesSettings,
    GenerateSettings,
    MonitorSettings,
    ReportSettings,
    ScoreSettings,
    SegmentSettings,
    SnapshotSettings,
)
from custml.pipeline.steps import DEMO_STEPS, STEPS, Step, step_names
from custml.pipeline.train import (
    SnapshotOutcome,
    TrainOutcome,
    UpliftOutcome,
    run_train,
    run_train_snapshot,
    run_train_uplift,
)

__all__ = [
    "BacktestRun",
    "BacktestSettings",
    "CampaignSettings",
    "Catalogue",
    "CleanSettings",
    "CleanTargets",
    "DATASETS",
    "DEFAULT_CHURN_MODEL",
    "DEFAULT_REPURCHASE_MODEL",
    "DEMO_STEPS",
    "DemoResult",
    "DemoSettings",
    "DriftError",
    "FeaturesSettings",
    "GenerateSettings",
    "MonitorRun",
    "MonitorSettings",
    "RAW_OPTIONAL",
    "RAW_REQUIRED",
    "ReportSettings",
    "RunRecord",
    "STEPS",
    "ScoreRun",
    "ScoreSettings",
    "SegmentSettings",
    "SnapshotOutcome",
    "SnapshotSettings",
    "Step",
    "StepContext",
    "StepsRun",
    "TrainOutcome",
    "TruthInputs",
    "UpliftOutcome",
    "as_of_after",
    "default_as_of",
    "features_path_for",
    "load_scoring_model",
    "read_clean",
    "read_inputs",
    "read_raw",
    "run_backtest",
    "run_clean",
    "run_demo",
    "run_features",
    "run_generate",
    "run_monitor",
    "run_report",
    "run_score",
    "run_segment",
    "run_step",
    "run_steps",
    "run_train",
    "run_train_snapshot",
    "run_train_uplift",
    "scores_path_for",
    "step_names",
    "step_settings",
]
