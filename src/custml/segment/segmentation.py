"""One call that produces everything the segment stage delivers: rule-based labels, clusters and profiles.

The segment step (:mod:`custml.pipeline.steps`, ``custml segment``) and experiments call it; pure (no files,
no MLflow).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pydantic import ConfigDict, Field

from custml.segment.cluster import CustomerClusterer, bootstrap_stability
from custml.segment.profiles import cluster_profiles, name_clusters
from custml.segment.rules import SegmentParams, assign_segments, has_orders
from custml.settings import Settings
from custml.types import JSONObject

__all__ = ["ClusterParams", "SegmentationResult", "SegmentationRunParams", "segment_customers"]

logger = logging.getLogger(__name__)

PROSPECT_CLUSTER = -1
PROSPECT_CLUSTER_NAME = "prospects (no orders)"


class ClusterParams(Settings):
    """Parameters of the clustering step (the fields of :class:`CustomerClusterer` plus stability)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    method: Literal["kmeans", "gmm"] = "kmeans"
    features: tuple[str, ...] | None = None
    n_clusters: int | None = Field(None, ge=1)
    k_range: tuple[int, int] = (4, 8)
    selection_metric: Literal["silhouette", "calinski_harabasz", "davies_bouldin", "bic"] | None = None
    skew_threshold: float = 1.0
    selection_sample_size: int | None = 20_000
    fit_sample_size: int | None = 200_000
    silhouette_sample_size: int = 5_000
    n_init: int = Field(4, ge=1)
    random_state: int | None = 0
    # One thread by default: selection and fit run on samples (seconds single-threaded), and on a busy machine
    # OpenMP oversubscription made the 1M-customer fit 8x slower (42 s vs 5 s, benchmarks/bench_segment.py).
    n_threads: int | None = Field(1, ge=1)
    stability_boots: int = Field(5, ge=0)
    stability_sample_size: int = 20_000

    def clusterer(self) -> CustomerClusterer:
        """An unfitted :class:`CustomerClusterer` with these parameters."""
        return CustomerClusterer(
            method=self.method,
            features=list(self.features) if self.features is not None else None,
            n_clusters=self.n_clusters,
            k_range=self.k_range,
            selection_metric=self.selection_metric,
            skew_threshold=self.skew_threshold,
            selection_sample_size=self.selection_sample_size,
            fit_sample_size=self.fit_sample_size,
            silhouette_sample_size=self.silhouette_sample_size,
            n_init=self.n_init,
            random_state=self.random_state,
            n_threads=self.n_threads,
        )


class SegmentationRunParams(Settings):
    """The whole segment stage configuration: ``rules`` (see :class:`SegmentParams`) and ``cluster``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: SegmentParams = SegmentParams()
    cluster: ClusterParams = ClusterParams()


@dataclass
class SegmentationResult:
    """What :func:`segment_customers` returns."""

    segments: pd.DataFrame
    profiles: pd.DataFrame | None = None
    k_curve: pd.DataFrame | None = None
    clusterer: CustomerClusterer | None = None
    cluster_names: dict[int, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def params(self, run_params: SegmentationRunParams) -> JSONObject:
        """Flat parameters for tracking (logged to MLflow as they are)."""
        flat: JSONObject = {}
        for k, v in run_params.cluster.model_dump().items():
            flat[f"cluster.{k}"] = v
        if self.clusterer is not None:
            flat["cluster.features_used"] = list(self.clusterer.feature_names_in_)
            flat["cluster.n_clusters_chosen"] = self.clusterer.n_clusters_
        r = run_params.rules
        flat["rules.rfm.method"] = r.rfm.method
        flat["rules.value.method"] = r.value.method
        flat["rules.value.column"] = r.value.column
        flat["rules.n_tag_rules"] = len(r.tags)
        return flat


def segment_customers(
    features: pd.DataFrame,
    params: SegmentationRunParams | None = None,
    *,
    churn: ArrayLike | None = None,
) -> SegmentationResult:
    """Rule-based labels for every customer, plus clusters, profiles and names for customers with orders.

    Parameters
    ----------
    features : DataFrame
        Feature table (one row per customer, contract section 3).
    params : SegmentationRunParams, optional
    churn : array-like, optional
        Churn outcome row-aligned with ``features`` (used for the profiles' churn rate only).

    Returns
    -------
    SegmentationResult
        ``segments`` has the :func:`assign_segments` columns plus ``cluster`` (``-1`` for prospects) and
        ``cluster_name``; ``profiles`` is :func:`cluster_profiles` plus ``name``, ``churned_share`` and
        ``at_risk_share`` (shares of the cluster in those lifecycle stages); ``metrics`` has ``n_customers``, ``n_clustered``, ``k``, the chosen solution's
        silhouette / Calinski-Harabasz and the bootstrap ARI summary.
    """
    params = params or SegmentationRunParams()
    segments = assign_segments(features, params.rules)
    metrics: dict[str, float] = {"n_customers": float(len(segments))}
    if not params.cluster.enabled:
        return SegmentationResult(segments=segments, metrics=metrics)
    feats = features.reset_index(drop=True)
    buyers = has_orders(feats, params.rules.rfm).to_numpy()
    X = feats.loc[buyers]
    metrics["n_clustered"] = float(len(X))
    segments["cluster"] = PROSPECT_CLUSTER
    segments["cluster_name"] = PROSPECT_CLUSTER_NAME
    if len(X) < 3:
        logger.warning("features: only %d customers with orders; clustering skipped", len(X))
        return SegmentationResult(segments=segments, metrics=metrics)
    clusterer = params.cluster.clusterer().fit(X)
    labels = clusterer.labels_
    churn_buyers = None if churn is None else np.asarray(churn, dtype=float)[buyers]
    profiles = cluster_profiles(X, labels, churn_buyers)
    names = name_clusters(profiles)
    profiles.insert(0, "name", [names[int(c)] for c in profiles.index])
    # What the rules say about each cluster: share of customers the lifecycle rules call churned / at risk.
    stage = segments.loc[buyers, "lifecycle_stage"].to_numpy()
    for label, column in (("churned", "churned_share"), ("at risk", "at_risk_share")):
        profiles[column] = pd.Series(stage == label).groupby(labels).mean().reindex(profiles.index).to_numpy()
    segments.loc[buyers, "cluster"] = labels
    segments.loc[buyers, "cluster_name"] = [names[int(c)] for c in labels]
    metrics["k"] = float(clusterer.n_clusters_)
    if clusterer.k_curve_ is not None:
        chosen = clusterer.k_curve_.loc[clusterer.k_curve_["chosen"]].iloc[0]
        for key in ("silhouette", "calinski_harabasz", "davies_bouldin", "bic"):
            if key in chosen.index and pd.notna(chosen[key]):
                metrics[key] = float(chosen[key])
    if params.cluster.stability_boots > 0:
        stab = bootstrap_stability(
            clusterer,
            X,
            n_boot=params.cluster.stability_boots,
            sample_size=params.cluster.stability_sample_size,
            eval_size=params.cluster.stability_sample_size,
            random_state=params.cluster.random_state,
        )
        metrics.update({f"stability_{k}": v for k, v in stab.items() if k != "aris" and k != "n_boot"})
    return SegmentationResult(
        segments=segments,
        profiles=profiles,
        k_curve=clusterer.k_curve_,
        clusterer=clusterer,
        cluster_names=names,
        metrics=metrics,
    )
