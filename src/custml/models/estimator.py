"""scikit-learn classifiers for any labelled table: one row per customer, a binary label (churn, repurchase, ...).

:class:`CustomerClassifier` is what a data scientist with a snapshot export (a subscription table with a
churn column) uses: ``fit(X, y)`` / ``predict_proba(X)`` on a pandas frame or an array, categorical columns
(``category``, ``object``, ``string``) and missing values handled. Inside ``fit`` a stratified internal split
(``validation_fraction``) serves early stopping of the LightGBM booster, the champion choice among the
registered candidates whose columns the table has (:mod:`custml.models.candidates`: the booster, the logistic
pipeline, their stack, any registered later) and the winner's calibration: the same
:func:`custml.models.champion.select_champion` as :func:`custml.models.train.train_model`.
:func:`cross_validate_snapshot` is the honest k-fold comparison with the registry's logistic pipeline, the
printed yardstick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.validation import check_is_fitted

from custml.errors import SchemaError
from custml.models.candidates import (
    STACK,
    BoosterClassifier,
    CandidateContext,
    FittedCandidates,
    binary_target,
    candidate_names,
    fit_candidates,
    frame_columns,
    get_candidate,
    score_candidates,
    validated_frame,
)
from custml.models.champion import select_champion
from custml.models.metrics import binary_metrics
from custml.models.predictor import category_levels, stack_inputs

__all__ = [
    "CustomerClassifier",
    "cross_validate_snapshot",
    "prepare_snapshot",
    "quarantine_snapshot",
    "summarise_cv",
    "validated_frame",
]

logger = logging.getLogger(__name__)

# Below this many rows of the rarer class the internal split is skipped: no early stopping, no calibration.
_MIN_MINORITY_FOR_SPLIT = 5
_ISOTONIC_MIN_ROWS = 5000
_TIE = 0.0005


class CustomerClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier for a labelled customer table: LightGBM, a logistic regression or their stack.

    Parameters
    ----------
    n_estimators : int
        Maximum boosting rounds (early stopping on the internal validation split picks fewer).
    learning_rate, num_leaves, min_child_samples : LightGBM settings.
    early_stopping_rounds : int
    validation_fraction : float
        Share of the rows held out inside ``fit`` for early stopping, the candidate choice and calibration.
    calibration : {"auto", "isotonic", "platt"} or None
        Calibration of the winning candidate on the internal split (``None``: none). ``"auto"``: isotonic
        with at least 5,000 internal validation rows, Platt below (isotonic steps are noisy on small splits:
        5-fold ECE 0.039 isotonic vs 0.036 Platt on a 4,000-row snapshot, 800 validation rows per fit).
    candidates : tuple of str or None
        Registered candidates that may win (``"stack"`` included); ``None``: every registered one whose columns
        the table has.
    refit : bool
        After the choice and calibration on the internal split, fit the candidates again on every row (the
        booster for the rounds early stopping chose); the calibrator and stack stay as fitted on the split.
    random_state : int

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    champion_ : str
        The candidate that won on the internal validation split.
    validation_auc_ : dict[str, float]
        Internal-validation ROC AUC of each candidate (the stack's out of fold).
    candidates_ : dict
        The fitted candidates by name (``booster_`` is the LightGBM booster).
    stacker_ : LogisticRegression or None
    calibrator_ : ProbabilityCalibrator or None
    n_features_in_ : int
    feature_names_in_ : ndarray (with a DataFrame input)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tenure": rng.exponential(12, 600), "plan": rng.choice(["basic", "pro"], 600)})
    >>> y = (rng.random(600) < np.where(X["plan"] == "pro", 0.2, 0.5)).astype(int)
    >>> clf = CustomerClassifier(n_estimators=50, random_state=0).fit(X, y)
    >>> clf.predict_proba(X.head(3)).shape
    (3, 2)
    """

    def __init__(
        self,
        n_estimators: int = 1000,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        early_stopping_rounds: int = 50,
        validation_fraction: float = 0.25,
        calibration: Literal["auto", "isotonic", "platt"] | None = "auto",
        candidates: tuple[str, ...] | None = None,
        refit: bool = True,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.candidates = candidates
        self.refit = refit
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------------------------------------ input

    def _frame(self, X: Any, reset: bool) -> pd.DataFrame:
        """The input as a DataFrame with string column names (feature checks as scikit-learn does them)."""
        return validated_frame(self, X, reset)

    # ------------------------------------------------------------------------------------------ fit

    def fit(self, X: Any, y: ArrayLike | None = None) -> CustomerClassifier:
        """Fit on a feature table ``X`` and binary labels ``y`` (see the class docstring)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        frame = self._frame(X, reset=True)
        self.classes_, target = binary_target(type(self).__name__, y, len(frame))
        registered = candidate_names()
        allowed = registered if self.candidates is None else list(self.candidates)
        unknown = [c for c in allowed if c not in registered]
        if unknown or not allowed:
            raise ValueError(f"candidates must be some of {registered}; got {self.candidates!r}")

        numeric, categorical = frame_columns(frame)
        self.numeric_features_ = numeric
        self.categorical_levels_ = {c: category_levels(frame[c]) for c in categorical}

        n_minority = int(min(target.sum(), len(target) - target.sum()))
        split = n_minority >= _MIN_MINORITY_FOR_SPLIT and 0 < self.validation_fraction < 1
        if split:
            tr, va = train_test_split(
                np.arange(len(target)),
                test_size=self.validation_fraction,
                stratify=target,
                random_state=self.random_state,
            )
        else:
            logger.warning(
                "CustomerClassifier: %d rows of the rarer class: no internal split (no early stopping or "
                "calibration)",
                n_minority,
            )
            tr = va = np.arange(len(target))
        train, valid = frame.iloc[tr], frame.iloc[va]
        self.candidates_ = fit_candidates(
            [*allowed, "lightgbm"],
            # Without a split there is no early stopping: a fixed, small number of rounds.
            self._context(None if split else min(self.n_estimators, 100)),
            train,
            target[tr],
            valid if split else None,
            target[va] if split else None,
        )
        scores = score_candidates(self.candidates_, valid).reset_index(drop=True)
        method = self.calibration
        if method == "auto":
            method = "isotonic" if len(va) >= _ISOTONIC_MIN_ROWS else "platt"
        calibrate = split and method is not None and 0 < target[va].sum() < len(va)
        choice = select_champion(
            scores,
            target[va],
            calibration=method if calibrate else None,
            seed=self.random_state,
            allowed=allowed if split else [c for c in allowed if c != STACK],
            tolerance=_TIE,
        )
        self.champion_ = choice.champion
        self.validation_auc_ = choice.validation_auc
        self.stacker_ = choice.stacker
        self.stack_columns_ = choice.stack_columns
        self.calibrator_ = choice.calibrator
        if split and self.refit:
            # Chosen and calibrated on the internal split, the candidates are fitted again on every row (the
            # booster for the rounds early stopping chose), as CalibratedClassifierCV(ensemble=False) does: a
            # logistic fitted on 75 % of a table lost to the same logistic fitted on all of it.
            self.candidates_ = self._refit(frame, target)
        logger.info(
            "CustomerClassifier: champion %s (internal validation ROC AUC %s)",
            self.champion_,
            ", ".join(f"{k} {v:.4f}" for k, v in self.validation_auc_.items()),
        )
        return self

    def _refit(self, frame: pd.DataFrame, target: np.ndarray) -> FittedCandidates:
        out: FittedCandidates = {}
        for name, fitted in self.candidates_.items():
            candidate = get_candidate(name)
            rounds = None
            if candidate.early_stopping and isinstance(fitted, BoosterClassifier):
                rounds = max(1, int(fitted.booster_.best_iteration or fitted.booster_.current_iteration()))
            out[name] = candidate.build(self._context(rounds)).fit(frame, target)
        return out

    def _context(self, n_estimators: int | None = None) -> CandidateContext:
        """What the registered candidates are built from (after the columns are known)."""
        return CandidateContext(
            numeric=tuple(self.numeric_features_),
            categorical_levels=self.categorical_levels_,
            seed=self.random_state,
            lightgbm={
                "learning_rate": self.learning_rate,
                "num_leaves": self.num_leaves,
                "min_child_samples": self.min_child_samples,
                "min_data_in_bin": 1,
                "num_threads": 1,
            },
            n_estimators=self.n_estimators if n_estimators is None else n_estimators,
            early_stopping_rounds=self.early_stopping_rounds,
        )

    # ------------------------------------------------------------------------------------------ predict

    @property
    def booster_(self) -> lgb.Booster:
        """The fitted LightGBM booster."""
        check_is_fitted(self, "candidates_")
        booster = self.candidates_["lightgbm"]
        assert isinstance(booster, BoosterClassifier)
        return booster.booster_

    def candidate_scores(self, X: Any) -> pd.DataFrame:
        """Uncalibrated score of every fitted candidate and, if fitted, of the stack."""
        check_is_fitted(self, "champion_")
        out = score_candidates(self.candidates_, self._frame(X, reset=False)).reset_index(drop=True)
        if self.stacker_ is not None:
            out[STACK] = self.stacker_.predict_proba(stack_inputs(out, self.stack_columns_))[:, 1]
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities of ``classes_[0]`` and ``classes_[1]``, shape ``(n_rows, 2)``."""
        score = self.candidate_scores(X)[self.champion_].to_numpy()
        p = (
            self.calibrator_.predict(score.reshape(-1, 1))
            if self.calibrator_ is not None
            else np.clip(score, 0.0, 1.0)
        )
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The more probable class of each row."""
        p = self.predict_proba(X)
        return self.classes_[(p[:, 1] > 0.5).astype(int)]


def cross_validate_snapshot(
    X: pd.DataFrame,
    y: ArrayLike,
    estimator: CustomerClassifier | None = None,
    n_splits: int = 5,
    random_state: int = 0,
    n_bins: int = 10,
    progress: Callable[[str], None] | None = None,
    out_of_fold: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Stratified k-fold ROC AUC, PR AUC and ECE of ``estimator`` and of the logistic baseline, per fold.

    Both are fitted on the same training folds; the baseline is the registry's logistic pipeline
    (:func:`custml.models.candidates.logistic_pipeline`) on the same columns.

    ``out_of_fold``: a list that receives each fold's held-out rows (``label``, ``model``, ``logistic``
    probabilities, indexed by row position), for paired intervals.

    Returns
    -------
    pandas.DataFrame
        ``fold, scorer, roc_auc, pr_auc, ece, brier, n`` (scorer ``"model"`` or ``"logistic"``).
    """
    est = estimator if estimator is not None else CustomerClassifier(random_state=random_state)
    y_arr = np.asarray(y)
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    rows = []
    for k, (tr, te) in enumerate(folds.split(np.zeros(len(y_arr)), y_arr)):
        if progress is not None:
            progress(f"fold {k + 1} of {n_splits}: fitting on {len(tr):,} rows")
        model = clone(est).fit(X.iloc[tr], y_arr[tr])
        positive = (y_arr[te] == model.classes_[1]).astype(int)
        p_model = model.predict_proba(X.iloc[te])[:, 1]
        # The yardstick: the registry's logistic pipeline on the same columns, fitted on the whole fold.
        baseline = get_candidate("logistic").build(model._context())
        baseline.fit(model._frame(X.iloc[tr], reset=False), (y_arr[tr] == model.classes_[1]).astype(int))
        p_logit = baseline.predict_proba(model._frame(X.iloc[te], reset=False))[:, 1]
        if out_of_fold is not None:
            out_of_fold.append(
                pd.DataFrame({"label": positive, "model": p_model, "logistic": p_logit}, index=te)
            )
        for scorer, p in (("model", p_model), ("logistic", p_logit)):
            m = binary_metrics(positive, p, n_bins=n_bins)
            rows.append(
                {
                    "fold": k,
                    "scorer": scorer,
                    **{key: m[key] for key in ("roc_auc", "pr_auc", "ece", "brier", "n")},
                }
            )
    return pd.DataFrame(rows)


_POSITIVE = {"1", "1.0", "true", "yes", "y", "t"}
_NEGATIVE = {"0", "0.0", "false", "no", "n", "f"}


def _label_text(labels: pd.Series) -> pd.Series:
    """Labels as trimmed lower-case text, to compare with the known positive and negative spellings."""
    return labels.astype("string").str.strip().str.lower()


def prepare_snapshot(
    table: pd.DataFrame, label: str, id_column: str | None = None, name: str = "snapshot"
) -> tuple[pd.DataFrame, pd.Series]:
    """Split a labelled snapshot table into features and a 0/1 label (the table is not modified).

    The label may be 0/1, boolean or yes/no / true/false text (any case). The id column, if given, must be
    present and unique; it is dropped from the features, as is the label.

    Raises
    ------
    custml.errors.SchemaError
        Missing label/id column, missing or unrecognised label values, duplicate ids, a single class, or no
        feature column; the message names the table, the column and the row count.

    Examples
    --------
    >>> import pandas as pd
    >>> X, y = prepare_snapshot(pd.DataFrame({"id": [1, 2], "fee": [9.0, 19.0], "churn": ["Yes", "no"]}), "churn", "id")
    >>> list(X.columns), y.tolist()
    (['fee'], [1, 0])
    """
    if label not in table.columns:
        raise SchemaError(name, label, "is missing (the label column)")
    if id_column is not None:
        if id_column not in table.columns:
            raise SchemaError(name, id_column, "is missing (the id column)")
        dup = int(table[id_column].duplicated(keep=False).sum())
        if dup:
            raise SchemaError(name, id_column, "has duplicate ids: one row per customer expected", n_rows=dup)
    raw = table[label]
    missing = int(raw.isna().sum())
    if missing:
        raise SchemaError(name, label, "has missing labels", n_rows=missing)
    text = _label_text(raw)
    known = text.isin(_POSITIVE | _NEGATIVE)
    if not known.all():
        bad = sorted(text[~known].unique().tolist())[:5]
        raise SchemaError(
            name, label, f"must be 0/1, true/false or yes/no; found {bad}", n_rows=int((~known).sum())
        )
    y = text.isin(_POSITIVE).astype(int).rename(label)
    if y.nunique() < 2:
        raise SchemaError(name, label, f"has a single class ({int(y.iloc[0])})", n_rows=len(y))
    X = table.drop(columns=[c for c in (label, id_column) if c is not None])
    # A text column with a distinct value on (nearly) every row is an identifier, not a feature.
    ids = [
        c
        for c in X.columns
        if len(X) >= 50
        and (pd.api.types.is_object_dtype(X[c]) or pd.api.types.is_string_dtype(X[c]))
        and X[c].nunique(dropna=True) >= 0.9 * len(X)
    ]
    if ids:
        logger.warning(
            "%s: %s left out: a distinct text value on nearly every row (an identifier)", name, ids
        )
        X = X.drop(columns=ids)
    if X.shape[1] == 0:
        raise SchemaError(name, None, "has no feature columns besides the label and id", n_rows=len(table))
    return X, y


# A text column is read as numbers when at least this share of its non-blank values parse as numbers.
_NUMERIC_SHARE = 0.95


def quarantine_snapshot(
    table: pd.DataFrame, label: str, id_column: str | None = None, name: str = "snapshot"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a labelled snapshot table into the rows a model can learn from and the malformed ones, counted.

    Quarantined, each with its ``reason`` (one row once, under its first reason):

    - ``missing_label`` / ``unrecognised_label``: the label is blank or not 0/1, true/false, yes/no;
    - ``duplicate_id``: every row of an id that occurs more than once (which one is right is unknown);
    - ``malformed_number``: a non-numeric value in a column whose other values are numbers (at least 95 % of
      its non-blank values); such a column is returned as numbers, blanks as missing values (a spreadsheet's
      ``" "`` in an amount column).

    Rows in = rows returned + rows quarantined. A missing label or id column is a one-line error
    (:func:`prepare_snapshot` checks the rest).

    Returns
    -------
    (clean, quarantine)
        ``quarantine`` holds the malformed rows as they were plus ``reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"id": [*range(21), 0], "fee": ["9.5"] * 19 + [" ", "x", "8"],
    ...                   "churn": [1, 0] * 10 + [0, "?"]})
    >>> clean, bad = quarantine_snapshot(t, "churn", "id")
    >>> len(clean), clean["fee"].dtype.name, int(clean["fee"].isna().sum()), bad["reason"].tolist()
    (19, 'float64', 1, ['duplicate_id', 'malformed_number', 'unrecognised_label'])
    """
    if label not in table.columns:
        raise SchemaError(name, label, "is missing (the label column)", n_rows=len(table))
    if id_column is not None and id_column not in table.columns:
        raise SchemaError(name, id_column, "is missing (the id column)", n_rows=len(table))
    reason = pd.Series(pd.NA, index=table.index, dtype="string")
    text = _label_text(table[label])
    reason = reason.mask(reason.isna() & (text.isna() | (text == "")), "missing_label")
    reason = reason.mask(reason.isna() & ~text.isin(_POSITIVE | _NEGATIVE), "unrecognised_label")
    if id_column is not None:
        reason = reason.mask(reason.isna() & table[id_column].duplicated(keep=False), "duplicate_id")
    clean = table.copy()
    for col in table.columns:
        if col in (label, id_column) or not (
            pd.api.types.is_object_dtype(table[col]) or pd.api.types.is_string_dtype(table[col])
        ):
            continue
        values = table[col].astype("string").str.strip()
        filled = values.notna() & (values != "")
        numbers = pd.to_numeric(values.where(filled), errors="coerce")
        parsed = numbers.notna()
        if filled.sum() == 0 or parsed.sum() < _NUMERIC_SHARE * filled.sum():
            continue
        reason = reason.mask(reason.isna() & filled & ~parsed, "malformed_number")
        clean[col] = numbers.astype("float64")
    bad = reason.notna()
    quarantine = table[bad].assign(reason=reason[bad].astype(str))
    return clean[~bad], quarantine


def summarise_cv(cv: pd.DataFrame) -> dict[str, float]:
    """Mean fold metrics of :func:`cross_validate_snapshot`: the model's unprefixed, the baseline's as
    ``logistic.<metric>``, plus ``auc_gain_vs_logistic``."""
    means = cv.groupby("scorer")[["roc_auc", "pr_auc", "ece", "brier"]].mean()
    out = {k: float(v) for k, v in means.loc["model"].items()}
    out.update({f"logistic.{k}": float(v) for k, v in means.loc["logistic"].items()})
    out["auc_gain_vs_logistic"] = out["roc_auc"] - out["logistic.roc_auc"]
    out["n_folds"] = float(cv["fold"].nunique())
    return out
