"""Training sets: features at each of several cutoffs joined with the label of the horizon after it, stacked.

:func:`rolling_cutoffs` picks cutoffs whose label horizon ends inside the data; :func:`build_training_set`
refuses any other; :func:`split_by_cutoff` gives the time-based validation split (train on earlier cutoffs,
test on the latest); :func:`join_oracle` adds the synthetic world's true probabilities for evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

import pandas as pd
import pyarrow as pa

from custml.errors import CustmlError, SchemaError
from custml.features.catalogue import FEATURE_CATALOGUE
from custml.features.engines import Engine, FeatureParams, TableInput, build_features
from custml.features.labels import DEFAULT_ACTIVE_DAYS, churn_labels, repurchase_labels
from custml.features.sql import cutoff_literal

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "HorizonError",
    "build_training_set",
    "join_oracle",
    "rolling_cutoffs",
    "split_by_cutoff",
]

Task = Literal["churn", "repurchase"]
#: Default label horizon of each task, in days.
DEFAULT_HORIZON_DAYS: dict[str, int] = {"churn": 90, "repurchase": 30}


class HorizonError(CustmlError, ValueError):
    """A label horizon would run past the end of the data (the label would be wrong, not just unknown)."""


def rolling_cutoffs(
    data_end: object, n: int, step_days: int = 30, horizon_days: int = 90
) -> list[pd.Timestamp]:
    """``n`` cutoffs (midnights), ``step_days`` apart, the latest being the last whose horizon fits the data.

    The latest cutoff is the day of ``data_end - horizon_days`` (rounded down to midnight), so that
    ``cutoff + horizon_days <= data_end`` for every cutoff returned. Returned oldest first.

    Examples
    --------
    >>> [str(c.date()) for c in rolling_cutoffs("2025-12-31 23:59:59", 3, step_days=30, horizon_days=90)]
    ['2025-08-03', '2025-09-02', '2025-10-02']
    """
    if n < 1 or step_days < 1 or horizon_days < 1:
        raise ValueError("n, step_days and horizon_days must be positive")
    end, _ = cutoff_literal(data_end)
    last = (end - pd.Timedelta(days=horizon_days)).floor("D")
    return [last - pd.Timedelta(days=step_days * k) for k in range(n - 1, -1, -1)]


def _orders_for_labels(data: TableInput) -> pd.DataFrame:
    """The order columns labels need, without materialising the other columns of a large parquet file."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pa.Table):
        cols = [c for c in ("customer_id", "order_ts", "is_refund") if c in data.column_names]
        return data.select(cols).to_pandas()
    if isinstance(data, str | os.PathLike):
        from custml.features.engines import duckdb_connection, register_duckdb

        con = duckdb_connection()
        try:
            types = register_duckdb(con, {"orders": data})["orders"]
            cols = [c for c in ("customer_id", "order_ts", "is_refund") if c in types]
            return con.execute(f"SELECT {', '.join(cols)} FROM src_orders").df()
        finally:
            con.close()
    # A Spark DataFrame.
    cols = [c for c in ("customer_id", "order_ts", "is_refund") if c in data.columns]
    return data.select(*cols).toPandas()


def build_training_set(
    tables: Mapping[str, TableInput],
    cutoffs: Iterable[object],
    task: Task,
    *,
    horizon_days: int | None = None,
    active_days: int = DEFAULT_ACTIVE_DAYS,
    data_end: object | None = None,
    engine: Engine = "duckdb",
    params: FeatureParams | None = None,
    spark: SparkSession | None = None,
) -> pd.DataFrame:
    """Features at each cutoff joined with the task's label, stacked over the cutoffs.

    Parameters
    ----------
    tables : mapping
        As for :func:`custml.features.build_features`.
    cutoffs : iterable of date-like
        E.g. :func:`rolling_cutoffs`.
    task : {"churn", "repurchase"}
        ``churn``: active customers (an order in the ``active_days`` before the cutoff), label 1 if no order in
        the next ``horizon_days`` (default 90). ``repurchase``: customers with an order before the cutoff, label
        1 if any order in the next ``horizon_days`` (default 30).
    data_end : date-like, optional
        Last instant covered by the data (default: the latest ``order_ts``).

    Returns
    -------
    pandas.DataFrame
        The feature columns (``customer_id``, ``cutoff``, catalogue) and ``label`` (int 0/1), sorted by cutoff
        then customer.

    Raises
    ------
    HorizonError
        If ``cutoff + horizon_days`` is after ``data_end`` for any cutoff.
    """
    if task not in DEFAULT_HORIZON_DAYS:
        raise ValueError(f"unknown task {task!r} (expected 'churn' or 'repurchase')")
    horizon = horizon_days if horizon_days is not None else DEFAULT_HORIZON_DAYS[task]
    if "orders" not in tables or tables["orders"] is None:
        raise SchemaError("orders", None, "table is required to build a training set")
    cuts = sorted({cutoff_literal(c)[0] for c in cutoffs})
    if not cuts:
        raise ValueError("at least one cutoff is needed")
    orders = _orders_for_labels(tables["orders"])
    end = cutoff_literal(data_end)[0] if data_end is not None else pd.Timestamp(orders["order_ts"].max())
    for cut in cuts:
        if cut + pd.Timedelta(days=horizon) > end:
            raise HorizonError(
                f"cutoff {cut} + {horizon}-day {task} horizon = {cut + pd.Timedelta(days=horizon)} is after the end "
                f"of the data ({end}): the label would be censored; use an earlier cutoff (see rolling_cutoffs)"
            )
    parts = []
    for cut in cuts:
        feats = build_features(tables, cut, engine=engine, params=params, spark=spark)
        if task == "churn":
            labels = churn_labels(orders, cut, horizon_days=horizon, active_days=active_days)
            flag = labels["churned"]
        else:
            labels = repurchase_labels(orders, cut, horizon_days=horizon)
            flag = labels["repurchased"]
        lab = pd.DataFrame(
            {"customer_id": labels["customer_id"].to_numpy(), "label": flag.astype("int64").to_numpy()}
        )
        parts.append(feats.merge(lab, on="customer_id", how="inner", validate="one_to_one"))
    out = pd.concat(parts, ignore_index=True)
    # Concatenating categoricals with different categories gives object columns: restore the dtype.
    for spec in FEATURE_CATALOGUE:
        if spec.dtype == "categorical" and spec.name in out.columns:
            out[spec.name] = out[spec.name].astype("category")
    return out.sort_values(["cutoff", "customer_id"], kind="stable").reset_index(drop=True)


