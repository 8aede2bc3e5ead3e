"""Train a churn or repurchase model on a stacked customer x cut-off table and evaluate it honestly.

:func:`train_model` is pure (no MLflow, no files): time-based split (train < validation < test = latest
cut-off), optional BTYD hybrid features, then every registered candidate (:mod:`custml.models.candidates`:
LightGBM with early stopping on the validation cut-offs, the logistic pipeline on the same columns, BG/NBD,
Pareto/NBD, any registered later) fitted on the same training rows. They and their logistic stack compete on
the validation cut-offs (:func:`custml.models.champion.select_champion`): the best is calibrated there and
shipped (with a year of training cut-offs the booster's calibration takes its shape from out-of-fold scores over
the training year and only its level from validation: :mod:`custml.models.season`). One final evaluation on the
test cut-off scores every candidate and, on synthetic data, the oracle.
:mod:`custml.tracking` logs and registers the returned :class:`TrainResult`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import pandas as pd

from custml.errors import ConfigError, SchemaError
from custml.models.candidates import (
    BoosterClassifier,
    CandidateContext,
    FittedCandidates,
    baseline_names,
    fit_candidates,
    score_candidates,
)
from custml.models.champion import ChampionChoice, select_champion
from custml.models.explain import top_drivers
from custml.models.gbm import ProbabilityCalibrator, fit_booster
from custml.models.hybrid import BTYD_INPUT_COLUMNS, BTYD_OUTPUT_FEATURES, BTYDFeatures
from custml.models.metrics import binary_metrics, bootstrap_weights, calibration_table, resampled_auc
from custml.models.params import LightGBMConfig, TrainParams
from custml.models.predictor import (
    SEASON_FEATURES,
    CustomerModel,
    category_levels,
    design_frame,
    infer_feature_columns,
    prepare_features,
    stack_inputs,
)
from custml.models.season import SEASON_FOLDS, year_calibrator
from custml.models.split import CutoffPlan, SplitDescription, TimeSplit, split_by_plan, time_split

__all__ = [
    "ORACLE_COLUMN",
    "DataDescription",
    "TrainResult",
    "TuningTrial",
    "baseline_intervals",
    "table_digest",
    "train_model",
    "tune_lightgbm",
]

logger = logging.getLogger(__name__)

# Optional column of a synthetic training table: the true probability of label = 1 (from truth/).
ORACLE_COLUMN = "oracle_probability"


class TuningTrial(TypedDict):
    """One Optuna trial of :func:`tune_lightgbm`."""

    number: int
    params: LightGBMConfig
    val_roc_auc: float
    trees: int


class DataDescription(SplitDescription):
    """What a training run was fitted on and what it chose (``data/description.json`` of the run)."""

    task: str
    horizon_days: int
    rows_total: int
    label_rate_train: float
    label_rate_validation: float
    label_rate_test: float
    n_features: int
    features: list[str]
    categorical_features: list[str]
    btyd_features: bool
    champion: str
    champion_rule: str
    calibration: str
    baselines_beating_model: list[str]
    candidates_validation_roc_auc: dict[str, float]
    training_table_sha256: str
    cutoff_plan_note: NotRequired[str]


@dataclass
class TrainResult:
    """Everything a training run produced; no personal data (customer ids are not kept).

    Attributes
    ----------
    task : str
    params : TrainParams
    model : CustomerModel
        The calibrated model to register.
    metrics : dict[str, dict[str, float]]
        Test-cut-off metrics per scorer: ``"model"`` (the shipped champion), every candidate (``"lightgbm"``,
        ``"logistic"``, ``"bgnbd"``, ``"pareto_nbd"``, ``"stack"``, any registered later; the printed baselines
        as they predict, the others calibrated on the validation cut-offs) and, with an oracle column,
        ``"oracle"``;
        ``metrics["model"]`` also holds ``oracle_auc_ratio``, the AUC margins ``auc_gain_vs_<baseline>`` with their paired
        bootstrap 95 % interval ``auc_diff_lo_vs_<baseline>`` / ``auc_diff_hi_vs_<baseline>``, the flag
        ``baseline_beats_model`` (:func:`baseline_intervals`) and
        ``auc_gap_to_best_single`` (shipped minus the best single candidate).
    validation_metrics : dict[str, float]
        Calibrated model on the validation cut-offs (calibration was fitted there: optimistic), and each
        candidate's ``<name>.roc_auc`` there (what the champion was chosen on).
    calibration : pandas.DataFrame
        Test-cut-off calibration table of the model (``bin, mean_predicted, observed_rate, n``).
    test_predictions : pandas.DataFrame
        Per test row: ``label`` and one probability column per scorer (no identifiers).
    test_features : pandas.DataFrame
        The test rows as given (features only; identifiers dropped), for champion/challenger comparison.
    importance : pandas.DataFrame
        Gain/split importance.
    drivers : pandas.DataFrame
        Global drivers (mean |SHAP|) on a test sample.
    shap_rows : pandas.Index
        Positions in ``test_features`` of the SHAP sample.
    data_description : DataDescription
        Row counts, cut-offs, label rates and a digest of the training table.
    timings : dict[str, float]
        Seconds per step.
    tuning_trials : list of TuningTrial
        Optuna trials (empty without a search).
    """

    task: str
    params: TrainParams
    model: CustomerModel
    metrics: dict[str, dict[str, float]]
    validation_metrics: dict[str, float]
    calibration: pd.DataFrame
    test_predictions: pd.DataFrame
    test_features: pd.DataFrame
    importance: pd.DataFrame
    drivers: pd.DataFrame
    shap_rows: pd.Index
    data_description: DataDescription
    timings: dict[str, float] = field(default_factory=dict)
    tuning_trials: list[TuningTrial] = field(default_factory=list)

    def summary_metrics(self) -> dict[str, float]:
        """Flat ``scorer.metric`` dict (model metrics also unprefixed) for logging."""
        out = {k: v for k, v in self.metrics["model"].items()}
        for scorer, values in self.metrics.items():
            out.update({f"{scorer}.{k}": v for k, v in values.items()})
        out.update({f"validation.{k}": v for k, v in self.validation_metrics.items()})
        return out


def table_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's content and column names (row order matters), to identify training data.

    Examples
    --------
    >>> import pandas as pd
    >>> table_digest(pd.DataFrame({"a": [1, 2]})) == table_digest(pd.DataFrame({"a": [1, 2]}))
    True
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _check_training_set(frame: pd.DataFrame) -> None:
    for col in ("cutoff", "label"):
        if col not in frame.columns:
            raise SchemaError("training_set", col, "is missing")
    labels = pd.to_numeric(frame["label"], errors="coerce")
    bad = int((~labels.isin([0, 1])).sum())
    if bad:
        raise SchemaError("training_set", "label", "must be 0 or 1 (no missing values)", n_rows=bad)


def tune_lightgbm(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_val: pd.DataFrame,
    y_val: np.ndarray,
    params: TrainParams,
    categorical: list[str],
) -> tuple[LightGBMConfig, list[TuningTrial]]:
    """Optuna search of LightGBM settings maximising validation ROC AUC (the test cut-off is never seen).

    Returns
    -------
    (best overrides, trials)
        Overrides for :func:`custml.models.gbm.fit_booster` and one dict per trial (params, value, trees).
    """
    try:
        import optuna
    except ImportError as exc:
        raise ConfigError("tune.n_trials > 0 needs optuna: pip install optuna") from exc
    from sklearn.metrics import roc_auc_score

    trials: list[TuningTrial] = []

    def objective(trial: Any) -> float:
        overrides: LightGBMConfig = {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 8, 128, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 20, 1000, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        }
        booster = fit_booster(X_train, y_train, X_val, y_val, params, categorical, overrides)
        auc = float(roc_auc_score(y_val, booster.predict(X_val, num_iteration=booster.best_iteration)))
        trials.append(
            TuningTrial(number=trial.number, params=overrides, val_roc_auc=auc, trees=booster.best_iteration)
        )
        return auc

    sampler = optuna.samplers.TPESampler(seed=params.seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=params.tune.n_trials, timeout=params.tune.timeout_s)
    return dict(study.best_params), trials


def _check_both_classes(y: np.ndarray, split: TimeSplit) -> None:
    """Each of the training, validation and test cut-offs must hold both classes."""
    tr, va, te = split.train_idx, split.validation_idx, split.test_idx
    for role, idx in (("training", tr), ("validation", va), ("test", te)):
        n_pos = int(y[idx].sum())
        if n_pos == 0 or n_pos == len(idx):
            raise SchemaError(
                "training_set", "label", f"has a single class in the {role} cut-off(s)", n_rows=len(idx)
            )


def _model_columns(
    frame: pd.DataFrame, tr: pd.Index, btyd: BTYDFeatures | None, params: TrainParams
) -> tuple[pd.DataFrame, list[str], dict[str, list[str]]]:
    """The candidate frame over all rows (``frame`` with the BTYD hybrid and season columns), the numeric
    model columns and the categorical ones with their levels (learnt on the training rows ``tr``)."""
    exclude = list(params.exclude_features)
    numeric, categorical = infer_feature_columns(frame, exclude=exclude, include=params.include_features)
    data = design_frame(frame, btyd, params.season_feature)
    if btyd is not None:
        numeric += [s.name for s in BTYD_OUTPUT_FEATURES if s.name not in exclude and s.name not in numeric]
    if params.season_feature:
        numeric = [c for c in numeric if c not in SEASON_FEATURES] + list(SEASON_FEATURES)
    if not numeric and not categorical:
        raise SchemaError("training_set", None, "has no feature columns", n_rows=len(frame))
    levels = {c: category_levels(frame.loc[tr, c]) for c in categorical}
    return data, numeric, levels


def _explanation_sample(test_frame: pd.DataFrame, params: TrainParams) -> tuple[pd.DataFrame, pd.Index]:
    """The test cut-off's feature columns (no ids, label or oracle) and the rows drawn for SHAP."""
    features_only = test_frame.drop(
        columns=[c for c in ("customer_id", "person_id", "label") if c in test_frame]
    )
    features_only = features_only.drop(
        columns=[c for c in features_only.columns if str(c).startswith("oracle")]
    )
    features_only = features_only.reset_index(drop=True)
    rng = np.random.default_rng(params.seed)
    n_shap = min(params.shap_sample, len(features_only))
    shap_rows = pd.Index(np.sort(rng.choice(len(features_only), size=n_shap, replace=False)))
    return features_only, shap_rows


