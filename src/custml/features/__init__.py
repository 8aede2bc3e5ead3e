"""Point-in-time features and labels: a documented catalogue computed as of any cutoff, on DuckDB or Spark.

The catalogue (:data:`FEATURE_CATALOGUE`) holds each feature's SQL definition, description and reason-code
wording; :func:`build_features` runs it on DuckDB (default) or Spark from that one definition. Labels
(:func:`churn_labels`, :func:`repurchase_labels`) and stacked training sets over rolling cutoffs
(:func:`build_training_set`, :func:`rolling_cutoffs`) look only at the horizon after each cutoff.
"""

from custml.features.catalogue import (
    FEATURE_CATALOGUE,
    FEATURE_GROUPS,
    FeatureSpec,
    catalogue_markdown,
    feature_catalogue_frame,
    get_feature,
    reason_text,
    time_growing_features,
)
from custml.features.engines import (
    FeatureParams,
    SparkUnavailableError,
    build_features,
    spark_session,
)
from custml.features.labels import DEFAULT_ACTIVE_DAYS, churn_labels, model_population, repurchase_labels
from custml.features.sql import available_features, feature_sql
from custml.features.training import (
    HorizonError,
    build_training_set,
    join_oracle,
    rolling_cutoffs,
    split_by_cutoff,
)

__all__ = [
    "DEFAULT_ACTIVE_DAYS",
    "FEATURE_CATALOGUE",
    "FEATURE_GROUPS",
    "FeatureParams",
    "FeatureSpec",
    "HorizonError",
    "SparkUnavailableError",
    "available_features",
    "build_features",
    "build_training_set",
    "catalogue_markdown",
    "churn_labels",
    "model_population",
    "feature_catalogue_frame",
    "feature_sql",
    "get_feature",
    "join_oracle",
    "reason_text",
    "time_growing_features",
    "repurchase_labels",
    "rolling_cutoffs",
    "spark_session",
    "split_by_cutoff",
]
