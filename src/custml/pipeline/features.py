"""Step ``features``: point-in-time features of every customer -> ``data/processed/features_<as_of>.parquet``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custml.io import write_table
from custml.pipeline._wiring import (
    Engine,
    as_day,
    feature_inputs,
    pipeline_feature_params,
    project_paths,
    stamp,
)
from custml.pipeline.clean import read_clean

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["features_path_for", "run_features"]


def features_path_for(as_of: Any, root: Path | str | None = None) -> Path:
    """Default features file for an as-of date: ``data/processed/features_<as_of>.parquet``."""
    return project_paths(root).features_table(stamp(as_day(as_of)))


def run_features(
    as_of: Any,
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    engine: Engine = "duckdb",
    write: bool = True,
) -> pd.DataFrame:
    """Features of every customer as of ``as_of`` from the clean tables; written to ``data/processed``.

    DuckDB runs on one thread here (:func:`_pipeline_features`): its parallel aggregation adds floats in a
    run-dependent order (features then differ by ~1e-14 between runs), and scores built from these features
    must be byte-identical on a re-run.
    """
    from custml.features import build_features

    tables = tables if tables is not None else read_clean(root)
    as_of = as_day(as_of)
    features = build_features(feature_inputs(tables), as_of, engine=engine, params=pipeline_feature_params())
    if write:
        write_table(features, features_path_for(as_of, root))
    return features
