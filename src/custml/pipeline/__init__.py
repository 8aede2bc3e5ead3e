"""The pipeline's wiring: one thin module per step. Each ``run_*`` step reads its inputs from the project
folders (:mod:`custml.config`), calls the pure functions of its stage, and writes its outputs (files via
:mod:`custml.io`, runs and models via :mod:`custml.tracking`).

Used by the CLI, :func:`run_demo` (``make demo``), experiments and notebooks, so that every entry point runs the
same steps. Folders come from :func:`custml.config.get_paths` (``root`` overrides the project root)::

    run_generate  (generate) -> data/raw/                      (synthetic world; truth/ beside it)
    run_clean     (clean)    -> data/interim/ (+ data/private/ id map, dedup pairs, golden records)
    run_features  (features) -> data/processed/features_<as_of>.parquet
    run_segment   (segment)  -> data/processed/segments_<as_of>.parquet, models/segmentation.joblib (+ MLflow run)
    run_train     (train)    -> MLflow run + registered model version, champion gate, drift reference
    run_backtest  (backtest) -> reports/backtest_<task>.csv and .png + MLflow run (rolling-origin test months)
    run_train_uplift (train) -> MLflow run + registered custml-uplift version (when campaign data exists)
    run_score     (score)    -> data/scores/scores_<as_of>.parquet (+ .meta.json, optional .csv)
    run_report    (report)   -> reports/report_<as_of>.html
    run_monitor   (monitor)  -> data/monitoring/ health, groups and drift tables (+ MLflow run per model version)
    run_demo      (demo)     -> all of the above on embedded defaults

Heavy libraries (MLflow, Spark, LightGBM) are imported inside the steps that need them.
"""

from __future__ import annotations

from custml.errors import DriftError
from custml.pipeline._wiring import default_as_of
from custml.pipeline.backtest import BacktestRun, run_backtest
from custml.pipeline.clean import RAW_OPTIONAL, RAW_REQUIRED, read_clean, read_inputs, read_raw, run_clean
from custml.pipeline.demo import DemoResult, run_demo
from custml.pipeline.features import features_path_for, run_features
from custml.pipeline.generate import run_generate
from custml.pipeline.monitor import MonitorRun, run_monitor
from custml.pipeline.report import run_report
from custml.pipeline.score import (
    DEFAULT_CHURN_MODEL,
    DEFAULT_REPURCHASE_MODEL,
    ScoreRun,
    load_scoring_model,
    run_score,
    scores_path_for,
)
from custml.pipeline.segment import run_segment
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
    "DEFAULT_CHURN_MODEL",
    "DEFAULT_REPURCHASE_MODEL",
    "RAW_OPTIONAL",
    "RAW_REQUIRED",
    "DemoResult",
    "DriftError",
    "MonitorRun",
    "ScoreRun",
    "SnapshotOutcome",
    "TrainOutcome",
    "UpliftOutcome",
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
    "run_train",
    "run_train_snapshot",
    "run_train_uplift",
    "scores_path_for",
]
