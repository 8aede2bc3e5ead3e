"""The 12-month value's purchase model chosen on a held-out period (custml.models.value, issue 26 part 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.contracts import ValueModelChoice
from custml.errors import ConfigError, SchemaError
from custml.models.btyd import BetaGeoFitter, ParetoNBDFitter
from custml.models.value import (
    ValueCandidate,
    ValueChoiceParams,
    choose_value_model,
    register_value_candidate,
    registered_value_candidate,
    value_candidate_names,
    value_covariates,
    value_split,
)
from custml.scoring.score import ClvParams, chosen_expected_value_12m, expected_value_12m

START = pd.Timestamp("2023-01-01")
AS_OF = pd.Timestamp("2025-01-01")
# Pareto/NBD per week: lambda ~ Gamma(r, alpha_i), mu ~ Gamma(s, beta_i), alpha_i = alpha exp(-g z_i).
TRUTH = {"r": 0.8, "alpha": 8.0, "s": 0.8, "beta": 40.0}


def simulate_shop(n: int, seed: int, purchase_coef: float, dropout_coef: float) -> dict[str, pd.DataFrame]:
    """Orders and customers of a Pareto/NBD shop where ``acquisition_channel == "referral"`` (z = 1) scales the
    purchase rate by ``exp(purchase_coef)`` and the dropout rate by ``exp(dropout_coef)``."""
    rng = np.random.default_rng(seed)
    z = rng.random(n) < 0.4
    lam = rng.gamma(TRUTH["r"], 1.0 / (TRUTH["alpha"] * np.exp(-purchase_coef * z)))
    mu = rng.gamma(TRUTH["s"], 1.0 / (TRUTH["beta"] * np.exp(-dropout_coef * z)))
    total_weeks = (AS_OF - START).days / 7.0
    birth = rng.uniform(0.0, 0.5 * total_weeks, n)
    death = birth + rng.exponential(1.0 / mu)
    ids, times = [], []
    for i in range(n):
        t, end = birth[i], min(death[i], total_weeks)
        ids.append(i)
        times.append(t)
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t >= end:
                break
            ids.append(i)
            times.append(t)
    ts = START + pd.to_timedelta(np.asarray(times) * 7.0, unit="D")
    customer_id = np.asarray([f"C{i:05d}" for i in range(n)], dtype=object)
    orders = pd.DataFrame(
        {
            "order_id": [f"O{k:07d}" for k in range(len(ids))],
            "customer_id": customer_id[ids],
            "order_ts": ts.floor("s"),
            # Gamma-Gamma spend (heterogeneous across customers, as the spend model expects)
            "net_amount": rng.gamma(4.0, 1.0 / rng.gamma(3.0, 1.0 / 30.0, n)[ids]),
        }
    )
    customers = pd.DataFrame(
        {"customer_id": customer_id, "acquisition_channel": np.where(z, "referral", "organic")}
    )
    return {"orders": orders, "customers": customers}


@pytest.fixture(scope="module")
def signal_shop() -> dict[str, pd.DataFrame]:
    return simulate_shop(3000, seed=1, purchase_coef=1.2, dropout_coef=-1.0)


@pytest.fixture(scope="module")
def null_shop() -> dict[str, pd.DataFrame]:
    return simulate_shop(3000, seed=2, purchase_coef=0.0, dropout_coef=0.0)


def _choose(shop: dict[str, pd.DataFrame], **kw: object):
    params = ValueChoiceParams(**kw)  # type: ignore[arg-type]
    split = value_split(shop["orders"], AS_OF, customers=shop["customers"], params=params)
    return choose_value_model(split, params)


def test_the_covariate_model_is_chosen_when_the_covariate_carries_signal(signal_shop) -> None:
    choice = _choose(signal_shop)
    assert choice.chosen == "pareto_nbd_covariates", choice.reason
    fitted = choice.fitted["pareto_nbd_covariates"]
    assert fitted.columns == ("acquisition_channel=referral", "acquired_q4")
    # the known coefficients are recovered roughly (calibration period only, 3,000 customers)
    assert fitted.model.params_["purchase:acquisition_channel=referral"] == pytest.approx(1.2, abs=0.4)
    table = choice.table
    assert (
        table.loc["pareto_nbd_covariates", "ll_gain_vs_previous_pick"]
        > 2 * table.loc["pareto_nbd_covariates", "ll_gain_se"]
    )
    assert (
        table.loc["pareto_nbd_covariates", "mae_purchases"]
        < table.loc[["bgnbd", "pareto_nbd"], "mae_purchases"].min()
    )
    meta = ValueModelChoice.model_validate(choice.to_meta())  # what the scores meta records
    assert meta.model == "pareto_nbd_covariates" and meta.reason.startswith("pareto_nbd_covariates")
    assert set(meta.candidates) == set(value_candidate_names())
    assert meta.holdout_log_likelihood == pytest.approx(
        table.loc["pareto_nbd_covariates", "holdout_log_likelihood"]
    )


def test_a_plain_model_is_kept_when_the_covariate_carries_no_signal(null_shop) -> None:
    choice = _choose(null_shop)
    assert choice.chosen in {"bgnbd", "pareto_nbd"}, choice.reason
    # the covariate model was fitted and compared, and did not clear the margin
    row = choice.table.loc["pareto_nbd_covariates"]
    assert np.isfinite(row["holdout_log_likelihood"])
    assert row["ll_gain_vs_previous_pick"] <= 2 * row["ll_gain_se"]


def test_the_simpler_model_wins_a_tie_and_a_zero_margin_lets_any_gain_through(signal_shop) -> None:
    # an identical model registered after BG/NBD never beats it (same log-likelihood: no gain)
    twin = ValueCandidate("bgnbd_twin", lambda p: BetaGeoFitter(standard_errors=False))
    with registered_value_candidate(twin):
        choice = _choose(signal_shop, candidates=("bgnbd", "bgnbd_twin"))
    assert choice.chosen == "bgnbd"
    assert "bgnbd_twin" not in value_candidate_names()
    # with an infinite margin nothing replaces the simplest candidate
    assert _choose(signal_shop, ll_margin_se=1e9).chosen == "bgnbd"
    # the held-out figures over a seeded sample of the calibration customers
    sampled = _choose(signal_shop, eval_sample_size=500)
    assert sampled.n_customers == 500 and sampled.to_meta()["customers"] == 500


def test_registration_errors_and_a_candidate_without_covariates_is_left_out(signal_shop) -> None:
    with pytest.raises(ConfigError, match="already registered"):
        register_value_candidate(ValueCandidate("bgnbd", lambda p: BetaGeoFitter()))
    params = ValueChoiceParams()
    split = value_split(signal_shop["orders"], AS_OF, params=params)  # no customers table: no channel
    choice = choose_value_model(split, params)
    # acquired_q4 still varies, so the covariate model runs; without it (one-quarter sign-ups) it is left out
    assert "pareto_nbd_covariates" in choice.table.index
    orders = signal_shop["orders"]
    spring = orders.loc[orders.groupby("customer_id")["order_ts"].transform("min").dt.month.isin([1, 2, 3])]
    split = value_split(spring, AS_OF, params=params)
    choice = choose_value_model(split, params)
    assert np.isnan(choice.table.loc["pareto_nbd_covariates", "holdout_log_likelihood"])
    assert "pareto_nbd_covariates left out" in choice.reason
    with pytest.raises(SchemaError, match="too few customers"):
        choose_value_model(value_split(orders.head(50), AS_OF, params=params), params)
    with pytest.raises(SchemaError, match="orders: column 'order_ts'"):
        value_split(orders.drop(columns="order_ts"), AS_OF, params=params)


def test_covariates_one_hot_frequent_levels_and_mark_offers_sent_before_the_end() -> None:
    ids = pd.Index(["a", "b", "c", "d"])
    first = pd.Series(pd.to_datetime(["2024-11-02", "2024-03-01", "2024-12-24", "2024-05-05"]), index=ids)
    profile = pd.DataFrame(
        {"customer_id": ["d", "c", "b", "a"], "acquisition_channel": ["x", "y", "x", None]}
    )
    campaigns = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "sent_ts": pd.to_datetime(["2024-06-01", "2024-06-01", "2025-06-01"]),
            "arm": ["offer", "control", "offer"],
        }
    )
    z = value_covariates(ids, first, pd.Timestamp("2025-01-01"), profile=profile, campaigns=campaigns)
    assert list(z.columns) == ["acquisition_channel=y", "acquired_q4", "offer_received"]
    assert z["acquisition_channel=y"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert z["acquired_q4"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert z["offer_received"].tolist() == [1.0, 0.0, 0.0, 0.0]  # c's offer comes after the end
    aware = campaigns.assign(sent_ts=campaigns["sent_ts"].dt.tz_localize("UTC"))
    z_aware = value_covariates(ids, first, pd.Timestamp("2025-01-01"), profile=profile, campaigns=aware)
    pd.testing.assert_frame_equal(z_aware, z)
    fixed = value_covariates(ids, first, pd.Timestamp("2025-01-01"), columns=["acquired_q4", "missing"])
    assert list(fixed.columns) == ["acquired_q4", "missing"] and fixed["missing"].eq(0.0).all()


def _features(shop: dict[str, pd.DataFrame]) -> pd.DataFrame:
    from custml.features import build_features

    return build_features(shop, AS_OF)


def test_the_chosen_model_feeds_the_value_rows_in_rows_out_and_the_meta_names_it(
    signal_shop, null_shop
) -> None:
    features = _features(signal_shop).sample(frac=1.0, random_state=0)  # any row order
    value, meta = chosen_expected_value_12m(
        features, signal_shop["orders"], AS_OF, customers=signal_shop["customers"]
    )
    assert len(value) == len(features)
    assert value["customer_id"].tolist() == features["customer_id"].tolist()
    assert value.index.equals(features.index)
    assert meta.model == "pareto_nbd_covariates"
    assert (
        meta.holdout_days
        and meta.holdout_log_likelihood is not None
        and meta.holdout_mae_purchases is not None
    )
    assert meta.candidates and meta.reason
    assert "purchase:acquisition_channel=referral" in meta.params
    assert (value["expected_value_12m"] >= 0).all() and value["expected_value_12m"].sum() > 0
    # the covariate model gives referral customers (who buy more) more value than the plain BG/NBD does
    plain = expected_value_12m(features)
    referral = (
        features["customer_id"]
        .isin(
            signal_shop["customers"].loc[
                signal_shop["customers"]["acquisition_channel"] == "referral", "customer_id"
            ]
        )
        .to_numpy()
    )
    ratio = value["expected_value_12m"].to_numpy() / np.maximum(plain["expected_value_12m"].to_numpy(), 1e-9)
    buyers = plain["expected_value_12m"].to_numpy() > 0
    assert np.median(ratio[referral & buyers]) > np.median(ratio[~referral & buyers])

    # no signal: the plain model, and BG/NBD chosen gives exactly the value scoring gave before
    null_features = _features(null_shop)
    value, meta = chosen_expected_value_12m(
        null_features, null_shop["orders"], AS_OF, customers=null_shop["customers"], params=ClvParams()
    )
    assert meta.model in {"bgnbd", "pareto_nbd"}
    bg, bg_meta = chosen_expected_value_12m(
        null_features,
        null_shop["orders"],
        AS_OF,
        customers=null_shop["customers"],
        params=ClvParams(choose_model=False),
    )
    assert bg_meta == ValueModelChoice(model="bgnbd", reason="choice disabled")
    pd.testing.assert_frame_equal(bg, expected_value_12m(null_features))


def test_too_little_history_falls_back_to_bgnbd_and_says_why(signal_shop) -> None:
    features = _features(signal_shop)
    value, meta = chosen_expected_value_12m(
        features, signal_shop["orders"], AS_OF, params=ClvParams(holdout_days=725)
    )
    assert meta.model == "bgnbd" and meta.reason.startswith("no held-out comparison")
    pd.testing.assert_frame_equal(value, expected_value_12m(features))


class _FailsOnLongHistories(ParetoNBDFitter):
    """Fits the calibration period (T up to ~78 weeks) but not the histories at the as-of date."""

    def fit(self, frequency, recency, T, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        if np.max(T) > 90:
            raise FloatingPointError("diverged")
        return super().fit(frequency, recency, T, *args, **kwargs)


def test_a_failed_refit_at_the_as_of_date_falls_back_to_bgnbd_and_the_meta_says_so(signal_shop) -> None:
    features = _features(signal_shop)
    failing = ValueCandidate(
        "failing", lambda p: _FailsOnLongHistories(standard_errors=False), covariates=True
    )
    with registered_value_candidate(failing):
        value, meta = chosen_expected_value_12m(
            features,
            signal_shop["orders"],
            AS_OF,
            customers=signal_shop["customers"],
            params=ClvParams(value_candidates=("bgnbd", "failing")),
        )
    assert set(meta.candidates) == {"bgnbd", "failing"}
    assert meta.model == "bgnbd" and meta.reason.startswith("failing: held-out")
    assert "refit at the as-of date failed (diverged)" in meta.reason
    pd.testing.assert_frame_equal(value, expected_value_12m(features))


def test_time_zone_aware_orders_count_utc_days(signal_shop) -> None:
    orders = signal_shop["orders"]
    aware = orders.assign(order_ts=orders["order_ts"].dt.tz_localize("UTC").dt.tz_convert("Asia/Shanghai"))
    params = ValueChoiceParams()
    naive_split = value_split(orders, AS_OF, params=params)
    aware_split = value_split(aware, AS_OF, params=params)
    np.testing.assert_array_equal(naive_split.calibration.frequency, aware_split.calibration.frequency)
    np.testing.assert_array_equal(naive_split.holdout_purchases, aware_split.holdout_purchases)
