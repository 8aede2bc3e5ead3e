"""Step ``segment``: segments and clusters -> ``data/processed/segments_<as_of>.parquet`` and the saved clusterer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custml.config import ProjectPaths
from custml.contracts import SegmentationBundle
from custml.errors import DataFileError
from custml.io import atomic_write, read_table, write_table
from custml.pipeline._wiring import as_day, configure_tracking, project_paths, stamp
from custml.pipeline.features import run_features

if TYPE_CHECKING:
    from custml.segment.cluster import CustomerClusterer
    from custml.segment.segmentation import SegmentationResult, SegmentationRunParams

__all__ = ["SavedSegmentation", "load_segmentation", "run_segment", "segments_and_clusters"]

logger = logging.getLogger(__name__)


def run_segment(
    as_of: Any,
    *,
    root: Path | str | None = None,
    features: pd.DataFrame | None = None,
    params: SegmentationRunParams | None = None,
    track: bool = True,
    out: Path | None = None,
    churn: Any = None,
) -> SegmentationResult:
    """Rule-based segments and clusters as of ``as_of``; saves the fitted clusterer for scoring.

    Writes ``out`` (default ``data/processed/segments_<as_of>.parquet``) with, when clustering, its
    ``.profiles.csv`` and ``.k_curve.csv`` side tables, and ``models/segmentation.joblib`` (the fitted
    :class:`custml.segment.CustomerClusterer`, the cluster names and the parameters); logs the run to MLflow
    when ``track``. ``churn`` (row-aligned with ``features``) adds each cluster's churn rate to the profiles.
    """
    from custml.segment.segmentation import SegmentationRunParams, segment_customers

    paths = project_paths(root)
    as_of = as_day(as_of)
    params = params or SegmentationRunParams()
    if features is None:
        path = paths.features_table(stamp(as_of))
        features = read_table(path) if path.is_file() else run_features(as_of, root=root)
    result = segment_customers(features, params, churn=churn)
    target = out or paths.segments_table(stamp(as_of))
    write_table(result.segments, target)
    if result.profiles is not None:
        profiles, curve = result.profiles, result.k_curve
        atomic_write(ProjectPaths.sidecar(target, "profiles"), lambda tmp: profiles.to_csv(tmp, index=True))
        if curve is not None:
            atomic_write(ProjectPaths.sidecar(target, "k_curve"), lambda tmp: curve.to_csv(tmp, index=False))
    if result.clusterer is not None:
        _save_segmentation(result, params, as_of, paths)
        if track and result.profiles is not None and result.k_curve is not None:
            _log_segmentation(result, params, paths)
    return result


def _save_segmentation(
    result: SegmentationResult, params: SegmentationRunParams, as_of: pd.Timestamp, paths: ProjectPaths
) -> None:
    import joblib

    meta = SegmentationBundle(
        as_of=as_of.isoformat(),
        cluster_names={int(k): str(v) for k, v in result.cluster_names.items()},
        params=params.model_dump(mode="json"),
    )
    # the metadata as the contract's JSON beside the fitted clusterer (the one object joblib must hold)
    saved = (meta.to_json(), result.clusterer)
    atomic_write(paths.segmentation, lambda tmp: joblib.dump(saved, tmp))


def _log_segmentation(result: SegmentationResult, params: SegmentationRunParams, paths: ProjectPaths) -> str:
    from custml import tracking
    from custml.config import get_paths
    from custml.errors import CustmlError

    if paths.root != get_paths().root:  # another project's store; this project's is the default
        configure_tracking(paths)
    try:
        return tracking.log_segmentation_run(
            result.params(params), result.k_curve, result.profiles, result.clusterer, result.metrics
        )
    except CustmlError:
        raise
    except Exception as exc:  # MLflow's own errors: the tables are written, say what failed
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CustmlError(f"segments written, but the MLflow run was not logged: {first}") from None


@dataclass(frozen=True)
class SavedSegmentation:
    """The segmentation the segment step saved (``models/segmentation.joblib``): the fitted clusterer, the cluster
    names, the parameters it ran with and its as-of date."""

    clusterer: CustomerClusterer
    cluster_names: dict[int, str]
    params: SegmentationRunParams
    as_of: str


def load_segmentation(paths: ProjectPaths) -> SavedSegmentation | None:
    """The fitted segmentation saved by the segment step, or None when there is none (or it cannot be read).

    Raises
    ------
    DataFileError
        If the saved metadata is of another schema version (the file, the version found and the one expected).
    """
    import joblib

    from custml.segment.segmentation import SegmentationRunParams

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
    meta = SegmentationBundle.read_json(saved[0], name=str(path))
    params = SegmentationRunParams.model_validate(meta.params)
    return SavedSegmentation(saved[1], dict(meta.cluster_names), params, meta.as_of)


def segments_and_clusters(
    features: pd.DataFrame, segmentation: SavedSegmentation | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rule-based segments of the scored population, and cluster names from the saved clusterer."""
    from custml.segment.rules import SegmentParams, assign_segments, has_orders
    from custml.segment.segmentation import PROSPECT_CLUSTER_NAME, SegmentationRunParams

    run_params = segmentation.params if segmentation else SegmentationRunParams()
    rules: SegmentParams = run_params.rules
    segments = assign_segments(features, rules)
    if segmentation is None:
        return segments, None
    buyers = has_orders(features.reset_index(drop=True), rules.rfm).to_numpy()
    names = np.full(len(features), PROSPECT_CLUSTER_NAME, dtype=object)
    if buyers.any():
        labels = segmentation.clusterer.predict(features.reset_index(drop=True).loc[buyers])
        lookup = segmentation.cluster_names
        names[buyers] = [lookup.get(int(c), f"cluster {int(c)}") for c in labels]
    clusters = pd.DataFrame({"customer_id": features["customer_id"].to_numpy(), "cluster_name": names})
    return segments, clusters
