"""The candidates a training run compares, in one place: each a scikit-learn estimator with a name and the columns
it needs.

Both training paths iterate over this registry: :func:`custml.models.train.train_model` (a stacked customer x
cut-off table) and :class:`custml.models.estimator.CustomerClassifier` (any labelled snapshot table, ``custml
train --table``). So do the champion choice (:mod:`custml.models.champion`), the printed baseline table and
the gate. Adding a candidate is one :func:`register` call (and its tests)::

    register(Candidate("my_model", build=lambda ctx: MyClassifier(seed=ctx.seed), needs=("tenure_days",)))

A candidate is fitted on the run's *candidate frame* (the input rows with every column, plus the BTYD hybrid
and season columns of the transaction path) and must offer ``fit(X, y)`` and ``predict_proba(X)[:, 1]``. A
candidate whose ``needs`` columns are missing from the data is left out of that run (the snapshot path has no
BTYD columns, so BG/NBD and Pareto/NBD sit out there). ``"stack"`` is the logistic stack of the fitted
components' scores, fitted by the champion choice itself.

Registered (in tie-break order, the first of tied candidates wins):

- ``lightgbm``: :class:`BoosterClassifier` on every model column (early stopping on the validation rows);
- ``logistic``: :func:`logistic_pipeline` on the same columns (imputation, scaling, one-hot), the honest
  linear yardstick;
- ``bgnbd``, ``pareto_nbd``: BG/NBD and Pareto/NBD probabilities from the BTYD inputs;
- ``stack``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from threadpoolctl import threadpool_limits

from custml.errors import SchemaError
from custml.models.hybrid import BTYD_INPUT_COLUMNS, BTYDFeatures
from custml.models.registry import Registry

__all__ = [
    "STACK",
    "BoosterClassifier",
    "Candidate",
    "CandidateContext",
    "FittedCandidates",
    "LogisticCandidate",
    "ScoringEstimator",
    "baseline_names",
    "candidate_names",
    "fit_candidates",
    "frame_columns",
    "get_candidate",
    "logistic_pipeline",
    "register",
    "registered",
    "score_candidates",
    "unregister",
    "validated_frame",
]

logger = logging.getLogger(__name__)

STACK = "stack"


class ScoringEstimator(Protocol):
    """A fitted candidate: ``predict_proba(frame)[:, 1]`` is its (uncalibrated) score of a candidate frame."""

    def predict_proba(self, X: Any, /) -> np.ndarray: ...


#: Name -> fitted candidate, in registry order.
FittedCandidates: TypeAlias = dict[str, ScoringEstimator]


@dataclass(frozen=True)
class CandidateContext:
    """What a run tells its candidates: the task, the model columns and the shared fitted pieces.

    Attributes
    ----------
    task : str
        ``"churn"`` or ``"repurchase"`` (BTYD candidates turn P(purchase) into the label's probability).
    horizon_days : int
    numeric : tuple of str
        Numeric model columns (the booster's and the logistic pipeline's).
    categorical_levels : mapping of str to list of str
        Categorical model columns and their training levels.
    seed : int
    time_unit_days : float
        BTYD time unit.
    btyd : BTYDFeatures or None
        The run's fitted BTYD transformer (BG/NBD reuses it instead of fitting again).
    lightgbm : mapping
        LightGBM parameters of the booster (``objective`` and the like are added by it).
    n_estimators, early_stopping_rounds : int
    class_imbalance : {"auto", "balanced", "none"}
    log_heavy_tails : bool
        The logistic candidate log-transforms numeric columns skewed beyond 2 (the transaction path's money
        and count aggregates); off, it is the plain standard pipeline (the snapshot path).
    """

    task: str = "churn"
    horizon_days: int = 90
    numeric: tuple[str, ...] = ()
    categorical_levels: Mapping[str, list[str]] = field(default_factory=dict)
    seed: int = 0
    time_unit_days: float = 7.0
    btyd: BTYDFeatures | None = None
    lightgbm: Mapping[str, Any] = field(default_factory=dict)
    n_estimators: int = 1000
    early_stopping_rounds: int = 50
    class_imbalance: str = "auto"
    log_heavy_tails: bool = False


@dataclass(frozen=True)
class Candidate:
    """One registered candidate.

    Attributes
    ----------
    name : str
    build : callable
        ``build(context) -> estimator`` (unfitted; ``fit(X, y)`` and ``predict_proba(X)[:, 1]``).
    needs : tuple of str
        Columns the candidate frame must hold for this candidate to run (beyond the model columns).
    baseline : bool
        Printed as a yardstick beside the shipped model (with a paired interval the gate reads).
    early_stopping : bool
        ``fit`` takes ``eval_set=(X_validation, y_validation)``.
    description : str
    """

    name: str
    build: Callable[[CandidateContext], Any]
    needs: tuple[str, ...] = ()
    baseline: bool = False
    early_stopping: bool = False
    description: str = ""


_REGISTRY: Registry[Candidate] = Registry("candidate", reserved=(STACK,))


def register(candidate: Candidate) -> Candidate:
    """Add a candidate (before ``"stack"`` in the tie-break order); a registered name is refused."""
    return _REGISTRY.register(candidate)


def unregister(name: str) -> None:
    """Remove a registered candidate (the built-in ones included)."""
    _REGISTRY.unregister(name)


def registered(candidate: Candidate) -> AbstractContextManager[Candidate]:
    """Register ``candidate`` for the duration of a ``with`` block (tests, experiments)."""
    return _REGISTRY.registered(candidate)


def candidate_names(include_stack: bool = True) -> list[str]:
    """Registered candidate names in tie-break order (``"stack"`` last).

    Examples
    --------
    >>> candidate_names()
    ['lightgbm', 'logistic', 'bgnbd', 'pareto_nbd', 'stack']
    """
    return [*_REGISTRY.names(), *([STACK] if include_stack else [])]


def get_candidate(name: str) -> Candidate:
    """The registered candidate called ``name``."""
    return _REGISTRY.get(name)


def baseline_names() -> list[str]:
    """The registered candidates printed as baselines, in order."""
    return [c.name for c in _REGISTRY.entries() if c.baseline]


# ---------------------------------------------------------------------------------------------- input


def validated_frame(estimator: BaseEstimator, X: Any, reset: bool) -> pd.DataFrame:
    """``X`` as a DataFrame with string column names, checked as scikit-learn checks an estimator's input.

    A DataFrame keeps its dtypes (categoricals and strings included; the column names and count are recorded
    or compared through ``validate_data``); an array is validated (NaN allowed, infinity refused) and named
    ``x0, x1, ...``. Shared by the frame-based estimators (:class:`CustomerClassifier`,
    :class:`custml.models.survival.DiscreteTimeSurvival`).
    """
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        if len(X) == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        frame = X.copy(deep=False)
        frame.columns = [str(c) for c in X.columns]
        numbers = frame.select_dtypes("number")
        if numbers.shape[1] and np.isinf(numbers.to_numpy(dtype=float)).any():
            raise ValueError("Input contains infinity or a value too large for dtype('float64').")
        return frame
    arr = validate_data(estimator, X, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64)
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def frame_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns of a feature frame; datetimes are refused with the column named."""
    numeric: list[str] = []
    categorical: list[str] = []
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            raise SchemaError(
                "snapshot", str(col), "is a date/time column: derive numbers from it (e.g. days since) first"
            )
        if (
            isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
        ):
            categorical.append(str(col))
        else:
            numeric.append(str(col))
    return numeric, categorical


def binary_target(owner: str, y: ArrayLike, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``(classes_, 0/1 target)`` of a binary ``y`` with ``n_rows`` values, checked as scikit-learn checks a
    classifier's target (no missing or infinite values, exactly two classes)."""
    y_arr = column_or_1d(y, warn=True)
    if len(y_arr) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y_arr)}")
    check_classification_targets(y_arr)
    kind = type_of_target(y_arr, input_name="y", raise_unknown=True)
    if kind != "binary":
        raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
    classes = np.unique(y_arr)
    if len(classes) < 2:
        raise ValueError(f"{owner} needs two classes in y, found one class ({classes[0]!r})")
    return classes, (y_arr == classes[1]).astype(int)


