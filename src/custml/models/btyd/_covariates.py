"""Static covariates of the BTYD models: validation, covariate-linked parameters and Hessian standard errors.

A model parameter ``v`` (say Pareto/NBD's ``alpha``) linked to a covariate frame ``Z`` becomes a per-customer
value ``v_i = v * exp(sign * Z_i . g)``, the parameterisation CLVTools and PyMC-Marketing share
(``alpha_i = alpha * exp(-Z_i . g_purchase)``). The optimiser works on ``theta = (log v, g)``; a fitter supplies
the per-row log-likelihood and its derivatives with respect to the row values ``v_i``, and
:class:`LinkedParameters` turns them into the gradient in ``theta`` by the chain rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from custml.errors import ConfigError, SchemaError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
RowValue = float | FloatArray


@dataclass(frozen=True)
class CustomerCovariates:
    """The static covariate frames of a set of customers, one row per customer in the order of their histories.

    Attributes
    ----------
    purchase, dropout : pandas.DataFrame or None
        Covariates of the purchase and the dropout process (``purchase_covariates``/``dropout_covariates`` of
        :class:`~custml.models.btyd.ParetoNBDFitter` and :class:`~custml.models.btyd.BetaGeoFitter`).
    spend : pandas.DataFrame or None
        Covariates of the spend process (``spend_covariates`` of :class:`~custml.models.btyd.GammaGammaFitter`).
    """

    purchase: pd.DataFrame | None = None
    dropout: pd.DataFrame | None = None
    spend: pd.DataFrame | None = None

    def transaction_kwargs(self) -> dict[str, pd.DataFrame]:
        """The purchase and dropout frames given, as keyword arguments of a transaction model's predictions."""
        given = {"purchase_covariates": self.purchase, "dropout_covariates": self.dropout}
        return {name: frame for name, frame in given.items() if frame is not None}


def covariate_matrix(
    table: str, covariates: pd.DataFrame | None, n_rows: int, columns: Sequence[str] | None = None
) -> tuple[FloatArray, tuple[str, ...]]:
    """Validate a covariate frame; return its values as an ``(n_rows, k)`` float matrix and its column names.

    ``None`` gives a matrix with no columns. With ``columns`` (at prediction) those columns are taken, in that
    order; the frame may hold more. Raises :class:`~custml.errors.SchemaError` naming the table and the column
    for a non-frame, a missing or non-numeric column, missing or infinite values, or a wrong row count.
    """
    if covariates is None:
        if columns:
            raise ConfigError(f"{table}: the model was fitted with covariates {list(columns)}; pass them")
        return np.zeros((n_rows, 0)), ()
    if not isinstance(covariates, pd.DataFrame):
        raise SchemaError(
            table, None, f"must be a pandas DataFrame of numeric columns, got {type(covariates)}"
        )
    names = tuple(str(c) for c in covariates.columns) if columns is None else tuple(columns)
    if columns is None and len(set(names)) != len(names):
        raise SchemaError(table, None, f"has duplicate column names {list(names)}")
    if columns is not None and not columns:
        raise ConfigError(f"{table}: the model was fitted without these covariates; do not pass them")
    for name in names:
        if name not in covariates.columns.astype(str):
            raise SchemaError(table, name, "is missing")
    if len(covariates) != n_rows:
        raise SchemaError(table, None, f"has {len(covariates):,} rows but the customer data has {n_rows:,}")
    frame = covariates.set_axis(covariates.columns.astype(str), axis=1)
    values = np.empty((n_rows, len(names)))
    for j, name in enumerate(names):
        col = frame[name]
        if col.dtype == bool:
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            raise SchemaError(table, name, f"must be numeric (dtype {col.dtype})")
        arr = col.to_numpy(dtype=float, na_value=np.nan)
        n_bad = int(np.count_nonzero(~np.isfinite(arr)))
        if n_bad:
            raise SchemaError(table, name, "has missing or infinite values", n_rows=n_bad)
        values[:, j] = arr
        if columns is None and n_rows and np.all(arr == arr[0]) and arr[0] != 0:
            logger.warning(
                "%s: column '%s' is constant (%g): its coefficient is confounded with the base parameter "
                "(drop it; the model has its own scale)",
                table,
                name,
                arr[0],
            )
    return values, names


@dataclass(frozen=True)
class Link:
    """Covariates on one model parameter: ``v_i = v * exp(sign * design_i . g)``."""

    param: int  # index of the linked parameter in the model's parameter tuple
    prefix: str  # name prefix of the coefficients in ``params_`` ("purchase", "dropout", ...)
    design: FloatArray  # (n_rows, k) covariate values
    names: tuple[str, ...]
    sign: float


