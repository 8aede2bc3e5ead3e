"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison and Colombo 1987)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import digamma, expit, gammaln, hyp2f1

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


def _pnbd_log_tail(r: float, alpha: Any, s: float, beta: Any, x: FloatArray, tau: FloatArray) -> FloatArray:
    """log of ``I(tau) = int_tau^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` in closed form.

    Uses the Euler-transformed hypergeometric functions ``2F1(1, .; r+s+x+1; z)`` with ``0 <= z < 1``, whose
    series have positive terms and (for alpha >= beta) a bounded sum. ``alpha`` and ``beta`` may be per-row
    arrays (covariates); each row takes its own branch.
    """
    if np.ndim(alpha) == 0 and np.ndim(beta) == 0:
        return _pnbd_log_tail_branch(r, float(alpha), s, float(beta), x, tau, alpha >= beta)
    x, alpha, beta, tau = np.broadcast_arrays(x, alpha, beta, tau)
    hi = alpha >= beta
    out = np.empty(x.shape)
    for branch in (True, False):
        sel = hi == branch
        if np.any(sel):
            out[sel] = _pnbd_log_tail_branch(r, alpha[sel], s, beta[sel], x[sel], tau[sel], branch)
    return out


def _pnbd_log_tail_branch(
    r: float, alpha: Any, s: float, beta: Any, x: FloatArray, tau: FloatArray, alpha_ge_beta: bool
) -> FloatArray:
    rx = r + x
    rsx = r + s + x
    if alpha_ge_beta:
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


# Gauss-Legendre rule for the moments of the dropout time in the gradient (see _died_moments).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_CHUNK_ROWS = 131_072
# The dropout-time integral is cut where its exp(-(r+x-1) y) envelope has fallen by exp(-_DECAY_SPAN).
_DECAY_SPAN = 30.0


