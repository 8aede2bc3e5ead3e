"""Monitoring: did the scores come true, how good is the model while labels mature, and has anything drifted?

:mod:`custml.monitoring.performance` joins realised outcomes from the orders and estimates performance without
labels (CBPE-style), :mod:`custml.monitoring.drift` tests inputs and scores against the training reference, and
:mod:`custml.monitoring.health` puts them together per scores file with a healthy / watch / retrain verdict.
:func:`custml.pipeline.run_monitor` (``custml monitor``) wires files and MLflow around them.
"""

from custml.monitoring.drift import DRIFT_COLUMNS, distribution_drift, score_reference
from custml.monitoring.health import (
    GROUP_COLUMNS,
    HEALTH_COLUMNS,
    VERDICTS,
    HealthThresholds,
    MonitoringResult,
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
    "VERDICTS",
    "HealthThresholds",
    "MonitoringResult",
    "OrderEvents",
    "ScoresSnapshot",
    "assess",
    "auc_standard_error",
    "distribution_drift",
    "estimate_performance",
    "grouped_performance",
    "monitor_scores",
    "performance_metrics",
    "realised_churn",
    "score_reference",
]
