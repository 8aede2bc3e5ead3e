"""The champion of a training run, chosen among the registered candidates on validation rows: one
implementation of selection, stacking and calibration for both training paths.

:func:`custml.models.train.train_model` (validation = the pooled validation cut-offs, out of time) and
:class:`custml.models.estimator.CustomerClassifier` (validation = an internal stratified split) both fit the
candidates of :mod:`custml.models.candidates` on their training rows and call :func:`select_champion` with the
candidates' validation scores. A logistic stack of those scores is fitted there (its validation score is out of
fold, so it competes on equal terms); the candidate with the best validation ROC AUC wins (ties go to the first
in registry order) and is calibrated on the same validation rows. A baseline that wins is shipped (calibrated)
rather than a booster that loses to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from custml.errors import ConfigError
from custml.models.candidates import STACK, candidate_names
from custml.models.gbm import ProbabilityCalibrator
from custml.models.metrics import bootstrap_weights, resampled_auc
from custml.models.predictor import stack_inputs

__all__ = ["ChampionChoice", "choose_champion", "select_champion"]

logger = logging.getLogger(__name__)

_STACK_FOLDS = 5


@dataclass
class ChampionChoice:
    """The outcome of :func:`choose_champion` (and, with its calibrator, of :func:`select_champion`).

    Attributes
    ----------
    champion : str
        A registered candidate name (:func:`custml.models.candidates.candidate_names`).
    validation_auc : dict[str, float]
        Validation ROC AUC of every candidate (the stack's out of fold).
    validation_scores : pandas.DataFrame
        Uncalibrated validation score of every candidate (the stack's out of fold).
    stacker : LogisticRegression or None
        The stack fitted on all validation rows (``None`` with a single component).
    stack_columns : list[str]
    calibrator : ProbabilityCalibrator or None
        The champion's calibrator on the validation rows (:func:`select_champion`); with training cut-offs
        that span a year, :func:`custml.models.train.train_model` replaces it by
        :func:`custml.models.season.year_calibrator`.
    """

    champion: str
    validation_auc: dict[str, float]
    validation_scores: pd.DataFrame
    stacker: LogisticRegression | None = None
    stack_columns: list[str] = field(default_factory=list)
    calibrator: ProbabilityCalibrator | None = None

    @property
    def validation_score(self) -> np.ndarray:
        """The champion's uncalibrated validation score (what its calibrator is fitted on)."""
        return self.validation_scores[self.champion].to_numpy(dtype=float)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def choose_champion(
    validation_scores: pd.DataFrame,
    y: ArrayLike,
    seed: int = 0,
    allowed: Sequence[str] | None = None,
    tolerance: float = 0.0005,
    n_boot: int = 100,
) -> ChampionChoice:
    """Pick the candidate with the best ROC AUC on the validation rows (see module docstring).

    Parameters
    ----------
    validation_scores : pandas.DataFrame
        One column per component (``lightgbm`` raw, baselines' probabilities) on the validation rows.
    y : array-like
        Validation labels (both classes present).
    seed : int
        Seed of the stack's out-of-fold split.
    allowed : sequence of str, optional
        Candidates that may win (``"stack"`` included: the stack is fitted when two or more components are
        present); default every registered one.
    tolerance : float
        Candidates within ``tolerance`` ROC AUC of the best, or within one standard error of their paired
        difference with the best (a bootstrap of the validation rows, ``n_boot`` replicates), count as tied:
        validation cannot tell them apart. The stack wins a tie it is part of (it combines the tied scorers,
        and a combination of equally good scorers is the least noisy out of sample); otherwise the first tied
        candidate in registry order wins (the booster, which reads the season and is explained by its own
        reason codes, then the baselines).
    n_boot : int
        Bootstrap replicates of the tie rule (0: the fixed ``tolerance`` alone).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> scores = pd.DataFrame({"lightgbm": 0.3 * y + rng.random(400) * 0.7, "logistic": rng.random(400)})
    >>> choose_champion(scores, y).champion in ("lightgbm", "stack")
    True
    """
    y_arr = np.asarray(y, dtype=int)
    order = candidate_names()
    allowed = order if allowed is None else list(allowed)
    unknown = [c for c in validation_scores.columns if c not in order]
    if unknown:
        raise ConfigError(f"choose_champion: unknown candidate(s) {unknown}; registered: {order}")
    scores = validation_scores.copy()
    auc = {c: _auc(y_arr, scores[c].to_numpy(dtype=float)) for c in scores.columns}
    stacker: LogisticRegression | None = None
    columns = list(validation_scores.columns)
    n_minority = int(min(np.bincount(y_arr, minlength=2)))
    if len(columns) >= 2 and STACK in allowed and n_minority >= 2 * _STACK_FOLDS:
        Z = stack_inputs(scores, columns)
        stacker = LogisticRegression(C=1.0, max_iter=1000)
        folds = StratifiedKFold(_STACK_FOLDS, shuffle=True, random_state=seed)
        scores[STACK] = cross_val_predict(stacker, Z, y_arr, cv=folds, method="predict_proba")[:, 1]
        stacker.fit(Z, y_arr)
        auc[STACK] = _auc(y_arr, scores[STACK].to_numpy())
    eligible = [c for c in order if c in auc and c in allowed]
    if not eligible:
        raise ConfigError(f"choose_champion: none of the allowed candidates {list(allowed)} was fitted")
    leader = max(eligible, key=lambda c: auc[c])
    margin = dict.fromkeys(eligible, tolerance)
    if n_boot > 0 and len(eligible) > 1:
        weights = bootstrap_weights(y_arr, n_boot, seed)
        lead = resampled_auc(y_arr, scores[leader].to_numpy(dtype=float), weights)
        for c in eligible:
            if c != leader:
                diff = lead - resampled_auc(y_arr, scores[c].to_numpy(dtype=float), weights)
                margin[c] = max(tolerance, float(np.std(diff)))
    tied = [c for c in eligible if auc[c] >= auc[leader] - margin[c]]
    # The stack combines the tied scorers: of equally good candidates their combination is the least noisy.
    champion = STACK if STACK in tied else tied[0]
    logger.info(
        "champion %s on the validation cut-offs (ROC AUC %s)",
        champion,
        ", ".join(f"{c} {auc[c]:.4f}" for c in eligible),
    )
    return ChampionChoice(champion, auc, scores, stacker, columns if stacker is not None else [])


def select_champion(
    validation_scores: pd.DataFrame,
    y: ArrayLike,
    *,
    calibration: Literal["isotonic", "platt"] | None = "isotonic",
    seed: int = 0,
    allowed: Sequence[str] | None = None,
    tolerance: float = 0.0005,
    n_boot: int = 100,
) -> ChampionChoice:
    """:func:`choose_champion`, then the champion's calibrator fitted on the same validation rows
    (``calibration=None``: none; the choice's ``calibrator`` stays ``None``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> y = rng.integers(0, 2, 500)
    >>> scores = pd.DataFrame({"lightgbm": rng.random(500), "logistic": 0.4 * y + 0.6 * rng.random(500)})
    >>> choice = select_champion(scores, y, calibration="platt")  # the stack ties the logistic: it wins the tie
    >>> choice.champion, choice.calibrator is not None
    ('stack', True)
    >>> select_champion(scores, y, allowed=["lightgbm", "logistic"]).champion
    'logistic'
    """
    choice = choose_champion(
        validation_scores, y, seed=seed, allowed=allowed, tolerance=tolerance, n_boot=n_boot
    )
    if calibration is not None:
        choice.calibrator = ProbabilityCalibrator(calibration).fit(
            choice.validation_score.reshape(-1, 1), np.asarray(y, dtype=int)
        )
    return choice
