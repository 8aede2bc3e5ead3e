"""BTYD models with static covariates: the zero-covariate identity, parameter recovery, gradients, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.errors import ConfigError, DataFileError, SchemaError
from custml.models.btyd import BetaGeoFitter, CustomerCovariates, GammaGammaFitter, ParetoNBDFitter
from custml.models.btyd._covariates import linked_objective

# --------------------------------------------------------------------------------------------------------
# Simulators with known coefficients
# --------------------------------------------------------------------------------------------------------

TRUE_PNBD = {"r": 0.8, "alpha": 8.0, "s": 0.7, "beta": 12.0, "purchase:channel": 0.6, "dropout:channel": -0.5}
TRUE_PNBD |= {"purchase:score": -0.3, "dropout:score": 0.4}
TRUE_BGNBD = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 3.0, "purchase:channel": 0.5, "purchase:score": -0.3}
TRUE_BGNBD |= {
    "dropout_a:channel": -0.6,
    "dropout_a:score": 0.0,
    "dropout_b:channel": 0.2,
    "dropout_b:score": 0.3,
}
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0, "spend:channel": 0.4, "spend:score": -0.2}


def _covariates(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A binary channel and a standardised score."""
    return pd.DataFrame({"channel": rng.integers(0, 2, n).astype(float), "score": rng.normal(0.0, 1.0, n)})


