"""Step ``segment``: segments and clusters -> ``data/processed/segments_<as_of>.parquet`` and the saved clusterer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custml.config import SEGMENTATION_FILE, ProjectPaths
from custml.contracts import SegmentationBundle
from custml.errors import DataFileError
from custml.io import atomic_write, read_table, write_table
from custml.pipeline._wiring import as_day, configure_tracking, project_paths, stamp
from custml.pipeline.features import run_features

if TYPE_CHECKING:
    from custml.segment.workflow import SegmentationResult, SegmentationRunParams

__all__ = ["SEGMENTATION_FILE", "load_segmentation", "run_segment", "segments_and_clusters"]

logger = logging.getLogger(__name__)

# SEGMENTATION_FILE (``custml.config``) is re-exported here for code that imported it from this module.


def run_segment(
    as_of: Any,
    *,
    root: Path | str | None = None,
    features: pd.DataFrame | None = None,
    params: SegmentationRunParams | None = None,
    track: bool = True,
) -> SegmentationResult:
    """Rule-based segments and clusters as of ``as_of``; saves the fitted clusterer for scoring.

    Writes ``data/processed/segments_<as_of>.parquet`` and ``models/segmentation.joblib`` (the fitted
    :class:`custml.segment.CustomerClusterer`, the cluster names and the parameters), and logs the run to
    MLflow when ``track``.
    """
    import joblib

    from custml.segment.workflow import SegmentationRunParams, segment_customers

    paths = project_paths(root)
    as_of = as_day(as_of)
    params = params or SegmentationRunParams()
    if features is None:
        path = paths.features_table(stamp(as_of))
        features = read_table(path) if path.is_file() else run_features(as_of, root=root)
    result = segment_customers(features, params)
    write_table(result.segments, paths.segments_table(stamp(as_of)))
    if result.clusterer is not None:
        meta = SegmentationBundle(
            as_of=as_of.isoformat(),
            cluster_names={int(k): str(v) for k, v in result.cluster_names.items()},
            params=params.model_dump(mode="json"),
        )
        # the metadata as the contract's JSON beside the fitted clusterer (the one object joblib must hold)
        saved = (meta.to_json(), result.clusterer)
        atomic_write(paths.segmentation, lambda tmp: joblib.dump(saved, tmp))
        if track and result.profiles is not None and result.k_curve is not None:
            from custml import tracking

            configure_tracking(paths)
            try:
                tracking.log_segmentation_run(
                    result.params(params), result.k_curve, result.profiles, result.clusterer, result.metrics
                )
            except Exception as exc:  # the run log is a record, not an input of later steps
                logger.warning("segmentation run not logged to MLflow: %s", str(exc).splitlines()[0])
    return result


def load_segmentation(paths: ProjectPaths) -> tuple[SegmentationBundle, Any] | None:
    """The segmentation saved by the segment step (its metadata and the fitted clusterer), or None when there
    is none (or it cannot be read).

    Raises
    ------
    DataFileError
        If the saved metadata is of another schema version (the file, the version found and the one expected).
    """
    import joblib

    path = paths.segmentation
    if not path.is_file():
        return None
    try:
        saved = joblib.load(path)
    except Exception as exc:  # a truncated or unreadable file must not stop scoring
        logger.warning("cannot load %s (%s): clusters are left empty", path, exc)
        return None
    if not (isinstance(saved, tuple) and len(saved) == 2 and isinstance(saved[0], str)):
        raise DataFileError(
            f"{path}: segmentation bundle of schema version None, expected {SegmentationBundle.expected_version()} "
            "(written by another custml version: re-run custml segment)"
        )
    return SegmentationBundle.read_json(saved[0], name=str(path)), saved[1]


def segments_and_clusters(
    features: pd.DataFrame, segmentation: tuple[SegmentationBundle, Any] | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rule-based segments of the scored population, and cluster names from the saved clusterer."""
    from custml.segment.rules import SegmentParams, assign_segments, has_orders
    from custml.segment.workflow import PROSPECT_CLUSTER_NAME, SegmentationRunParams

    run_params = (
        SegmentationRunParams.model_validate(segmentation[0].params)
        if segmentation
        else SegmentationRunParams()
    )
    rules: SegmentParams = run_params.rules
    segments = assign_segments(features, rules)
    if segmentation is None:
        return segments, None
    buyers = has_orders(features.reset_index(drop=True), rules.rfm).to_numpy()
    names = np.full(len(features), PROSPECT_CLUSTER_NAME, dtype=object)
    if buyers.any():
        meta, clusterer = segmentation
        labels = clusterer.predict(features.reset_index(drop=True).loc[buyers])
        lookup = meta.cluster_names
        names[buyers] = [lookup.get(int(c), f"cluster {int(c)}") for c in labels]
    clusters = pd.DataFrame({"customer_id": features["customer_id"].to_numpy(), "cluster_name": names})
    return segments, clusters
