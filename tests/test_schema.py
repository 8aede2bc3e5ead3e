"""The data contract: structure checks fail fast with the table and column named; row rules return masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custml.errors import SchemaError
from custml.schema import CAMPAIGNS, CONTRACT, CUSTOMERS, INTERACTIONS, ORDERS, contract_markdown


def _orders(**overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": ["a", "a", "b"],
            "order_ts": pd.to_datetime(["2024-01-01 10:00", "2024-02-01 11:00", "2024-03-01 12:00"]),
            "net_amount": [10.0, 20.0, 30.0],
            "n_items": [1, 2, 3],
            "channel": ["web", "app", "store"],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def test_valid_table_passes() -> None:
    ORDERS.check(_orders())


def test_missing_required_column_names_table_and_column() -> None:
    with pytest.raises(SchemaError, match=r"orders: column 'net_amount' required column is missing") as info:
        ORDERS.check(_orders().drop(columns="net_amount"))
    assert info.value.table == "orders" and info.value.column == "net_amount"


def test_optional_columns_may_be_absent() -> None:
    ORDERS.check(_orders().drop(columns=["n_items", "channel"]))


def test_empty_table_is_an_error() -> None:
    with pytest.raises(SchemaError, match="orders: table is empty"):
        ORDERS.check(_orders().iloc[:0])


def test_wrong_dtype_is_named() -> None:
    with pytest.raises(SchemaError, match=r"column 'net_amount' has dtype .* expected float \(3 rows\)"):
        ORDERS.check(_orders(net_amount=["10", "x", "3"]))


def test_text_timestamps_accepted_only_for_raw_input() -> None:
    df = _orders(order_ts=["2024-01-01 10:00:00", "bad", "2024-03-01 12:00:00"])
    ORDERS.check_structure(df, raw=True)
    with pytest.raises(SchemaError, match="order_ts"):
        ORDERS.check_structure(df)


def test_row_violations_give_masks_and_counts() -> None:
    df = _orders(channel=["web", "fax", None], n_items=[1, -2, 3])
    df.loc[2, "order_id"] = "o1"
    found = {(v.column, v.reason): v for v in ORDERS.row_violations(df)}
    assert set(found) == {("channel", "not_allowed"), ("n_items", "below_min"), ("order_id", "duplicate_key")}
    np.testing.assert_array_equal(found[("channel", "not_allowed")].mask, [False, True, False])
    np.testing.assert_array_equal(found[("order_id", "duplicate_key")].mask, [False, False, True])
    err = found[("n_items", "below_min")].to_error()
    assert str(err) == "orders: column 'n_items' is below 0 (1 rows)"


def test_null_in_required_column_is_a_violation() -> None:
    df = _orders(customer_id=["a", None, "b"])
    with pytest.raises(SchemaError, match=r"orders: column 'customer_id' is null but required \(1 rows\)"):
        ORDERS.check(df)


def test_composite_key_duplicates() -> None:
    df = pd.DataFrame(
        {
            "campaign_id": ["c", "c", "c"],
            "customer_id": ["a", "b", "a"],
            "sent_ts": pd.to_datetime(["2025-07-01"] * 3),
            "arm": ["offer", "control", "offer"],
            "offer_cost": [5.0, 0.0, 5.0],
        }
    )
    (v,) = CAMPAIGNS.row_violations(df)
    assert v.reason == "duplicate_key" and v.column == "campaign_id+customer_id" and v.n_rows == 1


def test_interaction_score_range() -> None:
    df = pd.DataFrame(
        {
            "interaction_id": ["i1", "i2"],
            "customer_id": ["a", "a"],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "kind": ["survey", "survey"],
            "score": [5.0, 7.0],
        }
    )
    (v,) = INTERACTIONS.row_violations(df)
    assert (v.column, v.reason, v.n_rows) == ("score", "above_max", 1)


def test_pii_columns_are_declared() -> None:
    assert set(CUSTOMERS.pii_columns()) == {"name", "email", "phone", "address", "birth_date"}
    assert CUSTOMERS.pii_columns("key") == ["customer_id"]
    assert all(t.pii_columns() == [] for name, t in CONTRACT.items() if name != "customers")


def test_committed_contract_doc_matches_code() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"
    text = doc.read_text(encoding="utf-8")
    assert contract_markdown() in text, "docs/data-contract.md is stale: run `python -m custml.docs`"