def _named_frame(X: pd.DataFrame) -> pd.DataFrame:
    if len(X) == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    frame = X.copy(deep=False)
    frame.columns = [str(c) for c in X.columns]
    return frame


class _FrameClassifier(ClassifierMixin, BaseEstimator):
    """Shared input handling of the candidate classifiers: a DataFrame is read by column name (a scoring frame
    may carry ids, dates and other columns beside the model's, in any order), an array is validated and named
    ``x0, x1, ...``; ``y`` must be binary (two classes, no missing values).

    ``_waived_checks`` names the scikit-learn estimator checks that cannot apply to a subclass, each with its
    reason (the tests pass it to ``parametrize_with_checks(expected_failed_checks=...)``).
    """

    _waived_checks: ClassVar[dict[str, str]] = {}

    def _fit_inputs(self, X: Any, y: ArrayLike | None) -> tuple[pd.DataFrame, np.ndarray]:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        if isinstance(X, pd.DataFrame):
            frame = _named_frame(X)
            self.n_features_in_ = X.shape[1]
        else:
            frame = validated_frame(self, X, reset=True)
        self.classes_, target = binary_target(type(self).__name__, y, len(frame))
        return frame, target

    def _predict_inputs(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "classes_")
        if isinstance(X, pd.DataFrame):
            return _named_frame(X)
        return validated_frame(self, X, reset=False)

    def predict_proba(self, X: Any) -> np.ndarray:  # pragma: no cover - every candidate overrides it
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:
        """The more probable class of each row."""
        p = self.predict_proba(X)
        return self.classes_[(p[:, 1] > 0.5).astype(int)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags


# ---------------------------------------------------------------------------------------------- estimators


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _heavy_tailed(frame: pd.DataFrame, columns: Sequence[str], limit: float = 2.0) -> list[str]:
    """Numeric columns whose skewness exceeds ``limit`` in absolute value (log-transformed by the logistic)."""
    out = []
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce").astype(float)
        if values.nunique(dropna=True) > 2 and abs(float(values.skew(skipna=True) or 0.0)) > limit:
            out.append(col)
    return out


def logistic_pipeline(
    numeric: Sequence[str],
    categorical: Sequence[str],
    log_columns: Sequence[str] = (),
    seed: int = 0,
) -> Pipeline:
    """The standard logistic regression a careful analyst fits: numerics median-imputed with missing
    indicators and standardised (``log_columns`` log-transformed first), categoricals one-hot encoded (missing
    as its own level, unseen levels ignored), L2-penalised logistic regression.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"fee": rng.normal(50, 10, 200), "plan": rng.choice(["a", "b"], 200)})
    >>> y = (X["plan"] == "a").astype(int)
    >>> logistic_pipeline(["fee"], ["plan"]).fit(X, y).predict_proba(X).shape
    (200, 2)
    """
    plain = [c for c in numeric if c not in set(log_columns)]
    logged = [c for c in numeric if c in set(log_columns)]
    parts: list[tuple[str, Any, list[str]]] = []
    if plain:
        parts.append(
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
                plain,
            )
        )
    if logged:
        parts.append(
            (
                "log",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True),
                    FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"),
                    StandardScaler(),
                ),
                logged,
            )
        )
    if categorical:
        parts.append(
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False),
                ),
                list(categorical),
            )
        )
    return Pipeline(
        [
            ("columns", ColumnTransformer(parts, remainder="drop")),
            # Newton-Cholesky: exact and fast with many more rows than columns (200k x 100 in seconds, where
            # lbfgs took a minute on CDNOW's stacked cut-offs).
            ("logit", LogisticRegression(solver="newton-cholesky", max_iter=100, random_state=seed)),
        ]
    )