def baseline_intervals(preds: pd.DataFrame, n_boot: int = 200, seed: int = 0) -> dict[str, float]:
    """Paired bootstrap 95 % interval of the shipped model's test ROC AUC minus each printed baseline's.

    ``preds`` has ``label``, ``model`` and a probability column per baseline present (others are ignored).
    Customers are resampled once per replicate and both scorers scored on the same resample
    (as :func:`custml.models.compare.paired_bootstrap_auc`, vectorised). ``baseline_beats_model`` is 1.0 when some baseline's
    interval lies entirely below 0 (it beats the shipped model beyond the test set's noise), else 0.0; the
    promotion gate refuses such a model. With ``n_boot=0`` no interval is computed (flag 0.0).

    Returns
    -------
    dict
        ``auc_diff_lo_vs_<baseline>``, ``auc_diff_hi_vs_<baseline>`` per baseline and ``baseline_beats_model``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 600)
    >>> preds = pd.DataFrame({"label": y, "model": rng.random(600), "bgnbd": y + rng.normal(0, 0.5, 600)})
    >>> out = baseline_intervals(preds, n_boot=100)
    >>> out["auc_diff_hi_vs_bgnbd"] < 0, out["baseline_beats_model"]
    (True, 1.0)
    """
    out: dict[str, float] = {"baseline_beats_model": 0.0}
    present = [b for b in baseline_names() if b in preds.columns]
    if n_boot <= 0 or not present:
        return out
    y = preds["label"].to_numpy(dtype=int)
    if len(np.unique(y)) < 2:
        raise SchemaError("predictions", "label", "has a single class: ROC AUC undefined", n_rows=len(y))
    weights = bootstrap_weights(y, n_boot, seed)
    model_auc = resampled_auc(y, preds["model"].to_numpy(dtype=float), weights)
    for scorer in present:
        diffs = model_auc - resampled_auc(y, preds[scorer].to_numpy(dtype=float), weights)
        lo, hi = (float(v) for v in np.quantile(diffs, [0.025, 0.975]))
        out[f"auc_diff_lo_vs_{scorer}"], out[f"auc_diff_hi_vs_{scorer}"] = lo, hi
        if hi < 0:
            out["baseline_beats_model"] = 1.0
    return out


