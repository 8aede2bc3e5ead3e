"""The quality stage on generated worlds (custml.synth): reconciliation, dedup precision/recall, privacy."""

from __future__ import annotations

import pandas as pd
import pytest

from custml.privacy import scan_for_pii
from custml.quality import clean_tables, pairwise_precision_recall

pytestmark = pytest.mark.slow  # cleans two 3,000-person dirty worlds

KEY = b"integration-test-key-0123"


@pytest.fixture(scope="module", params=["en_US", "zh_CN"])
def world_and_result(request: pytest.FixtureRequest, cached_world):
    world = cached_world(n_customers=3000, seed=5, locale=request.param, dirty=0.02)
    return world, clean_tables(world.tables, world.manifest["end"], KEY)


def test_every_raw_row_is_kept_or_quarantined(world_and_result) -> None:
    world, r = world_and_result
    for name, raw in world.tables.items():
        t = r.report.tables[name]
        assert t.rows_in == len(raw) == t.rows_kept + t.rows_quarantined
        assert int((r.quarantine["table"] == name).sum()) == t.rows_quarantined
    # the generator's dirt is found: malformed/future timestamps, duplicated rows, negative non-refunds
    reasons = set(r.report.quarantined_by_reason)
    assert {"unparseable_timestamp", "future_timestamp", "exact_duplicate_row"} <= reasons
    assert r.report.normalisation["timestamps_with_offset_converted"] > 0
    assert r.report.normalisation["emails_invalid"] > 0 and r.report.normalisation["phones_invalid"] > 0


def test_orders_and_revenue_survive_the_merge(world_and_result) -> None:
    world, r = world_and_result
    rec = r.report.reconciliation["orders"]
    kept = r.report.tables["orders"].rows_kept
    assert rec.rows_before_merge == rec.rows_after_merge == kept == len(r.tables["orders"])
    assert rec.net_amount_before_merge == rec.net_amount_after_merge
    assert r.tables["orders"]["net_amount"].sum() == pytest.approx(rec.net_amount_after_merge, abs=0.01)
    assert r.tables["orders"]["customer_id"].isin(r.tables["customers"]["customer_id"]).all()


def test_dedup_precision_and_recall_floors(world_and_result) -> None:
    world, r = world_and_result
    clusters = r.id_map.set_index("raw_customer_id")["golden_raw_id"]
    m = pairwise_precision_recall(clusters, world.truth["duplicates"])
    assert m["true_pairs"] >= 40
    assert m["precision"] >= 0.98, m
    assert m["recall"] >= 0.95, m
    assert r.tables["customers"]["n_source_records"].sum() == r.report.tables["customers"].rows_kept


def test_clean_outputs_carry_no_personal_data(world_and_result, tmp_path) -> None:
    world, r = world_and_result
    for name, df in r.tables.items():
        df.to_parquet(tmp_path / f"{name}.parquet")
    r.quarantine.to_parquet(tmp_path / "quarantine.parquet")
    pd.Series(r.report.model_dump(), dtype=object).astype(str).to_frame("v").to_parquet(
        tmp_path / "report.parquet"
    )
    result = scan_for_pii(tmp_path, world.customers)
    assert not result.found, result.findings
