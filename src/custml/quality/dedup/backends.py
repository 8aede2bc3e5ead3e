"""Splink's database back ends: DuckDB in memory (spilling only to a private folder) or a Spark session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["connect", "spark_backend", "splink_spark_jar"]


def spark_backend(spark: Any, work_dir: Path | None = None) -> Any:
    """Splink's Spark back end on a session started with :func:`splink_spark_jar` among its jars.

    Splink breaks Spark's lineage between steps: with ``work_dir`` (inside the private folder: the tables hold
    personal data) by checkpoints written there, else by persisting in memory.
    """
    from splink import SparkAPI

    if work_dir is None:
        return SparkAPI(spark_session=spark, break_lineage_method="persist")
    checkpoints = work_dir / "spark_checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    spark.sparkContext.setCheckpointDir(str(checkpoints))
    return SparkAPI(spark_session=spark, break_lineage_method="checkpoint")


def splink_spark_jar() -> str:
    """The jar of Splink's string-similarity functions (Jaro-Winkler, Damerau-Levenshtein) for Spark sessions."""
    from splink.internals.spark.jar_location import similarity_jar_location

    return str(similarity_jar_location())


def connect(db_api: Any | None, work_dir: Path | None, seed: int) -> Any:
    """A Splink DuckDB API whose spill files (personal data) go to ``work_dir`` only (none without it)."""
    import duckdb
    from splink import DuckDBAPI

    if db_api is not None:
        return db_api
    con = duckdb.connect(":memory:")
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{(work_dir / 'duckdb_tmp').as_posix()}'").fetchall()
    else:
        con.execute(
            "SET temp_directory = ''"
        ).fetchall()  # no spilling to disk: nothing personal leaves memory
    con.execute(f"SELECT setseed({(seed % 1000) / 1000.0})").fetchall()
    return DuckDBAPI(connection=con)
