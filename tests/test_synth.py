"""Synthetic world: contract validity, determinism, locales, dirt and duplicates truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custml.schema import CONTRACT
from custml.synth import WorldParams, generate_world, oracle_probabilities, read_truth, write_world


@pytest.fixture(scope="module")
def clean_world(cached_world):
    return cached_world(n_customers=3000, seed=11)


@pytest.fixture(scope="module")
def dirty_world(cached_world):
    return cached_world(n_customers=3000, seed=11, dirty=0.1)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_clean_world_follows_the_contract(clean_world):
    for name, df in clean_world.tables.items():
        CONTRACT[name].check(df)
    orders = clean_world.orders
    assert pd.api.types.is_datetime64_any_dtype(orders["order_ts"])
    refunds = orders[orders["is_refund"]]
    assert len(refunds) > 0
    assert (refunds["net_amount"] < 0).all()
    assert refunds["refund_of_order_id"].isin(orders["order_id"]).all()
    assert len(clean_world.truth["duplicates"]) == 0
    assert set(clean_world.interactions["kind"]) >= {"support_ticket", "complaint", "survey", "email_open"}


def test_dirty_world_is_structurally_valid_and_dirty(dirty_world):
    for name, df in dirty_world.tables.items():
        CONTRACT[name].check_structure(df, raw=True)
    orders = dirty_world.orders
    assert orders["order_ts"].dtype != "datetime64[us]"
    ts = orders["order_ts"].astype(str)
    assert ts.str.startswith("2099").any()
    assert (
        ts.str.endswith("+08:00").any()
        or dirty_world.interactions["ts"].astype(str).str.endswith("+08:00").any()
    )
    assert orders["order_id"].duplicated().any()
    assert (~orders["is_refund"] & (orders["net_amount"] < 0)).any()
    assert dirty_world.customers["email"].isna().any()
    assert len(dirty_world.customers) > 3000


def test_duplicates_truth_is_consistent(dirty_world):
    dup = dirty_world.truth["duplicates"]
    truth = dirty_world.truth["customers"]
    customers = dirty_world.customers
    assert dup["customer_id"].is_unique
    assert dup["customer_id"].isin(customers["customer_id"]).all()
    sizes = dup.groupby("person_id").size()
    assert (sizes >= 2).all()
    # every record not in the original truth ids is a duplicate listed with its person
    extra = set(customers["customer_id"]) - set(truth["customer_id"])
    assert extra == set(dup["customer_id"]) - set(truth["customer_id"])
    assert len(customers) == len(truth) + len(dup) - sizes.size
    # the original record is listed with the same person
    orig = truth.set_index("customer_id")["person_id"]
    listed = dup[dup["customer_id"].isin(orig.index)]
    assert (listed["person_id"].to_numpy() == orig.loc[listed["customer_id"]].to_numpy()).all()
    # orders of duplicated persons are split across their records
    by_rec = dirty_world.orders.groupby("customer_id").size()
    dup_only = dup[~dup["customer_id"].isin(orig.index)]
    assert by_rec.reindex(dup_only["customer_id"]).fillna(0).sum() > 0


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    params = WorldParams(n_customers=800, seed=3, dirty=0.05)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_world(generate_world(params), a)
    write_world(generate_world(params), b)
    write_world(generate_world(params.model_copy(update={"seed": 4})), c)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db
    assert "truth/duplicates.parquet" in da and "manifest.json" in da
    assert da["orders.parquet"] != dc["orders.parquet"]
    assert da["customers.parquet"] != dc["customers.parquet"]


def test_zh_cn_identities():
    w = generate_world(WorldParams(n_customers=500, seed=2, locale="zh_CN"))
    names = w.customers["name"].dropna()
    assert names.str.contains(r"[\u4e00-\u9fff]").mean() > 0.99
    phones = w.customers["phone"].str.replace(r"\D", "", regex=True).str.removeprefix("86")
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    assert (w.customers["country"] == "CN").all()
    assert w.manifest["currency"] == "CNY"


def test_phones_parse_as_valid_numbers():
    phonenumbers = pytest.importorskip("phonenumbers")
    for locale, region in (("en_US", "US"), ("zh_CN", "CN")):
        w = generate_world(WorldParams(n_customers=300, seed=5, locale=locale))
        ok = [phonenumbers.is_valid_number(phonenumbers.parse(p, region)) for p in w.customers["phone"]]
        assert np.mean(ok) == 1.0


def test_write_and_read_truth_round_trip(tmp_path, clean_world):
    write_world(clean_world, tmp_path)
    truth = read_truth(tmp_path)
    assert set(truth) == {"customers", "duplicates", "oracle_reference"}
    ref = truth["oracle_reference"]
    again = oracle_probabilities(truth["customers"], clean_world.manifest["reference_cutoff"])
    np.testing.assert_allclose(again["p_no_purchase_90d"], ref["p_no_purchase_90d"])
    assert ref["p_purchase_30d"].between(0, 1).all()


def test_invalid_parameters_fail_with_the_field_named():
    with pytest.raises(ValueError, match="category_weights"):
        WorldParams(
            personas={
                "x": WorldParams()
                .personas["occasional"]
                .model_copy(update={"category_weights": {"cars": 1.0}})
            }
        ).personas["x"].model_validate(
            {**WorldParams().personas["occasional"].model_dump(), "category_weights": {"cars": 1.0}}
        )
    with pytest.raises(ValueError, match="cutoff"):
        oracle_probabilities(generate_world(WorldParams(n_customers=50)).truth["customers"], "2030-01-01")


def test_the_manifest_has_the_shape_of_its_type():
    from custml.synth import ShockParams, default_personas
    from custml.synth.world import WorldManifest

    params = WorldParams(
        n_customers=150,
        seed=4,
        shock=ShockParams(start="2024-06-01", personas=(next(iter(default_personas())),)),
    )
    manifest = generate_world(params).manifest
    keys = WorldManifest.__required_keys__ | WorldManifest.__optional_keys__
    assert set(manifest) <= keys, set(manifest) - keys
    assert set(manifest["shock"]) == {
        "name", "description", "start", "effective_from", "personas", "hazard_multiplier", "rate_multiplier",
        "in_oracle",
    }  # fmt: skip


def test_default_personas_are_fresh_copies():
    from custml.synth import default_personas

    first = default_personas()
    first["one_timer"].category_weights["toys"] = 99.0
    assert default_personas()["one_timer"].category_weights["toys"] == 2.0
    assert abs(sum(p.share for p in default_personas().values()) - 1.0) < 1e-9
