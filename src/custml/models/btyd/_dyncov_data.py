"""The data of the dynamic-covariate Pareto/NBD: customers' histories and covariate paths on a period grid.

:func:`dynamic_covariates` builds them from a transaction log and a per-customer, per-period covariate table
(CLVTools' layout); :func:`static_as_dynamic` repeats static covariates in every period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from custml.errors import ConfigError, SchemaError
from custml.models.btyd._base import _check_rft
from custml.models.btyd._covariates import covariate_matrix
from custml.models.btyd.rfm import _UNIT_DAYS, rfm_summary

__all__ = ["DynamicCovariates", "dynamic_covariates", "static_as_dynamic"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class DynamicCovariates:
    """Customers' histories and their piecewise-constant covariates on a common period grid.

    Times are in the model's unit (weeks, say) and measured from the start of the grid (``0``); period ``k``
    is ``[k * period_length, (k + 1) * period_length)``. Covariate paths are stored once per distinct path
    (``purchase_paths[purchase_path[i]]`` is customer ``i``'s ``(n_periods, n_purchase_covariates)`` path).

    Attributes
    ----------
    customers : pandas.Index
        Customer identifiers, one per row.
    frequency, recency, T : numpy.ndarray
        ``x``, ``t_x`` and ``T`` per customer, as in :func:`~custml.models.btyd.rfm_summary`.
    birth : numpy.ndarray
        Time of each customer's first purchase on the grid.
    period_length : float
        Length of one period in the time unit.
    purchase_names, dropout_names : tuple of str
        Covariate names of the purchase and the dropout process.
    purchase_paths, dropout_paths : numpy.ndarray
        Distinct covariate paths, shape ``(n_paths, n_periods, n_covariates)``.
    purchase_path, dropout_path : numpy.ndarray
        Index of each customer's path.
    purchase_at_transactions : numpy.ndarray
        Per customer, the sum of the purchase covariates over the periods of their repeat purchases,
        shape ``(n, n_purchase_covariates)``: the ``sum_j X_i(t_j)`` of the likelihood.
    """

    customers: pd.Index
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    birth: FloatArray
    period_length: float
    purchase_names: tuple[str, ...]
    dropout_names: tuple[str, ...]
    purchase_paths: FloatArray
    dropout_paths: FloatArray
    purchase_path: IntArray
    dropout_path: IntArray
    purchase_at_transactions: FloatArray

    def __post_init__(self) -> None:
        n = len(self.customers)
        for name in ("frequency", "recency", "T", "birth", "purchase_path", "dropout_path"):
            if len(getattr(self, name)) != n:
                raise SchemaError(
                    "dynamic_covariates", name, f"has {len(getattr(self, name))} rows, expected {n}"
                )
        if self.purchase_paths.shape[1] != self.dropout_paths.shape[1]:
            raise SchemaError(
                "dynamic_covariates", None, "purchase and dropout paths cover different periods"
            )
        for kind in ("purchase", "dropout"):
            paths, index = getattr(self, f"{kind}_paths"), getattr(self, f"{kind}_path")
            if paths.ndim != 3 or paths.shape[2] != len(getattr(self, f"{kind}_names")):
                raise SchemaError(
                    "dynamic_covariates", f"{kind}_paths", "must be (paths, periods, covariates)"
                )
            n_bad = int(np.count_nonzero((index < 0) | (index >= paths.shape[0])))
            if n_bad:
                raise SchemaError("dynamic_covariates", f"{kind}_path", "points past the paths", n_bad)
        if self.purchase_at_transactions.shape != (n, len(self.purchase_names)):
            raise SchemaError("dynamic_covariates", "purchase_at_transactions", "has the wrong shape")
        if not self.period_length > 0:
            raise ConfigError(f"period_length must be positive, got {self.period_length!r}")
        _check_rft(self.frequency, self.recency, self.T)
        if np.any(self.birth < 0):
            raise SchemaError(
                "dynamic_covariates",
                "birth",
                "starts before the covariate periods",
                int(np.sum(self.birth < 0)),
            )

    @property
    def n_periods(self) -> int:
        """Number of periods the covariates cover."""
        return int(self.purchase_paths.shape[1])

    def check_covers(self, horizon: FloatArray | float = 0.0) -> None:
        """Raise unless the covariates cover every customer's ``(0, T + horizon]``."""
        end = self.birth + self.T + horizon
        short = end > self.n_periods * self.period_length * (1 + 1e-12) + 1e-9
        if np.any(short):
            last = float(np.max(end))
            raise ConfigError(
                f"dynamic covariates cover {self.n_periods} periods ({self.n_periods * self.period_length:g} time "
                f"units) but {int(short.sum()):,} customers need up to {last:g}: pass covariates for the future periods"
            )


def _paths(
    values: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """Distinct paths of a ``(n, n_periods, k)`` array and each row's path index."""
    n = values.shape[0]
    flat = values.reshape(n, -1)
    if flat.shape[1] == 0:
        return values[:1], np.zeros(n, dtype=np.int64)
    unique, inverse = np.unique(flat, axis=0, return_inverse=True)
    return unique.reshape((-1, *values.shape[1:])), inverse.ravel().astype(np.int64)


@dataclass(frozen=True)
class _PeriodGrid:
    """The regular grid of covariate periods: its start, the period length (in the time unit) and the count."""

    origin: pd.Timestamp
    unit: pd.Timedelta
    period_length: float
    n_periods: int

    def position(self, stamps: pd.Series) -> FloatArray:
        """Time of ``stamps`` on the grid, in the time unit from its start."""
        return ((stamps - self.origin) / self.unit).to_numpy(dtype=float)

    def period_of(self, stamps: pd.Series) -> IntArray:
        """Index of the period holding each of ``stamps``."""
        return np.floor(self.position(stamps) / self.period_length).astype(np.int64)


def _period_grid(starts: pd.Series, period_col: str, freq: str) -> _PeriodGrid:
    """The grid of the covariate table's period starts; fail unless they are equally spaced."""
    unit = pd.Timedelta(days=_UNIT_DAYS[freq])
    grid = np.sort(starts.unique())
    if len(grid) < 1:
        raise SchemaError("covariates", period_col, "has no periods")
    steps = np.diff(grid) / unit if len(grid) > 1 else np.array([1.0])
    if not np.allclose(steps, steps[0]):
        raise SchemaError("covariates", period_col, "periods are not of equal length")
    return _PeriodGrid(pd.Timestamp(grid[0]), unit, float(steps[0]), len(grid))


def _covariate_cube(
    covariates: pd.DataFrame, cols: tuple[str, ...], rows: IntArray, periods: IntArray, shape: tuple[int, int]
) -> FloatArray:
    """``(customers, periods, len(cols))`` array of the covariate rows (``rows``/``periods``: their cells), NaN elsewhere."""
    keep = rows >= 0
    out = np.full((*shape, len(cols)), np.nan)
    for j, col in enumerate(cols):
        values = covariates[col]
        if not pd.api.types.is_numeric_dtype(values):
            raise SchemaError("covariates", col, f"must be numeric (dtype {values.dtype})")
        out[rows[keep], periods[keep], j] = values.to_numpy(dtype=float)[keep]
    return out


def _fill_unobserved(
    cube: FloatArray, cols: tuple[str, ...], needed: NDArray[np.bool_], process: str
) -> FloatArray:
    """Fail if a covariate lacks a period a customer is observed in; zero the periods never used."""
    for j, col in enumerate(cols):
        missing = needed & np.isnan(cube[:, :, j])
        if missing.any():
            raise SchemaError(
                "covariates",
                col,
                f"has no value for a period a customer is observed in ({process})",
                int(missing.any(axis=1).sum()),
            )
    return np.where(np.isnan(cube), 0.0, cube)  # periods before a customer's first purchase: never used


def _observed_periods(birth: FloatArray, big_t: FloatArray, grid: _PeriodGrid) -> NDArray[np.bool_]:
    """``[i, k]``: does customer ``i`` need period ``k`` (from the first purchase's to the calibration end's)?"""
    end_period = np.floor((birth + big_t) / grid.period_length).astype(np.int64)
    first_period = np.floor(birth / grid.period_length).astype(np.int64)
    k = np.arange(grid.n_periods)[None, :]
    return (k >= first_period[:, None]) & (k <= np.minimum(end_period, grid.n_periods - 1)[:, None])


def _purchase_sums(
    transactions: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    calibration_end: Any,
    customers: pd.Index,
    first: pd.Series,
    grid: _PeriodGrid,
    purchase_cube: FloatArray,
    period_col: str,
) -> FloatArray:
    """Per customer, the sum of the purchase covariates over the periods of their repeat purchase days."""
    days = pd.DataFrame(
        {
            customer_col: transactions[customer_col].to_numpy(),
            "_day": pd.to_datetime(transactions[ts_col]).dt.normalize(),
        }
    )
    days = days.loc[days["_day"] <= pd.Timestamp(calibration_end).normalize()].drop_duplicates()
    days["_pos"] = customers.get_indexer(days[customer_col])
    days["_first"] = first.to_numpy()[days["_pos"].to_numpy()]
    repeat = days.loc[days["_day"] > days["_first"]]
    k = grid.period_of(repeat["_day"])
    if np.any(k >= grid.n_periods):
        raise SchemaError("covariates", period_col, "ends before the last calibration purchase")
    sums = np.zeros((len(customers), purchase_cube.shape[2]))
    np.add.at(sums, repeat["_pos"].to_numpy(), purchase_cube[repeat["_pos"].to_numpy(), k])
    return sums


def dynamic_covariates(
    transactions: pd.DataFrame,
    covariates: pd.DataFrame,
    customer_col: str,
    ts_col: str,
    period_col: str,
    calibration_end: Any,
    purchase: list[str] | tuple[str, ...] = (),
    dropout: list[str] | tuple[str, ...] = (),
    freq: str = "W",
) -> DynamicCovariates:
    """Build :class:`DynamicCovariates` from a transaction log and a per-customer, per-period covariate table.

    The layout is CLVTools' (``apparelDynCov``): one row per customer and period, ``period_col`` the start of the
    period, periods of equal length (a week, say) forming a grid that starts on or before every first purchase.
    Rows past ``calibration_end`` are future covariates, used only by predictions. Purchases are summarised as
    in :func:`~custml.models.btyd.rfm_summary` (one transaction per customer and day, up to ``calibration_end``).

    Raises
    ------
    custml.errors.SchemaError
        A column is missing or not numeric, a customer has no covariates for a period they need, the periods
        are not a regular grid, or a first purchase falls before the first period.
    """
    for col in (customer_col, period_col, *purchase, *dropout):
        if col not in covariates.columns:
            raise SchemaError("covariates", col, "is missing")
    summary = rfm_summary(
        transactions, customer_col, ts_col, None, observation_end=calibration_end, freq=freq
    )
    customers = pd.Index(summary.index)
    starts = pd.to_datetime(covariates[period_col])
    grid = _period_grid(starts, period_col, freq)
    first = pd.to_datetime(transactions.groupby(customer_col)[ts_col].min()).dt.normalize().reindex(customers)
    birth = grid.position(first)
    if np.any(birth < 0):
        raise SchemaError(
            "covariates", period_col, "starts after some customers' first purchase", int(np.sum(birth < 0))
        )
    # The cells of the (customer, period) grid each covariate row fills.
    cust_pos = customers.get_indexer(covariates[customer_col])
    period_pos = np.rint(grid.position(starts) / grid.period_length).astype(np.int64)
    needed = _observed_periods(birth, summary["T"].to_numpy(), grid)
    purchase, dropout = tuple(purchase), tuple(dropout)
    cubes = {}
    for process, cols in (("purchase", purchase), ("dropout", dropout)):
        cube = _covariate_cube(covariates, cols, cust_pos, period_pos, (len(customers), grid.n_periods))
        cubes[process] = _fill_unobserved(cube, cols, needed, process)
    sums = _purchase_sums(
        transactions,
        customer_col,
        ts_col,
        calibration_end,
        customers,
        first,
        grid,
        cubes["purchase"],
        period_col,
    )
    p_paths, p_index = _paths(cubes["purchase"])
    d_paths, d_index = _paths(cubes["dropout"])
    if not purchase:
        p_paths = np.zeros((1, grid.n_periods, 0))
    if not dropout:
        d_paths = np.zeros((1, grid.n_periods, 0))
    return DynamicCovariates(
        customers=customers,
        frequency=summary["frequency"].to_numpy(dtype=float),
        recency=summary["recency"].to_numpy(dtype=float),
        T=summary["T"].to_numpy(dtype=float),
        birth=birth,
        period_length=grid.period_length,
        purchase_names=purchase,
        dropout_names=dropout,
        purchase_paths=p_paths,
        dropout_paths=d_paths,
        purchase_path=p_index,
        dropout_path=d_index,
        purchase_at_transactions=sums,
    )


def static_as_dynamic(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    n_periods: int,
    purchase_covariates: pd.DataFrame | None = None,
    dropout_covariates: pd.DataFrame | None = None,
    birth: ArrayLike | None = None,
    period_length: float = 1.0,
) -> DynamicCovariates:
    """Time-constant covariates as :class:`DynamicCovariates` (every period repeats the static value).

    The dynamic model on these data is the static-covariate Pareto/NBD: a check, and a way to predict a static
    model's customers with the dynamic code.
    """
    x, t_x, big_t = (a.ravel() for a in _check_rft(frequency, recency, T))
    n = x.size
    zp, p_names = covariate_matrix("purchase_covariates", purchase_covariates, n)
    zd, d_names = covariate_matrix("dropout_covariates", dropout_covariates, n)
    p_paths, p_index = _paths(np.repeat(zp[:, None, :], n_periods, axis=1))
    d_paths, d_index = _paths(np.repeat(zd[:, None, :], n_periods, axis=1))
    return DynamicCovariates(
        customers=pd.RangeIndex(n),
        frequency=x,
        recency=t_x,
        T=big_t,
        birth=np.zeros(n) if birth is None else np.broadcast_to(np.asarray(birth, dtype=float), (n,)).copy(),
        period_length=period_length,
        purchase_names=p_names,
        dropout_names=d_names,
        purchase_paths=p_paths,
        dropout_paths=d_paths,
        purchase_path=p_index,
        dropout_path=d_index,
        purchase_at_transactions=zp * x[:, None],
    )
