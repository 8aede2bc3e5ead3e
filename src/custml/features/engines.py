"""Run the feature query on DuckDB (default) or Spark, and return one tidy pandas frame.

Input tables are pandas frames, Arrow tables or parquet paths (a file, a folder or a glob). DuckDB scans frames
and Arrow tables in place (no copy) and reads parquet lazily, so a 10M-row order file never becomes a pandas
frame. Spark gets the same statement transpiled by sqlglot (see :mod:`custml.features.sql`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import ConfigDict, Field

from custml.errors import CustmlError, SchemaError
from custml.features.catalogue import FEATURE_CATALOGUE
from custml.features.sql import SOURCE_VIEWS, available_features, cutoff_literal, feature_sql
from custml.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

__all__ = [
    "FeatureParams",
    "SparkUnavailableError",
    "TableInput",
    "build_features",
    "duckdb_connection",
    "feature_columns",
    "register_duckdb",
    "register_spark",
    "spark_session",
]

logger = logging.getLogger(__name__)

TableInput: TypeAlias = pd.DataFrame | pa.Table | str | os.PathLike
Engine = Literal["duckdb", "spark"]

_REQUIRED = {"orders": ("customer_id", "order_ts", "net_amount")}
_TIMESTAMPS = {"orders": "order_ts", "interactions": "ts", "customers": "signup_date"}
_OTHER_REQUIRED = {"interactions": ("customer_id", "ts", "kind"), "customers": ("customer_id",)}


class FeatureParams(Settings):
    """Settings of the feature computation (not of the definitions, which are fixed by the catalogue)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[str, ...] | None = Field(
        default=None, description="Compute only these catalogue features (default: every available one)."
    )
    duckdb_threads: int | None = Field(default=None, ge=1, description="DuckDB threads (default: all cores).")
    duckdb_memory_limit: str | None = Field(
        default=None, description="DuckDB memory limit, e.g. '3GB' (default: DuckDB's own, 80% of RAM)."
    )


class SparkUnavailableError(CustmlError, RuntimeError):
    """PySpark or Java is not installed."""


# --------------------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------------------


