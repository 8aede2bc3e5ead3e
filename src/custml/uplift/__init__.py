"""Uplift: who an action changes, by how much, and who to contact under a budget.

Learners of the individual effect of a randomised campaign (:mod:`custml.uplift.learners`), uplift metrics
(:mod:`custml.uplift.metrics`), the campaign training table and fit (:mod:`custml.uplift.campaign`),
expected-profit targeting (:mod:`custml.uplift.targeting`) and the comparison with a known truth
(:mod:`custml.uplift.evaluate`).
"""

from custml.uplift.campaign import (
    CampaignData,
    CampaignUplift,
    UpliftCalibrator,
    UpliftParams,
    ValueUpliftCalibrator,
    campaign_table,
    choose_campaign,
    fit_campaign_uplift,
    fit_from_tables,
    model_columns,
)
from custml.uplift.evaluate import uplift_vs_truth
from custml.uplift.learners import DRLearner, TLearner, XLearner
from custml.uplift.metrics import (
    qini_auc_interval,
    qini_auc_score,
    qini_curve,
    uplift_at_k,
    uplift_auc_score,
    uplift_curve,
)
from custml.uplift.targeting import (
    NO_CONTACT,
    ActionOffer,
    expected_profit,
    plan_contacts,
    policy_table,
    profit_curve,
)

__all__ = [
    "NO_CONTACT",
    "ActionOffer",
    "CampaignData",
    "CampaignUplift",
    "DRLearner",
    "TLearner",
    "UpliftCalibrator",
    "UpliftParams",
    "ValueUpliftCalibrator",
    "XLearner",
    "campaign_table",
    "choose_campaign",
    "expected_profit",
    "fit_campaign_uplift",
    "fit_from_tables",
    "model_columns",
    "plan_contacts",
    "policy_table",
    "profit_curve",
    "qini_auc_interval",
    "qini_auc_score",
    "qini_curve",
    "uplift_at_k",
    "uplift_auc_score",
    "uplift_curve",
    "uplift_vs_truth",
]
