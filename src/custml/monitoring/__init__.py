"""Monitoring: did the scores come true, how good is the model while labels mature, and has anything drifted?

:mod:`custml.monitoring.performance` joins realised outcomes from the orders and estimates performance without
labels (CBPE-style), :mod:`custml.monitoring.drift` tests inputs and scores against the training reference, and
:mod:`custml.monitoring.health` puts them together per scores file with a healthy / watch / retrain verdict,
and :mod:`custml.monitoring.files` reads a scores file's model and date and shapes the tables written to disk.
:func:`custml.pipeline.run_monitor` (``custml monitor``) wires files and MLflow around them.
"""

from custml.monitoring.drift import DRIFT_COLUMNS, distribution_drift, score_reference
from custml.monitoring.files import (
    MONITOR_COLUMNS,
    ScoresFileInfo,
    drift_for_parquet,
    scores_file_info,
    sidecar_input_drift,
    verdict_record,
)
from custml.monitoring.health import (
    GROUP_COLUMNS,
    HEALTH_COLUMNS,
    VERDICTS,
    HealthThresholds,
    MonitoringTables,
    ScoresSnapshot,
    assess,
    monitor_scores,
)
from custml.monitoring.performance import (
    OrderEvents,
    auc_standard_error,
    estimate_performance,
    grouped_performance,
    performance_metrics,
    realised_churn,
)

__all__ = [
    "DRIFT_COLUMNS",
    "GROUP_COLUMNS",
    "HEALTH_COLUMNS",
    "MONITOR_COLUMNS",
    "VERDICTS",
    "HealthThresholds",
    "MonitoringTables",
    "OrderEvents",
    "ScoresFileInfo",
    "ScoresSnapshot",
    "assess",
    "auc_standard_error",
    "distribution_drift",
    "drift_for_parquet",
    "estimate_performance",
    "grouped_performance",
    "monitor_scores",
    "performance_metrics",
    "realised_churn",
    "score_reference",
    "scores_file_info",
    "sidecar_input_drift",
    "verdict_record",
]