def duckdb_connection(params: FeatureParams | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection with the thread and memory settings of ``params``."""
    import duckdb

    params = params or FeatureParams()
    con = duckdb.connect(":memory:")
    # The query ends with ORDER BY: intermediate row order does not matter, and not keeping it is faster.
    con.execute("SET preserve_insertion_order = false")
    # Time-zone-aware inputs are converted to naive UTC, whatever the machine's zone (needs the ICU extension,
    # bundled with the Python package; without it there is no zone support to worry about).
    with contextlib.suppress(duckdb.Error):
        con.execute("SET TimeZone = 'UTC'")
    if params.duckdb_threads is not None:
        con.execute(f"SET threads = {int(params.duckdb_threads)}")
    if params.duckdb_memory_limit is not None:
        con.execute("SET memory_limit = ?", [params.duckdb_memory_limit])
    return con


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register_duckdb(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, TableInput]
) -> dict[str, dict[str, str]]:
    """Register each input table as view ``src_<name>``; return ``{table: {column: duckdb type}}``.

    pandas frames and Arrow tables are scanned in place; a path (parquet file, folder or glob; ``.csv`` also
    accepted) becomes a lazy ``read_parquet`` / ``read_csv`` view.
    """
    out: dict[str, dict[str, str]] = {}
    for name, data in tables.items():
        if name not in SOURCE_VIEWS or data is None:
            continue
        view = SOURCE_VIEWS[name]
        if isinstance(data, pd.DataFrame | pa.Table):
            con.register(view, data)
        elif isinstance(data, str | os.PathLike):
            path = Path(data)
            pattern = str(path / "*.parquet") if path.is_dir() else str(path)
            reader = "read_csv_auto" if path.suffix in (".csv", ".tsv", ".txt") else "read_parquet"
            con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {reader}({_sql_string(pattern)})")
        else:
            raise TypeError(
                f"{name}: expected a pandas DataFrame, Arrow table or path, got {type(data).__name__}"
            )
        rows = con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()
        out[name] = {r[0]: str(r[1]) for r in rows}
    return out


def _check_columns(types: Mapping[str, Mapping[str, str]]) -> None:
    if "orders" not in types:
        raise SchemaError("orders", None, "table is required to compute features")
    for table, required in {**_REQUIRED, **_OTHER_REQUIRED}.items():
        if table not in types:
            continue
        missing = [c for c in required if c not in types[table]]
        if missing:
            raise SchemaError(
                table, missing[0], f"required column is missing (all missing: {', '.join(missing)})"
            )
    for table, col in _TIMESTAMPS.items():
        typ = types.get(table, {}).get(col)
        if typ is not None and not (typ.upper().startswith(("TIMESTAMP", "DATE"))):
            raise SchemaError(
                table,
                col,
                f"has type {typ}, expected timestamps (parse and clean the data first: `custml clean`)",
            )


def _run_duckdb(tables: Mapping[str, TableInput], cutoff: object, params: FeatureParams) -> pd.DataFrame:
    con = duckdb_connection(params)
    try:
        types = register_duckdb(con, tables)
        _check_columns(types)
        columns = {t: list(c) for t, c in types.items()}
        sql = feature_sql(columns, cutoff, dialect="duckdb", features=params.features)
        logger.info("features: running the catalogue on DuckDB")
        return con.execute(sql).df()
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------------------------------------


def spark_session(
    app_name: str = "custml",
    *,
    master: str = "local[2]",
    shuffle_partitions: int = 4,
    jars: tuple[str, ...] = (),
) -> SparkSession:
    """A local Spark session set up for custml (UTC, Arrow transfers, no UI), created or reused.

    ``jars`` are added to the session's class path (Splink's similarity functions for de-duplication); they
    take effect only when the session is created here, not when an existing one is reused.

    Raises
    ------
    SparkUnavailableError
        If PySpark is not installed or Java cannot be started.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailableError(
            "pyspark is not installed: pip install 'custml[spark]' (Java 17 is needed too)"
        ) from exc
    # The workers must run this interpreter (same pandas/pyarrow), and bind to loopback on laptops and CI.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        return (
            SparkSession.builder.appName(app_name)
            .master(master)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.default.parallelism", str(shuffle_partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.execution.arrow.pyspark.fallback.enabled", "true")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.jars", ",".join(jars))
            .getOrCreate()
        )
    except Exception as exc:  # Java missing or failing to start surfaces as various exception types
        raise SparkUnavailableError(
            f"cannot start a local Spark session (is Java 17 installed?): {exc}"
        ) from exc


def _to_spark(spark: SparkSession, data: TableInput) -> SparkDataFrame:
    if isinstance(data, str | os.PathLike):
        return spark.read.parquet(str(data))
    if isinstance(data, pa.Table):
        data = data.to_pandas()
    frame = data.copy(deep=False)
    for col in frame.columns:
        dtype = frame[col].dtype
        # Spark's Arrow conversion wants plain objects for categoricals, pandas strings and nullable booleans.
        if isinstance(dtype, pd.CategoricalDtype | pd.BooleanDtype) or pd.api.types.is_string_dtype(dtype):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return spark.createDataFrame(frame)


def register_spark(spark: SparkSession, tables: Mapping[str, TableInput]) -> dict[str, dict[str, str]]:
    """Register each input table as temporary view ``src_<name>``; return ``{table: {column: spark type}}``."""
    out: dict[str, dict[str, str]] = {}
    for name, data in tables.items():
        if name not in SOURCE_VIEWS or data is None:
            continue
        if not isinstance(data, pd.DataFrame | pa.Table | str | os.PathLike):
            # A Spark DataFrame: use as is.
            sdf = data
        else:
            sdf = _to_spark(spark, data)
        sdf.createOrReplaceTempView(SOURCE_VIEWS[name])
        out[name] = {f.name: f.dataType.simpleString().upper() for f in sdf.schema.fields}
    return out


