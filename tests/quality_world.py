"""A tiny hand-built raw world following the data contract (contracts.md section 1), for the quality tests."""

from __future__ import annotations

import pandas as pd

AS_OF = pd.Timestamp("2025-12-31 23:59:59")
KEY = b"test-key-0123456789abcdef"


def raw_world() -> dict[str, pd.DataFrame]:
    """Five customer records (c1/c4 are one person, c2/c5 are one person), orders, interactions, campaigns.

    Timestamps are ISO text as in a dirty world; every row is valid.
    """
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "signup_date": ["2023-02-01", "2023-03-15", "2024-01-10", "2024-06-01", "2023-01-20"],
            "name": ["Anna Smith", "Bo Chen", "Carla Diaz", "ANNA  SMYTH", "bo chen"],
            "email": [
                "anna.smith@gmail.com",
                "bo@chen.org",
                "carla@diaz.net",
                "Anna.Smith+shop@gmail.com",
                None,
            ],
            "phone": ["(415) 555-2671", "212-555-0199", None, "+1 415 555 2671", "212.555.0199"],
            "address": ["1 Main St", "9 Elm Rd", "3 Oak Ave", "1 Main St", "9 Elm Road"],
            "city": ["San Francisco", "New York", "Austin", "San Francisco", "New York"],
            "region": ["CA", "NY", "TX", "CA", "NY"],
            "country": ["US", "US", "US", "US", "US"],
            "birth_date": ["1985-04-12", "1990-11-30", "1970-01-05", "1985-04-12", "1990-11-30"],
            "gender": ["female", "male", "female", "female", "male"],
            "acquisition_channel": ["organic", "paid_search", "social", "referral", "store"],
            "loyalty_member": [True, False, True, False, True],
            "marketing_consent": [True, True, False, False, True],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7"],
            "customer_id": ["c1", "c1", "c2", "c3", "c4", "c5", "c1"],
            "order_ts": [
                "2024-01-05 10:00:00",
                "2024-02-05 11:30:00",
                "2024-03-01 09:15:00",
                "2024-04-01 12:00:00",
                "2024-07-01 08:00:00",
                "2024-08-01 18:45:00",
                "2024-02-10 10:00:00",
            ],
            "channel": ["web", "app", "store", "web", "marketplace", "app", "app"],
            "n_items": [1, 2, 3, 1, 4, 2, 1],
            "gross_amount": [25.0, 50.0, 80.0, 15.0, 120.0, 40.0, -50.0],
            "discount_amount": [0.0, 5.0, 0.0, 0.0, 20.0, 0.0, 0.0],
            "net_amount": [25.0, 45.0, 80.0, 15.0, 100.0, 40.0, -45.0],
            "category": ["books", "toys", "home", "books", "garden", "toys", "toys"],
            "is_refund": [False, False, False, False, False, False, True],
            "refund_of_order_id": [None, None, None, None, None, None, "o2"],
        }
    )
    interactions = pd.DataFrame(
        {
            "interaction_id": ["i1", "i2", "i3", "i4"],
            "customer_id": ["c1", "c2", "c4", "c5"],
            "ts": [
                "2024-01-06 10:00:00",
                "2024-03-02 10:00:00",
                "2024-07-02 10:00:00",
                "2024-08-02 10:00:00",
            ],
            "kind": ["support_ticket", "survey", "email_open", "complaint"],
            "score": [None, 4.0, None, None],
            "resolved": [True, None, None, False],
            "resolution_hours": [5.0, None, None, None],
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["k1", "k1", "k1"],
            "customer_id": ["c1", "c2", "c3"],
            "sent_ts": ["2025-03-01 09:00:00"] * 3,
            "arm": ["offer", "control", "offer"],
            "offer_cost": [10.0, 0.0, 10.0],
        }
    )
    return {"customers": customers, "orders": orders, "interactions": interactions, "campaigns": campaigns}
