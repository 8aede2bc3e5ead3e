"""Predictive models of customer behaviour: buy-till-you-die (BTYD) and CLV models, churn and repurchase models.

- The candidates both training paths compare, in one registry (:mod:`custml.models.candidates`: LightGBM, the
  logistic pipeline, BG/NBD, Pareto/NBD, their stack; :func:`register` adds one), and one champion choice with
  its calibration (:func:`select_champion`).
- Transaction path: :func:`train_model` on a stacked customer x cut-off table (the best candidate on the
  validation cut-offs is shipped as a :class:`CustomerModel`).
- Any labelled table: :class:`CustomerClassifier` (scikit-learn), evaluated by :func:`cross_validate_snapshot`.
- P(still a customer) and time to lapse: :func:`btyd_probability_alive`, :func:`evaluate_alive`
  (:mod:`custml.models.alive`), :class:`DiscreteTimeSurvival` (:mod:`custml.models.survival`).
- BTYD: :class:`BetaGeoFitter`, :class:`ParetoNBDFitter`, :class:`GammaGammaFitter`, :func:`rfm_summary`.

Plot functions live in :mod:`custml.models.plots` and :mod:`custml.models.explain` (imported on demand).
"""

from custml.models.alive import btyd_probability_alive, evaluate_alive
from custml.models.baselines import BGNBDBaseline, ParetoNBDBaseline
from custml.models.btyd import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter, rfm_summary
from custml.models.candidates import (
    BoosterClassifier,
    Candidate,
    CandidateContext,
    LogisticCandidate,
    candidate_names,
    logistic_pipeline,
    register,
    registered,
)
from custml.models.champion import ChampionChoice, choose_champion, select_champion
from custml.models.estimator import (
    CustomerClassifier,
    cross_validate_snapshot,
    prepare_snapshot,
)
from custml.models.gbm import ProbabilityCalibrator
from custml.models.hybrid import BTYDFeatures
from custml.models.metrics import (
    binary_metrics,
    calibration_table,
    expected_calibration_error,
    lift_table,
)
from custml.models.params import TrainParams
from custml.models.predictor import CustomerModel
from custml.models.promotion import Evidence, GateThresholds, decide
from custml.models.split import CutoffPlan, TimeSplit, plan_cutoffs, time_split
from custml.models.survival import DiscreteTimeSurvival, concordance_index, cumulative_dynamic_auc
from custml.models.train import TrainResult, train_model
from custml.models.value import (
    ValueCandidate,
    ValueChoice,
    ValueChoiceParams,
    choose_value_model,
    register_value_candidate,
    value_candidate_names,
)

__all__ = [
    "BGNBDBaseline",
    "BTYDFeatures",
    "BetaGeoFitter",
    "BoosterClassifier",
    "Candidate",
    "CandidateContext",
    "ChampionChoice",
    "CustomerClassifier",
    "CustomerModel",
    "CutoffPlan",
    "DiscreteTimeSurvival",
    "Evidence",
    "GammaGammaFitter",
    "GateThresholds",
    "LogisticCandidate",
    "ParetoNBDBaseline",
    "ParetoNBDFitter",
    "ProbabilityCalibrator",
    "TimeSplit",
    "TrainParams",
    "TrainResult",
    "ValueCandidate",
    "ValueChoice",
    "ValueChoiceParams",
    "binary_metrics",
    "btyd_probability_alive",
    "calibration_table",
    "candidate_names",
    "choose_champion",
    "choose_value_model",
    "concordance_index",
    "cross_validate_snapshot",
    "cumulative_dynamic_auc",
    "decide",
    "evaluate_alive",
    "expected_calibration_error",
    "lift_table",
    "logistic_pipeline",
    "plan_cutoffs",
    "prepare_snapshot",
    "register",
    "register_value_candidate",
    "registered",
    "rfm_summary",
    "select_champion",
    "time_split",
    "train_model",
    "value_candidate_names",
]
