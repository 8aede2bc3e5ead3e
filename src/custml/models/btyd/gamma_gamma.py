"""Gamma-Gamma model of the mean spend per transaction and the customer lifetime value built on it."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custml.errors import ConfigError, SchemaError
from custml.models.btyd._base import (
    _UNITS_PER_MONTH,
    FloatArray,
    _as_float,
    _compress,
    _minimise,
    _out,
    _TransactionModel,
)
from custml.models.btyd._covariates import (
    CustomerCovariates,
    Link,
    LinkedParameters,
    covariate_matrix,
    linked_objective,
    standard_errors,
)

__all__ = ["GammaGammaFitter"]

logger = logging.getLogger(__name__)


class GammaGammaFitter(BaseEstimator):
    """Gamma-Gamma model of the mean spend per transaction (Fader, Hardie and Lee 2005, "RFM and CLV").

    Each transaction value is ``Gamma(p, nu)`` with a customer-level rate ``nu ~ Gamma(q, gamma)``; spend is
    assumed independent of purchase frequency. Fit it on repeat buyers only (``frequency > 0``) with their
    mean repeat-transaction value.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the negative mean log-likelihood (0: maximum likelihood); it
        also shrinks the covariate coefficients.
    standard_errors : bool
        Compute ``standard_errors_`` from the Hessian after the fit.

    Static covariates (``fit(..., spend_covariates=Z)``) act on the spend level: ``gamma_i = gamma *
    exp(Z_i . g_spend)``, so the expected mean spend ``p gamma_i / (q - 1)`` is multiplied by
    ``exp(Z_i . g_spend)`` (a positive coefficient raises spend).

    Attributes
    ----------
    params_ : dict[str, float]
        ``p``, ``q``, ``gamma``, then ``spend:<column>`` per covariate.
    standard_errors_ : dict[str, float]
        Standard error of each entry of ``params_`` (inverse Hessian; delta method for the positive ones).
    log_likelihood_ : float
        Total log-likelihood at the estimate, penalty excluded.
    n_customers_ : float
        Number of customers fitted (sum of weights).
    converged_ : bool
        Whether the optimiser reported convergence.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(1, 6, 400)
    >>> nu = rng.gamma(4.0, 1 / 15.0, 400)
    >>> mean_spend = rng.gamma(6.0 * x, 1.0 / nu) / x
    >>> spend = GammaGammaFitter().fit(x, mean_spend)
    >>> sorted(spend.params_)
    ['gamma', 'p', 'q']
    >>> float(spend.conditional_expected_average_profit(3, 25.0)) > 0
    True
    """

    _param_names = ("p", "q", "gamma")
    # Class-level default: models pickled before the argument existed still print and clone.
    standard_errors = True

    def __init__(self, penalizer_coef: float = 0.0, standard_errors: bool = True) -> None:
        self.penalizer_coef = penalizer_coef
        self.standard_errors = standard_errors

    @staticmethod
    def _check(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = _as_float("frequency", frequency)
        m = _as_float("monetary_value", monetary_value)
        try:
            x, m = np.broadcast_arrays(x, m)
        except ValueError as exc:
            raise SchemaError(
                "rfm", None, f"frequency and monetary_value have incompatible shapes ({exc})"
            ) from exc
        n_bad = int(np.count_nonzero((x < 0) | (x != np.round(x))))
        if n_bad:
            raise SchemaError("rfm", "frequency", "must be a non-negative whole number", n_rows=n_bad)
        return x, m

    @staticmethod
    def _loglik(params: Any, x: FloatArray, m: FloatArray, grad: bool) -> Any:
        p, q, gam = params
        px = p * x
        log_x, log_m = np.log(x), np.log(m)
        log_total = np.log(x * m + gam)
        ll = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(gam)
            + (px - 1.0) * log_m
            + px * log_x
            - (px + q) * log_total
        )
        if not grad:
            return ll
        psi = digamma(px + q)
        d_p = x * (psi - digamma(px) + log_m + log_x - log_total)
        d_q = psi - digamma(q) + np.log(gam) - log_total
        d_gamma = q / gam - (px + q) / (x * m + gam)
        return ll, np.column_stack([d_p, d_q, np.broadcast_to(d_gamma, d_p.shape)])

    def _linked(self, z: FloatArray, names: tuple[str, ...]) -> LinkedParameters:
        return LinkedParameters(self._param_names, [Link(2, "spend", z, names, 1.0)])

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
        spend_covariates: pd.DataFrame | None = None,
    ) -> GammaGammaFitter:
        """Fit ``p``, ``q`` and ``gamma`` (and the spend coefficients) by maximum likelihood on repeat buyers.

        Parameters
        ----------
        frequency : array-like
            Repeat transaction count per customer; must be > 0 (filter to repeat buyers first).
        monetary_value : array-like
            Mean repeat-transaction value per customer; must be > 0.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).
        spend_covariates : pandas.DataFrame, optional
            Numeric static covariates, one row per customer, acting on the spend level.

        Returns
        -------
        self
        """
        if not self.penalizer_coef >= 0:
            raise ConfigError(f"penalizer_coef must be non-negative, got {self.penalizer_coef!r}")
        x, m = (a.ravel() for a in self._check(frequency, monetary_value))
        n_zero = int(np.count_nonzero(x <= 0))
        if n_zero:
            raise SchemaError(
                "rfm", "frequency", "must be > 0 to fit Gamma-Gamma (keep repeat buyers only)", n_zero
            )
        n_nonpos = int(np.count_nonzero(m <= 0))
        if n_nonpos:
            raise SchemaError("rfm", "monetary_value", "must be > 0 to fit Gamma-Gamma", n_rows=n_nonpos)
        z, names = covariate_matrix("spend_covariates", spend_covariates, x.size)
        columns = {"x": x, "m": m} | {f"_z{j}": z[:, j] for j in range(z.shape[1])}
        data, w = _compress(columns, weights)
        x, m = data["x"], data["m"]
        z = np.column_stack([data[f"_z{j}"] for j in range(len(names))] or [np.zeros((len(w), 0))])
        linked = self._linked(z, names)

        def loglik(values: list[Any], grad: bool) -> Any:
            return self._loglik(values, x, m, grad)

        objective = linked_objective(loglik, linked, w, float(self.penalizer_coef))
        mean_m = float((w @ m) / w.sum())
        theta0 = np.zeros(linked.size)
        theta0[:3] = np.log([1.0, 2.0, mean_m])
        res, converged = _minimise(objective, theta0, True)
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(w @ self._loglik(linked.row_values(res.x), x, m, False))
        self.params_ = linked.params(res.x)
        self.spend_covariate_names_ = names
        self.n_customers_ = float(w.sum())
        self.converged_ = converged
        if self.standard_errors:
            self.standard_errors_ = standard_errors(loglik, linked, w, res.x, type(self).__name__)
        if not converged:
            logger.warning("GammaGammaFitter: optimiser did not report convergence (%s)", res.message)
        return self

    def conditional_expected_average_profit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        spend_covariates: pd.DataFrame | None = None,
    ) -> FloatArray | float:
        """Posterior mean spend per transaction: ``p (gamma_i + x m) / (p x + q - 1)``.

        For ``frequency == 0`` this is the population mean ``p gamma_i / (q - 1)``. Requires ``q > 1``.

        Returns
        -------
        float or numpy.ndarray
        """
        check_is_fitted(self, "params_")
        p, q, gam = (self.params_[k] for k in self._param_names)
        if q <= 1.0:
            raise ConfigError(f"Gamma-Gamma q = {q:.4g} <= 1: the expected spend is infinite")
        x, m = self._check(frequency, monetary_value)
        names = getattr(self, "spend_covariate_names_", ())
        if names or spend_covariates is not None:
            z, _ = covariate_matrix("spend_covariates", spend_covariates, x.size, names)
            coefs = np.array([self.params_[f"spend:{name}"] for name in names])
            gam = gam * np.exp(z @ coefs).reshape(x.shape)
        m = np.where(x > 0, m, 0.0)
        return _out(p * (gam + x * m) / (p * x + q - 1.0))

    def customer_lifetime_value(
        self,
        transaction_model: _TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
        covariates: CustomerCovariates | None = None,
    ) -> FloatArray | float:
        """Discounted expected value of each customer's purchases over the next ``time`` months.

        As ``lifetimes``: for each month ``i = 1..time`` the expected purchases in that month (difference of
        the cumulative conditional expectations of ``transaction_model``) times the expected spend per
        purchase, discounted by ``(1 + discount_rate) ** i``.

        Parameters
        ----------
        transaction_model : BetaGeoFitter or ParetoNBDFitter
            A fitted purchase-count model (anything with
            ``conditional_expected_number_of_purchases_up_to_time``).
        frequency, recency, T, monetary_value : array-like
            Customer histories, in the time unit the transaction model was fitted in.
        time : int
            Horizon in months.
        discount_rate : float
            Monthly discount rate (0.01 = 1 % a month).
        freq : {"D", "W", "M", "H"}
            Time unit of ``recency``/``T`` and of the transaction model; one month counts 30 days, 4.345
            weeks or 720 hours (the ``lifetimes`` convention).
        covariates : CustomerCovariates, optional
            The customers' static covariates: ``purchase`` and ``dropout`` are passed to ``transaction_model``
            when given (a model fitted with them), ``spend`` are those this model was fitted with.

        Returns
        -------
        float or numpy.ndarray
            CLV per customer, in the currency of ``monetary_value``.
        """
        if freq not in _UNITS_PER_MONTH:
            raise ConfigError(f"freq must be one of {sorted(_UNITS_PER_MONTH)}, got {freq!r}")
        if int(time) != time or time < 0:
            raise ConfigError(f"time must be a whole number of months, got {time!r}")
        if not discount_rate > -1:
            raise ConfigError(f"discount_rate must be > -1, got {discount_rate!r}")
        given = covariates or CustomerCovariates()
        spend = np.asarray(self.conditional_expected_average_profit(frequency, monetary_value, given.spend))
        transaction_covariates = given.transaction_kwargs()
        factor = _UNITS_PER_MONTH[freq]
        clv = np.zeros(np.broadcast_shapes(spend.shape, np.shape(recency), np.shape(T)))
        previous = np.asarray(
            transaction_model.conditional_expected_number_of_purchases_up_to_time(
                0.0, frequency, recency, T, **transaction_covariates
            )
        )
        for month in range(1, int(time) + 1):
            cumulative = np.asarray(
                transaction_model.conditional_expected_number_of_purchases_up_to_time(
                    month * factor, frequency, recency, T, **transaction_covariates
                )
            )
            clv = clv + spend * (cumulative - previous) / (1.0 + discount_rate) ** month
            previous = cumulative
        return _out(clv)
