"""Customer segmentation: rule-based RFM segments, tiers, lifecycle stages and tags, and data-driven clusters.

Plot functions live in :mod:`custml.segment.plots` (imported on demand so that matplotlib is not loaded by
``import custml.segment``).
"""

from custml.segment.cluster import (
    DEFAULT_CLUSTER_FEATURES,
    CustomerClusterer,
    SkewTransformer,
    bootstrap_stability,
    select_k,
)
from custml.segment.profiles import cluster_profiles, name_clusters, standardised_medians
from custml.segment.rules import (
    DEFAULT_RFM_SEGMENTS,
    DEFAULT_TAG_RULES,
    LIFECYCLE_STAGES,
    ActivityParams,
    Condition,
    LifecycleParams,
    RfmParams,
    RfmSegmentRule,
    SegmentParams,
    TagCondition,
    TagRule,
    ValueTierParams,
    activity_tiers,
    assign_segments,
    cadence_ratio,
    customer_tags,
    lifecycle_stages,
    rfm_grid_frame,
    rfm_scores,
    rfm_segments,
    segment_rules_frame,
    value_tiers,
)
from custml.segment.segmentation import (
    ClusterParams,
    SegmentationResult,
    SegmentationRunParams,
    segment_customers,
)

__all__ = [
    "DEFAULT_CLUSTER_FEATURES",
    "DEFAULT_RFM_SEGMENTS",
    "DEFAULT_TAG_RULES",
    "LIFECYCLE_STAGES",
    "ActivityParams",
    "ClusterParams",
    "CustomerClusterer",
    "LifecycleParams",
    "RfmParams",
    "RfmSegmentRule",
    "SegmentParams",
    "SegmentationResult",
    "SegmentationRunParams",
    "SkewTransformer",
    "Condition",
    "TagCondition",
    "TagRule",
    "ValueTierParams",
    "activity_tiers",
    "assign_segments",
    "bootstrap_stability",
    "cadence_ratio",
    "cluster_profiles",
    "customer_tags",
    "lifecycle_stages",
    "name_clusters",
    "rfm_grid_frame",
    "rfm_scores",
    "rfm_segments",
    "segment_customers",
    "segment_rules_frame",
    "select_k",
    "standardised_medians",
    "value_tiers",
]
