"""BTYD models: published CDNOW figures, RFM summary, and the properties every fitted model must have."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import skip_or_fail
from scipy import integrate
from scipy.special import gammaln

from custml.errors import ConfigError, SchemaError
from custml.models.btyd import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter, rfm_summary

# --------------------------------------------------------------------------------------------------------
# CDNOW fixtures
# --------------------------------------------------------------------------------------------------------


def _cdnow_dir() -> Path | None:
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow"]
    if os.environ.get("CUSTML_SHARED_DIR"):
        shared = Path(os.environ["CUSTML_SHARED_DIR"])
        candidates += [shared / "data" / "cdnow", shared / "cdnow", shared]
    for path in candidates:
        if (path / "CDNOW_sample.txt").is_file():
            return path
    return None


@pytest.fixture(scope="module")
def cdnow_dir() -> Path:
    path = _cdnow_dir()
    if path is None:
        skip_or_fail("CDNOW data not found (shared/data/cdnow or $CUSTML_SHARED_DIR)")
    return path


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_dir: Path) -> pd.DataFrame:
    """Published calibration summary: ID, x, t_x, T (weeks), zbar."""
    return pd.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def cdnow_transactions(cdnow_dir: Path) -> pd.DataFrame:
    tx = pd.read_csv(
        cdnow_dir / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "n_cds", "value"],
        dtype={"date": str},
    )
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return tx


@pytest.fixture(scope="module")
def cdnow_cal_holdout(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return rfm_summary(
        cdnow_transactions,
        "customer_id",
        "date",
        "value",
        observation_end="1998-06-30",
        calibration_end="1997-09-30",
        freq="W",
    )


@pytest.fixture(scope="module")
def bgnbd(cdnow_summary: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])


@pytest.fixture(scope="module")
def pnbd(cdnow_summary: pd.DataFrame) -> ParetoNBDFitter:
    return ParetoNBDFitter().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])


# --------------------------------------------------------------------------------------------------------
# Published CDNOW numbers
# --------------------------------------------------------------------------------------------------------


def test_bgnbd_reproduces_published_estimates(bgnbd: BetaGeoFitter) -> None:
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in expected.items():
        assert bgnbd.params_[name] == pytest.approx(value, abs=1.5e-3), name
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert bgnbd.n_customers_ == 2357
    assert bgnbd.converged_


def test_bgnbd_published_expectations(bgnbd: BetaGeoFitter) -> None:
    expected = np.array([0.0532, 0.1506, 1.0437, 1.8576])
    got = bgnbd.expected_number_of_purchases_up_to_time(np.array([1.0, 3.0, 32.0, 78.0]))
    np.testing.assert_allclose(got, expected, rtol=5e-4)
    assert bgnbd.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) == pytest.approx(
        1.226, abs=1e-3
    )


def test_pareto_nbd_reproduces_published_estimates(pnbd: ParetoNBDFitter) -> None:
    expected = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in expected.items():
        assert pnbd.params_[name] == pytest.approx(value, rel=2e-3), name
    assert pnbd.log_likelihood_ == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_reproduces_published_estimates(cdnow_summary: pd.DataFrame) -> None:
    repeat = cdnow_summary.loc[cdnow_summary["x"] > 0]
    assert len(repeat) == 946
    spend = GammaGammaFitter().fit(repeat["x"], repeat["zbar"])
    assert spend.params_["p"] == pytest.approx(6.25, abs=0.01)
    assert spend.params_["q"] == pytest.approx(3.74, abs=0.01)
    assert spend.params_["gamma"] == pytest.approx(15.44, abs=0.02)
    # Population mean spend p * gamma / (q - 1) is what a customer without repeat purchases gets.
    p, q, gam = spend.params_["p"], spend.params_["q"], spend.params_["gamma"]
    assert spend.conditional_expected_average_profit(0, 0.0) == pytest.approx(p * gam / (q - 1))


def test_rfm_summary_reproduces_published_cdnow_summary(
    cdnow_dir: Path, cdnow_cal_holdout: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    published = pd.read_csv(cdnow_dir / "cdnow_customers_summary.csv").set_index("ID")
    ours = cdnow_cal_holdout.reindex(published.index)
    assert len(cdnow_cal_holdout) == len(published) == 2357
    np.testing.assert_array_equal(ours["frequency"].to_numpy(), published["frequency"].to_numpy())
    # The published file rounds to 2 decimals.
    np.testing.assert_allclose(ours["recency"], published["recency"], atol=0.0051)
    np.testing.assert_allclose(ours["T"], published["T"], atol=0.0051)
    zbar = cdnow_summary.set_index("ID")["zbar"].reindex(published.index)
    np.testing.assert_allclose(ours["monetary_value"], zbar, atol=0.0051)
    assert (cdnow_cal_holdout["duration_holdout"] == 39.0).all()


def test_cdnow_holdout_figures(bgnbd: BetaGeoFitter, cdnow_cal_holdout: pd.DataFrame) -> None:
    s = cdnow_cal_holdout
    no_repeat = s["frequency"] == 0
    assert int(no_repeat.sum()) == 1411
    assert int(s.loc[no_repeat, "frequency_holdout"].sum()) == 334
    predicted = bgnbd.conditional_expected_number_of_purchases_up_to_time(
        s["duration_holdout"], s["frequency"], s["recency"], s["T"]
    )
    assert predicted[no_repeat.to_numpy()].mean() == pytest.approx(0.23, abs=0.01)
    assert np.corrcoef(predicted, s["frequency_holdout"])[0, 1] == pytest.approx(0.63, abs=0.01)


def test_fit_from_rfm_summary_matches_published_file(
    cdnow_cal_holdout: pd.DataFrame, bgnbd: BetaGeoFitter
) -> None:
    # Unrounded durations move the estimate only in the third decimal.
    s = cdnow_cal_holdout
    refit = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    for name, value in bgnbd.params_.items():
        assert refit.params_[name] == pytest.approx(value, rel=5e-3), name


def test_clv_is_discounted_sum_of_monthly_purchases(
    bgnbd: BetaGeoFitter, cdnow_summary: pd.DataFrame
) -> None:
    repeat = cdnow_summary.loc[cdnow_summary["x"] > 0]
    spend = GammaGammaFitter().fit(repeat["x"], repeat["zbar"])
    x, t_x, big_t, m = 2, 30.43, 38.86, 22.35
    clv = spend.customer_lifetime_value(bgnbd, x, t_x, big_t, m, time=12, discount_rate=0.01, freq="W")
    cum = [
        bgnbd.conditional_expected_number_of_purchases_up_to_time(4.345 * i, x, t_x, big_t) for i in range(13)
    ]
    by_hand = sum((cum[i] - cum[i - 1]) / 1.01**i for i in range(1, 13))
    assert clv == pytest.approx(spend.conditional_expected_average_profit(x, m) * by_hand, rel=1e-12)
    undiscounted = spend.customer_lifetime_value(
        bgnbd, x, t_x, big_t, m, time=12, discount_rate=0.0, freq="W"
    )
    assert undiscounted > clv > 0
    assert spend.customer_lifetime_value(bgnbd, x, t_x, big_t, m, time=0) == 0.0


# --------------------------------------------------------------------------------------------------------
# rfm_summary on hand-built frames
# --------------------------------------------------------------------------------------------------------


def _tiny_transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",  # same day: one transaction day
                    "2024-01-15 10:00",
                    "2024-02-12 10:00",  # after calibration
                    "2024-01-08 12:00",
                    "2024-03-01 00:00",  # after observation end: dropped
                ]
            ),
            "net_amount": [10.0, 5.0, 20.0, 8.0, 7.0, 99.0],
        }
    )


def test_rfm_summary_on_tiny_frame() -> None:
    tx = _tiny_transactions()
    before = tx.copy()
    got = rfm_summary(tx, "customer_id", "order_ts", "net_amount", observation_end="2024-02-26", freq="D")
    expected = pd.DataFrame(
        {
            "frequency": np.array([2, 0], dtype=np.int64),
            "recency": [42.0, 0.0],
            "T": [56.0, 49.0],
            "monetary_value": [14.0, 0.0],
        },
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(tx, before)  # input untouched


def test_rfm_summary_calibration_holdout_split() -> None:
    got = rfm_summary(
        _tiny_transactions(),
        "customer_id",
        "order_ts",
        "net_amount",
        observation_end="2024-02-26",
        calibration_end="2024-01-28",
        freq="W",
    )
    assert list(got.columns) == [
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "frequency_holdout",
        "monetary_value_holdout",
        "duration_holdout",
    ]
    assert got.loc["a", "frequency"] == 1
    assert got.loc["a", "recency"] == pytest.approx(2.0)
    assert got.loc["a", "T"] == pytest.approx(27 / 7)
    assert got.loc["a", "monetary_value"] == 20.0
    assert got.loc["a", "frequency_holdout"] == 1
    assert got.loc["a", "monetary_value_holdout"] == 8.0
    assert got.loc["b", "frequency_holdout"] == 0
    np.testing.assert_allclose(got["duration_holdout"], 29 / 7)


def test_rfm_summary_freq_multiplier_and_no_amount() -> None:
    tx = _tiny_transactions()
    weekly = rfm_summary(tx, "customer_id", "order_ts", None, observation_end="2024-02-26", freq="W")
    daily7 = rfm_summary(tx, "customer_id", "order_ts", None, "2024-02-26", freq="D", freq_multiplier=7)
    pd.testing.assert_frame_equal(weekly, daily7)
    assert "monetary_value" not in weekly.columns


@pytest.mark.parametrize("missing", ["customer_id", "order_ts", "net_amount"])
def test_rfm_summary_missing_column_is_named(missing: str) -> None:
    tx = _tiny_transactions().drop(columns=missing)
    with pytest.raises(ValueError, match=f"transactions: column '{missing}' is missing"):
        rfm_summary(tx, "customer_id", "order_ts", "net_amount", observation_end="2024-02-26")


def test_rfm_summary_rejects_bad_inputs() -> None:
    tx = _tiny_transactions()
    with_null = tx.assign(customer_id=tx["customer_id"].where(tx.index != 2))
    with pytest.raises(SchemaError, match=r"'customer_id' has null values \(1 rows\)"):
        rfm_summary(with_null, "customer_id", "order_ts", "net_amount", observation_end="2024-02-26")
    with pytest.raises(ConfigError, match="calibration_end"):
        rfm_summary(
            tx, "customer_id", "order_ts", None, observation_end="2024-01-01", calibration_end="2024-02-01"
        )
    with pytest.raises(ConfigError, match="freq"):
        rfm_summary(tx, "customer_id", "order_ts", None, observation_end="2024-02-26", freq="Q")
    with pytest.raises(SchemaError, match="no transaction"):
        rfm_summary(tx, "customer_id", "order_ts", None, observation_end="2023-12-01")


def test_rfm_summary_time_zone_aware_timestamps() -> None:
    tx = _tiny_transactions()
    tx["order_ts"] = tx["order_ts"].dt.tz_localize("Europe/Paris")
    got = rfm_summary(tx, "customer_id", "order_ts", "net_amount", observation_end="2024-02-26", freq="D")
    assert got.loc["a", "frequency"] == 2
    assert got.loc["a", "T"] == 56.0


# --------------------------------------------------------------------------------------------------------
# Model properties on small synthetic data
# --------------------------------------------------------------------------------------------------------


def _simulate_bgnbd(n: int, seed: int, r=0.25, alpha=4.0, a=0.8, b=2.5) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    big_t = rng.integers(7, 400, n) / 7.0
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_events = rng.poisson(lam * big_t)
    x = np.minimum(n_events, rng.geometric(p))
    t_x = np.zeros(n)
    pos = x > 0
    t_x[pos] = big_t[pos] * rng.beta(x[pos], n_events[pos] - x[pos] + 1)
    t_x = np.round(t_x * 7) / 7  # day resolution, as real data
    return x.astype(float), t_x, big_t


@pytest.fixture(scope="module")
def synthetic() -> tuple[np.ndarray, ...]:
    return _simulate_bgnbd(4000, seed=7)


def test_weight_compression_gives_identical_fit(synthetic: tuple[np.ndarray, ...]) -> None:
    x, t_x, big_t = synthetic
    full = BetaGeoFitter().fit(x, t_x, big_t)
    frame = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t})
    counts = frame.value_counts().reset_index(name="n")
    weighted = BetaGeoFitter().fit(counts["x"], counts["t_x"], counts["T"], weights=counts["n"])
    assert full.n_unique_rows_ < len(x)
    assert weighted.n_customers_ == full.n_customers_ == len(x)
    for name in full.params_:
        assert weighted.params_[name] == pytest.approx(full.params_[name], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-9)


def test_bgnbd_recovers_simulated_parameters() -> None:
    x, t_x, big_t = _simulate_bgnbd(40_000, seed=11)
    fitted = BetaGeoFitter().fit(x, t_x, big_t).params_
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    for name, value in truth.items():
        assert fitted[name] == pytest.approx(value, rel=0.2), name


def test_bgnbd_gradient_matches_finite_differences(synthetic: tuple[np.ndarray, ...]) -> None:
    x, t_x, big_t = synthetic
    params = np.array([0.3, 3.0, 0.9, 2.0])
    _, grad = BetaGeoFitter._loglik(params, x, t_x, big_t, True)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6 * params[k]
        up = BetaGeoFitter._loglik(params + step, x, t_x, big_t, False).sum()
        down = BetaGeoFitter._loglik(params - step, x, t_x, big_t, False).sum()
        assert grad[:, k].sum() == pytest.approx((up - down) / (2 * step[k]), rel=1e-5)


def test_probability_alive_is_one_without_repeat_purchases(bgnbd: BetaGeoFitter) -> None:
    p_alive = bgnbd.conditional_probability_alive(np.zeros(3), np.zeros(3), np.array([1.0, 30.0, 80.0]))
    np.testing.assert_array_equal(p_alive, 1.0)


def test_probabilities_in_unit_interval_and_monotone(bgnbd: BetaGeoFitter, pnbd: ParetoNBDFitter) -> None:
    x = np.array([0, 1, 2, 5, 10, 30], dtype=float)
    big_t = np.full(6, 40.0)
    for model in (bgnbd, pnbd):
        for t_x in (np.minimum(x, 1) * 5.0, np.minimum(x, 1) * 39.0):
            alive = model.conditional_probability_alive(x, t_x, big_t)
            buy = model.conditional_probability_of_purchase_in(10.0, x, t_x, big_t)
            assert np.all((alive >= 0) & (alive <= 1)), type(model).__name__
            assert np.all((buy >= 0) & (buy <= alive + 1e-12))
        # Recent buyers are more likely alive; a longer silence lowers P(alive).
        late = model.conditional_probability_alive(3, 35.0, 40.0)
        early = model.conditional_probability_alive(3, 5.0, 40.0)
        assert late > early
        assert model.conditional_probability_alive(3, 5.0, 60.0) < early
        # Expectations grow with the horizon.
        horizons = np.array([0.0, 1.0, 10.0, 50.0, 200.0])
        assert np.all(np.diff(model.expected_number_of_purchases_up_to_time(horizons)) > 0)
        cond = model.conditional_expected_number_of_purchases_up_to_time(horizons, 4, 30.0, 40.0)
        assert cond[0] == 0.0 and np.all(np.diff(cond) > 0)
        chance = model.conditional_probability_of_purchase_in(horizons, 4, 30.0, 40.0)
        assert chance[0] == 0.0 and np.all(np.diff(chance) > 0)


def test_bgnbd_purchase_count_distribution_is_consistent(bgnbd: BetaGeoFitter) -> None:
    n = np.arange(0, 300)
    probs = bgnbd.probability_of_n_purchases_up_to_time(52.0, n)
    assert np.all(probs >= 0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)
    assert (n * probs).sum() == pytest.approx(bgnbd.expected_number_of_purchases_up_to_time(52.0), rel=1e-4)


def test_pareto_nbd_likelihood_matches_numerical_integration() -> None:
    r, alpha, s, beta = 0.6, 9.0, 0.7, 14.0
    x, t_x, big_t = np.array([0.0, 1.0, 4.0, 12.0]), np.array([0.0, 3.0, 20.0, 35.0]), np.full(4, 40.0)
    for swap in (False, True):  # both branches of the closed form (alpha < beta and alpha >= beta)
        a_, b_ = (beta, alpha) if swap else (alpha, beta)
        ll = ParetoNBDFitter._loglik(np.array([r, a_, s, b_]), x, t_x, big_t, False)
        for i in range(4):
            const = gammaln(r + x[i]) - gammaln(r) + r * np.log(a_) + s * np.log(b_)
            alive = (a_ + big_t[i]) ** -(r + x[i]) * (b_ + big_t[i]) ** -s
            died, _ = integrate.quad(
                lambda u, i=i, a_=a_, b_=b_: (a_ + u) ** -(r + x[i]) * (b_ + u) ** -(s + 1),
                t_x[i],
                big_t[i],
                epsabs=0,
                epsrel=1e-12,
            )
            assert ll[i] == pytest.approx(const + np.log(alive + s * died), rel=1e-9)


@pytest.mark.parametrize("model_cls", [BetaGeoFitter, ParetoNBDFitter])
def test_probability_of_purchase_matches_simulation(model_cls: type) -> None:
    """P(at least one purchase in t | history) against a Monte Carlo of the posterior process."""
    rng = np.random.default_rng(3)
    r, alpha, third, fourth = 0.5, 6.0, 0.9, 3.0
    model = model_cls()
    model.params_ = dict(zip(model_cls._param_names, (r, alpha, third, fourth), strict=True))
    x, t_x, big_t, t = 3, 20.0, 40.0, 15.0
    n = 400_000
    alive = rng.random(n) < model.conditional_probability_alive(x, t_x, big_t)
    lam = rng.gamma(r + x, 1.0 / (alpha + big_t), n)
    first_purchase = rng.exponential(1.0 / lam)
    if model_cls is ParetoNBDFitter:
        mu = rng.gamma(third, 1.0 / (fourth + big_t), n)
        bought = alive & (first_purchase < np.minimum(rng.exponential(1.0 / mu), t))
    else:  # BG/NBD customers alive at T buy at their next Poisson event
        bought = alive & (first_purchase < t)
    expected = model.conditional_probability_of_purchase_in(t, x, t_x, big_t)
    assert bought.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))


def test_pareto_nbd_conditional_expectation_without_history_matches_unconditional(
    pnbd: ParetoNBDFitter,
) -> None:
    # With no history (x = 0, T = 0) the conditional expectation is the prior one.
    for t in (1.0, 39.0, 78.0):
        assert pnbd.conditional_expected_number_of_purchases_up_to_time(t, 0, 0.0, 0.0) == pytest.approx(
            pnbd.expected_number_of_purchases_up_to_time(t), rel=1e-10
        )


def test_scalar_in_scalar_out_and_series_accepted(bgnbd: BetaGeoFitter) -> None:
    assert isinstance(bgnbd.conditional_probability_alive(2, 10.0, 20.0), float)
    out = bgnbd.conditional_probability_alive(
        pd.Series([0, 2]), pd.Series([0.0, 10.0]), pd.Series([20.0, 20.0])
    )
    assert isinstance(out, np.ndarray) and out.shape == (2,)


def test_model_input_errors_name_the_column() -> None:
    model = BetaGeoFitter()
    with pytest.raises(ValueError, match="'recency' must not exceed T"):
        model.fit([1, 2], [5.0, 30.0], [10.0, 20.0])
    with pytest.raises(ValueError, match="'frequency' must be a non-negative whole number"):
        model.fit([1.5, 2], [5.0, 10.0], [10.0, 20.0])
    with pytest.raises(ValueError, match="'recency' has missing"):
        model.fit([1, 2], [np.nan, 10.0], [10.0, 20.0])
    with pytest.raises(ValueError, match="keep repeat buyers only"):
        GammaGammaFitter().fit([0, 2], [10.0, 12.0])
    with pytest.raises(ValueError, match="'monetary_value' must be > 0"):
        GammaGammaFitter().fit([1, 2], [0.0, 12.0])


def test_unfitted_model_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BetaGeoFitter().conditional_probability_alive(1, 1.0, 2.0)


def test_init_only_stores_arguments_and_penalizer_shrinks() -> None:
    model = BetaGeoFitter(penalizer_coef=0.1)
    assert model.get_params() == {"penalizer_coef": 0.1, "standard_errors": True}
    assert not hasattr(model, "params_")
    x, t_x, big_t = _simulate_bgnbd(3000, seed=5)
    plain = BetaGeoFitter().fit(x, t_x, big_t).params_
    shrunk = model.fit(x, t_x, big_t).params_
    assert sum(v**2 for v in shrunk.values()) < sum(v**2 for v in plain.values())


def test_the_simplex_restart_has_a_budget_per_parameter() -> None:
    """When the restart's tolerances cannot be met its budget stops it: 500 evaluations per parameter (it was
    40,000 whatever their number: 160 s for one Pareto/NBD on a 50k demo world)."""
    from custml.models.btyd._base import _minimise

    calls = []

    def noisy(z: np.ndarray) -> float:
        # a bowl with a fixed roughness of 1e-9 at every point (the round-off of a summed likelihood): the
        # simplex's tolerance on the objective (1e-13) is never met, so only the budget stops it
        calls.append(1)
        bits = int(np.frombuffer(np.asarray(z, dtype=np.float64).tobytes(), dtype=np.uint64).sum() % 2**61)
        noise = 1e-9 * ((bits * 2_654_435_761) % 1_000_003) / 1_000_003
        return float((z[0] - 1.0) ** 2 + (z[1] + 0.5) ** 2 + noise)

    res, _ = _minimise(noisy, np.zeros(2), analytic_gradient=False)
    assert abs(res.x[0] - 1.0) < 1e-4 and abs(res.x[1] + 0.5) < 1e-4
    assert len(calls) < 2 * 500 + 1_000  # the simplex's budget plus the L-BFGS-B polish
