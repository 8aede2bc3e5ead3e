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
    "as_of_after",
    "configure_tracking",
    "default_as_of",
    "feature_inputs",
    "find_scores_meta",
    "future_ceiling",
    "infer_as_of",
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


def as_of_after(end: Any) -> pd.Timestamp:
    """The as-of date of data that ends on ``end``: the next day at midnight (the last step of the one as-of
    rule, :func:`default_as_of`; a generated world's ``manifest["end"]`` goes straight here).

    >>> as_of_after("2025-12-31T17:30:00")
    Timestamp('2026-01-01 00:00:00')
    """
    return (as_day(end) + pd.Timedelta(days=1)).normalize()


def _manifest_end(raw_dir: Path) -> pd.Timestamp | None:
    manifest = ProjectPaths.manifest_in(raw_dir)
    end = read_json(manifest).get("end") if manifest.is_file() else None
    return as_day(end) if end else None


def future_ceiling(raw_dir: Path | str, now: Any = None) -> pd.Timestamp | None:
    """The latest timestamp real data in ``raw_dir`` can hold (now plus a day), or None for a generated world
    (a ``manifest.json`` with an ``end``: its dates may lie in the future)."""
    from custml.quality.timeline import wall_clock_ceiling

    if _manifest_end(Path(raw_dir)) is not None:
        return None
    return wall_clock_ceiling(as_day(now) if now is not None else pd.Timestamp.now(tz="UTC"))


def infer_as_of(
    raw_dir: Path | str, orders: pd.DataFrame | None = None, now: Any = None
) -> tuple[pd.Timestamp, str | None]:
    """:func:`default_as_of` and, when timestamps were left out to find the data's end, a line saying so."""
    from custml.quality.timeline import infer_data_end

    raw_dir = Path(raw_dir)
    end = _manifest_end(raw_dir)
    if end is not None:
        return as_of_after(end), None
    if orders is None:
        orders = read_tables(raw_dir, ["orders"])["orders"]
    parsed = pd.to_datetime(orders["order_ts"], errors="coerce", utc=True, format="mixed")
    data_end = infer_data_end(parsed, as_day(now) if now is not None else pd.Timestamp.now(tz="UTC"))
    if data_end.end is None:
        raise DataFileError(f"orders in {raw_dir}: no readable order_ts to infer the as-of date from")
    note = data_end.note("orders.order_ts")
    if note:
        logger.info(note)  # said once, in the quality report's hints (several steps infer the as-of date)
    return as_of_after(data_end.end), note


def default_as_of(raw_dir: Path | str, orders: pd.DataFrame | None = None, now: Any = None) -> pd.Timestamp:
    """The day after the data ends (``manifest.json`` ``end`` of a generated world), or the last order day + 1.

    ``orders`` (the raw orders, e.g. read through a source mapping) is used instead of ``raw_dir/orders.*``.
    Without a manifest the last order is the last plausible one (:func:`custml.quality.timeline.infer_data_end`):
    a date after ``now`` (default: the current time) or far beyond all others, such as a 2099 typo, is left
    out, so it cannot move the as-of date.
    """
    return infer_as_of(raw_dir, orders, now)[0]


def feature_inputs(tables: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in tables.items() if k in {"customers", "orders", "interactions"}}


def find_scores_meta(scores: Path | str) -> Path | None:
    """The sidecar meta of a scores file that exists (the first of :meth:`ProjectPaths.meta_candidates`), or
    ``None``: the one place the report, campaign and monitor steps look for it."""
    return next((p for p in ProjectPaths.meta_candidates(scores) if p.is_file()), None)
