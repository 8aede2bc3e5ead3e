"""The feature definitions, one module per group of :data:`custml.features.spec.FEATURE_GROUPS`, as data.

:data:`FAMILIES` lists them in catalogue (and output column) order.
"""

from __future__ import annotations

from custml.features.families import btyd, mix, profile, rfm, service, trend, window
from custml.features.spec import FeatureSpec

__all__ = ["FAMILIES"]

#: Each group's features, in catalogue order.
FAMILIES: dict[str, tuple[FeatureSpec, ...]] = {
    "rfm": rfm.FEATURES,
    "window": window.FEATURES,
    "trend": trend.FEATURES,
    "mix": mix.FEATURES,
    "service": service.FEATURES,
    "profile": profile.FEATURES,
    "btyd": btyd.FEATURES,
}
