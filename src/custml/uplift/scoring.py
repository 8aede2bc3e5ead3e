"""Uplift columns on a scores table: estimated uplift, expected profit and the chosen action (or the fallback).

:func:`add_uplift_columns` is pure. With a fitted campaign model it adds, per scored customer, ``uplift`` (the
estimated reduction of the churn probability by the offer), ``expected_profit`` (uplift x 12-month value x
margin - offer cost) and ``chosen_action`` (the offer for those :func:`custml.uplift.targeting.plan_contacts`
picks under the budget, ``"no action"`` for the others). Without campaign data (``model=None``) the old
rule-based ``recommended_action`` is the fallback: ``chosen_action`` copies it and ``uplift``/``expected_profit``
are null, so a scores table always has the same columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custml.contracts import RegistryRef, UpliftSummary
from custml.errors import SchemaError
from custml.uplift.campaign import CampaignUplift
from custml.uplift.targeting import ActionOffer, plan_contacts

__all__ = [
    "UPLIFT_SCORE_COLUMNS",
    "add_uplift_columns",
    "uplift_and_alive",
]

#: Columns :func:`add_uplift_columns` adds to the scores table.
UPLIFT_SCORE_COLUMNS: tuple[str, ...] = ("uplift", "expected_profit", "chosen_action")


def add_uplift_columns(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    model: CampaignUplift | None,
    *,
    budget: float | None = None,
) -> pd.DataFrame:
    """``scores`` with :data:`UPLIFT_SCORE_COLUMNS` (a copy; row order kept).

    Parameters
    ----------
    scores : pandas.DataFrame
        From :func:`custml.scoring.score_customers` (``customer_id``, ``expected_value_12m``,
        ``recommended_action``).
    features : pandas.DataFrame
        The feature table the scores were computed from (one row per scored customer).
    model : CampaignUplift or None
        The fitted campaign model; ``None``: rule-based fallback.
    budget : float, optional
        Spend at most this much on offers; ``None``: every customer whose expected profit is positive.

    Raises
    ------
    SchemaError
        If a scored customer has no feature row, or a column is missing.
    """
    for col in ("customer_id", "expected_value_12m", "recommended_action"):
        if col not in scores.columns:
            raise SchemaError("scores", col, "is needed for the uplift columns but missing")
    out = scores.copy()
    if model is None:
        out["uplift"] = np.nan
        out["expected_profit"] = np.nan
        out["chosen_action"] = out["recommended_action"].astype(object)
        return out
    ids = out["customer_id"].astype(str).to_numpy(dtype=object)
    index = pd.Index(features["customer_id"].astype(str).to_numpy(dtype=object))
    if len(index) == len(ids) and np.array_equal(index.to_numpy(), ids):
        aligned = features.reset_index(drop=True)
    else:
        pos = index.get_indexer(ids)
        if (pos < 0).any():
            raise SchemaError(
                "features", "customer_id", "has no row for some scored customers", int((pos < 0).sum())
            )
        aligned = features.iloc[pos].reset_index(drop=True)
    out["uplift"] = model.predict(
        aligned, value=out["expected_value_12m"].to_numpy(dtype=float, na_value=np.nan)
    )
    plan = plan_contacts(
        out.reset_index(drop=True),
        np.inf if budget is None else budget,
        [ActionOffer(model.params.action, model.offer_cost)],
        margin=model.params.margin,
    )
    out["expected_profit"] = plan["expected_profit"].to_numpy()
    out["chosen_action"] = plan["chosen_action"].to_numpy()
    return out


def uplift_and_alive(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    model: CampaignUplift | None,
    *,
    budget: float | None = None,
    reason: str | None = None,
    info: RegistryRef | None = None,
) -> tuple[pd.DataFrame, UpliftSummary]:
    """Scores with the uplift columns and ``p_alive``, and the uplift summary for the scores' meta (pure).

    ``model``: the registered uplift model the train stage fitted (loaded by the wiring), or ``None`` with
    ``reason`` (why there is none: disabled, no campaign data, not registered); ``chosen_action`` then falls
    back to the rule-based ``recommended_action``. ``info``: the registry's name, version and run of the
    model (:func:`custml.tracking.load_uplift_model`'s info), kept in the summary. ``p_alive`` is the Pareto/NBD probability of still being a customer
    (:func:`custml.scoring.alive.probability_alive`) of the same features.
    """
    from custml.scoring.alive import probability_alive

    if model is None:
        summary = UpliftSummary(status=reason or "no uplift model: rule-based actions")
    else:
        budget = budget if budget is not None else model.params.budget
        ref = (
            RegistryRef(name=info.name, version=info.version, run_id=info.run_id)
            if info is not None
            else None
        )
        summary = model.summary().model_copy(update={"budget": budget, "model": ref})
    out = add_uplift_columns(scores, features, model, budget=budget)
    alive = probability_alive(features).set_index(features["customer_id"].astype(str))["p_alive"]
    out["p_alive"] = alive.reindex(out["customer_id"].astype(str)).to_numpy()
    return out, summary
