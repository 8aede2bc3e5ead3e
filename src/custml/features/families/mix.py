"""What and where the customer buys: categories and channels."""

from __future__ import annotations

from custml.features.spec import NOT_REFUND, Family, FeatureSpec

__all__ = ["FEATURES"]

_MIX = Family("mix")

_BASKET: tuple[FeatureSpec, ...] = (
    _MIX.numeric(
        "n_categories",
        "Distinct product categories ordered.",
        "count(*)",
        "categories",
        high="buys across {value:.0f} categories",
        low="buys in only {value:.0f} categories",
        requires=("orders.category",),
        fill=0.0,
    ),
    _MIX.numeric(
        "category_entropy",
        "Entropy (nats) of the customer's orders over categories: 0 = a single category.",
        "greatest(0e0, ln(sum(n)) - sum(n * ln(n)) / sum(n))",
        "categories",
        high="varied basket (category entropy {value:.2f})",
        low="narrow basket (category entropy {value:.2f})",
        requires=("orders.category",),
    ),
    _MIX.numeric(
        "top_category_share",
        "Share of orders in the customer's most ordered category.",
        "max(n) / sum(n)",
        "categories",
        high="{value:.0%} of orders in one category",
        low="only {value:.0%} of orders in the top category",
        requires=("orders.category",),
    ),
)


def _channel_shares() -> list[FeatureSpec]:
    """Share of orders per sales channel."""
    mix: list[FeatureSpec] = []
    for ch in ("web", "app", "store", "marketplace"):
        mix.append(
            _MIX.numeric(
                f"share_channel_{ch}",
                f"Share of orders placed via {ch}.",
                f"count(*) FILTER (WHERE {NOT_REFUND} AND channel = '{ch}') "
                f"/ nullif(count(*) FILTER (WHERE {NOT_REFUND}), 0)",
                "orders",
                high=f"{{value:.0%}} of orders via {ch}",
                low=f"only {{value:.0%}} of orders via {ch}",
                requires=("orders.channel",),
            )
        )
    return mix


FEATURES: tuple[FeatureSpec, ...] = (*_BASKET, *_channel_shares())
