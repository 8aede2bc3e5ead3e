"""P(still a customer): BTYD posteriors, the model's own estimate from observable data, and their evaluation.

Three estimates of the latent "alive" state at a cut-off (the customer has not dropped out), all from the
history before the cut-off:

- :func:`btyd_probability_alive` with ``model="pareto_nbd"`` or ``"bgnbd"``: the BTYD posterior
  ``P(alive | x, t_x, T)`` from the ``btyd_*`` features (what scoring writes as ``p_alive`` is the Pareto/NBD).
- :func:`fit_alive_model`: LightGBM (:class:`~custml.models.CustomerClassifier`) on a long-horizon label,
  "any purchase in the ``window_days`` after the cut-off" (default 365), at earlier cut-offs whose window
  ends by the as-of date (:func:`alive_training_set`), applied to every customer with an order. A purchase
  proves the customer was alive; no purchase in a year is mostly, but not only, having left. So the estimate
  is a lower bound of P(alive) by construction (an alive customer who buys less than once a year, or dies
  within the year, counts as gone): good at ranking, biased low in level. The measured figures are in
  ``experiments/LOGBOOK.md`` and ``docs/models.md``.

:func:`evaluate_alive` scores any of these (and a naive reference such as ``1 - P(churn)``) against the
synthetic truth's dropout: ROC AUC and ECE against "not dropped out at the as-of date".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from custml.errors import SchemaError
from custml.features import build_features, build_training_set, rolling_cutoffs
from custml.features.engines import TableInput
from custml.frames import isin
from custml.models.btyd import BetaGeoFitter, ParetoNBDFitter
from custml.models.estimator import CustomerClassifier
from custml.models.metrics import expected_calibration_error

__all__ = [
    "alive_training_set",
    "compare_alive",
    "btyd_probability_alive",
    "evaluate_alive",
    "feature_matrix",
    "fit_alive_model",
    "predict_alive",
    "true_alive",
]

_BTYD = ("btyd_frequency", "btyd_recency_days", "btyd_T_days")
_NOT_FEATURES = ("customer_id", "cutoff", "label")


def btyd_probability_alive(
    features: pd.DataFrame,
    model: Literal["pareto_nbd", "bgnbd"] = "pareto_nbd",
    penalizer_coef: float = 1e-4,
    fit_sample_size: int | None = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """``customer_id``, ``p_alive`` from a BTYD model fitted on the ``btyd_*`` features (weeks); null without orders.

    The model is fitted on a seeded sample of ``fit_sample_size`` buyers and applied to all (see
    :mod:`custml.scoring.alive` for why the small penalty and why Pareto/NBD is the default).

    Raises
    ------
    SchemaError
        If a ``btyd_*`` column is missing or fewer than two customers have a repeat purchase.
    """
    if model not in ("pareto_nbd", "bgnbd"):
        raise ValueError(f"model must be 'pareto_nbd' or 'bgnbd', got {model!r}")
    missing = [c for c in ("customer_id", *_BTYD) if c not in features.columns]
    if missing:
        raise SchemaError("features", missing[0], f"is needed for P(alive) but missing (all: {missing})")
    x, t_x, big_t = (
        pd.to_numeric(features[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for c in _BTYD
    )
    buyer = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(big_t) & (big_t > 0)
    name = "Pareto/NBD" if model == "pareto_nbd" else "BG/NBD"
    if int((buyer & (x > 0)).sum()) < 2:
        raise SchemaError(
            "features", "btyd_frequency", f"fewer than two repeat buyers: cannot fit {name}", int(buyer.sum())
        )
    xb = np.maximum(np.round(x[buyer]), 0)
    tb = np.clip(t_x[buyer], 0, big_t[buyer]) / 7.0
    Tb = big_t[buyer] / 7.0
    fit = np.arange(len(xb))
    if fit_sample_size is not None and len(xb) > fit_sample_size:
        fit = np.sort(np.random.default_rng(seed).choice(len(xb), size=fit_sample_size, replace=False))
    fitter = ParetoNBDFitter if model == "pareto_nbd" else BetaGeoFitter
    fitted = fitter(penalizer_coef=penalizer_coef).fit(xb[fit], tb[fit], Tb[fit])
    p = np.full(len(x), np.nan)
    p[buyer] = np.clip(np.asarray(fitted.conditional_probability_alive(xb, tb, Tb), dtype=float), 0.0, 1.0)
    return pd.DataFrame(
        {"customer_id": features["customer_id"].to_numpy(), "p_alive": p}, index=features.index
    )


def alive_training_set(
    tables: Mapping[str, TableInput],
    as_of: object,
    window_days: int = 365,
    n_cutoffs: int = 4,
    step_days: int = 30,
) -> pd.DataFrame:
    """Features at ``n_cutoffs`` cut-offs and ``label`` = any purchase in the ``window_days`` after each.

    The latest cut-off is ``as_of - window_days``, so every label has matured by ``as_of`` and nothing at or
    after ``as_of`` is used. The population is every customer with an order before the cut-off (the
    repurchase population of :func:`custml.features.build_training_set`, with a long horizon).
    """
    cutoffs = rolling_cutoffs(as_of, n_cutoffs, step_days=step_days, horizon_days=window_days)
    return build_training_set(tables, cutoffs, "repurchase", horizon_days=window_days, data_end=as_of)


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The model inputs of a feature (or training) table: every column but ``customer_id``, ``cutoff``, ``label``."""
    return frame.drop(columns=[c for c in _NOT_FEATURES if c in frame.columns])