def _run_spark(
    tables: Mapping[str, Any], cutoff: object, params: FeatureParams, spark: SparkSession | None
) -> pd.DataFrame:
    spark = spark or spark_session("custml-features")
    types = register_spark(spark, tables)
    _check_columns(types)
    columns = {t: list(c) for t, c in types.items()}
    sql = feature_sql(columns, cutoff, dialect="spark", features=params.features)
    logger.info("features: running the catalogue on Spark")
    result = spark.sql(sql).toPandas()
    for view in SOURCE_VIEWS.values():
        spark.catalog.dropTempView(view)
    return result


# --------------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------------


def _finalise(raw: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Same dtypes whatever the engine: str ids, the cutoff, float64 numeric and category profile columns."""
    specs = {s.name: s for s in FEATURE_CATALOGUE}
    out: dict[str, np.ndarray | pd.Series] = {
        "customer_id": raw["customer_id"].astype(str).to_numpy(dtype=object),
        "cutoff": np.full(len(raw), cutoff.to_datetime64()).astype("datetime64[ns]"),
    }
    for col in raw.columns:
        if col == "customer_id":
            continue
        spec = specs[col]
        if spec.dtype == "numeric":
            out[col] = pd.to_numeric(raw[col]).astype("float64").to_numpy()
        else:
            out[col] = raw[col].astype(object).where(raw[col].notna(), None)
    frame = pd.DataFrame(out)
    frame["customer_id"] = frame["customer_id"].astype(str)
    for col in frame.columns:
        if col in specs and specs[col].dtype == "categorical":
            frame[col] = frame[col].astype("category")
    return frame


def build_features(
    tables: Mapping[str, TableInput],
    cutoff: object,
    *,
    engine: Engine = "duckdb",
    params: FeatureParams | None = None,
    spark: SparkSession | None = None,
) -> pd.DataFrame:
    """Compute the feature catalogue as of ``cutoff``: one row per customer, from events strictly before it.

    Parameters
    ----------
    tables : mapping of str to DataFrame, Arrow table or path
        ``orders`` (required: ``customer_id``, ``order_ts``, ``net_amount``), ``customers`` and
        ``interactions`` (optional), following :mod:`custml.schema`, cleaned (timestamps as datetimes).
        Missing optional tables or columns leave their features out.
    cutoff : date-like
        The point in time: events at or after it are never seen.
    engine : {"duckdb", "spark"}
        DuckDB in process (default) or Spark; both run the same SQL and give the same values.
    params : FeatureParams, optional
        Feature subset and DuckDB settings.
    spark : SparkSession, optional
        Session for ``engine="spark"`` (default: :func:`spark_session`). The Spark engine also accepts Spark
        DataFrames as tables.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``cutoff``, then the available catalogue features in catalogue order; one row per
        customer signed up before the cutoff (if ``customers`` is given) or with an order row before it,
        sorted by ``customer_id``. Numeric features are float64, profile features ``category``.

    Raises
    ------
    custml.errors.SchemaError
        If ``orders`` or a required column is missing, or timestamps are not parsed.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({
    ...     "order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-06-01"]),
    ...     "net_amount": [10.0, 30.0, 5.0]})
    >>> f = build_features({"orders": orders}, "2025-04-01")
    >>> f[["customer_id", "recency_days", "frequency_orders", "monetary_total", "overdue_ratio"]]
      customer_id  recency_days  frequency_orders  monetary_total  overdue_ratio
    0           a          31.0               2.0            40.0       0.525424
    """
    params = params or FeatureParams()
    if "orders" not in tables or tables["orders"] is None:
        raise SchemaError("orders", None, "table is required to compute features")
    cutoff_ts, _ = cutoff_literal(cutoff)
    if engine == "duckdb":
        raw = _run_duckdb(tables, cutoff_ts, params)
    elif engine == "spark":
        raw = _run_spark(tables, cutoff_ts, params, spark)
    else:
        raise ValueError(f"unknown engine {engine!r} (expected 'duckdb' or 'spark')")
    return _finalise(raw, cutoff_ts)


def feature_columns(tables_columns: Mapping[str, list[str]]) -> list[str]:
    """Names of the features :func:`build_features` returns for tables with these columns."""
    return [s.name for s in available_features(tables_columns)]