def _columns_or_all(
    frame: pd.DataFrame, numeric: tuple[str, ...], categorical: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The given model columns, or (none given) every column of the frame split by type."""
    if numeric or categorical:
        return list(numeric), list(categorical)
    return frame_columns(frame)


class LogisticCandidate(_FrameClassifier):
    """:func:`logistic_pipeline` on the model columns of a candidate frame (read by name; none given: every
    column, numbers as numeric and text as categorical).

    Parameters
    ----------
    numeric, categorical : tuple of str
    log_heavy_tails : bool
        Log-transform the numeric columns whose training skewness exceeds 2 (money and count aggregates).
    seed : int
    """

    def __init__(
        self,
        numeric: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        log_heavy_tails: bool = False,
        seed: int = 0,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.log_heavy_tails = log_heavy_tails
        self.seed = seed

    def _inputs(self, X: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series | float] = {}
        for c in self.numeric_:
            out[c] = pd.to_numeric(X[c], errors="coerce").astype(float) if c in X else np.nan
        for c in self.categorical_:
            col = X[c] if c in X else pd.Series([None] * len(X), index=X.index)
            out[c] = col.astype("string").astype(object).where(col.notna(), np.nan)
        return pd.DataFrame(out, index=X.index)

    def fit(self, X: Any, y: ArrayLike | None = None) -> LogisticCandidate:
        """Fit on the rows of ``X`` (only the model columns are read)."""
        frame, target = self._fit_inputs(X, y)
        numeric, categorical = _columns_or_all(frame, self.numeric, self.categorical)
        # Columns with no observed value in the training rows carry nothing (an optional table absent).
        observed = [c for c in [*numeric, *categorical] if c in frame and frame[c].notna().any()]
        self.numeric_ = [c for c in numeric if c in observed]
        self.categorical_ = [c for c in categorical if c in observed]
        if not observed:
            raise SchemaError(
                "training_set", None, "has no model column with an observed value", n_rows=len(frame)
            )
        inputs = self._inputs(frame)
        self.log_columns_ = _heavy_tailed(inputs, self.numeric_) if self.log_heavy_tails else []
        self.pipeline_ = logistic_pipeline(self.numeric_, self.categorical_, self.log_columns_, self.seed)
        # One BLAS thread: threads busy-wait for each other on a shared 2-core machine (a 7k-row snapshot fit
        # took twice as long with the default threads under load; the solver's matrices are small).
        with threadpool_limits(limits=1, user_api="blas"):
            self.pipeline_.fit(inputs, target)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of ``classes_[0]`` and ``classes_[1]``."""
        frame = self._predict_inputs(X)
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.pipeline_.predict_proba(self._inputs(frame)), dtype=float)