def fit_alive_model(training_set: pd.DataFrame, **params: Any) -> CustomerClassifier:
    """A :class:`CustomerClassifier` of the long-horizon purchase label (``params`` go to the classifier).

    Raises
    ------
    SchemaError
        If ``training_set`` has no ``label`` column or a single class.
    """
    if "label" not in training_set.columns:
        raise SchemaError("alive_training_set", "label", "is missing (build it with alive_training_set)")
    y = training_set["label"].astype(int)
    if y.nunique() < 2:
        raise SchemaError("alive_training_set", "label", "has a single class", n_rows=len(y))
    params.setdefault("random_state", 0)
    return CustomerClassifier(**params).fit(feature_matrix(training_set), y)


def predict_alive(model: CustomerClassifier, features: pd.DataFrame) -> pd.DataFrame:
    """``customer_id``, ``p_alive_model`` for the customers with an order before the cut-off (``frequency_orders > 0``)."""
    buyers = features.loc[
        pd.to_numeric(features["frequency_orders"], errors="coerce").fillna(0).to_numpy() > 0
    ]
    p = model.predict_proba(feature_matrix(buyers))[:, 1]
    return pd.DataFrame({"customer_id": buyers["customer_id"].to_numpy(), "p_alive_model": p})


def true_alive(truth: pd.DataFrame, as_of: object) -> pd.Series:
    """The truth's alive state at ``as_of`` (not dropped out strictly before it), indexed by ``customer_id``."""
    for col in ("customer_id", "dropout_ts"):
        if col not in truth.columns:
            raise SchemaError("truth customers", col, "required column is missing", len(truth))
    cut = pd.Timestamp(as_of)
    dropout = pd.to_datetime(truth["dropout_ts"])
    if getattr(dropout.dtype, "tz", None) is not None:
        dropout = dropout.dt.tz_convert("UTC").dt.tz_localize(None)
    alive = ~(dropout < cut).to_numpy()
    return pd.Series(alive, index=truth["customer_id"].astype(str).to_numpy(), name="alive")


