"""clean_tables end to end: outputs, privacy, reconciliation of revenue, idempotence, determinism and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality_world import AS_OF, KEY, raw_world

from custml.cli import main
from custml.config import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE
from custml.contracts import QualityReport
from custml.privacy import pseudonymise, scan_for_pii
from custml.quality import CLEAN_CUSTOMERS, QualityParams, clean_tables
from custml.quality.normalise import normalise_email, normalise_name, normalise_phone, parse_timestamps
from custml.schema import CUSTOMERS


def test_clean_tables_contract_and_id_map() -> None:
    r = clean_tables(raw_world(), AS_OF, KEY)
    customers = r.tables["customers"]
    assert list(customers.columns) == CLEAN_CUSTOMERS.column_names
    assert not set(CUSTOMERS.pii_columns("direct")) & set(customers.columns)
    assert customers["customer_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert len(customers) == 3 and customers["n_source_records"].sum() == 5
    # pseudonym = HMAC of the golden raw id: c1 (earliest of c1/c4), c5 (earliest of c2/c5), c3
    assert set(customers["customer_id"]) == set(pseudonymise(pd.Series(["c1", "c5", "c3"]), KEY))
    id_map = r.id_map.set_index("raw_customer_id")
    assert id_map.loc["c4", "golden_raw_id"] == "c1" and id_map.loc["c2", "golden_raw_id"] == "c5"
    for name in ("orders", "interactions", "campaigns"):
        assert r.tables[name]["customer_id"].isin(customers["customer_id"]).all()
        assert pd.api.types.is_datetime64_dtype(r.tables[name].iloc[:, 2])
    assert r.tables["customers"]["age_band"].tolist().count("35-44") == 2
    assert r.report.duplicates_merged == 2
    assert r.golden_customers["email"].notna().all() and "golden_raw_id" in r.golden_customers


def test_orders_and_revenue_identical_before_and_after_dedup() -> None:
    raw = raw_world()
    merged = clean_tables(raw, AS_OF, KEY)
    unmerged = clean_tables(raw, AS_OF, KEY, QualityParams(deduplicate=False))
    a, b = merged.tables["orders"], unmerged.tables["orders"]
    assert len(a) == len(b) == len(raw["orders"])
    assert a["net_amount"].sum() == pytest.approx(b["net_amount"].sum())
    assert a["net_amount"].sum() == pytest.approx(raw["orders"]["net_amount"].sum())
    # every order of c1 and c4 now belongs to the one golden customer
    golden = merged.id_map.set_index("raw_customer_id").loc["c1", "customer_id"]
    assert (a["customer_id"] == golden).sum() == (raw["orders"]["customer_id"].isin(["c1", "c4"])).sum()
    rec = merged.report.reconciliation["orders"]
    assert rec.net_amount_before_merge == rec.net_amount_after_merge
    assert unmerged.tables["customers"]["n_source_records"].eq(1).all()


def test_campaign_rows_of_merged_records_are_quarantined_not_lost() -> None:
    raw = raw_world()
    extra = raw["campaigns"].iloc[[0]].assign(customer_id="c4")
    raw["campaigns"] = pd.concat([raw["campaigns"], extra], ignore_index=True)
    r = clean_tables(raw, AS_OF, KEY)
    q = r.quarantine
    assert q[["table", "row_number", "reason"]].values.tolist() == [
        ["campaigns", 3, "duplicate_key_after_merge"]
    ]
    t = r.report.tables["campaigns"]
    assert t.rows_in == 4 == t.rows_kept + t.rows_quarantined


def test_no_personal_data_in_clean_outputs(tmp_path: Path) -> None:
    raw = raw_world()
    raw["orders"].loc[0, "order_ts"] = "2099-01-01 00:00:00"  # quarantined orders carry their raw values
    raw["customers"].loc[2, "signup_date"] = "2099-01-01"  # quarantined customers must not
    r = clean_tables(raw, AS_OF, KEY)
    out = tmp_path / "interim"
    out.mkdir()
    for name, df in r.tables.items():
        df.to_parquet(out / f"{name}.parquet")
    r.quarantine.to_parquet(out / "quarantine.parquet")
    r.report.write_json(out / "quality_report.json")
    result = scan_for_pii(out, raw["customers"])
    assert not result.found, result.findings
    # ... while the private golden records do contain them (the scanner works)
    r.golden_customers.to_parquet(tmp_path / "golden.parquet")
    assert scan_for_pii(tmp_path / "golden.parquet", raw["customers"]).counts["email"] > 0


def test_cleaning_is_deterministic_and_order_of_customers_irrelevant() -> None:
    raw = raw_world()
    a = clean_tables(raw, AS_OF, KEY)
    shuffled = dict(raw, customers=raw["customers"].sample(frac=1.0, random_state=3).reset_index(drop=True))
    b = clean_tables(shuffled, AS_OF, KEY)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def _assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True)


@st.composite
def dirty_worlds(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    """The tiny world with random dirt: case/space noise, bad timestamps, offsets, duplicates, unknown ids."""
    w = raw_world()
    c, o = w["customers"], w["orders"]
    for i in range(len(c)):
        style = draw(st.sampled_from(["keep", "upper", "lower", "spaces"]))
        name = c.loc[i, "name"]
        c.loc[i, "name"] = {
            "keep": name,
            "upper": name.upper(),
            "lower": name.lower(),
            "spaces": f"  {name}  ",
        }[style]
        if draw(st.booleans()):
            c.loc[i, "email"] = None if draw(st.booleans()) else "broken@@x"
    for i in range(len(o)):
        kind = draw(st.sampled_from(["ok", "ok", "future", "bad", "offset", "unknown", "negative"]))
        if kind == "future":
            o.loc[i, "order_ts"] = "2099-01-01 00:00:00"
        elif kind == "bad":
            o.loc[i, "order_ts"] = draw(st.sampled_from(["2024-02-30 10:00:00", "", "n/a"]))
        elif kind == "offset":
            ts = pd.Timestamp(o.loc[i, "order_ts"]) + pd.Timedelta(hours=8)
            o.loc[i, "order_ts"] = ts.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
        elif kind == "unknown":
            o.loc[i, "customer_id"] = "c999"
        elif kind == "negative" and not o.loc[i, "is_refund"]:
            o.loc[i, "net_amount"] = -1.0
    n_dup = draw(st.integers(0, 2))
    w["orders"] = pd.concat([o, o.iloc[:n_dup]], ignore_index=True)
    w["customers"] = c
    return w


@settings(max_examples=15)  # each example cleans a world twice (about 0.7 s)
@given(dirty_worlds())
def test_cleaning_twice_equals_cleaning_once(world: dict[str, pd.DataFrame]) -> None:
    once = clean_tables(world, AS_OF, KEY)
    twice = clean_tables(once.tables, AS_OF, KEY)
    _assert_same_tables(once.tables, twice.tables)
    assert twice.report.mode == "already_clean"
    assert len(twice.quarantine) == 0
    # and every raw row is accounted for
    for name, t in once.report.tables.items():
        assert t.rows_in == len(world[name]) == t.rows_kept + t.rows_quarantined


@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=8))
def test_normalisers_are_idempotent(values: list[str]) -> None:
    s = pd.Series(values, dtype="object")
    n1 = normalise_name(s)
    pd.testing.assert_series_equal(normalise_name(n1), n1)
    e1, _ = normalise_email(s)
    e2, bad = normalise_email(e1)
    pd.testing.assert_series_equal(e2, e1)
    assert not bad.any()


@given(st.lists(st.integers(2_000_000_000, 9_999_999_999), min_size=1, max_size=6), st.integers(0, 3))
def test_phone_normalisation_is_idempotent(numbers: list[int], style: int) -> None:
    text = [str(n) for n in numbers]
    fmt = [
        (t if style == 0 else f"({t[:3]}) {t[3:6]}-{t[6:]}" if style == 1 else f"+1 {t}" if style == 2 else t[:3] + "." + t[3:])
        for t in text
    ]  # fmt: skip
    p1, _ = normalise_phone(pd.Series(fmt), "US")
    p2, bad = normalise_phone(p1, "US")
    pd.testing.assert_series_equal(p1, p2)
    assert not bad.any()


def test_parse_timestamps_is_idempotent_and_counts_offsets() -> None:
    s = pd.Series(["2024-03-05 14:22:10", "2024-03-05T22:22:10+08:00", "2024-03-05T14:22:10Z", None])
    first = parse_timestamps(s)
    assert first.with_offset.tolist() == [False, True, True, False]
    again = parse_timestamps(first.values)
    pd.testing.assert_series_equal(again.values, first.values)
    assert not again.with_offset.any() and not again.unparseable.any()
    assert first.values.nunique() == 1


# ---- CLI ----------------------------------------------------------------------------------------------------
@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    d = tmp_path / "raw"
    d.mkdir()
    for name, df in raw_world().items():
        df.to_parquet(d / f"{name}.parquet")
    (d / "manifest.json").write_text(json.dumps({"end": "2025-12-31 23:59:59"}))
    return d


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY.decode())
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)


def test_cli_clean_writes_outputs_and_summary(
    raw_dir: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out, private = tmp_path / "interim", tmp_path / "private"
    code = main(["clean", "--data", str(raw_dir), "--out", str(out), "--private-dir", str(private)])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {
        "customers.parquet",
        "orders.parquet",
        "interactions.parquet",
        "campaigns.parquet",
        "quarantine.parquet",
        "quality_report.json",
    }
    assert (private / "id_map.parquet").is_file() and not (out / "id_map.parquet").exists()
    report = QualityReport.read_json(out / "quality_report.json")
    assert report.as_of == "2026-01-01T00:00:00"  # the one as-of rule: the day after the manifest end
    printed = capsys.readouterr().out
    assert "duplicates merged: 2" in printed and "orders" in printed
    id_map = pd.read_parquet(private / "id_map.parquet")
    assert list(id_map.columns) == ["raw_customer_id", "golden_raw_id", "customer_id"]
    # the same key gives the same pseudonyms on a second run
    main(["clean", "--data", str(raw_dir), "--out", str(tmp_path / "again"), "--private-dir", str(private)])
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "customers.parquet"), pd.read_parquet(tmp_path / "again" / "customers.parquet")
    )
    # cleaning the clean output again changes nothing
    assert (
        main(
            ["clean", "--data", str(out), "--out", str(tmp_path / "twice"), "--as-of", "2025-12-31 23:59:59"]
        )
        == 0
    )
    for name in ("customers", "orders", "interactions", "campaigns"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{name}.parquet"), pd.read_parquet(tmp_path / "twice" / f"{name}.parquet")
        )


def test_cli_errors_are_one_line_without_traceback(
    raw_dir: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    df = pd.read_parquet(raw_dir / "orders.parquet").drop(columns=["order_ts"])
    df.to_parquet(raw_dir / "orders.parquet")
    code = main(["clean", "--data", str(raw_dir), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "orders: column 'order_ts' required column is missing" in " ".join(err.split())
    assert "Traceback" not in err
    (raw_dir / "orders.parquet").write_bytes(b"PAR1 not really")
    assert main(["clean", "--data", str(raw_dir), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "orders: cannot read parquet file" in err and "Traceback" not in err


def test_cli_missing_key_is_a_clear_error(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_PSEUDONYM_KEY, raising=False)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    assert main(["clean", "--data", str(raw_dir), "--out", str(tmp_path / "o")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "no pseudonymisation key" in err and "Traceback" not in err
    assert main(["clean", "--data", str(raw_dir), "--out", str(tmp_path / "o"), "--allow-demo-key"]) == 0
    assert (tmp_path / "data" / "private" / "pseudonym.key").is_file()
    assert (tmp_path / "data" / "private" / "id_map.parquet").is_file()


def test_report_counts_match_quarantine() -> None:
    raw = raw_world()
    raw["orders"].loc[1, "order_ts"] = "n/a"
    raw["orders"] = pd.concat([raw["orders"], raw["orders"].iloc[[0]]], ignore_index=True)
    r = clean_tables(raw, AS_OF, KEY)
    assert r.report.quarantined_by_reason == {"exact_duplicate_row": 1, "unparseable_timestamp": 1}
    assert r.report.quarantined_by_table["orders"] == 2
    assert r.report.rows_in == sum(len(df) for df in raw.values())
    assert np.isclose(
        r.report.reconciliation["orders"].net_amount_after_merge, r.tables["orders"]["net_amount"].sum()
    )