class BoosterClassifier(_FrameClassifier):
    """The LightGBM booster on the model columns of a candidate frame, early-stopped on ``eval_set``.

    The fitted :class:`lightgbm.Booster` is ``booster_`` (SHAP reason codes explain it). Without ``eval_set``
    it trains ``n_estimators`` rounds. No columns given: every column of the input (numbers as
    numeric, text as categorical with the training levels).

    Parameters
    ----------
    numeric : tuple of str
    categorical_levels : dict
        Categorical columns and their levels (unseen values become missing).
    lightgbm : dict
        LightGBM parameters (``objective``, metrics, seed and determinism are set here).
    n_estimators, early_stopping_rounds : int
    class_imbalance : {"auto", "balanced", "none"}
        ``"balanced"`` re-weights the positives by negatives / positives; ``"auto"`` only when the minority
        class is under 5 % of the rows (:func:`custml.models.gbm.train_booster`).
    random_state : int
    """

    def __init__(
        self,
        numeric: tuple[str, ...] = (),
        categorical_levels: Mapping[str, list[str]] | None = None,
        lightgbm: Mapping[str, Any] | None = None,
        n_estimators: int = 1000,
        early_stopping_rounds: int = 50,
        class_imbalance: str = "auto",
        random_state: int = 0,
    ) -> None:
        self.numeric = numeric
        self.categorical_levels = categorical_levels
        self.lightgbm = lightgbm
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.class_imbalance = class_imbalance
        self.random_state = random_state

    def matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        """The booster's input matrix for a candidate frame."""
        from custml.models.predictor import prepare_features

        return prepare_features(X, self.numeric_, self.levels_)

    def fit(
        self, X: Any, y: ArrayLike | None = None, eval_set: tuple[Any, ArrayLike] | None = None
    ) -> BoosterClassifier:
        """Fit on ``X``; early stopping on ``eval_set`` (validation rows and labels) when given."""
        from custml.models.gbm import train_booster
        from custml.models.predictor import category_levels

        frame, target = self._fit_inputs(X, y)
        if self.numeric or self.categorical_levels:
            self.numeric_, self.levels_ = list(self.numeric), dict(self.categorical_levels or {})
        else:
            self.numeric_, categorical = frame_columns(frame)
            self.levels_ = {c: category_levels(frame[c]) for c in categorical}
        validation = None
        if eval_set is not None:
            X_va, y_va = eval_set
            valid = self._predict_inputs(X_va)
            validation = (self.matrix(valid), (np.asarray(y_va) == self.classes_[1]).astype(float))
        self.booster_ = train_booster(
            self.matrix(frame),
            target,
            validation,
            lightgbm=dict(self.lightgbm or {}),
            n_estimators=self.n_estimators,
            early_stopping_rounds=self.early_stopping_rounds,
            class_imbalance=self.class_imbalance,
            seed=self.random_state,
            categorical=list(self.levels_),
        )
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Raw (uncalibrated) booster probabilities of ``classes_[0]`` and ``classes_[1]``."""
        frame = self._predict_inputs(X)
        check_is_fitted(self, "booster_")
        p = np.asarray(
            self.booster_.predict(self.matrix(frame), num_iteration=self.booster_.best_iteration or None),
            dtype=float,
        )
        return np.column_stack([1.0 - p, p])


# ---------------------------------------------------------------------------------------------- run helpers


def fit_candidates(
    names: Sequence[str],
    context: CandidateContext,
    train: pd.DataFrame,
    y_train: ArrayLike,
    validation: pd.DataFrame | None = None,
    y_validation: ArrayLike | None = None,
) -> FittedCandidates:
    """Fit the registered candidates among ``names`` (and every printed baseline) on the training rows.

    Candidates that early-stop do so on ``validation`` (without it they train a fixed number of rounds).

    A candidate whose ``needs`` columns are missing is left out (logged); one whose fit fails with a data
    error is left out with a warning (it is a candidate, not a requirement), except ``lightgbm``, which the
    reason codes explain and so must fit.

    Returns
    -------
    dict
        Name -> fitted estimator, in registry order.
    """
    wanted = set(names) | set(baseline_names())
    out: FittedCandidates = {}
    for candidate in _REGISTRY.entries():
        if candidate.name not in wanted:
            continue
        missing = [c for c in candidate.needs if c not in train.columns]
        if missing:
            logger.info("candidate %s left out: the data has no %s", candidate.name, ", ".join(missing))
            continue
        estimator = candidate.build(context)
        try:
            if candidate.early_stopping and validation is not None:
                estimator.fit(train, y_train, eval_set=(validation, y_validation))
            else:
                estimator.fit(train, y_train)
        except (ValueError, FloatingPointError, SchemaError) as exc:
            if candidate.name == "lightgbm":
                raise
            logger.warning("candidate %s could not be fitted (%s): left out", candidate.name, exc)
            continue
        out[candidate.name] = estimator
    return out


def score_candidates(fitted: Mapping[str, ScoringEstimator], frame: pd.DataFrame) -> pd.DataFrame:
    """Each fitted candidate's positive-class score on ``frame`` (uncalibrated), indexed like ``frame``."""
    return pd.DataFrame(
        {name: np.asarray(est.predict_proba(frame)[:, 1], dtype=float) for name, est in fitted.items()},
        index=frame.index,
    )


