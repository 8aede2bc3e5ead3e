"""Batch scoring: probabilities, expected value, segments, reason codes and recommended actions per customer.

:mod:`custml.scoring.score` builds the scores table (pure), :mod:`custml.scoring.actions` holds the documented
action table, :mod:`custml.scoring.drift` measures feature drift against the training reference.
"""

from custml.scoring.accounting import scores_meta, scores_summary
from custml.scoring.actions import (
    DEFAULT_ACTION_TABLE,
    NO_ACTION,
    ActionCondition,
    ActionRule,
    ActionTable,
    action_table_frame,
    assign_actions,
    match_action_rules,
)
from custml.scoring.drift import (
    DRIFT_COLUMNS,
    DriftResult,
    DriftThresholds,
    drift_reference,
    drift_verdict,
    feature_drift,
    model_drift,
    population_stability_index,
    training_drift_reference,
    training_drift_sample,
)
from custml.scoring.score import (
    SCORE_COLUMNS,
    ClvParams,
    ScoreParams,
    ScoringModel,
    chosen_expected_value_12m,
    expected_value_12m,
    score_customers,
)

__all__ = [
    "DEFAULT_ACTION_TABLE",
    "DRIFT_COLUMNS",
    "NO_ACTION",
    "SCORE_COLUMNS",
    "ActionCondition",
    "ActionRule",
    "ActionTable",
    "ClvParams",
    "DriftResult",
    "DriftThresholds",
    "ScoreParams",
    "ScoringModel",
    "action_table_frame",
    "assign_actions",
    "drift_reference",
    "drift_verdict",
    "chosen_expected_value_12m",
    "expected_value_12m",
    "feature_drift",
    "match_action_rules",
    "model_drift",
    "population_stability_index",
    "score_customers",
    "scores_meta",
    "scores_summary",
    "training_drift_reference",
    "training_drift_sample",
]
