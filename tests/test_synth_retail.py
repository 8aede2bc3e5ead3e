"""The ``retail`` preset: a world that moves like a real shop (issue 27, part 1), and its calendar statistics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from custml.cli import main
from custml.features.labels import churn_labels
from custml.synth import (
    AcquisitionWave,
    ShockParams,
    WorldParams,
    generate_world,
    oracle_probabilities,
    world_preset,
)
from custml.synth.calendar import intensity_multiplier
from custml.synth.realism import (
    calendar_profile,
    calendar_table,
    churn_base_rates,
    invoice_orders,
    monthly_cutoffs,
    monthly_order_index,
    repeat_gap_quantiles,
    seasonal_swing,
)


@pytest.fixture(scope="module")
def retail(cached_world):
    """15,000 persons over three years (about 0.7 s): big enough for base rates within about a point."""
    return cached_world(preset="retail", n_customers=15_000, seed=3)


def _purchases(world) -> pd.DataFrame:
    return world.orders[~world.orders["is_refund"]]


# --- the calendar statistics on tiny frames ------------------------------------------------------------------


def test_monthly_order_index_counts_complete_months_only():
    ts = ["2020-01-01", "2020-01-20", "2020-02-10", "2020-03-31", "2020-04-02"]
    tx = pd.DataFrame({"customer_id": list("abcde"), "order_ts": pd.to_datetime(ts)})
    idx = monthly_order_index(tx)  # April is not covered whole (the data end on the 2nd)
    assert [str(m) for m in idx.index] == ["2020-01", "2020-02", "2020-03"]
    assert idx.tolist() == pytest.approx([1.5, 0.75, 0.75])
    assert monthly_order_index(tx, last_months=2).tolist() == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="'order_ts'"):
        monthly_order_index(tx.drop(columns="order_ts"))
    with pytest.raises(ValueError, match="no complete calendar month"):
        monthly_order_index(tx.iloc[:2])
    with pytest.raises(ValueError, match="last_months"):
        monthly_order_index(tx, last_months=0)


def test_churn_base_rates_and_swing_on_a_tiny_frame():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "d"],
            "order_ts": pd.to_datetime(
                ["2024-08-01", "2024-10-01", "2024-07-01", "2024-11-15", "2023-01-01", "2024-11-20"]
            ),
        }
    )
    r = churn_base_rates(tx, ["2024-09-01", "2024-12-01"])
    # 1 Sep: a and b active (c is older than a year), both buy in the next 90 days
    # 1 Dec: a, b and d active, nobody buys in the next 90 days
    assert r["active"].tolist() == [2, 3] and r["churned"].tolist() == [0, 3]
    assert r["base_rate"].tolist() == [0.0, 1.0]
    assert seasonal_swing(r) == 1.0
    assert np.isnan(seasonal_swing(r.iloc[:1]))
    with pytest.raises(ValueError, match="'base_rate'"):
        seasonal_swing(r.drop(columns="base_rate"))
    with pytest.raises(ValueError, match="positive"):
        churn_base_rates(tx, ["2024-09-01"], horizon_days=0)


def test_monthly_cutoffs_leave_room_for_history_and_horizon():
    cuts = monthly_cutoffs("2023-01-01", "2025-12-31 23:59:59", history_days=365)
    assert cuts[0] == pd.Timestamp("2024-01-01") and cuts[-1] == pd.Timestamp("2025-10-01")
    assert monthly_cutoffs("2009-12-01 07:45", "2010-12-09")[0] == pd.Timestamp("2010-01-01")


def test_repeat_gap_quantiles_count_purchase_days():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "order_ts": pd.to_datetime(
                [
                    "2020-01-01 00:00",
                    "2020-01-01 18:00",
                    "2020-01-11 00:00",
                    "2020-01-01 00:00",
                    "2020-01-31 00:00",
                    "2020-02-01 00:00",
                ]
            ),
        }
    )
    q = repeat_gap_quantiles(tx, (0.0, 0.5, 1.0))
    assert q == {"gap_p00": 10.0, "gap_p50": 20.0, "gap_p100": 30.0, "gaps": 2.0}
    assert np.isnan(repeat_gap_quantiles(tx.iloc[-1:])["gap_p50"])


# --- the preset ----------------------------------------------------------------------------------------------


def test_preset_api_and_validation():
    p = WorldParams.preset("retail", n_customers=500, seed=4)
    assert p == world_preset("retail", n_customers=500, seed=4)
    assert p.n_customers == 500 and "trade_buyer" in p.personas and p.campaign.uplift_truth
    assert world_preset("default") == WorldParams()
    with pytest.raises(ValueError, match="unknown world preset 'shop'"):
        world_preset("shop")
    with pytest.raises(ValueError, match="n_customers"):
        world_preset("retail", n_customers=0)
    with pytest.raises(ValueError, match=r"unknown persona\(s\) \['nobody'\]"):
        WorldParams(acquisition_waves=(AcquisitionWave(name="w", start="2024-01-01", days=9, share=0.1,
                                                       persona_weights={"nobody": 1.0}),))  # fmt: skip
    with pytest.raises(ValueError, match="monthly_demand"):
        WorldParams(monthly_demand=(1.0,) * 11)


def test_default_world_is_unchanged():
    """Figures of a small default world measured before the retail options existed (they must stay)."""
    w = generate_world(WorldParams(n_customers=3000, seed=5))
    assert (len(w.orders), len(w.interactions)) == (10279, 45644)
    assert round(float(w.orders["net_amount"].sum()), 2) == 786707.62
    assert float(w.truth["oracle_reference"]["p_no_purchase_90d"].sum()) == pytest.approx(
        2060.1050719221, abs=1e-9
    )
    assert (
        w.truth["customers"]["acquisition_wave"].isna().all() and not w.truth["customers"]["shock_hit"].any()
    )
    assert "shock" not in w.manifest and "campaign_uplift" not in w.truth


def test_november_is_about_1_7_times_the_monthly_mean(retail):
    idx = monthly_order_index(_purchases(retail), last_months=12)
    assert [m.month for m in idx.index] == list(range(1, 13))  # the last complete year: 2025
    assert 1.5 <= idx.iloc[10] <= 1.9, idx.round(2).tolist()
    assert idx.idxmax().month == 11 and idx.idxmin().month == 1


def test_churn_base_rate_swings_from_september_to_december(retail):
    orders = _purchases(retail)
    cuts = monthly_cutoffs(retail.manifest["start"], retail.manifest["end"], history_days=365)
    rates = churn_base_rates(orders, cuts)
    by_cut = rates.set_index("cutoff")["base_rate"]
    swing = by_cut[pd.Timestamp("2024-12-01")] - by_cut[pd.Timestamp("2024-09-01")]
    assert swing >= 0.15, by_cut.round(3).to_dict()
    assert seasonal_swing(rates) >= 0.15
    assert 0.40 <= by_cut[pd.Timestamp("2024-09-01")] <= 0.58  # the real shop: 0.42 and 0.51
    # the same definition as the churn label the models learn
    for cut in ("2024-09-01", "2024-12-01"):
        labels = churn_labels(orders, cut)
        assert labels["churned"].mean() == pytest.approx(by_cut[pd.Timestamp(cut)], abs=1e-12)
        assert len(labels) == rates.loc[rates["cutoff"] == pd.Timestamp(cut), "active"].item()


def test_acquisition_waves_change_the_cohort_mix(retail):
    tc = retail.truth["customers"]
    counts = retail.manifest["acquisition_waves"]
    assert counts == tc["acquisition_wave"].value_counts().to_dict()
    assert counts["spring-social-2024"] == 900  # 6 % of 15,000
    month = tc["signup_ts"].dt.to_period("M").astype(str)
    cheap = tc["persona"].isin(["bargain_hunter", "one_timer"])
    assert (
        cheap[month.isin(["2024-03", "2024-04"])].mean()
        > cheap[month.isin(["2024-06", "2024-07"])].mean() + 0.2
    )
    trade = tc["persona"] == "trade_buyer"
    assert trade[month == "2025-02"].mean() > 2 * trade[month == "2025-05"].mean()


def test_price_rise_is_in_the_truth_and_changes_behaviour(retail):
    shock = retail.manifest["shock"]
    assert shock["name"] == "price-rise" and shock["start"] == "2025-03-01 00:00:00"
    assert shock["effective_from"] == "2025-03-02 00:00:00" and shock["in_oracle"] is True
    tc = retail.truth["customers"]
    assert tc.loc[tc["shock_hit"], "persona"].unique().tolist() != []
    assert set(tc.loc[tc["shock_hit"], "persona"]) == set(shock["personas"])
    eff = pd.Timestamp(shock["effective_from"])

    def disengage_rate(frm: pd.Timestamp, hit: bool) -> float:
        """Share of persons engaged at ``frm`` who start to disengage within 90 days."""
        g = tc[(tc["shock_hit"] == hit) & (tc["signup_ts"] < frm)]
        engaged = g["disengage_ts"].isna() | (g["disengage_ts"] >= frm)
        starts = g.loc[engaged, "disengage_ts"] < frm + pd.Timedelta(days=90)
        return float(starts.mean())

    # the hit personas against the others, in the 90 days after the change and in the same days a year before
    year_before = eff - pd.DateOffset(years=1)
    after = disengage_rate(eff, True) / disengage_rate(eff, False)
    before = disengage_rate(year_before, True) / disengage_rate(year_before, False)
    assert after > 1.5 * before, (after, before)


def test_oracle_knows_the_shock_only_when_asked(retail):
    tc = retail.truth["customers"]
    params = WorldParams.model_validate(tc.attrs["world_params"])
    blind = params.model_copy(update={"shock": params.shock.model_copy(update={"in_oracle": False})})
    after = oracle_probabilities(tc, "2025-04-01", params).set_index("customer_id")
    before_change = oracle_probabilities(tc, "2025-04-01", blind).set_index("customer_id")
    hit = tc.set_index("customer_id").loc[after.index, "shock_hit"].to_numpy()
    diff = after["p_no_purchase_90d"] - before_change["p_no_purchase_90d"]
    assert (diff[~hit].abs() < 1e-12).all()
    assert diff[hit].mean() > 0.03  # fewer purchases and more dropout after the price rise
    # before the change both agree
    early = oracle_probabilities(tc, "2024-10-01", params)["p_no_purchase_90d"]
    assert np.allclose(early, oracle_probabilities(tc, "2024-10-01", blind)["p_no_purchase_90d"])


def test_campaign_uplift_differs_by_customer_in_the_truth(retail):
    u = retail.truth["campaign_uplift"]
    assert len(u) == int(retail.truth["customers"]["campaign_eligible"].sum())
    assert u["true_uplift"].std() > 0.03
    assert (u["true_uplift"] > 0.05).mean() > 0.03 and (u["true_uplift"] < -0.05).mean() > 0.03
    persona = retail.truth["customers"].set_index("customer_id").loc[u["customer_id"], "persona"].to_numpy()
    by_persona = u.groupby(persona)["true_uplift"].mean()
    assert by_persona["big_spender"] > 0 > by_persona["bargain_hunter"]
    assert set(u["arm"]) == {"offer", "control"}


def test_season_strength_scales_a_personas_swing():
    p = WorldParams(promotions=False)
    personas = {
        "flat": p.personas["occasional"].model_copy(update={"season_strength": 0.0}),
        "calendar": p.personas["occasional"],
        "double": p.personas["occasional"].model_copy(update={"season_strength": 2.0}),
    }
    g = intensity_multiplier(p.model_copy(update={"personas": personas}))
    assert np.allclose(g[0], 1.0)
    assert np.allclose(g[2] - 1.0, np.maximum(2.0 * (g[1] - 1.0), 0.05 - 1.0))


def test_generate_cli_preset(tmp_path, capsys):
    out = tmp_path / "retail"
    assert main(["generate", "--preset", "retail", "-n", "600", "--seed", "2", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["shock"]["name"] == "price-rise" and manifest["parameters"]["n_customers"] == 600
    assert (out / "truth" / "campaign_uplift.parquet").is_file()
    assert "retail preset" in capsys.readouterr().out
    assert main(["generate", "--preset", "shop", "-n", "10", "--out", str(tmp_path / "x")]) == 2
    assert "--preset" in capsys.readouterr().err
    cfg = tmp_path / "w.yaml"
    cfg.write_text("seasonality: 0.0\n", encoding="utf-8")
    assert main(["generate", "--preset", "retail", "--params", str(cfg), "--out", str(tmp_path / "y")]) == 2


def test_read_truth_returns_the_campaign_uplift(tmp_path):
    from custml.synth import read_truth, write_world

    w = generate_world(world_preset("retail", n_customers=400, seed=1))
    write_world(w, tmp_path)
    truth = read_truth(tmp_path)
    pd.testing.assert_frame_equal(truth["campaign_uplift"], w.truth["campaign_uplift"])


def test_shock_params_are_checked():
    with pytest.raises(ValueError, match="shock.personas"):
        world_preset("retail", shock=ShockParams(start="2025-03-01", personas=("nobody",)))


def test_invoice_orders_keep_one_order_per_invoice():
    lines = pd.DataFrame(
        {
            "Invoice": ["10", "10", "C11", "12", "13"],
            "Customer ID": ["1.0", "1.0", "1.0", None, "2.0"],
            "InvoiceDate": pd.to_datetime(
                [
                    "2010-01-02 10:05",
                    "2010-01-02 10:00",
                    "2010-01-03 09:00",
                    "2010-01-03 09:00",
                    "2010-01-04 09:00",
                ]
            ),
        }
    )
    out = invoice_orders(lines)
    assert out["order_id"].tolist() == [
        "10",
        "13",
    ]  # the cancellation and the line without a customer dropped
    assert out["order_ts"].iloc[0] == pd.Timestamp("2010-01-02 10:00")
    with pytest.raises(ValueError, match="'Customer ID'"):
        invoice_orders(lines.drop(columns="Customer ID"))


def test_calendar_table_sets_sources_side_by_side(retail):
    prof = calendar_profile(_purchases(retail))
    assert prof["swing"] == pytest.approx(seasonal_swing(prof["base_rates"]))
    assert len(prof["base_rates"]) == 22  # 2024-01 .. 2025-10
    other = calendar_profile(_purchases(retail).iloc[::2], history_days=0)
    t = calendar_table({"retail": prof, "half": other})
    assert list(t["order_index"].index) == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                            "Nov", "Dec"]  # fmt: skip
    assert list(t["summary"].columns) == ["retail", "half"]
    s = t["summary"]["retail"]
    assert s["november_index"] == pytest.approx(prof["order_index"][11])
    assert s["swing_sep_to_dec"] >= 0.15 and s["gap_p10"] <= s["gap_p50"] <= s["gap_p90"]
    assert t["base_rate"].loc["Dec", "retail"] == pytest.approx(
        prof["base_rates"].set_index("cutoff").loc[pd.Timestamp("2024-12-01"), "base_rate"]
    )


def test_the_offer_brings_persuadables_purchases_forward(retail):
    """The retail campaign's rate effect: treated persuadables buy about twice as often while the offer acts,
    and the truth's uplift counts it (without it the persuadables' uplift is smaller)."""
    tc = retail.truth["customers"]
    pers = tc[tc["campaign_eligible"] & (tc["uplift_type"] == "persuadable")]
    assert set(pers["campaign_rate_effect"]) == {2.0}
    orders = _purchases(retail)
    sent = pd.Timestamp(retail.manifest["campaign_sent"])
    window = orders[
        (orders["order_ts"] > sent + pd.Timedelta(days=7))
        & (orders["order_ts"] < sent + pd.Timedelta(days=150))
    ]
    per_person = window.groupby("customer_id").size().reindex(pers["customer_id"], fill_value=0)
    offer = (pers["campaign_arm"] == "offer").to_numpy()
    assert per_person[offer].mean() > 1.5 * per_person[~offer].mean()
    from custml.synth import oracle_campaign_uplift

    with_rate = retail.truth["campaign_uplift"].set_index("customer_id")["true_uplift"]
    no_rate = oracle_campaign_uplift(tc.assign(campaign_rate_effect=1.0), 180, window_start_days=90)
    no_rate = no_rate.set_index("customer_id")["true_uplift"]
    ids = pers["customer_id"]
    assert with_rate[ids].mean() > no_rate[ids].mean() + 0.02


def test_run_generate_and_experiments_take_a_preset(tmp_path):
    from custml.experiments import ExperimentConfig
    from custml.pipeline import run_generate

    out = run_generate(300, seed=1, dirty=0.0, root=tmp_path, out_dir=tmp_path / "raw", preset="retail")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["shock"]["name"] == "price-rise" and manifest["parameters"]["n_customers"] == 300
    default = run_generate(300, seed=1, dirty=0.0, root=tmp_path, out_dir=tmp_path / "raw2")
    assert "shock" not in json.loads((default / "manifest.json").read_text(encoding="utf-8"))
    cfg = ExperimentConfig.model_validate(
        {"kind": "train", "world": {"preset": "retail"}, "train": {"task": "churn"}}
    )
    assert cfg.source().preset == "retail" and cfg.resized(3000).source().preset == "retail"
    with pytest.raises(ValueError, match="preset"):
        ExperimentConfig.model_validate(
            {"kind": "train", "world": {"preset": "shop"}, "train": {"task": "churn"}}
        )


def test_demo_rejects_an_unknown_preset(capsys):
    assert main(["demo", "--preset", "shop", "-n", "100"]) == 2
    assert "--preset must be one of default, retail" in capsys.readouterr().err
