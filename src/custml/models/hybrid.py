"""BTYD outputs as features for the gradient-boosted models (the hybrid).

:class:`BTYDFeatures` fits BG/NBD and Gamma-Gamma on the training rows' ``btyd_*`` input columns (repeat
purchase days, recency and age in days, mean repeat value; built by the features stage) and adds, per row:
probability alive, expected purchases and probability of at least one purchase within the label horizon,
and expected value over the next ``clv_months`` months. The BTYD fit uses no labels, so it may share the
training rows of the booster without leakage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from custml.errors import SchemaError
from custml.models.btyd import BetaGeoFitter, GammaGammaFitter

__all__ = ["BTYD_INPUT_COLUMNS", "BTYD_OUTPUT_FEATURES", "SEASON_SPECS", "BTYDFeatures", "HybridFeatureSpec"]

logger = logging.getLogger(__name__)

BTYD_INPUT_COLUMNS = ("btyd_frequency", "btyd_recency_days", "btyd_T_days", "btyd_monetary")


@dataclass(frozen=True)
class HybridFeatureSpec:
    """Catalogue entry of a derived feature (same reason-template fields as the features catalogue)."""

    name: str
    description: str
    reason_high: str
    reason_low: str
    group: str = "btyd"
    dtype: str = "numeric"
    window_days: int | None = None


BTYD_OUTPUT_FEATURES: tuple[HybridFeatureSpec, ...] = (
    HybridFeatureSpec(
        "btyd_p_alive",
        "BG/NBD probability that the customer is still active",
        "buying pattern says still active (p alive {value})",
        "buying pattern suggests the customer has lapsed (p alive {value})",
    ),
    HybridFeatureSpec(
        "btyd_expected_purchases",
        "BG/NBD expected purchase days within the label horizon",
        "expected to buy often soon ({value} purchases expected)",
        "few purchases expected soon ({value} expected)",
    ),
    HybridFeatureSpec(
        "btyd_p_purchase",
        "BG/NBD probability of at least one purchase within the label horizon",
        "likely to buy again soon (BTYD chance {value})",
        "unlikely to buy again soon (BTYD chance {value})",
    ),
    HybridFeatureSpec(
        "btyd_expected_value_12m",
        "BG/NBD x Gamma-Gamma expected value of purchases over the next 12 months",
        "high expected 12-month value ({value})",
        "low expected 12-month value ({value})",
    ),
)


SEASON_SPECS: tuple[HybridFeatureSpec, ...] = tuple(
    HybridFeatureSpec(
        name,
        f"Time of year of the scoring date ({part} of the day of year)",
        "time of year",
        "time of year",
        group="calendar",
    )
    for name, part in (("cutoff_season_sin", "sine"), ("cutoff_season_cos", "cosine"))
)


def _clean_inputs(frame: pd.DataFrame, unit_days: float) -> tuple[np.ndarray, ...]:
    """(valid mask, x, t_x, T, monetary) in model time units; rows with missing inputs are invalid."""
    missing = [c for c in BTYD_INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError("training_set", missing[0], "is missing (needed for the BTYD features)")
    x = pd.to_numeric(frame["btyd_frequency"], errors="coerce").to_numpy(dtype=float)
    t_x = pd.to_numeric(frame["btyd_recency_days"], errors="coerce").to_numpy(dtype=float)
    big_t = pd.to_numeric(frame["btyd_T_days"], errors="coerce").to_numpy(dtype=float)
    m = pd.to_numeric(frame["btyd_monetary"], errors="coerce").to_numpy(dtype=float)
    valid = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(big_t) & (x >= 0) & (big_t >= 0)
    x = np.where(valid, np.round(x), 0.0)
    big_t = np.where(valid, big_t, 0.0) / unit_days
    # Features are day-resolved; guard the model's invariants against rounding (t_x <= T, t_x = 0 without repeats).
    t_x = np.where(valid & (x > 0), np.clip(np.nan_to_num(t_x), 0.0, None) / unit_days, 0.0)
    t_x = np.minimum(t_x, big_t)
    m = np.where(np.isfinite(m), m, 0.0)
    return valid, x, t_x, big_t, m


class BTYDFeatures(TransformerMixin, BaseEstimator):
    """Add BG/NBD / Gamma-Gamma predictions as columns (see module docstring).

    Parameters
    ----------
    horizon_days : int
        Window for expected purchases and purchase probability (the label horizon).
    clv_months : int
        Horizon of the expected value.
    time_unit_days : float
        Time unit the BTYD models are fitted in (7 = weeks).
    penalizer_coef : float
        L2 penalty of both fitters (a little keeps the fit stable on skewed synthetic worlds).

    Attributes
    ----------
    bgnbd_ : BetaGeoFitter
    gamma_gamma_ : GammaGammaFitter or None
        ``None`` when too few repeat buyers with positive spend (expected value then uses the mean spend).
    mean_spend_ : float

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"btyd_frequency": [0, 2, 5, 1, 3, 0], "btyd_recency_days": [0, 60, 300, 10, 200, 0],
    ...                    "btyd_T_days": [100, 120, 310, 400, 210, 30], "btyd_monetary": [0, 20, 35, 15, 25, 0]})
    >>> out = BTYDFeatures(horizon_days=90).fit(df).transform(df)
    >>> list(out.columns[-4:])
    ['btyd_p_alive', 'btyd_expected_purchases', 'btyd_p_purchase', 'btyd_expected_value_12m']
    """

    def __init__(
        self,
        horizon_days: int = 90,
        clv_months: int = 12,
        time_unit_days: float = 7.0,
        penalizer_coef: float = 0.001,
    ) -> None:
        self.horizon_days = horizon_days
        self.clv_months = clv_months
        self.time_unit_days = time_unit_days
        self.penalizer_coef = penalizer_coef

    def fit(self, X: pd.DataFrame, y: object = None) -> BTYDFeatures:
        """Fit BG/NBD on every row with BTYD inputs, Gamma-Gamma on repeat buyers with positive spend."""
        valid, x, t_x, big_t, m = _clean_inputs(X, self.time_unit_days)
        if valid.sum() < 3:
            raise SchemaError("training_set", "btyd_frequency", "has fewer than 3 usable rows for BG/NBD")
        self.bgnbd_ = BetaGeoFitter(penalizer_coef=self.penalizer_coef, standard_errors=False).fit(
            x[valid], t_x[valid], big_t[valid]
        )
        repeat = valid & (x > 0) & (m > 0)
        self.mean_spend_ = float(m[repeat].mean()) if repeat.any() else 0.0
        self.gamma_gamma_: GammaGammaFitter | None = None
        if repeat.sum() >= 20:
            try:
                gg = GammaGammaFitter(penalizer_coef=self.penalizer_coef, standard_errors=False).fit(
                    x[repeat], m[repeat]
                )
                if gg.params_["q"] > 1.0:
                    self.gamma_gamma_ = gg
            except (ValueError, FloatingPointError) as exc:  # pragma: no cover - depends on data
                logger.warning("Gamma-Gamma fit failed (%s); expected value uses the mean spend", exc)
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def btyd_predictions(self, X: pd.DataFrame) -> pd.DataFrame:
        """The four BTYD columns alone (NaN where the inputs are missing), indexed like ``X``."""
        check_is_fitted(self, "bgnbd_")
        valid, x, t_x, big_t, m = _clean_inputs(X, self.time_unit_days)
        h = self.horizon_days / self.time_unit_days
        out = np.full((len(X), 4), np.nan)
        if valid.any():
            xv, tv, Tv, mv = x[valid], t_x[valid], big_t[valid], np.clip(m[valid], 0.0, None)
            bg = self.bgnbd_
            cols = [
                np.asarray(bg.conditional_probability_alive(xv, tv, Tv), dtype=float),
                np.asarray(
                    bg.conditional_expected_number_of_purchases_up_to_time(h, xv, tv, Tv), dtype=float
                ),
                np.asarray(bg.conditional_probability_of_purchase_in(h, xv, tv, Tv), dtype=float),
            ]
            month = 30.0 / self.time_unit_days
            if self.gamma_gamma_ is not None:
                spend = np.asarray(self.gamma_gamma_.conditional_expected_average_profit(xv, mv), dtype=float)
            else:
                spend = np.where(xv > 0, mv, self.mean_spend_)
            purchases = np.asarray(
                bg.conditional_expected_number_of_purchases_up_to_time(self.clv_months * month, xv, tv, Tv),
                dtype=float,
            )
            cols.append(spend * purchases)
            out[valid] = np.column_stack(cols)
        return pd.DataFrame(out, index=X.index, columns=[s.name for s in BTYD_OUTPUT_FEATURES])

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` with the four BTYD columns appended (replacing same-named columns); ``X`` is not modified."""
        preds = self.btyd_predictions(X)
        return pd.concat([X.drop(columns=list(preds.columns), errors="ignore"), preds], axis=1)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Input columns followed by the BTYD columns."""
        check_is_fitted(self, "bgnbd_")
        base = [c for c in self.feature_names_in_ if c not in {s.name for s in BTYD_OUTPUT_FEATURES}]
        return np.asarray([*base, *(s.name for s in BTYD_OUTPUT_FEATURES)], dtype=object)
