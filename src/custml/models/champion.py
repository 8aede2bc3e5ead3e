"""Candidates of a training run and the choice of its champion on the pooled validation cut-offs.

Every run fits the LightGBM booster and the baselines (logistic regression on RFM features, BG/NBD,
Pareto/NBD) on the same training cut-offs, and a logistic stack of their scores on the validation cut-offs
(out of time: the booster and baselines never saw those rows' labels). The champion is the candidate with the
best validation ROC AUC; the stack's validation score is out of fold, so it competes on equal terms. A
baseline that wins is shipped (calibrated) rather than a booster that loses to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from custml.errors import ConfigError, SchemaError
from custml.models.baselines import BGNBDBaseline, ParetoNBDBaseline, fit_logistic_rfm
from custml.models.hybrid import BTYD_INPUT_COLUMNS, BTYDFeatures
from custml.models.params import TrainParams
from custml.models.predictor import CANDIDATES, stack_inputs

__all__ = ["ChampionChoice", "choose_champion", "fit_baselines"]

logger = logging.getLogger(__name__)

_STACK_FOLDS = 5


@dataclass
class ChampionChoice:
    """The outcome of :func:`choose_champion`.

    Attributes
    ----------
    champion : str
        One of :data:`custml.models.predictor.CANDIDATES`.
    validation_auc : dict[str, float]
        Validation ROC AUC of every candidate (the stack's out of fold).
    validation_scores : pandas.DataFrame
        Uncalibrated validation score of every candidate (the stack's out of fold).
    stacker : LogisticRegression or None
        The stack fitted on all validation rows (``None`` with a single component).
    stack_columns : list[str]
    """

    champion: str
    validation_auc: dict[str, float]
    validation_scores: pd.DataFrame
    stacker: LogisticRegression | None = None
    stack_columns: list[str] = field(default_factory=list)

    @property
    def validation_score(self) -> np.ndarray:
        """The champion's uncalibrated validation score (what its calibrator is fitted on)."""
        return self.validation_scores[self.champion].to_numpy(dtype=float)


def fit_baselines(
    train: pd.DataFrame, y: ArrayLike, params: TrainParams, btyd: BTYDFeatures | None = None
) -> dict[str, Any]:
    """Fit the baselines on the training rows: logistic RFM and BG/NBD always (they are printed yardsticks),
    Pareto/NBD when ``params.candidates`` names it.

    BG/NBD and Pareto/NBD need the BTYD input columns; without them they are left out (logged). A Pareto/NBD
    fit that fails is left out too, with a warning: it is a candidate, not a requirement.

    Returns
    -------
    dict
        Candidate name -> fitted scorer with ``predict_proba(frame)[:, 1]``.
    """
    wanted = {"logistic_rfm", "bgnbd"} | set(params.candidates)
    out: dict[str, Any] = {}
    if "logistic_rfm" in wanted:
        out["logistic_rfm"] = fit_logistic_rfm(train, y, seed=params.seed)
    has_btyd = all(c in train.columns for c in BTYD_INPUT_COLUMNS)
    if not has_btyd and wanted & {"bgnbd", "pareto_nbd"}:
        logger.warning("BTYD input columns missing: BG/NBD and Pareto/NBD are not candidates")
        return out
    if "bgnbd" in wanted:
        out["bgnbd"] = BGNBDBaseline(params.task, params.horizon, params.btyd_time_unit_days).fit(
            train, y, btyd=btyd
        )
    if "pareto_nbd" in wanted:
        try:
            out["pareto_nbd"] = ParetoNBDBaseline(
                params.task, params.horizon, params.btyd_time_unit_days
            ).fit(train, y)
        except (ValueError, FloatingPointError, SchemaError) as exc:  # pragma: no cover - depends on data
            logger.warning("Pareto/NBD fit failed (%s): not a candidate", exc)
    return out


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def choose_champion(
    validation_scores: pd.DataFrame,
    y: ArrayLike,
    seed: int = 0,
    allowed: Sequence[str] = CANDIDATES,
    tolerance: float = 0.0005,
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
    allowed : sequence of str
        Candidates that may win (``"stack"`` included: the stack is fitted when two or more components are
        present).
    tolerance : float
        Candidates within ``tolerance`` ROC AUC of the best count as tied; the first of them in
        :data:`~custml.models.predictor.CANDIDATES` order wins (the booster, then the baselines, then the
        stack): validation cannot tell them apart, and the simpler model is explained by its own reason codes.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> scores = pd.DataFrame({"lightgbm": 0.3 * y + rng.random(400) * 0.7, "logistic_rfm": rng.random(400)})
    >>> choose_champion(scores, y).champion in ("lightgbm", "stack")
    True
    """
    y_arr = np.asarray(y, dtype=int)
    unknown = [c for c in validation_scores.columns if c not in CANDIDATES]
    if unknown:
        raise ConfigError(
            f"choose_champion: unknown candidate(s) {unknown}; expected some of {list(CANDIDATES)}"
        )
    scores = validation_scores.copy()
    auc = {c: _auc(y_arr, scores[c].to_numpy(dtype=float)) for c in scores.columns}
    stacker: LogisticRegression | None = None
    columns = list(validation_scores.columns)
    if len(columns) >= 2 and "stack" in allowed and min(np.bincount(y_arr, minlength=2)) >= _STACK_FOLDS:
        Z = stack_inputs(scores, columns)
        stacker = LogisticRegression(C=1.0, max_iter=1000)
        folds = StratifiedKFold(_STACK_FOLDS, shuffle=True, random_state=seed)
        scores["stack"] = cross_val_predict(stacker, Z, y_arr, cv=folds, method="predict_proba")[:, 1]
        stacker.fit(Z, y_arr)
        auc["stack"] = _auc(y_arr, scores["stack"].to_numpy())
    eligible = [c for c in CANDIDATES if c in auc and c in allowed]
    if not eligible:
        raise ConfigError(f"choose_champion: none of the allowed candidates {list(allowed)} was fitted")
    best = max(auc[c] for c in eligible)
    champion = next(c for c in eligible if auc[c] >= best - tolerance)
    logger.info(
        "champion %s on the validation cut-offs (ROC AUC %s)",
        champion,
        ", ".join(f"{c} {auc[c]:.4f}" for c in eligible),
    )
    return ChampionChoice(champion, auc, scores, stacker, columns if stacker is not None else [])
