"""Realism of the default world next to the real CDNOW data: plausible retail ranges, not tuned to CDNOW."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import skip_or_fail

from custml.synth import WorldParams, generate_world
from custml.synth.realism import load_cdnow, realism_metrics, realism_table

CDNOW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cdnow" / "CDNOW_master.txt"

# plausible retail ranges for customers followed 65 weeks from their first purchase
RANGES = {
    "no_repeat_share": (0.40, 0.75),
    "share_1_order": (0.30, 0.65),
    "orders_mean": (2.0, 6.0),
    "median_gap_days": (20.0, 120.0),
    "top20_revenue_share": (0.55, 0.85),
}


def test_realism_metrics_on_a_tiny_frame():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c"],
            "order_ts": pd.to_datetime(
                ["2020-01-01", "2020-01-01", "2020-03-01", "2020-02-01", "2021-12-01"]
            ),
            "net_amount": [5.0, 5.0, 10.0, 30.0, 1.0],
        }
    )
    m = realism_metrics(tx, data_end="2021-06-30", window_weeks=65)
    assert m["customers"] == 2  # c is not followed for 65 weeks
    assert m["no_repeat_share"] == 0.5
    assert m["orders_mean"] == 1.5  # same-day purchases are one purchase day
    assert m["median_gap_days"] == 60.0
    with pytest.raises(ValueError, match="'order_ts'"):
        realism_metrics(tx.drop(columns="order_ts"))


def test_default_world_sits_in_a_plausible_retail_range(record_property):
    """The comparison table is attached to the test report and shown on failure (benchmarks/realism_cdnow.py
    prints it)."""
    if not CDNOW.is_file():
        skip_or_fail(f"CDNOW data not found at {CDNOW}")
    results = {
        "CDNOW": realism_metrics(load_cdnow(CDNOW.read_text()), data_end="1998-06-30", window_weeks=65)
    }
    # The real data's own figures (all 23,570 customers followed 65 weeks) and the ranges are checked too: the
    # ranges are meant to hold real retail, so CDNOW must sit inside every one of them.
    cd = results["CDNOW"]
    assert cd["customers"] == 23570
    assert cd["no_repeat_share"] == pytest.approx(0.5751, abs=5e-4)
    assert cd["orders_mean"] == pytest.approx(2.7386, abs=5e-4)
    assert cd["median_gap_days"] == 34.0
    assert cd["top20_revenue_share"] == pytest.approx(0.6710, abs=5e-4)
    for locale in ("en_US", "zh_CN"):
        w = generate_world(WorldParams(n_customers=8000, seed=1, locale=locale))
        purchases = w.orders[~w.orders["is_refund"]]
        results[locale] = realism_metrics(purchases, data_end=w.manifest["end"], window_weeks=65)
    table = realism_table(results).round(3).to_string()
    record_property("realism_vs_cdnow", table)
    for locale in ("CDNOW", "en_US", "zh_CN"):
        for key, (lo, hi) in RANGES.items():
            assert lo <= results[locale][key] <= hi, (
                f"{locale} {key}={results[locale][key]:.3f} not in [{lo}, {hi}]"
            )
