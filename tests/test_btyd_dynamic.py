"""Pareto/NBD with time-varying covariates: identities with the static models, gradient, recovery, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.errors import ConfigError, SchemaError
from custml.models.btyd import (
    DynamicCovariates,
    ParetoNBDDynamicFitter,
    ParetoNBDFitter,
    dynamic_covariates,
    static_as_dynamic,
)
from custml.models.btyd._dyncov_likelihood import _loglik_block, _loglik_block_numpy, _Rows

TRUE = {"r": 0.9, "alpha": 6.0, "s": 0.8, "beta": 14.0, "purchase:season": 0.8, "purchase:channel": 0.4}
TRUE |= {"dropout:season": -0.4, "dropout:channel": 0.5}
PERIOD = 4.0  # weeks per covariate period in the simulations (keeps the tests fast)
N_PERIODS = 30


def _season(n_periods: int) -> np.ndarray:
    """High season in 3 of every 13 periods."""
    return (np.arange(n_periods) % 13 >= 10).astype(float)


def _invert(cum: np.ndarray, rate: np.ndarray, value: float) -> float:
    """Time at which the piecewise-linear cumulative effect (grid values ``cum``) reaches ``value``."""
    k = int(np.searchsorted(cum, value, side="right")) - 1
    if k >= len(rate):
        return np.inf
    return k * PERIOD + (value - cum[k]) / rate[k]


def simulate_dynamic(n: int, seed: int, truth: dict[str, float] = TRUE) -> DynamicCovariates:
    """Customers with a season covariate (both processes) and a static channel; known coefficients."""
    rng = np.random.default_rng(seed)
    season = _season(N_PERIODS)
    channel = rng.integers(0, 2, n).astype(float)
    birth = rng.uniform(0.0, 40.0, n)
    big_t = 100.0 - birth
    x = np.zeros(n)
    t_x = np.zeros(n)
    sums = np.zeros((n, 2))
    paths = np.stack([np.column_stack([season, np.full(N_PERIODS, c)]) for c in (0.0, 1.0)])
    lam = rng.gamma(truth["r"], 1.0 / truth["alpha"], n)
    mu = rng.gamma(truth["s"], 1.0 / truth["beta"], n)
    for i in range(n):
        path = paths[int(channel[i])]
        e_p = np.exp(path @ [truth["purchase:season"], truth["purchase:channel"]])
        e_d = np.exp(path @ [truth["dropout:season"], truth["dropout:channel"]])
        cum_p = np.concatenate([[0.0], np.cumsum(e_p) * PERIOD])
        cum_d = np.concatenate([[0.0], np.cumsum(e_d) * PERIOD])

        def at(cum: np.ndarray, rate: np.ndarray, t: float) -> float:
            k = min(int(t // PERIOD), N_PERIODS - 1)
            return cum[k] + rate[k] * (t - k * PERIOD)

        death = _invert(cum_d, e_d, at(cum_d, e_d, birth[i]) + rng.exponential() / mu[i])
        end = min(death, birth[i] + big_t[i])
        a0, a1 = at(cum_p, e_p, birth[i]), at(cum_p, e_p, end)
        k = rng.poisson(lam[i] * (a1 - a0))
        if k:
            times = np.array([_invert(cum_p, e_p, v) for v in a0 + rng.uniform(0.0, a1 - a0, k)])
            x[i], t_x[i] = k, times.max() - birth[i]
            sums[i] = path[np.minimum((times // PERIOD).astype(int), N_PERIODS - 1)].sum(axis=0)
    return DynamicCovariates(
        customers=pd.RangeIndex(n),
        frequency=x,
        recency=t_x,
        T=big_t,
        birth=birth,
        period_length=PERIOD,
        purchase_names=("season", "channel"),
        dropout_names=("season", "channel"),
        purchase_paths=paths,
        dropout_paths=paths,
        purchase_path=channel.astype(np.int64),
        dropout_path=channel.astype(np.int64),
        purchase_at_transactions=sums,
    )


@pytest.fixture(scope="module")
def simulated() -> DynamicCovariates:
    return simulate_dynamic(2500, seed=1)


# --------------------------------------------------------------------------------------------------------
# Identities: zero covariates = plain Pareto/NBD; time-constant covariates = static-covariate Pareto/NBD
# --------------------------------------------------------------------------------------------------------


def test_zero_dynamic_covariates_give_the_plain_fit(simulated: DynamicCovariates) -> None:
    d = simulated
    zero = _with_zero_paths(d)
    plain = ParetoNBDFitter(standard_errors=False).fit(d.frequency, d.recency, d.T)
    dynamic = ParetoNBDDynamicFitter(standard_errors=False).fit(zero)
    assert dynamic.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    for name, value in plain.params_.items():
        assert dynamic.params_[name] == pytest.approx(value, rel=1e-5), name
    assert dynamic.params_["purchase:season"] == pytest.approx(0.0, abs=1e-9)


def _with_zero_paths(d: DynamicCovariates) -> DynamicCovariates:
    fields = dict(d.__dict__)
    fields["purchase_paths"] = np.zeros_like(d.purchase_paths)
    fields["dropout_paths"] = np.zeros_like(d.dropout_paths)
    fields["purchase_at_transactions"] = np.zeros_like(d.purchase_at_transactions)
    return DynamicCovariates(**fields)


def test_time_constant_covariates_give_the_static_covariate_fit() -> None:
    rng = np.random.default_rng(2)
    n = 1500
    z = pd.DataFrame(
        {"channel": rng.integers(0, 2, n).astype(float), "tier": rng.integers(0, 3, n).astype(float)}
    )
    alpha_i = 6.0 * np.exp(-0.5 * z["channel"].to_numpy())
    big_t = rng.uniform(20.0, 60.0, n)
    lam, mu = rng.gamma(0.9, 1.0 / alpha_i), rng.gamma(0.8, 1.0 / 12.0, n)
    window = np.minimum(rng.exponential(1.0 / mu), big_t)
    x = rng.poisson(lam * window).astype(float)
    t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1.0), 1.0), 0.0)
    static = ParetoNBDFitter().fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z[["tier"]])
    data = static_as_dynamic(x, t_x, big_t, 100, z, z[["tier"]], birth=rng.uniform(0.0, 15.0, n))
    dynamic = ParetoNBDDynamicFitter().fit(data)
    assert dynamic.log_likelihood_ == pytest.approx(static.log_likelihood_, abs=1e-6)
    for name, value in static.params_.items():
        assert dynamic.params_[name] == pytest.approx(value, rel=1e-5, abs=1e-8), name
        assert dynamic.standard_errors_[name] == pytest.approx(static.standard_errors_[name], rel=1e-3), name
    np.testing.assert_allclose(
        dynamic.conditional_probability_alive(data),
        static.conditional_probability_alive(x, t_x, big_t, z, z[["tier"]]),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        dynamic.conditional_expected_number_of_purchases_up_to_time(10.0, data),
        static.conditional_expected_number_of_purchases_up_to_time(10.0, x, t_x, big_t, z, z[["tier"]]),
        rtol=1e-8,
    )


# --------------------------------------------------------------------------------------------------------
# Gradient and recovery with a genuinely time-varying covariate
# --------------------------------------------------------------------------------------------------------


def test_dynamic_gradient_matches_finite_differences(simulated: DynamicCovariates) -> None:
    d = simulated
    rows = _Rows(
        d.frequency, d.recency, d.T, d.birth, d.purchase_path, d.dropout_path,
        d.purchase_at_transactions, d.period_length, d.purchase_paths, d.dropout_paths,
    )  # fmt: skip
    nodes = np.polynomial.legendre.leggauss(5)
    theta = np.array([0.8, 7.0, 0.7, 11.0, 0.5, 0.2, -0.3, 0.4])

    def total(t: np.ndarray) -> float:
        return float(_loglik_block(tuple(t[:4]), t[4:6], t[6:], rows, False, nodes)[0].sum())

    _, grad = _loglik_block(tuple(theta[:4]), theta[4:6], theta[6:], rows, True, nodes)
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = 1e-6 * max(1.0, abs(theta[j]))
        fd = (total(theta + step) - total(theta - step)) / (2 * step[j])
        assert grad[:, j].sum() == pytest.approx(fd, rel=1e-5, abs=1e-4), j


def test_dynamic_fit_recovers_known_coefficients() -> None:
    hits = []
    for rep in range(3):
        model = ParetoNBDDynamicFitter().fit(simulate_dynamic(2500, seed=10 + rep))
        assert model.converged_
        hits += [abs(model.params_[k] - v) <= 2.0 * model.standard_errors_[k] for k, v in TRUE.items()]
    # 3 fits x 8 parameters; nominal share 0.954 (benchmarks/btyd_recovery.py: 0.945 over 50 fits).
    assert np.mean(hits) >= 0.8


# --------------------------------------------------------------------------------------------------------
# Predictions with future covariates; building the data from tables; errors
# --------------------------------------------------------------------------------------------------------


def test_predictions_use_the_future_covariates(simulated: DynamicCovariates) -> None:
    d = simulated
    model = ParetoNBDDynamicFitter(standard_errors=False).fit(d)
    with pytest.raises(ConfigError, match="pass covariates for the future periods"):
        model.conditional_expected_number_of_purchases_up_to_time(40.0, d)

    # Extend the grid by 15 periods, once all in high season and once all in low season.
    def extended(season_value: float) -> DynamicCovariates:
        fields = dict(d.__dict__)
        for key in ("purchase_paths", "dropout_paths"):
            future = np.repeat(d.__dict__[key][:, -1:, :], 15, axis=1).copy()
            future[:, :, 0] = season_value
            fields[key] = np.concatenate([d.__dict__[key], future], axis=1)
        return DynamicCovariates(**fields)

    high = model.conditional_expected_number_of_purchases_up_to_time(40.0, extended(1.0))
    low = model.conditional_expected_number_of_purchases_up_to_time(40.0, extended(0.0))
    assert np.all(high > low)  # the fitted purchase effect of the season is positive
    assert model.params_["purchase:season"] > 0
    alive = model.conditional_probability_alive(d)
    assert np.all((alive > 0) & (alive <= 1))
    np.testing.assert_allclose(model.conditional_probability_alive(extended(1.0)), alive)


def _tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = pd.DataFrame(
        {
            "Id": [1, 1, 1, 2, 2],
            "Date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-16", "2024-01-09", "2024-02-20"]),
        }
    )
    weeks = pd.date_range("2024-01-01", periods=10, freq="7D")
    cov = pd.DataFrame(
        [(c, w, float(i % 3 == 2), float(c == 2)) for c in (1, 2) for i, w in enumerate(weeks)],
        columns=["Id", "Cov.Date", "High.Season", "Channel"],
    )
    return tx, cov


def test_dynamic_covariates_from_tables() -> None:
    tx, cov = _tiny_tables()
    data = dynamic_covariates(
        tx,
        cov,
        "Id",
        "Date",
        "Cov.Date",
        "2024-02-11",
        purchase=["High.Season", "Channel"],
        dropout=["High.Season"],
    )
    assert list(data.customers) == [1, 2]
    np.testing.assert_allclose(
        data.frequency, [1.0, 0.0]
    )  # customer 2's second purchase is after the cut-off
    np.testing.assert_allclose(data.recency, [15 / 7, 0.0])
    np.testing.assert_allclose(data.T, [41 / 7, 33 / 7])
    np.testing.assert_allclose(data.birth, [0.0, 8 / 7])
    assert data.period_length == 1.0 and data.n_periods == 10
    # customer 1's repeat purchase (2024-01-16) falls in week 2, a high-season week, channel 0
    np.testing.assert_allclose(data.purchase_at_transactions, [[1.0, 0.0], [0.0, 0.0]])
    assert data.purchase_paths.shape == (2, 10, 2) and data.dropout_paths.shape == (1, 10, 1)


def test_dynamic_covariates_errors_name_the_column() -> None:
    tx, cov = _tiny_tables()
    with pytest.raises(SchemaError, match="covariates: column 'Gender' is missing"):
        dynamic_covariates(tx, cov, "Id", "Date", "Cov.Date", "2024-02-11", purchase=["Gender"])
    gap = cov.drop(index=cov.index[(cov["Id"] == 1) & (cov["Cov.Date"] == "2024-01-22")])
    with pytest.raises(SchemaError, match="column 'High.Season' has no value for a period"):
        dynamic_covariates(tx, gap, "Id", "Date", "Cov.Date", "2024-02-11", purchase=["High.Season"])
    late = cov.loc[cov["Cov.Date"] >= "2024-01-08"]
    with pytest.raises(SchemaError, match="starts after some customers' first purchase"):
        dynamic_covariates(tx, late, "Id", "Date", "Cov.Date", "2024-02-11", purchase=["High.Season"])
    model = ParetoNBDDynamicFitter()
    with pytest.raises(SchemaError, match="must be a DynamicCovariates"):
        model.fit(pd.DataFrame())
    with pytest.raises(ConfigError, match="quadrature_nodes"):
        ParetoNBDDynamicFitter(quadrature_nodes=0).fit(
            dynamic_covariates(tx, cov, "Id", "Date", "Cov.Date", "2024-02-11", purchase=["High.Season"])
        )


def test_compiled_loop_matches_the_numpy_reference(simulated: DynamicCovariates) -> None:
    """The compiled panels (6 nodes) against the per-period numpy reference with 30 nodes per period."""
    d = simulated
    rows = _Rows(
        d.frequency[:500], d.recency[:500], d.T[:500], d.birth[:500], d.purchase_path[:500], d.dropout_path[:500],
        d.purchase_at_transactions[:500], d.period_length, d.purchase_paths, d.dropout_paths,
    )  # fmt: skip
    args = ((0.8, 7.0, 0.7, 11.0), np.array([0.5, 0.2]), np.array([-0.3, 0.4]), rows)
    ll, grad = _loglik_block(*args, True, np.polynomial.legendre.leggauss(6))
    ll_ref, grad_ref = _loglik_block_numpy(*args, True, np.polynomial.legendre.leggauss(30))
    np.testing.assert_allclose(ll, ll_ref, rtol=1e-10)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-7, atol=1e-9)


def test_dynamic_log_likelihood_per_customer_sums_to_the_fit(simulated: DynamicCovariates) -> None:
    model = ParetoNBDDynamicFitter(standard_errors=False).fit(simulated)
    per_customer = model.log_likelihood(simulated)
    assert per_customer.shape == (len(simulated.customers),)
    assert per_customer.sum() == pytest.approx(model.log_likelihood_, rel=1e-12)
    other = DynamicCovariates(**{**simulated.__dict__, "purchase_names": ("season", "tier")})
    with pytest.raises(SchemaError, match="differ from the fitted"):
        model.log_likelihood(other)


def test_dynamic_covariates_container_checks_its_shapes(simulated: DynamicCovariates) -> None:
    fields = dict(simulated.__dict__)
    with pytest.raises(SchemaError, match="purchase_path' points past the paths"):
        DynamicCovariates(**{**fields, "purchase_path": fields["purchase_path"] + 5})
    with pytest.raises(SchemaError, match="dropout_paths' must be"):
        DynamicCovariates(**{**fields, "dropout_names": ("season",)})
    with pytest.raises(SchemaError, match="'birth' starts before"):
        DynamicCovariates(**{**fields, "birth": fields["birth"] - 100.0})
