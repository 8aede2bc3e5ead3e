"""Activity in the last 30, 90, 180 and 365 days."""

from __future__ import annotations

from custml.features.spec import NOT_REFUND, RECENT_DAYS, WINDOWS, Family, FeatureSpec, Source

__all__ = ["FEATURES"]

_WINDOW = Family("window")


def _window_features() -> list[FeatureSpec]:
    """Orders, revenue, items, discount share and refunds in each window of :data:`WINDOWS`."""
    out: list[FeatureSpec] = []
    for w in WINDOWS:
        win = f"age <= {w}"
        # Windows up to RECENT_DAYS aggregate the (smaller) recent rows; longer ones all order rows.
        src: Source = "recent_orders" if w <= RECENT_DAYS else "orders"
        out += [
            _WINDOW.numeric(
                f"orders_{w}d",
                f"Orders in the last {w} days (refunds excluded).",
                f"count(*) FILTER (WHERE {NOT_REFUND} AND {win})",
                src,
                high=f"{{value:.0f}} orders in the last {w} days",
                low=f"only {{value:.0f}} orders in the last {w} days",
                window=w,
                fill=0.0,
            ),
            _WINDOW.numeric(
                f"revenue_{w}d",
                f"Net revenue in the last {w} days (orders minus refunds).",
                f"sum(net) FILTER (WHERE {win})",
                src,
                high=f"spent {{value:,.0f}} in the last {w} days",
                low=f"spent only {{value:,.0f}} in the last {w} days",
                window=w,
                fill=0.0,
            ),
            _WINDOW.numeric(
                f"items_{w}d",
                f"Items bought in the last {w} days.",
                f"sum(n_items) FILTER (WHERE {NOT_REFUND} AND {win})",
                src,
                high=f"bought {{value:.0f}} items in the last {w} days",
                low=f"bought only {{value:.0f}} items in the last {w} days",
                window=w,
                requires=("orders.n_items",),
                fill=0.0,
            ),
            _WINDOW.numeric(
                f"discount_share_{w}d",
                f"Discount as a share of gross amount of the orders of the last {w} days (null without orders).",
                f"sum(discount) FILTER (WHERE {NOT_REFUND} AND {win}) "
                f"/ nullif(sum(gross) FILTER (WHERE {NOT_REFUND} AND {win}), 0)",
                src,
                high=f"{{value:.0%}} of the last {w} days' spend was discounted",
                low=f"little discount use in the last {w} days ({{value:.0%}})",
                window=w,
                requires=("orders.gross_amount", "orders.discount_amount"),
            ),
            _WINDOW.numeric(
                f"refunds_{w}d",
                f"Refunds and returns in the last {w} days.",
                f"count(*) FILTER (WHERE is_refund AND {win})",
                src,
                high=f"{{value:.0f}} refunds or returns in the last {w} days",
                low=f"{{value:.0f}} refunds or returns in the last {w} days",
                window=w,
                requires=("orders.is_refund",),
                fill=0.0,
            ),
        ]
    return out


FEATURES: tuple[FeatureSpec, ...] = tuple(_window_features())
