"""Batch scoring on Spark: the feature table as a Spark frame, and each model's probabilities through a UDF.

The wiring (:func:`custml.pipeline.run_score` with ``engine="spark"``) starts the session and builds the UDFs
(:func:`custml.tracking.spark_udf` of each model URI); these functions only shape frames and apply UDFs, so
scoring stays free of MLflow. PySpark is imported lazily: it is an optional dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["predict_spark", "spark_frame"]


def spark_frame(spark: Any, features: pd.DataFrame) -> Any:
    """A Spark DataFrame of ``features``, categorical and string columns as plain objects.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    features : pandas.DataFrame
        The feature table (not modified).

    Returns
    -------
    pyspark.sql.DataFrame
        Same rows and columns; missing text values are ``None`` (Spark cannot take pandas' ``NA`` or
        categoricals). ``cutoff`` stays: the models read its time of year (season features), and without it
        they would score every row as of an unknown season.
    """
    frame = features.copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
            frame[col].dtype
        ):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return spark.createDataFrame(frame)


def predict_spark(
    spark: Any,
    features: pd.DataFrame,
    udfs: Mapping[str, Any],
    input_columns: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """Probabilities computed by Spark over the feature table, one UDF per task.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    features : pandas.DataFrame
        The feature table, with ``customer_id``.
    udfs : mapping
        Task (``churn``, ``repurchase``) -> a Spark UDF returning the model's probability.
    input_columns : mapping
        Task -> the model's input columns, in the order its UDF takes them (columns missing from
        ``features`` are left out, as the models accept).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` and ``<task>_probability`` per task.
    """
    from pyspark.sql import functions as F

    sdf = spark_frame(spark, features)
    cols = {
        f"{task}_probability": udf(*[F.col(c) for c in input_columns[task] if c in sdf.columns])
        for task, udf in udfs.items()
    }
    out = sdf.select("customer_id", *[v.alias(k) for k, v in cols.items()])
    return out.toPandas()