def _died_terms(
    r: float, alpha: Any, s: float, beta: Any, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log int_{t_x}^T f(u) du`` and the means of :func:`_died_moments_numpy`, by the compiled per-customer loop."""
    # Imported here: numba costs a second or more at import, and most users of custml.models never fit this.
    from custml.models.btyd._pnbd_kernel import PARALLEL_MIN_ROWS, died_moments_parallel, died_moments_serial

    x, alpha, beta, t_x, big_t = (
        np.ascontiguousarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, alpha, beta, t_x, big_t)
    )
    kernel = died_moments_parallel if x.size >= PARALLEL_MIN_ROWS else died_moments_serial
    out = kernel(
        _DECAY_SPAN,
        (r + x).ravel(),
        float(s),
        alpha.ravel(),
        beta.ravel(),
        t_x.ravel(),
        big_t.ravel(),
        _GL_NODES,
        np.log(_GL_WEIGHTS),
    )
    e_inv_a, e_inv_b, e_log_a, e_log_b, log_integral = (o.reshape(x.shape) for o in out)
    return log_integral, e_inv_a, e_inv_b, e_log_a, e_log_b


def _died_moments(
    r: float, alpha: Any, s: float, beta: Any, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The means of :func:`_died_moments_numpy`, by the compiled per-customer loop."""
    _, e_inv_a, e_inv_b, e_log_a, e_log_b = _died_terms(r, alpha, s, beta, x, t_x, big_t)
    return e_inv_a, e_inv_b, e_log_a, e_log_b


def _died_moments_numpy(
    r: float, alpha: Any, s: float, beta: Any, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Numpy reference: means of ``1/(alpha+u)``, ``1/(beta+u)``, ``log(alpha+u)``, ``log(beta+u)`` under the dropout-time density.

    Given that a customer died in ``(t_x, T]``, their dropout time ``u`` has density proportional to
    ``f(u) = (alpha+u)^-(r+x) (beta+u)^-(s+1)``; the derivatives of the "died" term of the likelihood are these
    means (``d/dr log int f = -E[log(alpha+u)]``, ...). They are taken by a 16-point Gauss-Legendre rule in
    ``y = log(m + u)``, ``m = min(alpha, beta)``, where both factors of ``f`` are smooth and the density decays at
    least like ``exp(-(r+x-1) y)`` (``alpha <= beta``) or ``exp(-s y)``; the range is cut where that envelope has
    fallen by ``exp(-30)``, so heavy buyers with long silences (all mass just after ``t_x``) are as accurate as
    the rest (1e-9 relative against adaptive quadrature, tested). The normalising constant
    cancels, so the rule stays exact in the limit ``T -> t_x`` (all mass at ``t_x``).
    """
    x, alpha, beta, t_x, big_t = np.broadcast_arrays(x, alpha, beta, t_x, big_t)
    out = np.empty((4, x.size))
    flat = [a.ravel() for a in (x, alpha, beta, t_x, big_t)]
    for lo in range(0, x.size, _CHUNK_ROWS):
        xc, ac, bc, txc, tc = (a[lo : lo + _CHUNK_ROWS, None] for a in flat)
        m = np.minimum(ac, bc)
        y0 = np.log(m + txc)
        decay = np.where(ac <= bc, r + xc, s + 1.0) - 1.0
        y1 = np.minimum(np.log(m + tc), y0 + _DECAY_SPAN / np.maximum(decay, 1e-3))
        y = y0 + (y1 - y0) * (_GL_NODES + 1.0) / 2.0
        a_u = ac - m + np.exp(y)  # alpha + u
        b_u = bc - m + np.exp(y)  # beta + u
        log_b_u = np.log(b_u)
        log_w = np.log(_GL_WEIGHTS) + y - (r + xc) * np.log(a_u) - (s + 1.0) * log_b_u
        log_w -= log_w.max(axis=1, keepdims=True)
        weight = np.exp(log_w)
        weight /= weight.sum(axis=1, keepdims=True)
        out[0, lo : lo + _CHUNK_ROWS] = (weight / a_u).sum(axis=1)
        out[1, lo : lo + _CHUNK_ROWS] = (weight / b_u).sum(axis=1)
        out[2, lo : lo + _CHUNK_ROWS] = (weight * np.log(a_u)).sum(axis=1)
        out[3, lo : lo + _CHUNK_ROWS] = (weight * log_b_u).sum(axis=1)
    e_inv_a, e_inv_b, e_log_a, e_log_b = (o.reshape(x.shape) for o in out)
    return e_inv_a, e_inv_b, e_log_a, e_log_b


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
    on deriving the Pareto/NBD model") with hypergeometric terms combined in log space; its gradient is
    analytic, with the moments of the dropout time it needs taken by Gauss-Legendre quadrature, and it is
    maximised by L-BFGS-B.

    Static covariates (``fit(..., purchase_covariates=Z, dropout_covariates=Z)``) act as in CLVTools and
    PyMC-Marketing: ``alpha_i = alpha * exp(-Z_i . g_purchase)``, ``beta_i = beta * exp(-Z_i . g_dropout)``
    (a positive coefficient raises the purchase or the dropout rate).

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the negative mean log-likelihood (0: maximum likelihood); it
        also shrinks the covariate coefficients.
    standard_errors : bool
        Compute ``standard_errors_`` from the Hessian after the fit.

    Attributes
    ----------
    params_ : dict[str, float]
        ``r``, ``alpha``, ``s``, ``beta``, then ``purchase:<column>`` and ``dropout:<column>`` per covariate.
    standard_errors_ : dict[str, float]
        Standard error of each entry of ``params_`` (inverse Hessian; delta method for the positive ones).
    log_likelihood_ : float
        Total log-likelihood at the estimate, penalty excluded.
    n_customers_ : float
        Number of customers fitted (sum of weights).
    n_unique_rows_ : int
        Distinct ``(frequency, recency, T, covariates)`` rows the likelihood was evaluated on.
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
    _links = (("alpha", "purchase", "purchase", -1.0), ("beta", "dropout", "dropout", -1.0))

    def _initial_params(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
        return np.array([1.0, _rate_scale(x, T, w), 1.0, float(np.clip((w @ T) / w.sum(), 1e-3, 1e6))])

    @staticmethod
    def _terms(
        params: Any, x: FloatArray, t_x: FloatArray, T: FloatArray
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
    def _loglik(
        cls, params: Any, x: FloatArray, t_x: FloatArray, T: FloatArray, grad: bool, groups: Any = None
    ) -> Any:
        if not grad:
            log_const, log_alive, log_died = cls._terms(params, x, t_x, T)
            return log_const + np.logaddexp(log_alive, log_died)
        # With the gradient (the optimiser's calls) the "died" integral comes from the same quadrature as its
        # derivatives, no hypergeometric function: consistent, and twice as fast; it agrees with the closed form
        # to about 1e-10 (tested). The reported log-likelihood and the predictions use the closed form.
        r, alpha, s, beta = params
        rx = r + x
        log_const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        log_alive = -rx * np.log(alpha + T) - s * np.log(beta + T)
        log_integral, e_inv_a, e_inv_b, e_log_a, e_log_b = _died_terms(r, alpha, s, beta, x, t_x, T)
        log_died = np.log(s) + log_integral
        mix = np.logaddexp(log_alive, log_died)
        ll = log_const + mix
        p_alive = np.exp(log_alive - mix)
        p_died = np.exp(log_died - mix)
        d_r = digamma(rx) - digamma(r) + np.log(alpha) - p_alive * np.log(alpha + T) - p_died * e_log_a
        d_alpha = r / alpha - rx * (p_alive / (alpha + T) + p_died * e_inv_a)
        d_s = np.log(beta) - p_alive * np.log(beta + T) + p_died * (1.0 / s - e_log_b)
        d_beta = s / beta - p_alive * s / (beta + T) - p_died * (s + 1.0) * e_inv_b
        n = len(x)
        return ll, np.column_stack([np.broadcast_to(d, (n,)) for d in (d_r, d_alpha, d_s, d_beta)])

    def _p_alive(
        self, values: tuple[Any, ...], x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        with np.errstate(divide="ignore"):
            _, log_alive, log_died = self._terms(values, x, t_x, big_t)
        return expit(log_alive - log_died)

    def expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        purchase_covariates: pd.DataFrame | None = None,
        dropout_covariates: pd.DataFrame | None = None,
    ) -> FloatArray | float:
        """Expected repeat purchases of a new customer in ``(0, t]``: E[X(t)] (given their covariates).

        Returns
        -------
        float or numpy.ndarray
        """
        t = _check_horizon(t)
        shape = self._covariate_shape(t, purchase_covariates, dropout_covariates)
        r, alpha, s, beta = self._values(shape, purchase_covariates, dropout_covariates)
        return _out(r * beta / alpha * _power_ratio_term(s, beta / (beta + t)))

    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        purchase_covariates: pd.DataFrame | None = None,
        dropout_covariates: pd.DataFrame | None = None,
    ) -> FloatArray | float:
        """Expected purchases in the next ``t`` given a customer's history: E[Y(t) | x, t_x, T].

        Returns
        -------
        float or numpy.ndarray
        """
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        values = self._values(x.shape, purchase_covariates, dropout_covariates)
        r, alpha, s, beta = values
        growth = (
            (r + x)
            * (beta + big_t)
            / (alpha + big_t)
            * _power_ratio_term(s, (beta + big_t) / (beta + big_t + t))
        )
        return _out(self._p_alive(values, x, t_x, big_t) * growth)

    def conditional_probability_of_purchase_in(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        purchase_covariates: pd.DataFrame | None = None,
        dropout_covariates: pd.DataFrame | None = None,
    ) -> FloatArray | float:
        """Probability of at least one purchase in ``(T, T + t]`` given the history.

        Given alive at ``T``, ``lambda ~ Gamma(r + x, alpha + T)`` and ``mu ~ Gamma(s, beta + T)``
        independently, and a purchase comes first (before death) within ``t`` with probability
        ``lambda / (lambda + mu) * (1 - exp(-(lambda + mu) t))``; its posterior mean is taken in closed form.

        Returns
        -------
        float or numpy.ndarray
        """
        x, t_x, big_t = _check_rft(frequency, recency, T)
        t = _check_horizon(t)
        values = self._values(x.shape, purchase_covariates, dropout_covariates)
        r, alpha, s, beta = values
        rx, a_t, b_t = r + x, alpha + big_t, beta + big_t
        discount = (a_t / (a_t + t)) ** rx * (b_t / (b_t + t)) ** s
        buy_first = _gamma_share(rx, a_t, s, b_t) - discount * _gamma_share(rx, a_t + t, s, b_t + t)
        return _out(self._p_alive(values, x, t_x, big_t) * np.clip(buy_first, 0.0, 1.0))


def _power_ratio_term(s: float, q: FloatArray) -> FloatArray:
    """(1 - q**(s - 1)) / (s - 1), with its limit -log(q) at s = 1."""
    log_q = np.log(q)
    if abs(s - 1.0) < 1e-10:
        return -log_q
    return -np.expm1((s - 1.0) * log_q) / (s - 1.0)