# ---------------------------------------------------------------------------------------------- built-ins


def _booster(ctx: CandidateContext) -> BoosterClassifier:
    return BoosterClassifier(
        numeric=tuple(ctx.numeric),
        categorical_levels=dict(ctx.categorical_levels),
        lightgbm=dict(ctx.lightgbm),
        n_estimators=ctx.n_estimators,
        early_stopping_rounds=ctx.early_stopping_rounds,
        class_imbalance=ctx.class_imbalance,
        random_state=ctx.seed,
    )


def _logistic(ctx: CandidateContext) -> LogisticCandidate:
    return LogisticCandidate(
        tuple(ctx.numeric), tuple(ctx.categorical_levels), log_heavy_tails=ctx.log_heavy_tails, seed=ctx.seed
    )


def _bgnbd(ctx: CandidateContext) -> Any:
    from custml.models.baselines import BGNBDBaseline

    return BGNBDBaseline(ctx.task, ctx.horizon_days, ctx.time_unit_days, btyd=ctx.btyd)


def _pareto(ctx: CandidateContext) -> Any:
    from custml.models.baselines import ParetoNBDBaseline

    return ParetoNBDBaseline(ctx.task, ctx.horizon_days, ctx.time_unit_days, random_state=ctx.seed)


register(Candidate("lightgbm", _booster, early_stopping=True, description="LightGBM on every model column"))
register(
    Candidate(
        "logistic",
        _logistic,
        baseline=True,
        description="logistic regression on every model column (imputed, scaled, one-hot)",
    )
)
register(Candidate("bgnbd", _bgnbd, needs=BTYD_INPUT_COLUMNS, baseline=True, description="BG/NBD"))
register(Candidate("pareto_nbd", _pareto, needs=BTYD_INPUT_COLUMNS, baseline=True, description="Pareto/NBD"))