def split_by_cutoff(
    training_set: pd.DataFrame, n_test_cutoffs: int = 1, horizon_days: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-based validation split: the latest ``n_test_cutoffs`` cutoffs are the test set, earlier ones train.

    With ``horizon_days``, training cutoffs whose label horizon reaches past the first test cutoff are dropped,
    so no training label looks at the test period.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.DataFrame({"cutoff": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]), "label": [0, 1, 0]})
    >>> train, test = split_by_cutoff(ts)
    >>> len(train), len(test)
    (2, 1)
    """
    cuts = sorted(training_set["cutoff"].unique())
    if n_test_cutoffs < 1 or len(cuts) <= n_test_cutoffs:
        raise ValueError(
            f"need more than {n_test_cutoffs} distinct cutoffs to split by time, got {len(cuts)}"
        )
    first_test = pd.Timestamp(cuts[-n_test_cutoffs])
    test_mask = training_set["cutoff"] >= first_test
    train_mask = ~test_mask
    if horizon_days is not None:
        train_mask &= training_set["cutoff"] + pd.Timedelta(days=horizon_days) <= first_test
    return training_set[train_mask].reset_index(drop=True), training_set[test_mask].reset_index(drop=True)


def join_oracle(
    training_set: pd.DataFrame, oracle: pd.DataFrame, id_map: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Add the synthetic world's true probabilities (``p_*`` columns of ``oracle``) to a training set.

    Parameters
    ----------
    training_set : pandas.DataFrame
        Has ``customer_id`` (pseudonyms after cleaning) and ``cutoff``.
    oracle : pandas.DataFrame
        ``custml.synth.oracle_probabilities`` output: raw ``customer_id`` and ``p_*`` columns; with a
        ``cutoff`` column it is joined per cutoff, otherwise on the customer alone.
    id_map : pandas.DataFrame, optional
        The cleaner's id map (``raw_customer_id`` -> ``customer_id`` pseudonym). Records merged into one customer
        belong to one person and carry the same probabilities; the first is kept.

    Returns
    -------
    pandas.DataFrame
        ``training_set`` with the oracle's ``p_*`` columns (null where the oracle has no row).
    """
    prob_cols = [c for c in oracle.columns if c.startswith("p_")]
    if "customer_id" not in oracle.columns or not prob_cols:
        raise SchemaError("oracle", "customer_id", "oracle needs customer_id and p_* probability columns")
    keys = ["customer_id"] + (["cutoff"] if "cutoff" in oracle.columns else [])
    orc = oracle[keys + prob_cols].copy()
    if id_map is not None:
        for col in ("raw_customer_id", "customer_id"):
            if col not in id_map.columns:
                raise SchemaError("id_map", col, "required column is missing")
        mapping = dict(
            zip(id_map["raw_customer_id"].astype(str), id_map["customer_id"].astype(str), strict=True)
        )
        orc["customer_id"] = orc["customer_id"].astype(str).map(mapping)
        orc = orc.dropna(subset=["customer_id"])
    orc["customer_id"] = orc["customer_id"].astype(str)
    orc = orc.drop_duplicates(subset=keys, keep="first")
    return training_set.merge(orc, on=keys, how="left", validate="many_to_one")
