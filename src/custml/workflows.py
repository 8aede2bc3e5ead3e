"""The old import path of the pipeline steps, kept so that notebooks and user code keep working.

The steps live in :mod:`custml.pipeline`, one module per step (``custml.pipeline.score`` and so on); new code
imports from there. This module re-exports the public ``run_*`` functions and their result types unchanged.
"""

from __future__ import annotations

from custml.pipeline import (
    DEFAULT_CHURN_MODEL,
    DEFAULT_REPURCHASE_MODEL,
    RAW_OPTIONAL,
    RAW_REQUIRED,
    DemoResult,
    DriftError,
    MonitorRun,
    ScoreRun,
    SnapshotOutcome,
    TrainOutcome,
    default_as_of,
    load_scoring_model,
    read_clean,
    read_inputs,
    read_raw,
    run_clean,
    run_demo,
    run_features,
    run_generate,
    run_monitor,
    run_report,
    run_score,
    run_segment,
    run_train,
    run_train_snapshot,
    run_train_uplift,
    scores_path_for,
)

__all__ = [
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
    "default_as_of",
    "load_scoring_model",
    "read_clean",
    "read_inputs",
    "read_raw",
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
