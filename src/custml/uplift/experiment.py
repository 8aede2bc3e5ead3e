"""The uplift experiment on a synthetic world: learners against the true uplift, and targeting policies.

:func:`campaign_experiment` takes a generated world (clean tables, ``dirty=0``, so the truth's ids are the
tables' ids), builds the features at the campaign's send day, splits the campaign's customers in two
(stratified by arm), fits each learner on one half and scores the other against the oracle's per-customer
uplift (:func:`custml.synth.oracle_campaign_uplift`): rank correlation, policy value against the oracle
policy, and the profit each targeting policy really earns under a budget.

:func:`heterogeneous_campaign_world` is the world of the tests and notebook 09: the default world's offer
moves a 180-day churn label by 0.4 points on average and by type alone (which no purchase history reveals),
so no learner can rank customers there (see the LOGBOOK); this world sends the offer earlier, for a year, with
stronger effects, and makes the reaction depend on the persona (big spenders and loyal regulars mostly
persuadable, bargain hunters often sleeping dogs), which purchase behaviour does reveal.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custml.uplift.campaign import (
    CampaignData,
    UpliftParams,
    campaign_table,
    choose_campaign,
    fit_campaign_uplift,
    value_by_customer,
    with_value,
)
from custml.uplift.evaluate import uplift_vs_truth
from custml.uplift.learners import default_classifier
from custml.uplift.targeting import policy_table, profit_curve

__all__ = ["CampaignExperiment", "campaign_experiment", "heterogeneous_campaign_world"]


def heterogeneous_campaign_world(n_customers: int = 30_000, seed: int = 7) -> object:
    """:class:`custml.synth.WorldParams` of a world whose offer effect depends on observable behaviour."""
    from custml.synth import WorldParams

    p = WorldParams(n_customers=n_customers, seed=seed)
    personas = {
        name: persona.model_copy(
            update={
                "uplift_weights": {
                    "persuadable": 0.9 if name in ("big_spender", "loyal_regular") else 0.1,
                    "sleeping_dog": 0.5 if name == "bargain_hunter" else 0.05,
                }
            }
        )
        for name, persona in p.personas.items()
    }
    campaign = p.campaign.model_copy(
        update={
            "sent": "2025-01-01 09:00:00",
            "effect_days": 360,
            "effect_persuadable": -3.0,
            "effect_sleeping_dog": 1.5,
        }  # fmt: skip
    )
    return p.model_copy(update={"personas": personas, "campaign": campaign})


@dataclass
class CampaignExperiment:
    """Results: one row per learner (``metrics``), policy tables and true-profit curves per learner.

    ``frames``: per learner, the held-out customers (``uplift``, ``true_uplift``, ``expected_value_12m``,
    ``churn_probability``) to evaluate other budgets with :func:`custml.uplift.targeting.policy_table`.
    """

    metrics: pd.DataFrame
    policies: dict[str, pd.DataFrame]
    curves: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    offer_cost: float
    margin: float
    budget: float
    n_train: int
    n_test: int
    true_average_uplift: float


def _subset(data: CampaignData, rows: np.ndarray) -> CampaignData:
    return CampaignData(
        campaign_id=data.campaign_id,
        send_day=data.send_day,
        customer_id=data.customer_id[rows],
        X=data.X.iloc[rows].reset_index(drop=True),
        treatment=data.treatment[rows],
        churned=data.churned[rows],
        offer_cost=data.offer_cost,
        value=None if data.value is None else data.value[rows],
    )


def campaign_experiment(
    world: object,
    *,
    learners: Sequence[str] = ("t", "x", "dr"),
    params: UpliftParams | None = None,
    budget_share: float = 0.05,
    test_share: float = 0.5,
    seed: int = 0,
) -> CampaignExperiment:
    """Fit each learner on half of the campaign and score the other half against the truth.

    ``budget_share``: the budget buys offers for this share of the test half. ``params`` sets horizon, margin,
    cost and calibration (``learner`` is overridden by each of ``learners``).
    """
    from custml.features import build_features
    from custml.synth import oracle_campaign_uplift

    params = params or UpliftParams()
    tables = {"customers": world.customers, "orders": world.orders, "interactions": world.interactions}  # type: ignore[attr-defined]
    _, send_day = choose_campaign(world.campaigns, params.campaign_id)  # type: ignore[attr-defined]
    feats = build_features(tables, send_day)
    value = value_by_customer(feats)
    data = with_value(campaign_table(world.campaigns, world.orders, feats, params), feats, value)  # type: ignore[attr-defined]
    truth = oracle_campaign_uplift(  # the same outcome as the learners': lapsed by the end with a window
        world.truth["customers"],  # type: ignore[attr-defined]
        params.horizon_days,
        window_start_days=params.outcome_start_days,
    ).set_index("customer_id")
    true_uplift = truth["true_uplift"].reindex(data.customer_id).to_numpy(dtype=float)
    test = _stratified_test(data.treatment, test_share, np.random.default_rng(seed))
    train_rows, test_rows = np.flatnonzero(~test), np.flatnonzero(test)
    train, held = _subset(data, train_rows), _subset(data, test_rows)
    control = train.treatment == 0
    risk_model = default_classifier(params.random_state, params.n_jobs).fit(
        train.X[control], train.churned[control]
    )
    frame = pd.DataFrame(
        {
            "expected_value_12m": value.reindex(held.customer_id).to_numpy(dtype=float),
            "churn_probability": risk_model.predict_proba(held.X)[:, 1],
            "true_uplift": true_uplift[test_rows],
        }
    )
    cost = params.offer_cost if params.offer_cost is not None else data.offer_cost
    budget = float(np.floor(budget_share * len(held.customer_id)) * cost)
    results = [
        _score_learner(train, held, frame, params.model_copy(update={"learner": learner}), budget, cost, seed)
        for learner in learners
    ]
    return CampaignExperiment(
        metrics=pd.DataFrame([r.metrics for r in results]),
        policies={r.learner: r.policy for r in results},
        curves=pd.concat([r.curve for r in results], ignore_index=True),
        frames={r.learner: r.frame for r in results},
        offer_cost=float(cost),
        margin=float(params.margin),
        budget=budget,
        n_train=len(train_rows),
        n_test=len(test_rows),
        true_average_uplift=float(np.nanmean(true_uplift)),
    )


def _stratified_test(treatment: np.ndarray, test_share: float, rng: np.random.Generator) -> np.ndarray:
    """Mask of the held-out rows: ``test_share`` of each arm."""
    test = np.zeros(len(treatment), dtype=bool)
    for arm in (0, 1):
        arm_rows = np.flatnonzero(treatment == arm)
        test[rng.choice(arm_rows, size=int(round(test_share * len(arm_rows))), replace=False)] = True
    return test


@dataclass(frozen=True)
class _LearnerResult:
    """One learner's row of metrics, policy table, true-profit curve and held-out frame."""

    learner: str
    metrics: dict[str, float | str]
    policy: pd.DataFrame
    curve: pd.DataFrame
    frame: pd.DataFrame