def _test_metrics(
    preds: pd.DataFrame,
    test_scores: pd.DataFrame,
    test_frame: pd.DataFrame,
    ece_bins: int,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Metrics of every scorer on the test cut-off; the oracle's when known; the model's gains over baselines.

    Adds the ``oracle`` column to ``preds`` when ``test_frame`` carries oracle probabilities.
    """
    metrics: dict[str, dict[str, float]] = {}
    for scorer in [c for c in preds.columns if c != "label"]:
        metrics[scorer] = binary_metrics(preds["label"], preds[scorer], n_bins=ece_bins)
    if ORACLE_COLUMN in test_frame.columns:
        oracle = pd.to_numeric(test_frame[ORACLE_COLUMN], errors="coerce")
        known = oracle.notna().to_numpy()
        if known.sum() > 0:
            preds["oracle"] = oracle.to_numpy()
            metrics["oracle"] = binary_metrics(preds.loc[known, "label"], oracle[known], n_bins=ece_bins)
            model_on_known = binary_metrics(preds.loc[known, "label"], preds.loc[known, "model"])
            metrics["model"]["oracle_coverage"] = float(known.mean())
            metrics["model"]["oracle_auc_ratio"] = model_on_known["roc_auc"] / metrics["oracle"]["roc_auc"]
    for scorer in baseline_names():
        if scorer in metrics:
            metrics["model"][f"auc_gain_vs_{scorer}"] = (
                metrics["model"]["roc_auc"] - metrics[scorer]["roc_auc"]
            )
    metrics["model"].update(baseline_intervals(preds, n_boot=n_boot, seed=seed))
    singles = [c for c in test_scores.columns if c != "stack"]
    metrics["model"]["auc_gap_to_best_single"] = metrics["model"]["roc_auc"] - max(
        metrics[c]["roc_auc"] for c in singles
    )
    return metrics


def _test_predictions(
    fitted: FittedCandidates,
    choice: ChampionChoice,
    test_data: pd.DataFrame,
    y_test: np.ndarray,
    y_validation: np.ndarray,
    calibration: Literal["isotonic", "platt"],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test-cut-off probabilities of the model and every candidate, and the candidates' raw scores.

    The printed baselines are shown as they predict (yardsticks); every other candidate is calibrated on the
    validation cut-offs like the shipped one, so their ECE compares like with like.
    """
    preds = pd.DataFrame({"label": y_test}, index=test_data.index)
    test_scores = score_candidates(fitted, test_data)
    if choice.stacker is not None:
        test_scores["stack"] = choice.stacker.predict_proba(stack_inputs(test_scores, choice.stack_columns))[
            :, 1
        ]
    champion = test_scores[[choice.champion]].to_numpy()
    assert choice.calibrator is not None
    preds["model"] = choice.calibrator.predict(champion)
    printed = set(baseline_names())
    for name in test_scores.columns:
        if name == choice.champion:
            preds[name] = preds["model"]
        elif name in printed:
            preds[name] = test_scores[name]
        else:
            val_raw = choice.validation_scores[name]
            preds[name] = (
                ProbabilityCalibrator(calibration)
                .fit(val_raw.to_numpy().reshape(-1, 1), y_validation)
                .predict(test_scores[[name]].to_numpy())
            )
    return preds, test_scores


def train_model(
    training_set: pd.DataFrame,
    task: str | None = None,
    params: TrainParams | None = None,
    plan: CutoffPlan | None = None,
) -> TrainResult:
    """Fit, calibrate and evaluate a churn or repurchase model (see module docstring).

    Parameters
    ----------
    training_set : pandas.DataFrame
        Stacked features + ``label`` over several cut-offs (``custml.features.build_training_set``), with
        ``cutoff``; optionally ``oracle_probability`` (synthetic data). Not modified.
    task : {"churn", "repurchase"}, optional
        Must agree with ``params.task`` when both are given.
    params : TrainParams, optional
        Defaults to ``TrainParams(task=task)``.
    plan : CutoffPlan, optional
        The cut-off roles (:meth:`TrainParams.cutoff_plan`, which may have shrunk to fit short data); rows of
        other cut-offs are left out. Without it the roles are inferred from the cut-offs present
        (:func:`custml.models.split.time_split`).

    Returns
    -------
    TrainResult

    Raises
    ------
    custml.errors.SchemaError
        Missing ``cutoff``/``label``, non-binary labels, too few cut-offs, or a single class.
    custml.errors.ConfigError
        ``task`` disagrees with ``params.task``.
    """
    params = _resolved_params(task, params)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    _check_training_set(training_set)
    frame = training_set.reset_index(drop=True)
    split = _split(frame, params, plan)
    y = frame["label"].astype(int).to_numpy()
    _check_both_classes(y, split)
    t0 = time.perf_counter()
    btyd = _btyd_features(frame.loc[split.train_idx], params)
    timings["btyd_features_s"] = time.perf_counter() - t0
    fit = _fit_champion(frame, y, split, btyd, params, timings)
    timings["fit_total_s"] = time.perf_counter() - t_start
    # The one and only look at the test cut-off.
    evaluation = _evaluate(frame, y, split, fit, params)
    t0 = time.perf_counter()
    features_only, shap_rows = _explanation_sample(frame.loc[split.test_idx], params)
    drivers = top_drivers(fit.model, features_only.iloc[shap_rows], n=15)
    timings["explain_s"] = time.perf_counter() - t0
    evaluation.metrics["model"]["fit_seconds"] = timings["fit_total_s"]
    metrics = evaluation.metrics
    baselines = ", ".join(f"{b} {metrics[b]['roc_auc']:.4f}" for b in baseline_names() if b in metrics)
    logger.info(
        "%s: champion %s, test ROC AUC %.4f (%s) in %.1f s",
        params.task,
        fit.choice.champion,
        metrics["model"]["roc_auc"],
        baselines,
        timings["fit_total_s"],
    )
    return TrainResult(
        task=params.task,
        params=params,
        model=fit.model,
        metrics=evaluation.metrics,
        validation_metrics=evaluation.validation_metrics,
        calibration=evaluation.calibration,
        test_predictions=evaluation.predictions.reset_index(drop=True),
        test_features=features_only,
        importance=fit.model.feature_importance(),
        drivers=drivers,
        shap_rows=shap_rows,
        data_description=_describe(frame, y, split, fit, evaluation.metrics, params),
        timings=timings,
        tuning_trials=fit.trials,
    )


def _split(frame: pd.DataFrame, params: TrainParams, plan: CutoffPlan | None) -> TimeSplit:
    """The rows of each role: by ``plan`` when given, else inferred from the cut-offs present."""
    if plan is not None:
        return split_by_plan(frame, plan)
    return time_split(
        frame, params.horizon, purge=params.purge_label_overlap, n_validation_cutoffs=params.n_validation
    )


def _resolved_params(task: str | None, params: TrainParams | None) -> TrainParams:
    """``params``, or the defaults of ``task``; fail when both are given and disagree."""
    if params is None:
        return TrainParams(task=task or "churn")
    if task is not None and task != params.task:
        raise ConfigError(f"train_model: task {task!r} disagrees with params.task {params.task!r}")
    return params


def _btyd_features(train_rows: pd.DataFrame, params: TrainParams) -> BTYDFeatures | None:
    """The BTYD hybrid features fitted on the training rows, when asked for and their inputs are present."""
    if not params.btyd_features:
        return None
    if not all(c in train_rows.columns for c in BTYD_INPUT_COLUMNS):
        logger.warning("BTYD input columns missing: training without the BTYD hybrid features")
        return None
    return BTYDFeatures(params.horizon, params.clv_months, params.btyd_time_unit_days).fit(train_rows)


@dataclass(frozen=True)
class _ChampionFit:
    """The fitted side of a run: the candidate frame, the candidates, the champion choice and the model."""

    data: pd.DataFrame
    fitted: FittedCandidates
    choice: ChampionChoice
    allowed: list[str]
    model: CustomerModel
    trials: list[TuningTrial]
    calibration: str


def _candidate_context(
    params: TrainParams, numeric: list[str], levels: dict[str, list[str]], btyd: BTYDFeatures | None
) -> CandidateContext:
    return CandidateContext(
        task=params.task,
        horizon_days=params.horizon,
        numeric=tuple(numeric),
        categorical_levels=levels,
        seed=params.seed,
        time_unit_days=params.btyd_time_unit_days,
        btyd=btyd,
        lightgbm=params.lightgbm.to_lightgbm(),
        n_estimators=params.n_estimators,
        early_stopping_rounds=params.early_stopping_rounds,
        class_imbalance=params.class_imbalance,
        log_heavy_tails=True,
    )


def _fit_champion(
    frame: pd.DataFrame,
    y: np.ndarray,
    split: TimeSplit,
    btyd: BTYDFeatures | None,
    params: TrainParams,
    timings: dict[str, float],
) -> _ChampionFit:
    """Tune (optionally), fit every candidate on the training rows and choose the champion on validation."""
    tr, va = split.train_idx, split.validation_idx
    data, numeric, levels = _model_columns(frame, tr, btyd, params)
    context = _candidate_context(params, numeric, levels, btyd)
    trials: list[TuningTrial] = []
    if params.tune.n_trials > 0:
        t0 = time.perf_counter()
        X_all = prepare_features(data, numeric, levels)
        overrides, trials = tune_lightgbm(X_all.loc[tr], y[tr], X_all.loc[va], y[va], params, list(levels))
        context = replace(context, lightgbm={**context.lightgbm, **overrides})
        timings["tuning_s"] = time.perf_counter() - t0
    # Every registered candidate (the booster always: the reason codes explain it) on the training rows.
    t0 = time.perf_counter()
    fitted = fit_candidates(
        [*params.candidates, "lightgbm"], context, data.loc[tr], y[tr], data.loc[va], y[va]
    )
    timings["candidates_fit_s"] = time.perf_counter() - t0
    booster = fitted["lightgbm"]
    assert isinstance(booster, BoosterClassifier)
    X_tr = prepare_features(data.loc[tr], numeric, levels)
    reference = {
        c: float(np.nanmedian(X_tr[c].to_numpy())) if X_tr[c].notna().any() else float("nan") for c in numeric
    }
    allowed = params.champion_candidates(split.train_cutoffs)
    choice = select_champion(
        score_candidates(fitted, data.loc[va]),
        y[va],
        calibration=params.calibration,
        seed=params.seed,
        allowed=allowed,
        tolerance=params.champion_tolerance,
    )
    calibration = f"{params.calibration} on the validation cut-offs"
    if (
        params.season_calibration
        and allowed == ["lightgbm"]
        and choice.champion == "lightgbm"
        and len(split.train_cutoffs) >= SEASON_FOLDS  # a refit per interleaved third of the cut-offs
    ):
        # the training cut-offs span a year: the season's shape from the year, the level from validation
        t0 = time.perf_counter()
        choice.calibrator = year_calibrator(
            booster,
            data.loc[tr],
            y[tr],
            frame.loc[tr, "cutoff"],
            choice.validation_score,
            y[va],
        )
        timings["season_calibration_s"] = time.perf_counter() - t0
        calibration = "season: platt on the training year out of fold, level on the validation cut-offs"
    assert choice.calibrator is not None
    model = CustomerModel(
        task=params.task,
        horizon_days=params.horizon,
        numeric_features=numeric,
        categorical_levels=levels,
        booster=booster.booster_,
        calibrator=choice.calibrator,
        btyd=btyd,
        reference=reference,
        season_feature=params.season_feature,
        champion=choice.champion,
        components={k: v for k, v in fitted.items() if k != "lightgbm"}
        if choice.champion != "lightgbm"
        else {},
        stacker=choice.stacker,
        stack_columns=choice.stack_columns,
    )
    return _ChampionFit(data, fitted, choice, list(allowed), model, trials, calibration)


@dataclass(frozen=True)
class _Evaluation:
    """The test cut-off's predictions and metrics, the validation metrics and the calibration table."""

    predictions: pd.DataFrame
    metrics: dict[str, dict[str, float]]
    validation_metrics: dict[str, float]
    calibration: pd.DataFrame


def _evaluate(
    frame: pd.DataFrame, y: np.ndarray, split: TimeSplit, fit: _ChampionFit, params: TrainParams
) -> _Evaluation:
    """Score every candidate on the test cut-off, each calibrated on the validation cut-offs (the champion's
    column with the shipped calibrator, which may be the season calibration), and the shipped model on the
    validation cut-offs."""
    va, te = split.validation_idx, split.test_idx
    choice = fit.choice
    preds, test_scores = _test_predictions(
        fit.fitted, choice, fit.data.loc[te], y[te], y[va], params.calibration
    )
    metrics = _test_metrics(
        preds,
        test_scores,
        frame.loc[te],
        params.ece_bins,
        n_boot=params.gate.baseline_bootstrap,
        seed=params.seed,
    )
    metrics["model"]["best_iteration"] = float(fit.model.booster.best_iteration)
    assert choice.calibrator is not None
    val_metrics = binary_metrics(
        y[va], choice.calibrator.predict(choice.validation_score.reshape(-1, 1)), n_bins=params.ece_bins
    )
    val_metrics.update({f"{k}.roc_auc": v for k, v in choice.validation_auc.items()})
    calib = calibration_table(preds["label"], preds["model"], n_bins=params.ece_bins)
    return _Evaluation(preds, metrics, val_metrics, calib)


def _describe(
    frame: pd.DataFrame,
    y: np.ndarray,
    split: TimeSplit,
    fit: _ChampionFit,
    metrics: dict[str, dict[str, float]],
    params: TrainParams,
) -> DataDescription:
    """The run's :class:`DataDescription`."""
    tr, va, te = split.train_idx, split.validation_idx, split.test_idx
    return DataDescription(
        task=params.task,
        horizon_days=params.horizon,
        rows_total=len(frame),
        **split.describe(),
        label_rate_train=float(y[tr].mean()),
        label_rate_validation=float(y[va].mean()),
        label_rate_test=float(y[te].mean()),
        n_features=len(fit.model.feature_names),
        features=fit.model.feature_names,
        categorical_features=list(fit.model.categorical_levels),
        btyd_features=fit.model.btyd is not None,
        champion=fit.choice.champion,
        # "seasonal": the training cut-offs span a year, so only the booster (which reads the season) could win
        champion_rule="seasonal" if fit.allowed != list(params.candidates) else "validation_roc_auc",
        # "season": the shape from the training year's out-of-fold scores, the level from validation
        calibration=fit.calibration,
        baselines_beating_model=[
            b for b in baseline_names() if metrics["model"].get(f"auc_diff_hi_vs_{b}", 0.0) < 0
        ],
        candidates_validation_roc_auc=dict(fit.choice.validation_auc),
        training_table_sha256=table_digest(
            frame.drop(columns=[c for c in frame.columns if str(c).startswith("oracle")])
        ),
    )
