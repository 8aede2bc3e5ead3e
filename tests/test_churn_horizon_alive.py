"""The data-driven churn horizon (opt-in) and P(still a customer): hand-built tables, CDNOW and the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import skip_or_fail

from custml.errors import SchemaError
from custml.features.labels import horizon_from_repeat_gaps, repeat_gaps, resolve_horizon_days
from custml.scoring.alive import probability_alive


def _orders(gaps_by_customer: dict[str, list[int]]) -> pd.DataFrame:
    rows = []
    for cid, gaps in gaps_by_customer.items():
        day = pd.Timestamp("2024-01-01")
        rows.append((cid, day))
        for g in gaps:
            day = day + pd.Timedelta(days=g)
            rows.append((cid, day))
    return pd.DataFrame(rows, columns=["customer_id", "order_ts"])


def test_repeat_gaps_count_purchase_days_and_respect_the_cutoff() -> None:
    orders = _orders({"a": [10, 20], "b": [0, 5]})  # b: two orders on the first day count as one
    orders = pd.concat(
        [orders, pd.DataFrame({"customer_id": ["c"], "order_ts": [pd.Timestamp("2024-03-01")]})]
    )
    assert sorted(repeat_gaps(orders).tolist()) == [5.0, 10.0, 20.0]
    assert sorted(repeat_gaps(orders, cutoff="2024-01-20").tolist()) == [5.0, 10.0]  # a's 2nd gap ends 01-31
    refund = orders.assign(is_refund=[False, True, False, False, False, False, False])
    assert sorted(repeat_gaps(refund).tolist()) == [5.0, 30.0]  # a's middle order was a refund


def test_horizon_is_the_gap_quantile_rounded_to_a_month() -> None:
    # 100 customers: 90 gaps of 20 days, 10 of 200 -> the 0.9 quantile lies between, rounding picks the month
    gaps = {str(i): [20] for i in range(90)} | {f"x{i}": [200] for i in range(10)}
    orders = _orders(gaps)
    q = float(np.quantile([20] * 90 + [200] * 10, 0.9))
    assert horizon_from_repeat_gaps(orders, min_gaps=10) == max(1, round(q / 30)) * 30
    assert horizon_from_repeat_gaps(orders, quantile=0.95, min_gaps=10) == 210  # 200 -> 7 months
    assert (
        horizon_from_repeat_gaps(_orders({str(i): [3] for i in range(20)}), min_gaps=10) == 30
    )  # at least 1
    assert resolve_horizon_days(90, orders) == 90
    with pytest.raises(SchemaError, match="too few"):  # "auto" applies the rule (100 gaps, min 100 passes)
        resolve_horizon_days("auto", orders.head(50))
    with pytest.raises(SchemaError, match="too few"):
        horizon_from_repeat_gaps(_orders({"a": [10]}))
    with pytest.raises(ValueError, match="auto"):
        resolve_horizon_days("monthly", orders)
    with pytest.raises(ValueError, match="quantile"):
        horizon_from_repeat_gaps(orders, quantile=1.0)


def test_auto_horizon_is_reachable_from_the_train_params() -> None:
    from custml.errors import ConfigError
    from custml.models.params import TrainParams

    gaps = {str(i): [20] for i in range(90)} | {f"x{i}": [200] for i in range(10)}
    orders = _orders(gaps)
    params = TrainParams(task="churn", horizon_days="auto")
    with pytest.raises(ValueError, match="auto"):
        _ = params.horizon  # must be resolved from the data first
    end = orders["order_ts"].max() + pd.Timedelta(days=91)  # the rule reads purchases before end - 90 days
    resolved = params.with_resolved_horizon(orders, end)
    assert resolved.horizon == horizon_from_repeat_gaps(orders, min_gaps=10) == 30
    assert TrainParams(task="churn", horizon_days=120).with_resolved_horizon(orders, end).horizon == 120
    with pytest.raises((ValueError, ConfigError)):
        TrainParams(task="churn", horizon_days=0)


def test_horizon_rule_on_cdnow() -> None:
    from custml.datasets import cdnow_dir, load_cdnow_transactions

    if cdnow_dir() is None:
        skip_or_fail("CDNOW data not available")
    tx = load_cdnow_transactions()
    gaps = repeat_gaps(tx)
    horizon = horizon_from_repeat_gaps(tx)
    assert len(gaps) > 4000  # the 2,357-customer CDNOW sample
    assert abs(horizon - np.quantile(gaps, 0.9)) <= 15 and horizon % 30 == 0


def test_probability_alive_is_high_for_recent_regular_buyers_and_null_for_prospects() -> None:
    f = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "btyd_frequency": [6.0, 6.0, 0.0, np.nan, 2.0],
            "btyd_recency_days": [350.0, 60.0, 0.0, np.nan, 100.0],
            "btyd_T_days": [360.0, 360.0, 300.0, np.nan, 200.0],
        }
    )
    p = probability_alive(f)["p_alive"].to_numpy()
    assert p[0] > 0.8 and p[1] < p[0] - 0.2 and np.isnan(p[3])
    assert p[2] < p[0]  # Pareto/NBD: no repeat purchase in 300 days is a sign of having left
    with pytest.raises(SchemaError, match="btyd_T_days"):
        probability_alive(f.drop(columns=["btyd_T_days"]))


def test_probability_alive_ranks_the_truths_dropout_on_a_synthetic_world(cached_world) -> None:
    from sklearn.metrics import roc_auc_score

    from custml.features import build_features
    from custml.models.metrics import expected_calibration_error

    world = cached_world(n_customers=8000, seed=5)
    cutoff = pd.Timestamp("2025-10-01")
    feats = build_features({"orders": world.orders, "customers": world.customers}, cutoff)
    p = probability_alive(feats).set_index("customer_id")["p_alive"].dropna()
    truth = world.truth["customers"].set_index("customer_id")
    alive = ~(pd.to_datetime(truth["dropout_ts"]) <= cutoff)
    y = alive.reindex(p.index).astype(int)
    auc = roc_auc_score(y, p)
    assert auc > 0.75
    assert expected_calibration_error(y, p) < 0.2
