"""Coarse profile attributes (no direct personal data)."""

from __future__ import annotations

from custml.features.spec import Family, FeatureSpec

__all__ = ["FEATURES"]

_PROFILE = Family("profile")

FEATURES: tuple[FeatureSpec, ...] = (
    _PROFILE.categorical(
        "age_band",
        "Age band (e.g. 35-44); never the birth date.",
        "max(age_band)",
        ("customers.age_band",),
    ),
    _PROFILE.categorical("region", "Region (state or province).", "max(region)", ("customers.region",)),
    _PROFILE.categorical(
        "acquisition_channel",
        "How the customer was acquired.",
        "max(acquisition_channel)",
        ("customers.acquisition_channel",),
    ),
    _PROFILE.categorical(
        "loyalty_member",
        "Loyalty programme member: yes or no.",
        "max(CASE WHEN loyalty_member THEN 'yes' WHEN NOT loyalty_member THEN 'no' END)",
        ("customers.loyalty_member",),
    ),
)