class LinkedParameters:
    """The optimisation vector ``theta = (log v_1, ..., log v_m, g_link1, g_link2, ...)`` of a fitter."""

    def __init__(self, param_names: Sequence[str], links: Sequence[Link]) -> None:
        self.param_names = tuple(param_names)
        self.links = tuple(link for link in links if link.names)
        self.slices: list[slice] = []
        start = len(self.param_names)
        for link in self.links:
            self.slices.append(slice(start, start + len(link.names)))
            start += len(link.names)
        self.size = start

    @property
    def names(self) -> list[str]:
        """Names of the entries of ``theta`` as they appear in ``params_``."""
        out = list(self.param_names)
        for link in self.links:
            out += [f"{link.prefix}:{name}" for name in link.names]
        return out

    def row_values(self, theta: FloatArray) -> list[RowValue]:
        """Each parameter's value: a float, or one value per row for a parameter with covariates."""
        values: list[RowValue] = [float(np.exp(t)) for t in theta[: len(self.param_names)]]
        for link, sl in zip(self.links, self.slices, strict=True):
            values[link.param] = values[link.param] * np.exp(link.sign * (link.design @ theta[sl]))
        return values

    def gradient(self, values: Sequence[RowValue], d_values: FloatArray, weights: FloatArray) -> FloatArray:
        """Gradient in ``theta`` of ``sum_i w_i ll_i`` from ``d ll_i / d v_i`` (one column per parameter)."""
        grad = np.empty(self.size)
        scaled = [weights * d_values[:, j] * values[j] for j in range(len(self.param_names))]
        for j, col in enumerate(scaled):
            grad[j] = col.sum()
        for link, sl in zip(self.links, self.slices, strict=True):
            grad[sl] = link.sign * (link.design.T @ scaled[link.param])
        return grad

    def params(self, theta: FloatArray) -> dict[str, float]:
        """``params_``: the parameters on their natural scale, then the coefficients."""
        natural = np.concatenate([np.exp(theta[: len(self.param_names)]), theta[len(self.param_names) :]])
        return {name: float(v) for name, v in zip(self.names, natural, strict=True)}


def linked_objective(
    loglik: Callable[[list[RowValue], bool], Any],
    linked: LinkedParameters,
    weights: FloatArray,
    penalizer_coef: float,
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Negative mean log-likelihood plus ``penalizer_coef * (sum(v**2) + sum(g**2))``, with its gradient.

    Without covariates this is lifetimes' objective (an L2 penalty on the natural parameters).
    """
    total = weights.sum()
    m = len(linked.param_names)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        natural = np.exp(theta[:m])
        coefs = theta[m:]
        penalty = penalizer_coef * (np.sum(natural**2) + np.sum(coefs**2))
        with np.errstate(all="ignore"):
            values = linked.row_values(theta)
            ll, d_values = loglik(values, True)
            value = -(weights @ ll) / total + penalty
            grad = -linked.gradient(values, d_values, weights) / total
            grad[:m] += 2.0 * penalizer_coef * natural**2
            grad[m:] += 2.0 * penalizer_coef * coefs
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e10, np.zeros_like(theta)
        return float(value), grad

    return objective


def standard_errors(
    loglik: Callable[[list[RowValue], bool], Any],
    linked: LinkedParameters,
    weights: FloatArray,
    theta: FloatArray,
    owner: str,
) -> dict[str, float]:
    """Standard errors from the inverse Hessian of the total negative log-likelihood (penalty excluded).

    The Hessian in ``theta`` is taken by forward differences of the analytic gradient (one gradient per
    parameter, relative step 1e-6, symmetrised); the natural
    parameters' errors follow by the delta method (``se(v) = v * se(log v)``). NaN when the Hessian is not
    positive definite (a flat or boundary optimum).
    """

    def total_grad(t: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            values = linked.row_values(t)
            _, d_values = loglik(values, True)
            return -linked.gradient(values, d_values, weights)

    k = linked.size
    hessian = np.empty((k, k))
    at_theta = total_grad(theta)
    for j in range(k):
        step = 1e-6 * max(1.0, abs(theta[j]))
        up = theta.copy()
        up[j] += step
        hessian[:, j] = (total_grad(up) - at_theta) / step
    hessian = 0.5 * (hessian + hessian.T)
    names = linked.names
    try:
        np.linalg.cholesky(hessian)
        cov = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        logger.warning("%s: the Hessian is not positive definite; standard errors are NaN", owner)
        return {name: float("nan") for name in names}
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    m = len(linked.param_names)
    se[:m] *= np.exp(theta[:m])
    return {name: float(v) for name, v in zip(names, se, strict=True)}
