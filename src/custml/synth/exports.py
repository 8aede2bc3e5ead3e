"""A generated world written the way a marketplace exports it: five related CSV files in the public Brazilian
e-commerce (Olist) schema, for the multi-file source mapping (tests, notebook 08, the README).

The files are ``olist_customers_dataset.csv`` (``customer_id`` is one per order, ``customer_unique_id`` is the
person), ``olist_orders_dataset.csv`` (a status and five timestamps), ``olist_order_items_dataset.csv`` (price
and freight per item), ``olist_order_payments_dataset.csv`` (vouchers split a payment) and
``olist_order_reviews_dataset.csv`` (a 1-5 score per review, from the world's surveys).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from custml.synth.world import World

__all__ = ["MARKETPLACE_FILES", "MARKETPLACE_STATUSES", "write_marketplace_export"]

MARKETPLACE_FILES = {
    "customers": "olist_customers_dataset.csv",
    "orders": "olist_orders_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "reviews": "olist_order_reviews_dataset.csv",
}
# status and its share of orders, as in the public export (canceled and unavailable orders were never paid out)
MARKETPLACE_STATUSES = {
    "delivered": 0.955,
    "shipped": 0.015,
    "canceled": 0.012,
    "unavailable": 0.008,
    "invoiced": 0.005,
    "processing": 0.005,
}
_FORMAT = "%Y-%m-%d %H:%M:%S"
_COMMENTS = (
    "",
    "",
    "",
    "Recebi bem antes do prazo, recomendo",
    'Produto "ok", mas a entrega, atrasou',
    "Ótimo",
)


def _hex(prefix: str, values: pd.Series) -> list[str]:
    """A 32-hex id per value, stable across runs (the export's ids look like md5 digests)."""
    return [hashlib.md5(f"{prefix}:{v}".encode()).hexdigest() for v in values.astype("str")]


def _split_cents(total: np.ndarray, parts: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Each total (in cents) split into ``parts`` positive-or-zero integer pieces that add up exactly."""
    out = []
    for cents, k in zip(total, parts, strict=True):
        weights = rng.dirichlet(np.ones(int(k)))
        pieces = np.floor(weights * cents).astype(np.int64)
        pieces[0] += int(cents) - int(pieces.sum())
        out.append(pieces)
    return out


def _stamp(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime(_FORMAT).where(ts.notna(), "")


def write_marketplace_export(world: World, folder: Path | str, seed: int = 0) -> dict[str, Path]:
    """Write ``world``'s orders, customers and surveys as the five CSV files of a marketplace export.

    Orders are the world's purchases (refund rows and rows without a customer, a timestamp or a positive amount
    are left out: the export has no refunds). Each order gets a status drawn from
    :data:`MARKETPLACE_STATUSES`, one ``customer_id`` of its own, its items (price + freight add up to the
    order's net amount) and one or two payments (a voucher splits some) that add up to the same amount to the
    cent. A survey with a score becomes a review of the customer's latest order before it.

    Returns the paths written, keyed ``customers``, ``orders``, ``items``, ``payments``, ``reviews``.
    """
    rng = np.random.default_rng(seed)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    o = _exported_orders(world.orders)
    ts = pd.to_datetime(o["order_ts"]).dt.floor("s")
    order_id = _hex("order", o["order_id"])
    per_order_customer = _hex("buyer", o["order_id"])
    orders = _orders_table(ts, order_id, per_order_customer, rng)
    customers = _customers_table(world, o, per_order_customer, rng, seed)
    cents = np.round(o["net_amount"].to_numpy(dtype="float64") * 100).astype(np.int64)
    items = _items_table(o, order_id, ts, cents, rng)
    payments = _payments_table(order_id, cents, rng)
    reviews = _reviews(world, o, order_id, ts, rng)
    frames = {
        "customers": customers,
        "orders": orders,
        "items": items,
        "payments": payments,
        "reviews": reviews,
    }
    paths = {}
    for name, frame in frames.items():
        paths[name] = out / MARKETPLACE_FILES[name]
        frame.to_csv(paths[name], index=False)
    return paths


def _exported_orders(o: pd.DataFrame) -> pd.DataFrame:
    """The purchases an export holds (no refunds; a customer, a timestamp and a positive amount), in time order."""
    ok = o["customer_id"].notna() & o["order_ts"].notna() & (o["net_amount"] > 0)
    if "is_refund" in o:
        ok &= ~o["is_refund"].fillna(False).astype(bool)
    return o[ok].drop_duplicates("order_id").sort_values("order_ts", kind="stable").reset_index(drop=True)


def _orders_table(
    ts: pd.Series, order_id: list[str], per_order_customer: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """``olist_orders_dataset``: a status per order and its five timestamps (none for orders never sent)."""
    n = len(ts)
    statuses = rng.choice(list(MARKETPLACE_STATUSES), size=n, p=list(MARKETPLACE_STATUSES.values()))
    approved = ts + pd.to_timedelta(rng.integers(5, 600, n), unit="m")
    carrier = approved + pd.to_timedelta(rng.integers(1, 4, n), unit="D")
    delivered = carrier + pd.to_timedelta(rng.integers(2, 20, n), unit="D")
    estimated = (ts + pd.to_timedelta(rng.integers(15, 30, n), unit="D")).dt.normalize()
    not_sent = np.isin(statuses, ["canceled", "unavailable", "invoiced", "processing"])
    return pd.DataFrame(
        {
            "order_id": order_id,
            "customer_id": per_order_customer,
            "order_status": statuses,
            "order_purchase_timestamp": _stamp(ts),
            "order_approved_at": _stamp(approved),
            "order_delivered_carrier_date": _stamp(carrier.where(~not_sent)),
            "order_delivered_customer_date": _stamp(delivered.where(~not_sent & (statuses != "shipped"))),
            "order_estimated_delivery_date": _stamp(estimated),
        }
    )


def _customers_table(
    world: World, o: pd.DataFrame, per_order_customer: list[str], rng: np.random.Generator, seed: int
) -> pd.DataFrame:
    """``olist_customers_dataset``: one customer id per order, the person behind it, a zip code, city and state."""
    n = len(o)
    person = _hex("person", o["customer_id"])
    customers_src = world.customers.drop_duplicates("customer_id").set_index("customer_id")
    city = (
        o["customer_id"].map(customers_src["city"])
        if "city" in customers_src
        else pd.Series("", index=o.index)
    )
    state = o["customer_id"].map(customers_src["region"]) if "region" in customers_src else city
    return pd.DataFrame(
        {
            "customer_id": per_order_customer,
            "customer_unique_id": person,
            "customer_zip_code_prefix": [f"{z:05d}" for z in rng.integers(1000, 99999, n)],
            "customer_city": city.fillna("").astype("str").str.lower().to_numpy(),
            "customer_state": state.fillna("").astype("str").to_numpy(),
        }
    ).sample(frac=1.0, random_state=seed)  # the export is not in order order


def _items_table(
    o: pd.DataFrame, order_id: list[str], ts: pd.Series, cents: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """``olist_order_items_dataset``: 1-4 items per order whose price and freight add up to its amount."""
    n = len(o)
    n_items = (
        np.clip(o["n_items"].fillna(1).to_numpy(dtype="int64"), 1, 4) if "n_items" in o else np.ones(n, int)
    )
    item_cents = _split_cents(cents, n_items, rng)
    category = (
        o["category"].fillna("other").astype("str") if "category" in o else pd.Series("other", index=o.index)
    )
    item_rows = []
    for i, pieces in enumerate(item_cents):
        for j, piece in enumerate(pieces, start=1):
            freight = int(piece * rng.uniform(0.05, 0.25))
            item_rows.append(
                (
                    order_id[i],
                    j,
                    f"{category.iloc[i]}-{rng.integers(1, 40)}",
                    int(rng.integers(1, 25)),
                    piece - freight,
                    freight,
                    ts.iloc[i],
                )
            )
    items = pd.DataFrame(
        item_rows, columns=["order_id", "order_item_id", "product", "seller", "price", "freight_value", "ts"]
    )
    items["product_id"] = _hex("product", items["product"])
    items["seller_id"] = _hex("seller", items["seller"])
    items["shipping_limit_date"] = _stamp(items["ts"] + pd.Timedelta(days=6))
    items["price"] = (items["price"] / 100).map("{:.2f}".format)
    items["freight_value"] = (items["freight_value"] / 100).map("{:.2f}".format)
    return items[
        [
            "order_id",
            "order_item_id",
            "product_id",
            "seller_id",
            "shipping_limit_date",
            "price",
            "freight_value",
        ]
    ]


def _payments_table(order_id: list[str], cents: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """``olist_order_payments_dataset``: one payment per order, or a voucher and the rest (12 % of orders)."""
    voucher = rng.random(len(cents)) < 0.12
    pay_cents = _split_cents(cents, np.where(voucher, 2, 1), rng)
    pay_rows = []
    for i, pieces in enumerate(pay_cents):
        for seq, piece in enumerate(pieces, start=1):
            kind = (
                "voucher"
                if voucher[i] and seq == 1
                else str(rng.choice(["credit_card", "boleto", "debit_card"]))
            )
            installments = int(rng.integers(1, 10)) if kind == "credit_card" else 1
            pay_rows.append((order_id[i], seq, kind, installments, f"{piece / 100:.2f}"))
    return pd.DataFrame(
        pay_rows,
        columns=["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
    )


def _reviews(
    world: World, orders: pd.DataFrame, order_id: list[str], ts: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Each scored survey as a review of the customer's latest order placed before it."""
    inter = world.interactions
    surveys = inter[(inter["kind"] == "survey") & inter["score"].notna() & inter["customer_id"].notna()]
    surveys = surveys.assign(ts=pd.to_datetime(surveys["ts"])).sort_values("ts", kind="stable")
    placed = pd.DataFrame(
        {"customer_id": orders["customer_id"].astype("str"), "order_ts": ts, "order_id": order_id}
    ).sort_values("order_ts", kind="stable")
    matched = pd.merge_asof(
        surveys.assign(customer_id=surveys["customer_id"].astype("str")),
        placed,
        left_on="ts",
        right_on="order_ts",
        by="customer_id",
        direction="backward",
    ).dropna(subset=["order_id"])
    created = matched["ts"].dt.normalize()
    answered = matched["ts"] + pd.to_timedelta(rng.integers(60, 5 * 86400, len(matched)), unit="s")
    return pd.DataFrame(
        {
            "review_id": _hex("review", matched["interaction_id"]),
            "order_id": matched["order_id"].to_numpy(),
            "review_score": matched["score"].round().astype("int64").to_numpy(),
            "review_comment_title": "",
            "review_comment_message": rng.choice(_COMMENTS, len(matched)),
            "review_creation_date": _stamp(created).to_numpy(),
            "review_answer_timestamp": _stamp(answered).to_numpy(),
        }
    )
