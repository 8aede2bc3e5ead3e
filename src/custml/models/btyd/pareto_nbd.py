"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison and Colombo 1987)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, gammaln, hyp2f1

from custml.models.btyd._base import (
    FloatArray,
    _BTYDBase,
    _check_horizon,
    _check_rft,
    _log1mexp,
    _out,
    _rate_scale,
)

__all__ = ["ParetoNBDFitter"]


def _pnbd_log_tail(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, tau: FloatArray
) -> FloatArray:
    """log of ``I(tau) = int_tau^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` in closed form.

    Uses the Euler-transformed hypergeometric functions ``2F1(1, .; r+s+x+1; z)`` with ``0 <= z < 1``, whose
    series have positive terms and (for alpha >= beta) a bounded sum.
    """
    rx = r + x
    rsx = r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + tau)
        return (
            -rx * np.log(alpha + tau)
            - s * np.log(beta + tau)
            - np.log(rsx)
            + np.log(hyp2f1(1.0, rx, rsx + 1.0, z))
        )
    z = (beta - alpha) / (beta + tau)
    return (
        (1.0 - rx) * np.log(alpha + tau)
        - (s + 1.0) * np.log(beta + tau)
        - np.log(rsx)
        + np.log(hyp2f1(1.0, s + 1.0, rsx + 1.0, z))
    )


def _gamma_share(r: FloatArray, alpha: FloatArray, s: float, beta: FloatArray) -> FloatArray:
    """E[lambda / (lambda + mu)] for independent lambda ~ Gamma(r, alpha) and mu ~ Gamma(s, beta).

    With B = Beta(r, s) and c = alpha / beta the ratio is B / (c + (1 - c) B); its mean is a 2F1 at
    ``z = 1 - min(alpha, beta) / max(alpha, beta)`` in [0, 1).
    """
    r, alpha, beta = np.broadcast_arrays(r, alpha, beta)
    hi = alpha >= beta
    lam_share = (
        beta / alpha * r / (r + s) * hyp2f1(1.0, r + 1.0, r + s + 1.0, np.where(hi, 1.0 - beta / alpha, 0.0))
    )
    mu_share = (
        alpha / beta * s / (r + s) * hyp2f1(1.0, s + 1.0, r + s + 1.0, np.where(hi, 0.0, 1.0 - alpha / beta))
    )
    return np.where(hi, lam_share, 1.0 - mu_share)


class ParetoNBDFitter(_BTYDBase):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison and Colombo 1987).

    While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; their lifetime is exponential
    with rate ``mu ~ Gamma(s, beta)``. The likelihood uses the closed form of Fader and Hardie (2005, "A note
    on deriving the Pareto/NBD model") with hypergeometric terms combined in log space; it is maximised by
    Nelder-Mead followed by an L-BFGS-B polish.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the negative mean log-likelihood (0: maximum likelihood).

    Attributes
    ----------
    params_ : dict[str, float]
        ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_ : float
        Total log-likelihood at the estimate, penalty excluded.
    n_customers_ : float
        Number of customers fitted (sum of weights).
    n_unique_rows_ : int
        Distinct ``(frequency, recency, T)`` rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reported convergence.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T = np.full(300, 52.0)
    >>> x = rng.poisson(2.0, 300)
    >>> t_x = np.where(x > 0, T * rng.uniform(0.3, 1.0, 300), 0.0)
    >>> model = ParetoNBDFitter().fit(x, t_x, T)
    >>> sorted(model.params_)
    ['alpha', 'beta', 'r', 's']
    >>> 0.0 < model.conditional_probability_alive(0, 0.0, 52.0) < 1.0
    True
    """

    _param_names = ("r", "alpha", "s", "beta")
    _analytic_gradient = False

    def _initial_params(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
        return np.array([1.0, _rate_scale(x, T, w), 1.0, float(np.clip((w @ T) / w.sum(), 1e-3, 1e6))])

    @staticmethod
    def _terms(
        params: FloatArray | tuple[float, ...], x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(log constant, log "alive at T" term, log "died in (t_x, T]" term) of the likelihood."""
        r, alpha, s, beta = params
        rx = r + x
        log_const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        log_alive = -rx * np.log(alpha + T) - s * np.log(beta + T)
        log_i_tx = _pnbd_log_tail(r, alpha, s, beta, x, t_x)
        log_i_t = _pnbd_log_tail(r, alpha, s, beta, x, T)
        log_died = np.log(s) + log_i_tx + _log1mexp(np.minimum(log_i_t - log_i_tx, 0.0))
        return log_const, log_alive, log_died

    @classmethod
    def _loglik(cls, params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, grad: bool) -> Any:
        log_const, log_alive, log_died = cls._terms(params, x, t_x, T)
        return log_const + np.logaddexp(log_alive, log_died)

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore"):
            _, log_alive, log_died = self._terms(self._params(), x, t_x, big_t)
        return expit(log_alive - log_died)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray | float:
        """Expected repeat purchases of a new customer in ``(0, t]``: E[X(t)].

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, s, beta = self._params()
        t = _check_horizon(t)
        return _out(r * beta / alpha * _power_ratio_term(s, beta / (beta + t)))

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Expected purchases in the next ``t`` given a customer's history: E[Y(t) | x, t_x, T].

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, s, beta = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        growth = (
            (r + x)
            * (beta + big_t)
            / (alpha + big_t)
            * _power_ratio_term(s, (beta + big_t) / (beta + big_t + t))
        )
        return _out(self._p_alive(x, t_x, big_t) * growth)

    def conditional_probability_of_purchase_in(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray | float:
        """Probability of at least one purchase in ``(T, T + t]`` given the history.

        Given alive at ``T``, ``lambda ~ Gamma(r + x, alpha + T)`` and ``mu ~ Gamma(s, beta + T)``
        independently, and a purchase comes first (before death) within ``t`` with probability
        ``lambda / (lambda + mu) * (1 - exp(-(lambda + mu) t))``; its posterior mean is taken in closed form.

        Returns
        -------
        float or numpy.ndarray
        """
        r, alpha, s, beta = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        rx, a_t, b_t = r + x, alpha + big_t, beta + big_t
        discount = (a_t / (a_t + t)) ** rx * (b_t / (b_t + t)) ** s
        buy_first = _gamma_share(rx, a_t, s, b_t) - discount * _gamma_share(rx, a_t + t, s, b_t + t)
        return _out(self._p_alive(x, t_x, big_t) * np.clip(buy_first, 0.0, 1.0))


def _power_ratio_term(s: float, q: FloatArray) -> FloatArray:
    """(1 - q**(s - 1)) / (s - 1), with its limit -log(q) at s = 1."""
    log_q = np.log(q)
    if abs(s - 1.0) < 1e-10:
        return -log_q
    return -np.expm1((s - 1.0) * log_q) / (s - 1.0)
