"""The shape of a catalogue entry (:class:`FeatureSpec`), the windows and sources the definitions use, and the
two helpers that write a numeric or a categorical definition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DAY_COUNT",
    "FEATURE_GROUPS",
    "NOT_REFUND",
    "PERIOD_DAYS",
    "RECENT_DAYS",
    "SLOPE_PERIODS",
    "WINDOWS",
    "Family",
    "FeatureSpec",
    "Source",
]

#: Windows (days) of the window features.
WINDOWS: tuple[int, ...] = (30, 90, 180, 365)
#: Monthly spend slope: number of 30-day periods before the cutoff that the slope is fitted on.
SLOPE_PERIODS = 12
PERIOD_DAYS = 30
#: Rows of the ``recent_orders`` source: order rows at most this many days before the cutoff.
RECENT_DAYS = 180


Source = Literal[
    "orders",
    "recent_orders",
    "purchase_days",
    "categories",
    "service_events",
    "engagement_events",
    "customers",
]

#: Feature groups in catalogue (and output column) order, with a one-line description for the docs.
FEATURE_GROUPS: dict[str, str] = {
    "rfm": "Recency, frequency, monetary value and tenure.",
    "window": "Activity in the last 30, 90, 180 and 365 days.",
    "trend": "Is the customer speeding up or slowing down?",
    "mix": "What and where the customer buys.",
    "service": "Support tickets, complaints, satisfaction, e-mail engagement and app use.",
    "profile": "Coarse profile attributes (no direct personal data).",
    "btyd": "Inputs of buy-till-you-die models (BG/NBD, Pareto/NBD, Gamma-Gamma), in days.",
}


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the catalogue.

    Parameters
    ----------
    name : str
        Output column name.
    group : str
        One of :data:`FEATURE_GROUPS`.
    description : str
        One line in plain words (used in docs and model explanations).
    window_days : int or None
        Look-back window in days, or None for all history before the cutoff.
    dtype : {"numeric", "categorical"}
        Numeric features are float64; categorical ones pandas ``category``.
    reason_high, reason_low : str
        Plain-word reason when the feature pushes a prediction up because it is high (low); ``{value}`` is
        replaced by the customer's value, e.g. ``"no order for {value:.1f}x the usual gap"``.
    sql : str
        Aggregate expression (DuckDB dialect) over the rows of ``source``, grouped by customer.
    source : str
        Which staged rows ``sql`` aggregates (each has ``customer_id``; times are ``age`` in days before the
        cutoff): ``orders`` (order and refund rows: ``net``, ``is_refund``, ``n_items``, ``gross``, ``discount``,
        ``category``, ``channel``), ``recent_orders`` (the same, ``age <= 180``), ``purchase_days`` (one row per
        non-refund order in day order: ``pday`` (UTC day number), ``net``, ``age``, ``gap`` in days to the previous
        order (null for the first, 0 on the same day) and ``first_pday``),
        ``categories`` (orders ``n`` per customer and ``category``), ``service_events`` (interactions of kind
        support_ticket, complaint or survey: ``kind``, ``score``, ``resolved``, ``resolution_hours``),
        ``engagement_events`` (e-mail and app-session interactions, ``age <= 365``) or ``customers``
        (``signup_age`` and the profile columns). Narrow sources keep each aggregation small.
    requires : tuple of str
        ``"table.column"`` inputs; when one is absent the feature is left out of the output (never an error).
    fill : float or None
        Value for customers with no rows in ``source`` (0 for counts and sums, None otherwise).
    grows_with_time : bool
        The feature is the time from a one-off event (first order, sign-up) to the cutoff: it grows with the
        age of the data by construction, so drift checks compare it relative to the days of history at the
        cutoff (:mod:`custml.scoring.drift`). "Days since the last X" features are not: each new X resets them.
    """

    name: str
    group: str
    description: str
    window_days: int | None
    dtype: Literal["numeric", "categorical"]
    reason_high: str
    reason_low: str
    sql: str
    source: Source
    requires: tuple[str, ...] = ()
    fill: float | None = None
    grows_with_time: bool = False


@dataclass(frozen=True)
class Family:
    """A feature group of :data:`FEATURE_GROUPS`: writes the definitions of its features."""

    group: str

    def numeric(
        self,
        name: str,
        description: str,
        sql: str,
        source: Source,
        *,
        high: str,
        low: str,
        window: int | None = None,
        requires: tuple[str, ...] = (),
        fill: float | None = None,
        grows_with_time: bool = False,
    ) -> FeatureSpec:
        """A numeric feature of this group (``high``/``low``: the reason-code wordings)."""
        return FeatureSpec(
            name,
            self.group,
            description,
            window,
            "numeric",
            high,
            low,
            sql,
            source,
            requires,
            fill,
            grows_with_time,
        )

    def categorical(self, name: str, description: str, sql: str, requires: tuple[str, ...]) -> FeatureSpec:
        """A categorical profile attribute of this group; its reason reads ``"<name>: <value>"``."""
        label = name.replace("_", " ")
        return FeatureSpec(
            name,
            self.group,
            description,
            None,
            "categorical",
            f"{label}: {{value}}",
            f"{label}: {{value}}",
            sql,
            "customers",
            requires,
            None,
        )


#: The filter of order rows (refund rows are not orders).
NOT_REFUND = "NOT is_refund"
#: Rows of `purchase_days` are orders sorted by day; a new purchase day starts where the gap is null or > 0.
DAY_COUNT = "count(*) FILTER (WHERE gap IS NULL OR gap > 0)"
