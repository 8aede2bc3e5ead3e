"""The fitted churn/repurchase model as one pure object: feature preparation, booster and calibrator.

:class:`CustomerModel` accepts the feature frame exactly as the features stage produces it (extra columns
such as ``customer_id``, ``cutoff`` or ``label`` are ignored, missing optional columns become missing values,
categorical columns may be ``category``, ``object`` or ``string``) and returns calibrated probabilities.
The MLflow wrapper in :mod:`custml.tracking` delegates to it.

The shipped probability comes from the run's champion candidate (:mod:`custml.models.candidates`): the
calibrated booster, another calibrated candidate (the logistic pipeline, BG/NBD, Pareto/NBD, any registered
one) or a logistic stack of their scores. Reason codes and SHAP values always explain the booster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from custml.errors import SchemaError
from custml.models.gbm import ProbabilityCalibrator
from custml.models.hybrid import BTYDFeatures

if TYPE_CHECKING:
    from custml.models.candidates import FittedCandidates

__all__ = [
    "NON_FEATURE_COLUMNS",
    "SEASON_FEATURES",
    "CustomerModel",
    "category_levels",
    "design_frame",
    "infer_feature_columns",
    "prepare_features",
    "season_features",
]

# Keys, dates, labels and simulator truth never enter a model.
NON_FEATURE_COLUMNS = frozenset(
    {
        "customer_id",
        "person_id",
        "cutoff",
        "as_of",
        "label",
        "churned",
        "repurchased",
        "oracle_probability",
        "p_no_purchase_90d",
        "p_purchase_30d",
    }
)


_SCORE_EPS = 1e-4


def stack_inputs(scores: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Logits of candidate scores (clipped away from 0 and 1): the inputs of the logistic stack."""
    p = np.clip(scores[columns].to_numpy(dtype=float), _SCORE_EPS, 1 - _SCORE_EPS)
    return np.log(p / (1 - p))


# Time of year of the cut-off on the unit circle (so December and January are neighbours): lets the booster
# learn seasonal shifts of the base rate.
SEASON_FEATURES = ("cutoff_season_sin", "cutoff_season_cos")


def season_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Sine and cosine of the day of year of each row's ``cutoff`` (or ``as_of``); missing without either.

    Examples
    --------
    >>> import pandas as pd
    >>> season_features(pd.DataFrame({"cutoff": pd.to_datetime(["2025-01-01", "2025-07-02"])})).round(2)
       cutoff_season_sin  cutoff_season_cos
    0               0.02                1.0
    1              -0.01               -1.0
    """
    doy = np.full(len(frame), np.nan)
    for col in ("cutoff", "as_of"):
        if col in frame.columns:
            doy = pd.to_datetime(frame[col], errors="coerce").dt.day_of_year.to_numpy(dtype=float)
            break
    angle = 2 * np.pi * doy / 365.25
    return pd.DataFrame(
        {SEASON_FEATURES[0]: np.sin(angle), SEASON_FEATURES[1]: np.cos(angle)}, index=frame.index
    )


def design_frame(frame: pd.DataFrame, btyd: BTYDFeatures | None, season: bool) -> pd.DataFrame:
    """``frame`` with the BTYD hybrid columns of a fitted ``btyd`` and, with ``season``, the cut-off's time of
    year (:data:`SEASON_FEATURES`, replacing any already there): what every candidate reads, in training
    (:func:`custml.models.train.train_model`) and in scoring (:meth:`CustomerModel.design`)."""
    data = frame if btyd is None else pd.concat([frame, btyd.btyd_predictions(frame)], axis=1)
    if season:
        data = pd.concat(
            [data.drop(columns=list(SEASON_FEATURES), errors="ignore"), season_features(frame)], axis=1
        )
    return data


def infer_feature_columns(
    frame: pd.DataFrame,
    exclude: list[str] | tuple[str, ...] = (),
    include: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Split a feature frame's model columns into (numeric, categorical).

    Numeric: numbers and booleans. Categorical: ``category``, ``object`` and ``string`` columns. Excluded:
    :data:`NON_FEATURE_COLUMNS`, anything starting with ``oracle``, datetime columns and ``exclude``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"customer_id": ["a"], "recency_days": [3.0], "region": ["north"], "label": [1]})
    >>> infer_feature_columns(df)
    (['recency_days'], ['region'])
    """
    numeric: list[str] = []
    categorical: list[str] = []
    skip = set(NON_FEATURE_COLUMNS) | set(exclude)
    for col in include if include is not None else frame.columns:
        if col not in frame.columns:
            raise SchemaError("training_set", col, "is listed in include_features but missing")
        if col in skip or str(col).startswith("oracle"):
            continue
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            continue
        if (
            isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
        ):
            categorical.append(col)
        elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(col)
    return numeric, categorical


