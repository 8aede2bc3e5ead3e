"""Statistical sanity of the synthetic world: BTYD parameters recovered, personas, service, campaign, oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from custml.synth import (
    CampaignParams,
    PersonaParams,
    ServiceParams,
    WorldParams,
    default_personas,
    generate_world,
)

REF = pd.Timestamp("2025-10-01")


@pytest.fixture(scope="module")
def world(cached_world):
    return cached_world(n_customers=6000, seed=21)


@pytest.fixture(scope="module")
def big_world(cached_world):
    return cached_world(n_customers=20_000, seed=7)


@pytest.fixture(scope="module")
def btyd_world(cached_world):
    base = default_personas()["occasional"]
    persona = base.model_copy(
        update={"share": 1.0, "rate_mean": 6.0, "rate_shape": 1e4, "hazard_mean": 0.5, "hazard_shape": 1e4}
    )
    params = WorldParams(
        n_customers=4000,
        seed=5,
        personas={"only": persona},
        seasonality=0.0,
        promotions=False,
        disengage_days_mean=0.0,
        p_first_order=1.0,
        service=ServiceParams(enabled=False),
        campaign=CampaignParams(enabled=False),
    )
    return cached_world(params)


def _purchases(w) -> pd.DataFrame:
    return w.orders[~w.orders["is_refund"]]


def test_pure_btyd_recovers_purchase_rate_and_dropout_hazard(btyd_world):
    truth = btyd_world.truth["customers"]
    end = pd.Timestamp(btyd_world.manifest["end"])
    stop = truth["dropout_ts"].fillna(end)
    exposure_years = ((stop - truth["signup_ts"]) / pd.Timedelta(days=365.25)).clip(lower=0)
    dropouts = truth["dropout_ts"].notna().sum()
    mu_hat = dropouts / exposure_years.sum()
    assert mu_hat == pytest.approx(0.5, rel=0.1)
    orders = _purchases(btyd_world)
    repeat = len(orders) - len(truth)  # everyone orders once at signup
    lam_hat = repeat / exposure_years.sum()
    assert lam_hat == pytest.approx(6.0, rel=0.04)
    # gaps between consecutive purchases are exponential with rate lambda + mu (dropout competes); only gaps
    # starting two years before the end, so that the window end does not cut long gaps off
    ts = orders.sort_values(["customer_id", "order_ts"])
    nxt = ts.groupby("customer_id")["order_ts"].shift(-1)
    early = (ts["order_ts"] < end - pd.Timedelta(days=730)) & nxt.notna()
    gaps = (nxt - ts["order_ts"])[early] / pd.Timedelta(days=1)
    assert len(gaps) > 1000
    assert gaps.mean() == pytest.approx(365.25 / 6.5, rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)
    # no purchases after dropout
    merged = orders.merge(truth[["customer_id", "dropout_ts"]], on="customer_id")
    assert not (merged["order_ts"] > merged["dropout_ts"]).any()


def test_personas_differ_as_designed(world):
    truth = world.truth["customers"]
    by = truth.groupby("persona").agg(
        dropped=("alive_at_end", lambda s: 1 - s.mean()), purchases=("n_purchases", "mean")
    )
    assert by["dropped"].idxmax() == "one_timer"
    assert by["dropped"].idxmin() in {"loyal_regular", "big_spender"}
    assert by["purchases"].idxmax() == "loyal_regular"
    assert by["dropped"].max() - by["dropped"].min() > 0.3
    spend = _purchases(world).merge(truth[["customer_id", "persona"]], on="customer_id")
    assert spend.groupby("persona")["net_amount"].mean().idxmax() == "big_spender"
    mix = spend.groupby("persona")["channel"].value_counts(normalize=True).unstack()
    assert mix.loc["loyal_regular", "app"] > mix.loc["one_timer", "app"]


def test_unresolved_complaints_raise_dropout(big_world):
    """Orders followed by a complaint or an unresolved ticket lead to disengagement more often (same persona)."""
    world = big_world
    truth = world.truth["customers"].set_index("customer_id")
    inter = world.interactions
    tickets = inter[inter["kind"].isin(["support_ticket", "complaint"])]
    bad = tickets[(tickets["kind"] == "complaint") | (tickets["resolved"] == False)]  # noqa: E712
    orders = _purchases(world)
    orders = orders[orders["order_ts"] < pd.Timestamp("2025-06-01")]
    o = orders.assign(
        persona=truth.loc[orders["customer_id"], "persona"].to_numpy(),
        dis=truth.loc[orders["customer_id"], "disengage_ts"].to_numpy(),
    )
    o = o[~(o["dis"] < o["order_ts"])]  # active when ordering
    o["leaves_120d"] = o["dis"] <= o["order_ts"] + pd.Timedelta(days=120)
    # an order is "bad" when a complaint or unresolved ticket of the same person follows within 15 days, "good"
    # when no ticket or complaint follows at all

    def followed_by(events: pd.DataFrame) -> np.ndarray:
        m = (
            o[["customer_id", "order_ts"]]
            .reset_index()
            .merge(events[["customer_id", "ts"]], on="customer_id")
        )
        m = m[(m["ts"] >= m["order_ts"]) & (m["ts"] <= m["order_ts"] + pd.Timedelta(days=15))]
        return o.index.isin(m["index"])

    o["bad"] = followed_by(bad)
    good = o[~followed_by(tickets)]
    rates = pd.DataFrame(
        {
            "bad": o[o["bad"]].groupby("persona")["leaves_120d"].mean(),
            "good": good.groupby("persona")["leaves_120d"].mean(),
        }
    )
    weights = o[o["bad"]].groupby("persona").size()
    ratio = (rates["bad"] * weights).sum() / (rates["good"] * weights).sum()
    assert o["bad"].sum() > 100
    assert ratio > 1.5


def test_surveys_and_email_reflect_latent_state(world):
    truth = world.truth["customers"].set_index("customer_id")
    inter = world.interactions
    surveys = inter[inter["kind"] == "survey"]
    base = truth.loc[surveys["customer_id"], "satisfaction_baseline"].to_numpy()
    assert np.corrcoef(base, surveys["score"].to_numpy())[0, 1] > 0.3
    assert surveys["score"].between(1, 5).all()
    sent = inter[inter["kind"] == "email_sent"]
    opens = inter[inter["kind"] == "email_open"]
    dis = truth.loc[sent["customer_id"], "disengage_ts"].to_numpy()
    drop = truth.loc[sent["customer_id"], "dropout_ts"].to_numpy()
    stage = np.where(
        ~(sent["ts"].to_numpy() >= dis), "active", np.where(sent["ts"].to_numpy() < drop, "dis", "dead")
    )
    # open rates per stage: count opens within 7 days of each send
    s = sent.assign(stage=stage, month=sent["ts"].dt.to_period("M"))
    op = opens.assign(month=opens["ts"].dt.to_period("M")).drop_duplicates(["customer_id", "month"])
    s = s.merge(op[["customer_id", "month"]].assign(opened=True), on=["customer_id", "month"], how="left")
    rate = s["opened"].fillna(False).astype(bool).groupby(s["stage"]).mean()
    assert rate["active"] > 1.5 * rate["dis"]
    assert rate["dis"] > 1.5 * rate["dead"]


def test_campaign_effect_is_heterogeneous_and_randomised(world):
    truth = world.truth["customers"]
    camp = world.campaigns.merge(truth, on="customer_id")
    assert set(camp["arm"]) == {"offer", "control"}
    assert camp["arm"].eq("offer").mean() == pytest.approx(0.5, abs=0.05)
    sent = pd.Timestamp("2025-07-01 09:00:00")
    alive = ~(camp["disengage_ts"] < sent)
    c = camp[alive].assign(left=lambda d: d["disengage_ts"] <= sent + pd.Timedelta(days=150))
    rate = c.groupby(["uplift_type", "arm"])["left"].mean().unstack()
    assert rate.loc["persuadable", "offer"] < rate.loc["persuadable", "control"] - 0.03
    assert set(truth["uplift_type"]) == {"persuadable", "sure_thing", "lost_cause", "sleeping_dog"}
    eff = truth.groupby("uplift_type")["campaign_log_hazard_effect"].first()
    assert eff["persuadable"] < 0 < eff["sleeping_dog"]
    assert eff["sure_thing"] == eff["lost_cause"] == 0


def test_seasonality_promotions_and_growth():
    en = generate_world(WorldParams(n_customers=3000, seed=8))
    zh = generate_world(WorldParams(n_customers=3000, seed=8, locale="zh_CN"))
    for w in (en, zh):
        signups = w.customers["signup_date"].dt.year.value_counts()
        assert signups[2025] > 1.5 * signups[2023]
    en_ts = _purchases(en)["order_ts"]
    dec = (en_ts.dt.month == 12).sum()
    sep = (en_ts.dt.month == 9).sum()
    assert dec > 1.4 * sep
    zh_ts = _purchases(zh)["order_ts"]
    day = zh_ts.dt.strftime("%m-%d")
    festival = day.isin(["11-10", "11-11"]).sum() / 2
    normal = day.isin(["09-10", "09-11", "09-12", "09-13"]).sum() / 4
    assert festival > 1.8 * normal
    promo_orders = _purchases(zh)
    assert (promo_orders.loc[day.isin(["11-10", "11-11"]), "discount_amount"] > 0).all()
    # zh_CN shops more in apps and on marketplaces
    share = {
        loc: _purchases(w)["channel"].isin(["app", "marketplace"]).mean()
        for loc, w in (("en", en), ("zh", zh))
    }
    assert share["zh"] > share["en"] + 0.15


def test_promotions_lift_discount_sensitive_personas(world):
    from custml.synth.calendar import promo_depth, window

    params = WorldParams(n_customers=6000, seed=21)
    start, _, _ = window(params)
    promo_days = pd.DatetimeIndex(start + pd.to_timedelta(np.flatnonzero(promo_depth(params) > 0), unit="D"))
    o = _purchases(world).merge(world.truth["customers"][["customer_id", "persona"]], on="customer_id")
    o = o[o["order_ts"] > o.groupby("customer_id")["order_ts"].transform("min")]  # repeat orders only
    on_promo = o["order_ts"].dt.normalize().isin(promo_days)
    share_days = len(promo_days[promo_days < pd.Timestamp("2026-01-01")]) / 1096
    lift = on_promo.groupby(o["persona"]).mean() / share_days
    assert lift["bargain_hunter"] > 2.0
    assert lift["bargain_hunter"] > lift["loyal_regular"] + 1.0
    assert (o.loc[on_promo, "discount_amount"] > 0).all()


def test_oracle_is_calibrated_and_auc_in_band(big_world):
    """The oracle is the best predictor: calibrated, and its AUC sits in the learnable-not-trivial band."""
    w = big_world
    o = _purchases(w)
    before = o[(o["order_ts"] < REF) & (o["order_ts"] >= REF - pd.Timedelta(days=365))][
        "customer_id"
    ].unique()
    after = o[(o["order_ts"] >= REF) & (o["order_ts"] < REF + pd.Timedelta(days=90))]["customer_id"].unique()
    after30 = o[(o["order_ts"] >= REF) & (o["order_ts"] < REF + pd.Timedelta(days=30))][
        "customer_id"
    ].unique()
    ref = w.truth["oracle_reference"].set_index("customer_id").loc[before]
    churned = ~ref.index.isin(after)
    auc = roc_auc_score(churned, ref["p_no_purchase_90d"])
    assert 0.75 <= auc <= 0.92, f"oracle churn AUC {auc:.3f} outside [0.75, 0.92]"
    assert ref["p_no_purchase_90d"].mean() == pytest.approx(churned.mean(), abs=0.02)
    deciles = pd.qcut(ref["p_no_purchase_90d"].rank(method="first"), 10, labels=False)
    cal = pd.DataFrame({"p": ref["p_no_purchase_90d"], "y": churned}).groupby(deciles).mean()
    assert (cal["p"] - cal["y"]).abs().max() < 0.05
    bought = ref.index.isin(after30)
    assert ref["p_purchase_30d"].mean() == pytest.approx(bought.mean(), abs=0.02)
    assert roc_auc_score(bought, ref["p_purchase_30d"]) > 0.7


def test_persona_parameters_are_validated():
    with pytest.raises(ValueError, match="channel_weights"):
        PersonaParams.model_validate(
            {**default_personas()["occasional"].model_dump(), "channel_weights": {"fax": 1.0}}
        )
    with pytest.raises(ValueError, match="personas"):
        WorldParams(personas={})


def test_welcome_coupon_applies_to_first_orders_only():
    base = default_personas()["loyal_regular"].model_dump()
    persona = PersonaParams.model_validate(
        {**base, "share": 1.0, "coupon_rate": 0.0, "first_order_coupon": 1.0}
    )
    w = generate_world(WorldParams(n_customers=300, seed=5, promotions=False, personas={"p": persona}))
    o = w.orders[~w.orders["is_refund"]].sort_values(["customer_id", "order_ts"])
    first = ~o.duplicated("customer_id")
    assert (o.loc[first, "discount_amount"] > 0).all()
    assert (o.loc[~first, "discount_amount"] == 0).all()
    assert (~first).sum() > 100


def test_personas_differ_in_observable_spending_style(world):
    o = _purchases(world).merge(world.truth["customers"][["customer_id", "persona"]])
    disc = (o["discount_amount"] > 0).groupby(o["persona"]).mean()
    assert disc.idxmax() in {"bargain_hunter", "one_timer"}
    assert disc["bargain_hunter"] > 2 * disc["big_spender"]
    per_item = (o["gross_amount"] / o["n_items"]).groupby(o["persona"]).median()
    assert per_item["big_spender"] > 3 * per_item["bargain_hunter"]
    c = world.customers.merge(world.truth["customers"][["customer_id", "persona"]])
    assert c.groupby("persona")["loyalty_member"].mean().idxmax() == "loyal_regular"


def test_birth_dates_have_no_spike_at_the_age_bounds() -> None:
    # Ages are reflected, not clipped, at 18 and 88: no single birth date may hold a visible share of customers.
    from custml.synth import WorldParams, generate_world

    world = generate_world(WorldParams(n_customers=5_000, seed=3))
    top_share = world.customers["birth_date"].value_counts(normalize=True).iloc[0]
    assert top_share < 0.005, f"{top_share:.1%} of customers share one birth date"
