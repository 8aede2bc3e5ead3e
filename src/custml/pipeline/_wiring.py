"""Wiring helpers shared by the steps of :mod:`custml.pipeline`: project paths, dates, timings, progress lines."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from custml.config import ProjectPaths, get_paths
from custml.errors import ConfigError, DataFileError
from custml.io import count_rows as n_rows
from custml.io import read_json, read_tables

__all__ = [
    "Engine",
    "Progress",
    "as_day",
    "configure_tracking",
    "default_as_of",
    "feature_inputs",
    "n_rows",
    "pipeline_feature_params",
    "project_paths",
    "stamp",
    "tell",
    "timed",
]

logger = logging.getLogger("custml.pipeline")

Engine = Literal["duckdb", "spark"]
Progress = Callable[[str], None]


def pipeline_feature_params() -> Any:
    """Feature settings of the pipeline's own feature builds (scoring, training sets): DuckDB on one thread.

    With all cores DuckDB adds floats in a run-dependent order: the 50k churn training table got a different
    digest on every build, early stopping moved by a few trees and a backtest ECE by up to 0.003. On one
    thread a re-run is bit-identical, for ~15 % more time (8.2 s against 7.0 s for that table).
    """
    from custml.features import FeatureParams

    return FeatureParams(duckdb_threads=1)


def project_paths(root: Path | str | None) -> ProjectPaths:
    return get_paths(root).ensure()


def as_day(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ConfigError(f"not a date: {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def stamp(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%dT%H%M%S")


def configure_tracking(paths: ProjectPaths) -> str:
    """Point MLflow at this project's store (``$MLFLOW_TRACKING_URI`` or SQLite in the project root)."""
    import os

    from custml import tracking
    from custml.config import ENV_TRACKING_URI, tracking_uri

    if os.environ.get(ENV_TRACKING_URI) or paths.root == get_paths().root:
        return tracking.configure()  # the project default, re-read on every call (no sticky URI)
    return tracking.configure(tracking_uri(paths))


def tell(progress: Progress | None, message: str) -> None:
    logger.info(message)
    if progress is not None:
        progress(message)


@contextmanager
def timed(timings: dict[str, float], key: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - t0, 3)


def default_as_of(raw_dir: Path | str, orders: pd.DataFrame | None = None) -> pd.Timestamp:
    """The day after the data ends (``manifest.json`` ``end`` of a generated world), or the last order day + 1.

    ``orders`` (the raw orders, e.g. read through a source mapping) is used instead of ``raw_dir/orders.*``.
    """
    raw_dir = Path(raw_dir)
    manifest = ProjectPaths.manifest_in(raw_dir)
    if manifest.is_file():
        end = read_json(manifest).get("end")
        if end:
            return (as_day(end) + pd.Timedelta(days=1)).normalize()
    if orders is None:
        orders = read_tables(raw_dir, ["orders"])["orders"]
    last = pd.to_datetime(orders["order_ts"], errors="coerce", utc=True, format="mixed").max()
    if last is pd.NaT:
        raise DataFileError(f"orders in {raw_dir}: no readable order_ts to infer the as-of date from")
    return (last.tz_localize(None) + pd.Timedelta(days=1)).normalize()


def feature_inputs(tables: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tables.items() if k in {"customers", "orders", "interactions"}}
