"""Pareto/NBD with time-varying covariates (Bachmann, Meierer and Naef 2021; CLVTools' ``pnbd`` with dynamic covariates).

Covariates are piecewise constant on a common grid of periods (weeks, say): a season indicator, a campaign sent,
a price level, or a static trait repeated in every period. While alive, customer ``i`` buys at rate
``lambda_i * exp(g_purchase . X_i(t))`` and drops out at rate ``mu_i * exp(g_dropout . D_i(t))``, with
``lambda_i ~ Gamma(r, alpha)`` and ``mu_i ~ Gamma(s, beta)``. With ``A_i(t)`` and ``B_i(t)`` the integrated
covariate effects since the first purchase (``A_i(t) = int_0^t exp(g_purchase . X_i(u)) du``), integrating out
``lambda`` and ``mu`` gives the likelihood of ``x`` repeat purchases at ``t_1..t_x`` in ``(0, T]``::

    L_i = exp(g_purchase . sum_j X_i(t_j)) * Gamma(r + x) alpha^r beta^s / Gamma(r)
          * [ (alpha + A_i(T))^-(r+x) (beta + B_i(T))^-s
              + s int_{t_x}^T exp(g_dropout . D_i(u)) (alpha + A_i(u))^-(r+x) (beta + B_i(u))^-(s+1) du ]

With time-constant covariates this is exactly the static-covariate Pareto/NBD
(``alpha_i = alpha * exp(-g . z_i)``), and with all covariates zero the plain Pareto/NBD. The integral is a
sum over the periods between ``t_x`` and ``T``; on each run of periods with unchanged covariates the integrand is
smooth (a product of two powers of linear functions) and is taken by Gauss-Legendre quadrature on panels of
bounded variation (a compiled loop, :mod:`custml.models.btyd._dyncov_kernel`), which also gives the analytic
gradient (:mod:`custml.models.btyd._dyncov_likelihood`).
Customers with the same history, start and covariate path are fitted once, weighted.

Predictions take future covariates: the same :class:`DynamicCovariates` built with periods past the end of
the calibration period (CLVTools' ``apparelDynCovFuture``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custml.errors import ConfigError, SchemaError
from custml.models.btyd._base import _check_horizon, _compress, _minimise, _rate_scale
from custml.models.btyd._dyncov_data import DynamicCovariates, dynamic_covariates, static_as_dynamic
from custml.models.btyd._dyncov_likelihood import _Effects, _loglik_block, _period, _Rows
from custml.models.btyd.pareto_nbd import _power_ratio_term

__all__ = ["DynamicCovariates", "ParetoNBDDynamicFitter", "dynamic_covariates", "static_as_dynamic"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

# Rows evaluated per block: bounds the memory of the quadrature nodes (rows x periods x nodes).
_BLOCK_NODES = 2_000_000


def _compressed_rows(data: DynamicCovariates, weights: ArrayLike | None) -> tuple[_Rows, FloatArray]:
    """The distinct (history, start, covariate path) rows of ``data`` and the customers each stands for.

    Rows are sorted by ``T - t_x`` so that the blocks of :meth:`ParetoNBDDynamicFitter._blocks` hold rows with
    similar node counts.
    """
    n_p = len(data.purchase_names)
    columns = {"x": data.frequency, "t_x": data.recency, "T": data.T, "birth": data.birth}
    columns |= {"pp": data.purchase_path.astype(float), "dp": data.dropout_path.astype(float)}
    columns |= {f"_s{j}": data.purchase_at_transactions[:, j] for j in range(n_p)}
    compact, w = _compress(columns, weights)
    order = np.argsort(compact["T"] - compact["t_x"], kind="stable")
    rows = _Rows(
        compact["x"][order],
        compact["t_x"][order],
        compact["T"][order],
        compact["birth"][order],
        compact["pp"][order].astype(np.int64),
        compact["dp"][order].astype(np.int64),
        np.column_stack([compact[f"_s{j}"][order] for j in range(n_p)]) if n_p else np.zeros((len(w), 0)),
        data.period_length,
        data.purchase_paths,
        data.dropout_paths,
    )
    return rows, w[order]


class ParetoNBDDynamicFitter(BaseEstimator):
    """Pareto/NBD with time-varying (and static) covariates on the purchase and the dropout process.

    See the module docstring for the model. ``params_`` holds ``r``, ``alpha``, ``s``, ``beta`` and one
    coefficient ``purchase:<column>`` / ``dropout:<column>`` per covariate; a positive coefficient raises the
    purchase or dropout rate in the periods where the covariate is positive (CLVTools' signs).

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters and coefficients added to the negative mean log-likelihood.
    standard_errors : bool
        Compute ``standard_errors_`` from the Hessian after the fit.
    quadrature_nodes : int
        Gauss-Legendre nodes per quadrature panel of the dropout-time integral (panels: runs of periods with
        unchanged covariates, cut where the integrand's envelope falls by a bounded factor). 6 nodes give the
        per-customer log-likelihood to about 1e-10; 8 to 1e-13.

    Attributes
    ----------
    params_, standard_errors_ : dict[str, float]
    log_likelihood_ : float
    n_customers_ : float
    n_unique_rows_ : int
        Distinct (history, start, covariate path) rows the likelihood was evaluated on.
    converged_ : bool
    """

    _param_names = ("r", "alpha", "s", "beta")

    def __init__(
        self, penalizer_coef: float = 0.0, standard_errors: bool = True, quadrature_nodes: int = 6
    ) -> None:
        self.penalizer_coef = penalizer_coef
        self.standard_errors = standard_errors
        self.quadrature_nodes = quadrature_nodes

    def _nodes(self) -> tuple[FloatArray, FloatArray]:
        if int(self.quadrature_nodes) != self.quadrature_nodes or self.quadrature_nodes < 1:
            raise ConfigError(
                f"quadrature_nodes must be a positive whole number, got {self.quadrature_nodes!r}"
            )
        xi, wi = np.polynomial.legendre.leggauss(int(self.quadrature_nodes))
        return xi, wi

    def _split(
        self, theta: FloatArray, n_p: int
    ) -> tuple[tuple[float, float, float, float], FloatArray, FloatArray]:
        r, alpha, s, beta = (float(v) for v in np.exp(theta[:4]))
        return (r, alpha, s, beta), theta[4 : 4 + n_p], theta[4 + n_p :]

    def _blocks(self, rows: _Rows) -> list[_Rows]:
        """Split the rows so each block has at most about ``_BLOCK_NODES`` quadrature nodes."""
        n_nodes = (
            np.floor((rows.birth + rows.T) / rows.period_length)
            - np.floor((rows.birth + rows.t_x) / rows.period_length)
            + 1
        ) * self.quadrature_nodes
        bounds = np.searchsorted(
            np.cumsum(n_nodes), np.arange(_BLOCK_NODES, n_nodes.sum() + _BLOCK_NODES, _BLOCK_NODES)
        )
        edges = np.unique(np.concatenate([[0], np.minimum(bounds + 1, len(n_nodes))]))
        return [rows.rows(slice(int(lo), int(hi))) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]

    def _evaluate(
        self, theta: FloatArray, blocks: list[_Rows], weights: list[FloatArray], n_p: int, grad: bool
    ) -> Any:
        params, g_p, g_d = self._split(theta, n_p)
        nodes = self._nodes()
        total_ll = 0.0
        total_grad = np.zeros_like(theta)
        for rows, w in zip(blocks, weights, strict=True):
            out = _loglik_block(params, g_p, g_d, rows, grad, nodes)
            total_ll += float(w @ out[0])
            if grad:
                d = w @ out[1]
                d[:4] *= np.exp(theta[:4])  # natural -> log scale
                total_grad += d
        return (total_ll, total_grad) if grad else total_ll

    def fit(self, data: DynamicCovariates, weights: ArrayLike | None = None) -> ParetoNBDDynamicFitter:
        """Fit by maximum likelihood (analytic gradient, L-BFGS-B) on the customers of ``data``.

        Parameters
        ----------
        data : DynamicCovariates
            Histories and covariate paths (:func:`dynamic_covariates`); the covariates must cover every
            customer's ``(0, T]``.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).

        Returns
        -------
        self
        """
        if not self.penalizer_coef >= 0:
            raise ConfigError(f"penalizer_coef must be non-negative, got {self.penalizer_coef!r}")
        if not isinstance(data, DynamicCovariates):
            raise SchemaError("dynamic_covariates", None, f"must be a DynamicCovariates, got {type(data)}")
        self._nodes()
        data.check_covers()
        n_p, n_d = len(data.purchase_names), len(data.dropout_names)
        rows, w = _compressed_rows(data, weights)
        blocks = self._blocks(rows)
        sizes = np.cumsum([0] + [len(b.x) for b in blocks])
        block_w = [w[lo:hi] for lo, hi in zip(sizes[:-1], sizes[1:], strict=True)]
        total = w.sum()
        penalizer = float(self.penalizer_coef)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            with np.errstate(all="ignore"):
                ll, g = self._evaluate(theta, blocks, block_w, n_p, True)
            natural = np.exp(theta[:4])
            value = -ll / total + penalizer * (np.sum(natural**2) + np.sum(theta[4:] ** 2))
            grad = -g / total
            grad[:4] += 2.0 * penalizer * natural**2
            grad[4:] += 2.0 * penalizer * theta[4:]
            if not np.isfinite(value) or not np.all(np.isfinite(grad)):
                return 1e10, np.zeros_like(theta)
            return float(value), grad

        theta0 = np.zeros(4 + n_p + n_d)
        theta0[:4] = np.log(
            [1.0, _rate_scale(rows.x, rows.T, w), 1.0, float(np.clip((w @ rows.T) / total, 1e-3, 1e6))]
        )
        res, converged = _minimise(objective, theta0, True)
        names = [
            *self._param_names,
            *(f"purchase:{c}" for c in data.purchase_names),
            *(f"dropout:{c}" for c in data.dropout_names),
        ]
        natural = np.concatenate([np.exp(res.x[:4]), res.x[4:]])
        self.params_ = {k: float(v) for k, v in zip(names, natural, strict=True)}
        self.purchase_covariate_names_ = data.purchase_names
        self.dropout_covariate_names_ = data.dropout_names
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(self._evaluate(res.x, blocks, block_w, n_p, False))
        self.n_customers_ = float(total)
        self.n_unique_rows_ = len(w)
        self.converged_ = converged
        if self.standard_errors:
            self.standard_errors_ = self._standard_errors(res.x, blocks, block_w, n_p, names)
        if not converged:
            logger.warning("ParetoNBDDynamicFitter: optimiser did not report convergence (%s)", res.message)
        return self

    def _standard_errors(
        self, theta: FloatArray, blocks: list[_Rows], weights: list[FloatArray], n_p: int, names: list[str]
    ) -> dict[str, float]:
        k = theta.size
        hessian = np.empty((k, k))
        with np.errstate(all="ignore"):
            at_theta = self._evaluate(theta, blocks, weights, n_p, True)[1]
        for j in range(k):  # forward differences of the analytic gradient
            step = 1e-6 * max(1.0, abs(theta[j]))
            up = theta.copy()
            up[j] += step
            with np.errstate(all="ignore"):
                hessian[:, j] = -(self._evaluate(up, blocks, weights, n_p, True)[1] - at_theta) / step
        hessian = 0.5 * (hessian + hessian.T)
        try:
            np.linalg.cholesky(hessian)
            se = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian)), 0.0, None))
        except np.linalg.LinAlgError:
            logger.warning(
                "ParetoNBDDynamicFitter: the Hessian is not positive definite; standard errors are NaN"
            )
            se = np.full(k, np.nan)
        se[:4] *= np.exp(theta[:4])
        return {name: float(v) for name, v in zip(names, se, strict=True)}

    # ----------------------------------------------------------------------------------------------------
    # Predictions
    # ----------------------------------------------------------------------------------------------------

    def _fitted(
        self, data: DynamicCovariates
    ) -> tuple[tuple[float, float, float, float], FloatArray, FloatArray]:
        check_is_fitted(self, "params_")
        if not isinstance(data, DynamicCovariates):
            raise SchemaError("dynamic_covariates", None, f"must be a DynamicCovariates, got {type(data)}")
        for kind, fitted, given in (
            ("purchase", self.purchase_covariate_names_, data.purchase_names),
            ("dropout", self.dropout_covariate_names_, data.dropout_names),
        ):
            if tuple(fitted) != tuple(given):
                raise SchemaError(
                    "dynamic_covariates",
                    None,
                    f"{kind} covariates {list(given)} differ from the fitted {list(fitted)}",
                )
        r, alpha, s, beta = (self.params_[k] for k in self._param_names)
        g_p = np.array([self.params_[f"purchase:{c}"] for c in data.purchase_names])
        g_d = np.array([self.params_[f"dropout:{c}"] for c in data.dropout_names])
        return (r, alpha, s, beta), g_p, g_d

    def _rows(self, data: DynamicCovariates) -> _Rows:
        return _Rows(
            data.frequency, data.recency, data.T, data.birth, data.purchase_path, data.dropout_path,
            data.purchase_at_transactions, data.period_length, data.purchase_paths, data.dropout_paths,
        )  # fmt: skip

    def log_likelihood(self, data: DynamicCovariates) -> FloatArray:
        """Log-likelihood of each customer's history in ``data`` at the fitted parameters.

        On the fitted data its sum is ``log_likelihood_``; on the full history minus on the calibration part it
        is the predictive log-likelihood of the holdout purchases (see ``ParetoNBDFitter.log_likelihood``).
        """
        params, g_p, g_d = self._fitted(data)
        data.check_covers()
        out = []
        for rows in self._blocks(self._rows(data)):
            with np.errstate(all="ignore"):
                out.append(_loglik_block(params, g_p, g_d, rows, False, self._nodes())[0])
        return np.concatenate(out)

    def conditional_probability_alive(self, data: DynamicCovariates) -> FloatArray:
        """P(alive at T) per customer of ``data`` given their history and covariates."""
        params, g_p, g_d = self._fitted(data)
        data.check_covers()
        out = []
        for rows in self._blocks(self._rows(data)):
            with np.errstate(all="ignore"):
                _, log_alive, log_died = _loglik_block(params, g_p, g_d, rows, False, self._nodes())
            out.append(1.0 / (1.0 + np.exp(log_died - log_alive)))
        return np.concatenate(out)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: float, data: DynamicCovariates
    ) -> FloatArray:
        """Expected purchases in ``(T, T + t]`` per customer of ``data``, with the covariates of those periods.

        Given alive at ``T``, ``lambda ~ Gamma(r + x, alpha + A(T))`` and ``mu ~ Gamma(s, beta + B(T))``, so
        ``E[Y] = P(alive) (r + x) / (alpha + A(T)) int_T^{T+t} exp(g_p . X(u)) ((beta + B(T)) / (beta + B(u)))^s du``,
        in closed form on each period. ``data`` must hold the covariates up to ``T + t``.
        """
        horizon = float(_check_horizon(t))
        params, g_p, g_d = self._fitted(data)
        data.check_covers(horizon)
        r, alpha, s, beta = params
        h = data.period_length
        n_periods = data.n_periods
        fx, fd = _Effects(data.purchase_paths, g_p, h), _Effects(data.dropout_paths, g_d, h)
        b, pp, dp = data.birth, data.purchase_path, data.dropout_path
        start, stop = b + data.T, b + data.T + horizon
        kb, ks = _period(b, h, n_periods), _period(start, h, n_periods)
        a_t = fx.at(pp, start, ks) - fx.at(pp, b, kb)
        b_birth = fd.at(dp, b, kb)
        b_t = fd.at(dp, start, ks) - b_birth
        k_stop = _period(stop, h, n_periods)
        n_seg = k_stop - ks + 1
        seg_row = np.repeat(np.arange(len(b)), n_seg)
        seg_k = ks[seg_row] + (np.arange(seg_row.size) - (np.cumsum(n_seg) - n_seg)[seg_row])
        lo = np.maximum(seg_k * h, start[seg_row])
        hi = np.maximum(np.minimum((seg_k + 1) * h, stop[seg_row]), lo)
        b_lo = beta + fd.at(dp[seg_row], lo, seg_k) - b_birth[seg_row]
        b_hi = beta + fd.at(dp[seg_row], hi, seg_k) - b_birth[seg_row]
        d_rate = fd.rate[dp[seg_row], seg_k]
        # int_lo^hi (beta + B(u))^-s du on one period, where B grows at rate d_rate.
        piece = np.exp((1.0 - s) * np.log(b_lo)) / d_rate * _power_ratio_term(s, b_lo / b_hi)
        integral = np.bincount(seg_row, weights=fx.rate[pp[seg_row], seg_k] * piece, minlength=len(b))
        growth = (r + data.frequency) / (alpha + a_t) * np.exp(s * np.log(beta + b_t)) * integral
        return self.conditional_probability_alive(data) * growth