def evaluate_alive(
    scores: pd.DataFrame, truth: pd.DataFrame, as_of: object, n_bins: int = 10
) -> pd.DataFrame:
    """ROC AUC, ECE and Brier score of each score column of ``scores`` against the truth's alive state at ``as_of``.

    Parameters
    ----------
    scores : DataFrame
        ``customer_id`` and one or more columns of probabilities of being alive (rows with a missing score
        are left out of that column's figures).
    truth : DataFrame
        ``customer_id``, ``dropout_ts`` (the synthetic world's ``truth/customers``; NaT = never dropped out).
    as_of : date-like
        The cut-off the scores describe.

    Returns
    -------
    DataFrame
        One row per score: ``score, n, alive_rate, mean_score, roc_auc, ece, brier``.

    Raises
    ------
    SchemaError
        If ``customer_id`` is missing, a scored customer is not in the truth, or a score has one class only.

    Examples
    --------
    >>> truth = pd.DataFrame({"customer_id": list("abcd"),
    ...     "dropout_ts": pd.to_datetime(["2025-01-01", None, None, "2026-01-01"])})
    >>> s = pd.DataFrame({"customer_id": list("abcd"), "good": [0.1, 0.9, 0.8, 0.7]})
    >>> evaluate_alive(s, truth, "2025-06-01", n_bins=2)[["score", "roc_auc", "alive_rate"]]
      score  roc_auc  alive_rate
    0  good      1.0        0.75
    """
    if "customer_id" not in scores.columns:
        raise SchemaError("scores", "customer_id", "required column is missing", len(scores))
    alive = true_alive(truth, as_of)
    ids = scores["customer_id"].astype(str)
    unknown = int((~isin(ids, alive.index)).sum())
    if unknown:
        raise SchemaError("scores", "customer_id", "has customers not in the truth table", n_rows=unknown)
    y_all = alive.reindex(ids.to_numpy()).to_numpy(dtype=float)
    rows = []
    for col in [c for c in scores.columns if c != "customer_id"]:
        p = pd.to_numeric(scores[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        keep = np.isfinite(p)
        y, q = y_all[keep], np.clip(p[keep], 0.0, 1.0)
        if y.size == 0 or y.min() == y.max():
            raise SchemaError(
                "scores", col, "needs alive and dropped-out customers to be scored", n_rows=int(y.size)
            )
        rows.append(
            {
                "score": col,
                "n": int(y.size),
                "alive_rate": float(y.mean()),
                "mean_score": float(q.mean()),
                "roc_auc": float(roc_auc_score(y, q)),
                "ece": expected_calibration_error(y, q, n_bins=n_bins),
                "brier": float(brier_score_loss(y, q)),
            }
        )
    return pd.DataFrame(rows)


def compare_alive(
    tables: Mapping[str, TableInput],
    truth: pd.DataFrame,
    as_of: object,
    window_days: int = 180,
    n_cutoffs: int = 6,
    step_days: int = 30,
    churn_horizon_days: int = 90,
    n_estimators: int = 300,
) -> dict[str, pd.DataFrame]:
    """Every P(alive) estimate at ``as_of`` from the data before it, scored by :func:`evaluate_alive`.

    Scores: ``pareto_nbd`` and ``bgnbd`` (:func:`btyd_probability_alive`), ``lgbm_alive`` (the model's own,
    :func:`fit_alive_model` on :func:`alive_training_set`), and two naive references:
    ``recency_curve`` = ``exp(-recency_days / 365)`` and ``one_minus_churn`` (1 - a :class:`CustomerClassifier`
    churn probability, ``churn_horizon_days`` horizon, trained at the ``n_cutoffs`` latest cut-offs whose
    labels have matured by ``as_of``; only for the churn population, an order in the last 365 days).

    Returns
    -------
    dict
        ``"all_buyers"`` (every customer with an order, without ``one_minus_churn``) and ``"churn_population"``
        (the active customers, all five scores): tables of :func:`evaluate_alive`; ``"scores"``: the scores.
    """
    feats = build_features(tables, as_of)
    scores = predict_alive(
        fit_alive_model(
            alive_training_set(tables, as_of, window_days, n_cutoffs, step_days), n_estimators=n_estimators
        ),
        feats,
    ).rename(columns={"p_alive_model": "lgbm_alive"})
    for model in ("pareto_nbd", "bgnbd"):
        p = btyd_probability_alive(feats, model=model).rename(columns={"p_alive": model})
        scores = scores.merge(p, on="customer_id", how="left")
    recency = pd.to_numeric(feats.set_index("customer_id")["recency_days"], errors="coerce")
    scores["recency_curve"] = np.exp(-recency.reindex(scores["customer_id"]).to_numpy(dtype=float) / 365.0)
    churn_set = build_training_set(
        tables,
        rolling_cutoffs(as_of, n_cutoffs, step_days, churn_horizon_days),
        "churn",
        horizon_days=churn_horizon_days,
        data_end=as_of,
    )
    churn = CustomerClassifier(n_estimators=n_estimators, random_state=0).fit(
        feature_matrix(churn_set), churn_set["label"]
    )
    active = feats.loc[pd.to_numeric(feats["orders_365d"], errors="coerce").fillna(0).to_numpy() > 0]
    naive = pd.DataFrame(
        {
            "customer_id": active["customer_id"].to_numpy(),
            "one_minus_churn": 1.0 - churn.predict_proba(feature_matrix(active))[:, 1],
        }
    )
    both = scores.merge(naive, on="customer_id", how="inner")
    return {
        "all_buyers": evaluate_alive(scores, truth, as_of),
        "churn_population": evaluate_alive(both, truth, as_of),
        "scores": both,
    }
