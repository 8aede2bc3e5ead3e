"""The report's "Who to save" section: figures from the scores' uplift columns, fallback, both languages."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from custml.report import build_report_data, render_html
from custml.report.i18n import LABELS
from custml.report.sample import sample_scores


def _with_uplift(n: int = 400) -> tuple[pd.DataFrame, dict]:
    scores, meta = sample_scores(n, seed=3)
    rng = np.random.default_rng(0)
    scores = scores.assign(uplift=rng.normal(0.02, 0.05, n), p_alive=rng.random(n))
    scores["expected_profit"] = scores["uplift"] * scores["expected_value_12m"] * 0.3 - 10.0
    scores["chosen_action"] = np.where(scores["expected_profit"] > 0, "retention offer", "no action")
    meta = {**meta, "uplift": {"status": "fitted", "offer_cost": 10.0, "margin": 0.3, "average_uplift": 0.012,
                               "n_treated": 900}}  # fmt: skip
    return scores, meta


def test_who_to_save_figures_come_from_the_scores() -> None:
    scores, meta = _with_uplift()
    who = build_report_data(scores, meta).who_to_save
    chosen = scores["chosen_action"] == "retention offer"
    assert who is not None and not who.fallback
    assert who.contacted == int(chosen.sum()) and who.spend == pytest.approx(10.0 * chosen.sum())
    assert who.expected_profit == pytest.approx(scores.loc[chosen, "expected_profit"].sum())
    high = scores["churn_probability"] >= 0.5
    active = ~scores["lifecycle_stage"].isin(["prospect", "churned"])
    still = active & (scores["p_alive"] >= 0.5)
    assert who.n_active_at_risk == int((high & still).sum())
    assert who.n_lapsed_at_risk == int((high & ~still).sum())  # the same rule as the report's headline
    # the curve peaks where the plan stops (all positive profits taken, highest first)
    assert who.curve["profit"].max() == pytest.approx(who.expected_profit, rel=0.02)
    by = who.policies.set_index("policy")
    assert by.loc["policy_plan", "expected_profit"] >= by.drop(index="policy_plan")["expected_profit"].max()
    assert (by["contacted"] == who.contacted).all()
    assert who.contacts["expected_profit"].is_monotonic_decreasing and len(who.contacts) <= 15


def test_who_to_save_renders_in_both_languages_and_every_label_exists_in_both() -> None:
    scores, meta = _with_uplift()
    data = build_report_data(scores, meta)
    en, zh = render_html(data, "en", sections={"who"}), render_html(data, "zh", sections={"who"})
    assert 'id="who-to-save"' in en and "Who to save" in en and "chart-profit-curve" in en
    assert 'id="who-to-save"' in zh and "挽留谁" in zh
    who_keys = {
        k for k in LABELS["en"] if k.startswith(("who_", "policy_", "msg_who", "sec_who", "intro_who"))
    }
    assert who_keys and who_keys <= set(LABELS["zh"])


def test_who_to_save_falls_back_without_campaign_and_is_absent_for_old_scores() -> None:
    scores, meta = sample_scores(200, seed=1)
    assert build_report_data(scores, meta).who_to_save is None
    assert 'id="who-to-save"' not in render_html(build_report_data(scores, meta), "en", sections={"who"})
    bare = scores.assign(uplift=np.nan, expected_profit=np.nan, chosen_action=scores["recommended_action"])
    data = build_report_data(bare, {**meta, "uplift": {"status": "no campaign data: rule-based actions"}})
    assert data.who_to_save is not None and data.who_to_save.fallback
    assert [m.key for m in data.who_messages] == ["msg_who_fallback"]
    assert "No randomised campaign" in render_html(data, "en", sections={"who"})
    # a campaign whose model the promotion gate kept: the section says why instead of "no campaign"
    why = "the gate did not promote custml-uplift v1: held-out Qini AUC -0.0045 <= 0"
    status = f"no uplift model ({why}): rule-based actions"
    kept = build_report_data(bare, {**meta, "uplift": {"status": status}})
    assert [m.key for m in kept.who_messages] == ["msg_who_no_model"]
    en, zh = (html.unescape(render_html(kept, lang, sections={"who"})) for lang in ("en", "zh"))
    assert f"The campaign's uplift model is not used ({why})" in en and "No randomised campaign" not in en
    assert why in zh


def test_nobody_is_contacted_when_no_offer_pays() -> None:
    scores, meta = _with_uplift()
    scores = scores.assign(expected_profit=-10.0, chosen_action="no action")
    data = build_report_data(scores, meta)
    assert data.who_to_save.contacted == 0
    assert "msg_who_nobody" in [m.key for m in data.who_messages]
    assert 'id="who-to-save"' in render_html(data, "zh", sections={"who"})


def test_the_section_states_what_churn_means_for_the_offer() -> None:
    scores, meta = _with_uplift()
    meta["uplift"] = {**meta["uplift"], "outcome_window_days": 90, "horizon_days": 180}
    data = build_report_data(scores, meta)
    assert "msg_who_churn_window" in [m.key for m in data.who_messages]
    assert "no order in the last 90 days of the 180 days after the offer" in render_html(
        data, "en", sections={"who"}
    )
    assert "最后 90 天没有任何订单" in render_html(data, "zh", sections={"who"})
    # the whole-horizon label (no window) has no such sentence
    meta["uplift"] = {**meta["uplift"], "outcome_window_days": None}
    assert "msg_who_churn_window" not in [m.key for m in build_report_data(scores, meta).who_messages]


def test_the_plan_comparison_and_profit_curve_are_the_targeting_modules() -> None:
    """One definition: the section's policy rows and curve are custml.uplift.targeting's, at the plan's spend."""
    from custml.uplift.targeting import policy_table, profit_curve

    scores, meta = _with_uplift()
    who = build_report_data(scores, meta).who_to_save
    assert who is not None and who.contacted > 0
    table = policy_table(scores, who.contacted * 10.0, 10.0, margin=0.3).set_index("policy")
    shown = who.policies.set_index("policy")
    for name, key in [("expected profit", "policy_plan"), ("churn risk", "policy_risk"),
                      ("value x risk", "policy_value_risk"), ("random", "policy_random")]:  # fmt: skip
        assert shown.loc[key].tolist() == pytest.approx(
            table.loc[name, ["contacted", "cost", "expected_profit"]].tolist()
        )
    # the plan row of the comparison is the scored plan itself
    assert shown.loc["policy_plan", "expected_profit"] == pytest.approx(who.expected_profit)
    # random targeting is valued at its expectation: contacts x the mean expected profit over all customers
    mean = (scores["uplift"] * scores["expected_value_12m"] * 0.3 - 10.0).mean()
    assert shown.loc["policy_random", "expected_profit"] == pytest.approx(mean * who.contacted)
    pd.testing.assert_frame_equal(who.curve, profit_curve(scores, 10.0, margin=0.3))
