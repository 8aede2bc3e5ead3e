"""Recency, frequency, monetary value and tenure."""

from __future__ import annotations

from custml.features.spec import DAY_COUNT, NOT_REFUND, Family, FeatureSpec

__all__ = ["FEATURES"]

_RFM = Family("rfm")

FEATURES: tuple[FeatureSpec, ...] = (
    _RFM.numeric(
        "recency_days",
        "Days since the last order.",
        f"min(age) FILTER (WHERE {NOT_REFUND})",
        "orders",
        high="no order for {value:.0f} days",
        low="ordered {value:.0f} days ago",
    ),
    _RFM.numeric(
        "frequency_orders",
        "Orders before the cutoff (refunds excluded).",
        f"count(*) FILTER (WHERE {NOT_REFUND})",
        "orders",
        high="{value:.0f} orders so far",
        low="only {value:.0f} orders so far",
        fill=0.0,
    ),
    _RFM.numeric(
        "frequency_days",
        "Distinct days with an order.",
        DAY_COUNT,
        "purchase_days",
        high="bought on {value:.0f} different days",
        low="bought on only {value:.0f} different days",
        fill=0.0,
    ),
    _RFM.numeric(
        "monetary_total",
        "Net revenue before the cutoff (orders minus refunds).",
        "sum(net)",
        "orders",
        high="spent {value:,.0f} in total",
        low="spent only {value:,.0f} in total",
        fill=0.0,
    ),
    _RFM.numeric(
        "monetary_mean",
        "Mean net amount of an order (refunds excluded).",
        f"avg(net) FILTER (WHERE {NOT_REFUND})",
        "orders",
        high="large orders (average {value:,.0f})",
        low="small orders (average {value:,.0f})",
    ),
    _RFM.numeric(
        "tenure_days",
        "Days since the first order.",
        f"max(age) FILTER (WHERE {NOT_REFUND})",
        "orders",
        high="customer for {value:.0f} days",
        low="new customer (first order {value:.0f} days ago)",
        grows_with_time=True,
    ),
    _RFM.numeric(
        "days_since_signup",
        "Days since the customer record was created.",
        "min(signup_age)",
        "customers",
        high="signed up {value:.0f} days ago",
        low="signed up only {value:.0f} days ago",
        requires=("customers.signup_date",),
        grows_with_time=True,
    ),
)