# Policies of the policy table whose true profit is reported, and the metric each becomes.
_POLICY_METRICS = {
    "churn risk": "risk_true_profit",
    "value x risk": "value_risk_true_profit",
    "random": "random_true_profit",
    "expected profit, whole budget": "plan_whole_budget_true_profit",
    "value": "value_true_profit",
    "oracle": "oracle_true_profit",
}


def _score_learner(
    train: CampaignData,
    held: CampaignData,
    frame: pd.DataFrame,
    params: UpliftParams,
    budget: float,
    cost: float,
    seed: int,
) -> _LearnerResult:
    """Fit ``params.learner`` on ``train``; score the held-out customers against the truth and the policies."""
    t0 = time.perf_counter()
    model = fit_campaign_uplift(train, params)
    seconds = time.perf_counter() - t0
    u = model.predict(held.X, value=frame["expected_value_12m"].to_numpy())
    f = frame.assign(uplift=u)
    # ranks from the learner itself (calibration is a monotone rescaling that may flatten to a constant)
    m: dict[str, float | str] = {"learner": params.learner}
    m |= uplift_vs_truth(model.predict_raw(held.X), f["true_uplift"].to_numpy())
    m.update({f"holdout_{k}": v for k, v in model.holdout.items()})
    m["calibration_slope"] = model.calibrator.slope_ if model.calibrator is not None else float("nan")
    table = policy_table(f, budget, cost, margin=params.margin, true_uplift_column="true_uplift", seed=seed)
    by = table.set_index("policy")
    m["fit_seconds"] = seconds
    m["plan_contacted"] = float(by.loc["expected profit", "contacted"])
    m["plan_true_profit"] = float(by.loc["expected profit", "true_profit"])
    m["plan_expected_profit"] = float(by.loc["expected profit", "expected_profit"])
    m |= {name: float(by.loc[policy, "true_profit"]) for policy, name in _POLICY_METRICS.items()}
    curve = profit_curve(f.assign(expected_profit=u * f["expected_value_12m"] * params.margin - cost), cost,
                         margin=params.margin, profit_uplift_column="true_uplift")  # fmt: skip
    return _LearnerResult(params.learner, m, table, curve.assign(learner=params.learner), f)
