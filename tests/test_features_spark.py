"""The same catalogue on Spark (local mode) gives the same values as on DuckDB.

Skips without Java/PySpark; fails instead under CUSTML_REQUIRE_EXTERNAL (CI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from spark_fixtures import spark  # noqa: F401  (fixture)
from test_features import CUTOFF, world  # noqa: F401  (fixture)

from custml.features import FEATURE_CATALOGUE, build_features

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _random_tables(n_customers: int = 150, seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"r{i:04d}" for i in range(n_customers)])
    n = n_customers * 8
    start = CUTOFF - pd.Timedelta(days=800)
    ts = start + pd.to_timedelta(rng.integers(0, 900 * 86_400, n), unit="s")
    refund = rng.random(n) < 0.08
    net = np.round(rng.gamma(2.0, 25.0, n), 2) * np.where(refund, -1, 1)
    orders = pd.DataFrame(
        {
            "order_id": [f"x{i}" for i in range(n)],
            "customer_id": rng.choice(ids, n),
            "order_ts": ts,
            "channel": rng.choice(["web", "app", "store", "marketplace"], n),
            "n_items": rng.integers(1, 5, n),
            "gross_amount": np.where(refund, net, net * 1.1),
            "discount_amount": np.where(refund, 0.0, net * 0.1),
            "net_amount": net,
            "category": rng.choice(["books", "music", "toys", None], n),
            "is_refund": refund,
        }
    )
    m = n_customers * 6
    kind = rng.choice(
        ["support_ticket", "complaint", "survey", "email_sent", "email_open", "email_click", "app_session"], m
    )
    ticketish = np.isin(kind, ["support_ticket", "complaint"])
    interactions = pd.DataFrame(
        {
            "interaction_id": [f"y{i}" for i in range(m)],
            "customer_id": rng.choice(ids, m),
            "ts": start + pd.to_timedelta(rng.integers(0, 900 * 86_400, m), unit="s"),
            "kind": kind,
            "score": np.where(kind == "survey", rng.integers(1, 6, m), np.nan),
            "resolved": pd.array(np.where(ticketish, rng.random(m) < 0.7, None), dtype="boolean"),
            "resolution_hours": np.where(ticketish, rng.gamma(2.0, 30.0, m), np.nan),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": start + pd.to_timedelta(rng.integers(-100, 900, n_customers), unit="D"),
            "age_band": rng.choice(["<25", "25-34", "35-44", None], n_customers),
            "region": rng.choice(["north", "south"], n_customers),
            "acquisition_channel": rng.choice(["organic", "social"], n_customers),
            "loyalty_member": rng.random(n_customers) < 0.4,
        }
    )
    return {"orders": orders, "interactions": interactions, "customers": customers}


def test_spark_gives_the_same_features_as_duckdb(spark, world) -> None:  # noqa: F811
    rnd = _random_tables()
    tables = {name: pd.concat([world[name], rnd[name]], ignore_index=True) for name in world}
    tables["interactions"]["resolved"] = tables["interactions"]["resolved"].astype("boolean")
    duck = build_features(tables, CUTOFF)
    on_spark = build_features(tables, CUTOFF, engine="spark", spark=spark)
    assert len(duck) > 100 and list(duck.columns) == [
        "customer_id",
        "cutoff",
        *(s.name for s in FEATURE_CATALOGUE),
    ]
    pd.testing.assert_frame_equal(duck, on_spark, check_exact=False, rtol=1e-9, atol=1e-9)