def _last_event(rng: np.random.Generator, x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Time of the x-th of x Poisson events in (0, window]: the maximum of x uniforms."""
    pos = x > 0
    out = np.zeros(len(x))
    out[pos] = window[pos] * rng.beta(x[pos], 1.0)
    return out


def simulate_pareto_nbd(n: int, seed: int, truth: dict[str, float] = TRUE_PNBD) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    z = _covariates(n, rng)
    alpha_i = truth["alpha"] * np.exp(
        -(z["channel"] * truth["purchase:channel"] + z["score"] * truth["purchase:score"])
    )
    beta_i = truth["beta"] * np.exp(
        -(z["channel"] * truth["dropout:channel"] + z["score"] * truth["dropout:score"])
    )
    big_t = rng.uniform(26.0, 78.0, n)
    lam = rng.gamma(truth["r"], 1.0 / alpha_i.to_numpy())
    mu = rng.gamma(truth["s"], 1.0 / beta_i.to_numpy())
    window = np.minimum(rng.exponential(1.0 / mu), big_t)
    x = rng.poisson(lam * window).astype(float)
    return x, _last_event(rng, x, window), big_t, z


def simulate_bgnbd(n: int, seed: int, truth: dict[str, float] = TRUE_BGNBD) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    z = _covariates(n, rng)

    def lin(prefix: str) -> np.ndarray:
        return (z["channel"] * truth[f"{prefix}:channel"] + z["score"] * truth[f"{prefix}:score"]).to_numpy()

    alpha_i = truth["alpha"] * np.exp(-lin("purchase"))
    a_i, b_i = truth["a"] * np.exp(lin("dropout_a")), truth["b"] * np.exp(lin("dropout_b"))
    big_t = rng.uniform(26.0, 78.0, n)
    lam = rng.gamma(truth["r"], 1.0 / alpha_i)
    p = rng.beta(a_i, b_i)
    n_events = rng.poisson(lam * big_t)
    x = np.minimum(n_events, rng.geometric(p)).astype(float)  # drops out right after the J-th purchase
    t_x = np.zeros(n)
    pos = x > 0
    t_x[pos] = big_t[pos] * rng.beta(x[pos], n_events[pos] - x[pos] + 1)
    return x, t_x, big_t, z


def simulate_gamma_gamma(n: int, seed: int, truth: dict[str, float] = TRUE_GG) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    z = _covariates(n, rng)
    gamma_i = truth["gamma"] * np.exp(
        z["channel"] * truth["spend:channel"] + z["score"] * truth["spend:score"]
    )
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(truth["q"], 1.0 / gamma_i.to_numpy())
    return x, rng.gamma(truth["p"] * x, 1.0 / nu) / x, z


# --------------------------------------------------------------------------------------------------------
# All-zero covariates give the plain fit
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_cls", [ParetoNBDFitter, BetaGeoFitter])
def test_zero_covariates_give_the_plain_fit(model_cls: type) -> None:
    x, t_x, big_t, _ = simulate_pareto_nbd(1500, seed=3)
    zeros = pd.DataFrame({"channel": np.zeros(len(x)), "score": np.zeros(len(x))})
    plain = model_cls(standard_errors=False).fit(x, t_x, big_t)
    with_cov = model_cls(standard_errors=False).fit(
        x, t_x, big_t, purchase_covariates=zeros, dropout_covariates=zeros
    )
    assert with_cov.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    for name, value in plain.params_.items():
        assert with_cov.params_[name] == pytest.approx(value, rel=1e-4), name
    assert with_cov.n_unique_rows_ == plain.n_unique_rows_
    assert len(with_cov.params_) == len(plain.params_) + {ParetoNBDFitter: 4, BetaGeoFitter: 6}[model_cls]


def test_zero_covariates_give_the_plain_gamma_gamma_fit() -> None:
    x, m, _ = simulate_gamma_gamma(800, seed=4)
    plain = GammaGammaFitter(standard_errors=False).fit(x, m)
    with_cov = GammaGammaFitter(standard_errors=False).fit(
        x, m, spend_covariates=pd.DataFrame({"c": np.zeros(800)})
    )
    assert with_cov.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    assert with_cov.params_["spend:c"] == 0.0  # no information: the start value stays
    for name in ("p", "q", "gamma"):
        assert with_cov.params_[name] == pytest.approx(plain.params_[name], rel=1e-4)


# --------------------------------------------------------------------------------------------------------
# Parameter recovery (the share of estimates within two standard errors of the truth)
# --------------------------------------------------------------------------------------------------------


def _share_within_two_se(
    fits: list[tuple[dict[str, float], dict[str, float]]], truth: dict[str, float]
) -> float:
    hits = [abs(params[k] - truth[k]) <= 2.0 * se[k] for params, se in fits for k in truth]
    return float(np.mean(hits))


def test_pareto_nbd_recovers_known_coefficients() -> None:
    fits = []
    for rep in range(8):
        x, t_x, big_t, z = simulate_pareto_nbd(3000, seed=100 + rep)
        model = ParetoNBDFitter().fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
        assert model.converged_
        fits.append((model.params_, model.standard_errors_))
    # 8 fits x 8 parameters; nominal share 0.954 (benchmarks/btyd_recovery.py: 0.954 over 100 fits).
    assert _share_within_two_se(fits, TRUE_PNBD) >= 0.85
    mean = {k: np.mean([p[k] for p, _ in fits]) for k in TRUE_PNBD if ":" in k}
    for k, v in mean.items():
        assert mean[k] == pytest.approx(v, abs=0.15), k


def test_bgnbd_recovers_known_coefficients() -> None:
    fits = []
    for rep in range(6):
        x, t_x, big_t, z = simulate_bgnbd(4000, seed=200 + rep)
        model = BetaGeoFitter().fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
        assert model.converged_
        fits.append((model.params_, model.standard_errors_))
    assert _share_within_two_se(fits, TRUE_BGNBD) >= 0.85


def test_gamma_gamma_recovers_known_coefficients() -> None:
    fits = []
    for rep in range(8):
        x, m, z = simulate_gamma_gamma(1500, seed=300 + rep)
        model = GammaGammaFitter().fit(x, m, spend_covariates=z)
        fits.append((model.params_, model.standard_errors_))
    assert _share_within_two_se(fits, TRUE_GG) >= 0.85


# --------------------------------------------------------------------------------------------------------
# Gradient, compression, predictions, errors
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_cls", [ParetoNBDFitter, BetaGeoFitter])
def test_covariate_gradient_matches_finite_differences(model_cls: type) -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(400, seed=5)
    model = model_cls()
    linked = model._linked(z.to_numpy(), ("channel", "score"), z.to_numpy(), ("channel", "score"))
    w = np.ones(len(x))

    def loglik(values: list, grad: bool):
        return model._loglik(values, x, t_x, big_t, grad)

    objective = linked_objective(loglik, linked, w, 0.0)
    rng = np.random.default_rng(0)
    theta = np.concatenate([np.log([0.7, 8.0, 0.8, 10.0]), rng.normal(0.0, 0.3, linked.size - 4)])
    _, grad = objective(theta)
    for j in range(linked.size):
        step = np.zeros_like(theta)
        step[j] = 1e-6
        fd = (objective(theta + step)[0] - objective(theta - step)[0]) / 2e-6
        assert grad[j] == pytest.approx(fd, rel=1e-4, abs=1e-7), linked.names[j]


def test_rows_with_same_history_and_covariates_are_collapsed() -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(300, seed=6)
    z = z.assign(score=np.round(z["score"]))
    doubled = ParetoNBDFitter(standard_errors=False).fit(
        np.tile(x, 2), np.tile(t_x, 2), np.tile(big_t, 2), purchase_covariates=pd.concat([z, z])
    )
    weighted = ParetoNBDFitter(standard_errors=False).fit(x, t_x, big_t, weights=2.0, purchase_covariates=z)
    assert doubled.n_unique_rows_ == weighted.n_unique_rows_ <= 300
    assert doubled.log_likelihood_ == pytest.approx(weighted.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize("model_cls", [ParetoNBDFitter, BetaGeoFitter])
def test_predictions_take_the_covariates(model_cls: type) -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(3000, seed=7)
    model = model_cls().fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
    assert model.purchase_covariate_names_ == ("channel", "score")
    probe = pd.DataFrame({"channel": [0.0, 1.0], "score": [0.0, 0.0]})
    history = ([2, 2], [20.0, 20.0], [52.0, 52.0])
    expected = model.conditional_expected_number_of_purchases_up_to_time(26, *history, probe, probe)
    alive = model.conditional_probability_alive(*history, probe, probe)
    buy = model.conditional_probability_of_purchase_in(26, *history, probe, probe)
    new = model.expected_number_of_purchases_up_to_time(26, probe, probe)
    assert expected.shape == alive.shape == buy.shape == new.shape == (2,)
    assert np.all((alive > 0) & (alive <= 1) & (buy > 0) & (buy < 1))
    assert new[1] > new[0]  # channel 1 buys more (true purchase coefficient 0.6 > 0)
    # A customer with all-zero covariates is the baseline model: r, alpha, ... without coefficients.
    base = model_cls(standard_errors=False)
    base.params_ = {k: v for k, v in model.params_.items() if ":" not in k}
    assert expected[0] == pytest.approx(
        base.conditional_expected_number_of_purchases_up_to_time(26, 2, 20.0, 52.0)
    )
    assert alive[0] == pytest.approx(base.conditional_probability_alive(2, 20.0, 52.0))
    # Extra columns are ignored, the order is by name.
    shuffled = probe[["score", "channel"]].assign(other=1.0)
    np.testing.assert_allclose(
        model.conditional_probability_alive(*history, shuffled, shuffled), alive, rtol=1e-12
    )


def test_clv_and_spend_take_the_covariates() -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(2000, seed=8)
    purchases = ParetoNBDFitter(standard_errors=False).fit(x, t_x, big_t, purchase_covariates=z)
    gx, m, gz = simulate_gamma_gamma(1500, seed=9)
    spend = GammaGammaFitter().fit(gx, m, spend_covariates=gz)
    assert spend.params_["spend:channel"] == pytest.approx(0.4, abs=0.15)
    probe = pd.DataFrame({"channel": [0.0, 1.0], "score": [0.0, 0.0]})
    mean_spend = spend.conditional_expected_average_profit([0, 0], [0.0, 0.0], probe)
    assert mean_spend[1] / mean_spend[0] == pytest.approx(np.exp(spend.params_["spend:channel"]))
    clv = spend.customer_lifetime_value(
        purchases, [1, 1], [10.0, 10.0], [40.0, 40.0], [30.0, 30.0], freq="W",
        covariates=CustomerCovariates(purchase=probe, spend=probe),
    )  # fmt: skip
    assert clv[1] > clv[0] > 0


def test_covariate_errors_name_the_table_and_column() -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(200, seed=10)
    model = ParetoNBDFitter(standard_errors=False)
    with pytest.raises(SchemaError, match="purchase_covariates: column 'score' has missing"):
        model.fit(
            x, t_x, big_t, purchase_covariates=z.assign(score=np.where(z.index == 3, np.nan, z["score"]))
        )
    with pytest.raises(SchemaError, match="dropout_covariates: column 'region' must be numeric"):
        model.fit(x, t_x, big_t, dropout_covariates=z.assign(region="north"))
    with pytest.raises(SchemaError, match="purchase_covariates: has 199 rows but the customer data has 200"):
        model.fit(x, t_x, big_t, purchase_covariates=z.iloc[:199])
    with pytest.raises(SchemaError, match="must be a pandas DataFrame"):
        model.fit(x, t_x, big_t, purchase_covariates=z.to_numpy())
    model.fit(x, t_x, big_t, purchase_covariates=z)
    with pytest.raises(ConfigError, match="fitted with covariates"):
        model.conditional_probability_alive(x, t_x, big_t)
    with pytest.raises(SchemaError, match="purchase_covariates: column 'channel' is missing"):
        model.conditional_probability_alive(x, t_x, big_t, purchase_covariates=z[["score"]])
    with pytest.raises(ConfigError, match="fitted without these covariates"):
        model.conditional_probability_alive(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)


def test_compiled_dropout_moments_match_the_numpy_reference() -> None:
    from custml.models.btyd.pareto_nbd import _died_moments, _died_moments_numpy

    x, t_x, big_t, z = simulate_pareto_nbd(500, seed=11)
    alpha = 8.0 * np.exp(-0.5 * z["channel"].to_numpy())
    beta = np.where(z["score"] > 0, 4.0, 20.0)  # both branches alpha >= beta and alpha < beta
    got = _died_moments(0.7, alpha, 0.8, beta, x, t_x, big_t)
    want = _died_moments_numpy(0.7, alpha, 0.8, beta, x, t_x, big_t)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_cdnow_standard_errors_match_the_published_ones() -> None:
    from custml.datasets import load_cdnow_summary

    try:
        cdnow = load_cdnow_summary()
    except DataFileError:
        pytest.skip("CDNOW data not found")
    model = BetaGeoFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    # Fader, Hardie and Lee (2005): r 0.243 (0.013), alpha 4.414 (0.378), a 0.793 (0.186), b 2.426 (0.705).
    for name, se in {"r": 0.013, "alpha": 0.378, "a": 0.186, "b": 0.705}.items():
        assert model.standard_errors_[name] == pytest.approx(se, abs=1.5e-3), name


def test_dropout_moments_are_accurate_for_heavy_buyers_with_long_silences() -> None:
    from scipy import integrate

    from custml.models.btyd.pareto_nbd import _died_moments

    r, alpha, s, beta = 0.6, 3.0, 0.7, 9.0
    for x, t_x, big_t in [
        (60.0, 2.0, 80.0),
        (100.0, 0.5, 300.0),
        (0.0, 0.0, 52.0),
        (3.0, 1.0, 60.0),
        (5.0, 30.0, 30.5),
    ]:

        def f(u: float, g: object, x: float = x) -> float:
            return (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1.0) * g(u)  # type: ignore[operator]

        norm = integrate.quad(f, t_x, big_t, args=(lambda u: 1.0,), epsabs=0, epsrel=1e-13, limit=200)[0]
        want = [
            integrate.quad(f, t_x, big_t, args=(g,), epsabs=0, epsrel=1e-13, limit=200)[0] / norm
            for g in (
                lambda u: 1 / (alpha + u),
                lambda u: 1 / (beta + u),
                lambda u: np.log(alpha + u),
                lambda u: np.log(beta + u),
            )
        ]
        got = [
            float(m[0])
            for m in _died_moments(r, alpha, s, beta, np.array([x]), np.array([t_x]), np.array([big_t]))
        ]
        np.testing.assert_allclose(got, want, rtol=1e-9)


def test_quadrature_likelihood_of_the_optimiser_matches_the_closed_form() -> None:
    """The optimiser's Pareto/NBD value (quadrature, with the gradient) against the hypergeometric closed form."""
    x, t_x, big_t, z = simulate_pareto_nbd(3000, seed=12)
    for params in ([0.55, 10.6, 0.61, 11.7], [1.5, 3.0, 0.3, 40.0], [0.3, 30.0, 2.0, 2.0]):
        alpha = params[1] * np.exp(-0.4 * z["channel"].to_numpy())
        values = (params[0], alpha, params[2], params[3])
        with_grad, _ = ParetoNBDFitter._loglik(values, x, t_x, big_t, True)
        closed = ParetoNBDFitter._loglik(values, x, t_x, big_t, False)
        np.testing.assert_allclose(with_grad, closed, rtol=1e-10, atol=1e-10)


def test_a_constant_covariate_is_flagged(caplog: pytest.LogCaptureFixture) -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(300, seed=13)
    with caplog.at_level("WARNING"):
        BetaGeoFitter(standard_errors=False).fit(x, t_x, big_t, purchase_covariates=z.assign(one=1.0))
    assert "column 'one' is constant" in caplog.text


@pytest.mark.parametrize("model_cls", [ParetoNBDFitter, BetaGeoFitter])
def test_log_likelihood_per_customer_sums_to_the_fit(model_cls: type) -> None:
    x, t_x, big_t, z = simulate_pareto_nbd(800, seed=14)
    model = model_cls(standard_errors=False).fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
    per_customer = model.log_likelihood(x, t_x, big_t, z, z)
    assert per_customer.shape == (800,)
    assert per_customer.sum() == pytest.approx(model.log_likelihood_, rel=1e-12)