def category_levels(series: pd.Series) -> list[str]:
    """Sorted distinct non-missing values of a column, as strings (the training levels of a categorical)."""
    return sorted(series.dropna().astype("string").astype(str).unique().tolist())


def prepare_features(
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: dict[str, list[str]],
) -> pd.DataFrame:
    """Model matrix: numeric columns as float64, categoricals with the training levels (unseen -> missing).

    Columns absent from ``frame`` are filled with missing values (an absent optional table is not an error).
    ``frame`` is not modified.
    """
    out: dict[str, np.ndarray | pd.Categorical] = {}
    n = len(frame)
    for col in numeric:
        if col in frame.columns:
            out[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64").to_numpy()
        else:
            out[col] = np.full(n, np.nan)
    for col, levels in categorical.items():
        if col in frame.columns:
            as_str = frame[col].astype("string").astype(object).where(frame[col].notna(), None)
            known = pd.Series(as_str).isin(levels).to_numpy()
            out[col] = pd.Categorical(np.where(known, as_str, None), categories=levels)
        else:
            out[col] = pd.Categorical([None] * n, categories=levels)
    return pd.DataFrame(out, index=frame.index)


@dataclass
class CustomerModel:
    """A fitted churn or repurchase model (booster + calibrator + feature spec), free of MLflow.

    Attributes
    ----------
    task : str
        ``"churn"`` or ``"repurchase"``.
    horizon_days : int
        Label horizon.
    numeric_features, categorical_levels
        The model columns: numeric names, and categorical names with their training levels.
    booster : lightgbm.Booster
    calibrator : ProbabilityCalibrator
    btyd : BTYDFeatures or None
        Fitted hybrid transformer adding BTYD columns before the booster (``None``: not used).
    reference : dict[str, float]
        Training medians of the numeric features (reason codes say "high"/"low" against these).
    season_feature : bool
        Whether the model reads the time of year of the ``cutoff``/``as_of`` column (:data:`SEASON_FEATURES`).
    champion : str
        The candidate whose score is shipped (a registered candidate name, or ``"stack"``); ``calibrator``
        maps that score.
    components : dict
        Fitted candidates other than the booster by name (``predict_proba(design)[:, 1]`` on the frame with
        the BTYD and season columns), used by a non-booster or stack champion.
    stacker : sklearn.linear_model.LogisticRegression or None
        The stack champion's combiner over the logits of ``stack_columns`` (``"lightgbm"`` = raw booster).
    stack_columns : list[str]
    """

    task: str
    horizon_days: int
    numeric_features: list[str]
    categorical_levels: dict[str, list[str]]
    booster: lgb.Booster
    calibrator: ProbabilityCalibrator
    btyd: BTYDFeatures | None = None
    reference: dict[str, float] = field(default_factory=dict)
    season_feature: bool = False
    champion: str = "lightgbm"
    components: FittedCandidates = field(default_factory=dict)
    stacker: Any = None
    stack_columns: list[str] = field(default_factory=list)

    @property
    def feature_names(self) -> list[str]:
        """Columns of the booster's input, in order."""
        return [*self.numeric_features, *self.categorical_levels]

    @property
    def input_columns(self) -> list[str]:
        """Columns read from the caller's frame (BTYD outputs and season columns are computed inside)."""
        from custml.models.candidates import candidate_names, get_candidate
        from custml.models.hybrid import BTYD_INPUT_COLUMNS

        derived = set(self.btyd.get_feature_names_out()[-4:]) if self.btyd is not None else set()
        base = [c for c in self.feature_names if c not in derived]
        if self.btyd is not None:
            base += [c for c in BTYD_INPUT_COLUMNS if c not in base]
        if self.season_feature:
            base = [c for c in base if c not in SEASON_FEATURES] + ["cutoff"]
        registered = set(candidate_names(include_stack=False))
        for name in self.components:
            if name in registered:
                base += [c for c in get_candidate(name).needs if c not in base]
        return base

    def design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the model's BTYD and season columns added (what every candidate reads)."""
        if len(frame) == 0:
            raise SchemaError("features", None, "is empty: nothing to score")
        return design_frame(frame, self.btyd, self.season_feature)

    def candidate_scores(self, frame: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
        """Uncalibrated scores of the candidates' components (``lightgbm`` = raw booster), indexed like ``frame``."""
        names = names if names is not None else ["lightgbm", *self.components]
        data = self.design(frame)
        out = pd.DataFrame(index=frame.index)
        for name in names:
            if name == "lightgbm":
                out[name] = self._booster_predict(data)
            else:
                out[name] = np.asarray(self.components[name].predict_proba(data)[:, 1], dtype=float)
        return out

    def champion_score(self, frame: pd.DataFrame) -> np.ndarray:
        """The champion's score before calibration."""
        if self.champion == "lightgbm":
            return self.predict_raw(frame)
        if self.champion == "stack":
            scores = self.candidate_scores(frame, list(self.stack_columns))
            return np.asarray(
                self.stacker.predict_proba(stack_inputs(scores, list(self.stack_columns)))[:, 1], dtype=float
            )
        return self.candidate_scores(frame, [self.champion])[self.champion].to_numpy()

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The booster's input matrix for a feature frame (see module docstring)."""
        return prepare_features(self.design(frame), self.numeric_features, self.categorical_levels)

    def _booster_predict(self, data: pd.DataFrame) -> np.ndarray:
        X = prepare_features(data, self.numeric_features, self.categorical_levels)
        return np.asarray(
            self.booster.predict(X, num_iteration=self.booster.best_iteration or None), dtype=float
        )

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated booster probabilities."""
        return self._booster_predict(self.design(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the positive class (churn, or repurchase) per row, from the champion."""
        if len(frame) == 0:
            raise SchemaError("features", None, "is empty: nothing to score")
        return self.calibrator.predict(self.champion_score(frame).reshape(-1, 1))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contributions (SHAP values, log-odds of the raw booster) from LightGBM ``pred_contrib``.

        Returns
        -------
        pandas.DataFrame
            One column per model feature plus ``bias``, indexed like ``frame``.
        """
        X = self.prepare(frame)
        contrib = self.booster.predict(
            X, num_iteration=self.booster.best_iteration or None, pred_contrib=True
        )
        return pd.DataFrame(np.asarray(contrib), index=frame.index, columns=[*self.feature_names, "bias"])

    def feature_importance(self) -> pd.DataFrame:
        """Gain and split importance per feature, highest gain first."""
        names = self.booster.feature_name()
        gain = self.booster.feature_importance("gain", iteration=self.booster.best_iteration or None)
        split = self.booster.feature_importance("split", iteration=self.booster.best_iteration or None)
        out = pd.DataFrame({"feature": names, "gain": gain, "split": split})
        out["gain_share"] = out["gain"] / max(out["gain"].sum(), 1e-12)
        return out.sort_values("gain", ascending=False, ignore_index=True)
