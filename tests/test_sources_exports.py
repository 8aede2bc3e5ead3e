"""Bring your own data, second round: export shapes a first real-data trial tripped over.

Thousands separators next to comma decimals, local times in the hour the clocks go back, timestamps with their
own UTC offsets (with and without a format, with a mapping time zone), empty files alone and in a folder, a
byte-order mark with CRLF line ends. Each case writes its own small file and ends in exit 0 with rows in = kept
+ quarantined and revenue to the cent, or in a one-line error naming the mapping key.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from custml.cli import main
from custml.errors import MappingError
from custml.privacy import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE
from custml.sources import TableSource, infer_mapping, read_sources
from custml.sources.timestamps import _timestamps

KEY = "k" * 32
AS_OF = "2024-12-31"


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)


def _clean(data: Path, tmp_path: Path, mapping: str) -> int:
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    args = [
        "clean",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--private-dir",
        str(tmp_path / "p"),
    ]
    return main([*args, "--as-of", AS_OF, "--mapping", str(tmp_path / "m.yaml")])


def _report(tmp_path: Path) -> dict:
    report = json.loads((tmp_path / "out" / "quality_report.json").read_text(encoding="utf-8"))
    for name, t in report["tables"].items():
        assert t["rows_in"] == t["rows_kept"] + t["rows_quarantined"], name
    orders = report["tables"]["orders"]
    assert round(orders["net_amount_kept"] + orders["net_amount_quarantined"], 2) == orders["net_amount_in"]
    return report


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


def test_comma_decimals_with_point_thousands_keep_every_amount(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # A German shop export: amounts over 1,000 are written '1.006,39'; the mapping says only `decimal: ","`.
    amounts = ["44,01", "1.006,39", "22,98", "12.345.678,90", "-1.200,00", "3,5"]
    rows = [f"B{i};K{i % 3};05.02.2023 10:{i:02d};1;{a}" for i, a in enumerate(amounts)]
    data = tmp_path / "export"
    data.mkdir()
    (data / "bestellungen.csv").write_text(
        "Bestellnr;Kundennr;Bestelldatum;Anzahl;Betrag\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    mapping = """\
orders:
  file: bestellungen.csv
  delimiter: ";"
  decimal: ","
  timestamp_format: "%d.%m.%Y %H:%M"
  columns: {order_id: Bestellnr, customer_id: Kundennr, order_ts: Bestelldatum, n_items: Anzahl, net_amount: Betrag}
"""
    assert _clean(data, tmp_path, mapping) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "did not convert" not in printed
    report = _report(tmp_path)
    truth = sum(Decimal(a.replace(".", "").replace(",", ".")) for a in amounts)
    orders = report["tables"]["orders"]
    assert Decimal(str(orders["net_amount_in"])) == truth
    assert orders["rows_quarantined"] == 0
    kept = pd.read_parquet(tmp_path / "out" / "orders.parquet")
    assert sorted(kept["net_amount"].round(2)) == [-1200.0, 3.5, 22.98, 44.01, 1006.39, 12345678.9]


def test_a_number_that_does_not_convert_is_said_on_the_screen(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # '1 006.39' mistyped as '1..006,39' stays unusable: nulled, quarantined, and the screen says why
    data = tmp_path / "export"
    data.mkdir()
    lines = [
        "id;kunde;datum;betrag",
        "1;a;2024-01-02;1..006,39",
        "2;a;2024-01-03;5,00",
        "3;b;2024-01-04;7,00",
    ]
    (data / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = (
        'orders:\n  file: o.csv\n  delimiter: ";"\n  decimal: ","\n'
        "  columns: {order_id: id, customer_id: kunde, order_ts: datum, net_amount: betrag}\n"
    )
    assert _clean(data, tmp_path, mapping) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "orders: source numbers that did not convert" in printed and "{'net_amount': 1}" in printed
    assert _report(tmp_path)["quarantined_by_reason"] == {"null_required": 1}


def test_local_times_in_the_hour_the_clocks_change_are_kept(tmp_path: Path, key_env: None) -> None:
    # 29.10.2023 02:30 happens twice in Berlin (read as the first, summer-time one: 00:30 UTC); 26.03.2023
    # 02:30 does not exist (moved forward to 03:00 CEST, 01:00 UTC). Neither is a broken timestamp.
    data = tmp_path / "export"
    data.mkdir()
    lines = [
        "id,cust,ts,amount",
        "1,a,29.10.2023 02:30,10.00",
        "2,a,26.03.2023 02:30,5.00",
        "3,b,01.06.2023 12:00,1",
    ]
    (data / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = """\
orders:
  file: o.csv
  timestamp_format: "%d.%m.%Y %H:%M"
  timezone: Europe/Berlin
  columns: {order_id: id, customer_id: cust, order_ts: ts, net_amount: amount}
"""
    assert _clean(data, tmp_path, mapping) == 0
    report = _report(tmp_path)
    assert report["tables"]["orders"]["rows_quarantined"] == 0
    kept = pd.read_parquet(tmp_path / "out" / "orders.parquet").sort_values("order_id")
    assert list(kept["order_ts"]) == [
        pd.Timestamp("2023-10-29 00:30"),
        pd.Timestamp("2023-03-26 01:00"),
        pd.Timestamp("2023-06-01 10:00"),
    ]


@pytest.mark.parametrize("timezone", [None, "Europe/Berlin"])
def test_timestamps_with_their_own_offset_are_not_shifted_again(timezone: str | None) -> None:
    raw = pd.Series(["2024-06-01T10:00:00+02:00", "2024-06-01 10:00:00", "2024-06-01T10:00:00Z", None])
    source = TableSource(file="x", columns={}, timezone=timezone)
    parsed, failed, n_offset = _timestamps("orders.columns.order_ts", "ts", raw, source)
    # the offset ones are instants whatever the mapping's zone; only the naive one is local time
    naive = pd.Timestamp("2024-06-01 08:00") if timezone else pd.Timestamp("2024-06-01 10:00")
    assert list(parsed[:3]) == [pd.Timestamp("2024-06-01 08:00"), naive, pd.Timestamp("2024-06-01 10:00")]
    assert pd.isna(parsed[3]) and failed.isna().all() and n_offset == 2


def test_mixed_offsets_with_a_format_or_day_first(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "export"
    data.mkdir()
    lines = [
        "cid,ts,amt",
        "1,05/01/2024 10:00 +0100,1.50",
        "2,06/01/2024 11:00 +0000,2",
        "3,17/01/2024 12:00 -0500,3",
    ]
    (data / "tz.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [
        pd.Timestamp("2024-01-05 09:00"),
        pd.Timestamp("2024-01-06 11:00"),
        pd.Timestamp("2024-01-17 17:00"),
    ]
    for option in ('timestamp_format: "%d/%m/%Y %H:%M %z"', "dayfirst: true"):
        mapping = f"orders:\n  file: tz.csv\n  {option}\n  columns: {{customer_id: cid, order_ts: ts, net_amount: amt}}\n"
        (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
        sources = read_sources(data, tmp_path / "m.yaml")
        assert list(pd.to_datetime(sources.tables["orders"]["order_ts"])) == expected, option
        assert sources.report["orders"]["timestamps_with_offset"] == {"order_ts": 3}
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(data)]) == 0
    assert "timestamps with a UTC offset (converted): {'order_ts': 3}" in " ".join(
        capsys.readouterr().out.split()
    )
    # the clean screen counts them too (they were converted before the quality stage saw them)
    assert _clean(data, tmp_path, mapping) == 0
    assert "timestamps converted from offsets: 3" in " ".join(capsys.readouterr().out.split())


def test_empty_files(tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "export"
    (data / "daily").mkdir(parents=True)
    (data / "empty.csv").write_bytes(b"")
    (data / "header_only.csv").write_text("CustomerID,OrderDate,Amount\n", encoding="utf-8")
    # a folder of daily exports where one day had nothing: that file is skipped, and said so
    (data / "daily" / "2024-01-01.csv").write_text("CustomerID,OrderDate,Amount\n1,2024-01-01,2.50\n")
    (data / "daily" / "2024-01-02.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    mapping = "orders:\n  file: {f}\n  columns: {{customer_id: CustomerID, order_ts: OrderDate, net_amount: Amount}}\n"
    (tmp_path / "m.yaml").write_text(mapping.format(f="empty.csv"), encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(data)]) == 2
    assert "mapping orders.file: empty.csv: empty file (no header, no rows)" in _one_line_error(capsys)
    assert main(["sources", "infer", str(data / "empty.csv")]) == 2
    assert "empty.csv is empty" in _one_line_error(capsys)
    assert main(["sources", "infer", str(data / "header_only.csv")]) == 2
    assert "header_only.csv has a header but no data rows" in _one_line_error(capsys)
    sources = read_sources(data, _write(tmp_path, mapping.format(f="daily")))
    assert len(sources.tables["orders"]) == 1
    assert [Path(p).name for p in sources.report["orders"]["files_empty"]] == ["2024-01-02.csv"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m2.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_byte_order_mark_and_crlf(tmp_path: Path, key_env: None) -> None:
    data = tmp_path / "export"
    data.mkdir()
    (data / "o.csv").write_bytes(
        b"\xef\xbb\xbfCustomerID,OrderDate,Amount\r\n1,2024-01-05,10.50\r\n2,2024-02-05,0.25\r\n"
    )
    mapping = "orders:\n  file: o.csv\n  columns: {customer_id: CustomerID, order_ts: OrderDate, net_amount: Amount}\n"
    assert _clean(data, tmp_path, mapping) == 0
    report = _report(tmp_path)
    assert report["tables"]["orders"]["net_amount_in"] == 10.75
    assert report["tables"]["orders"]["rows_kept"] == 2


MISTAKES = [
    # (mapping body after `file: o.csv`, what the one line must say)
    (
        '  timestamp_fromat: "%Y-%m-%d"\n  columns: {customer_id: Customer ID, order_ts: Order Date, net_amount: Qty}\n',
        "mapping orders.timestamp_fromat: is not a mapping option (did you mean 'timestamp_format'?)",
    ),
    (
        "  columns: {customer_id: CustomerID, order_ts: Order Date, net_amount: Qty}\n",
        "mapping orders.columns.customer_id (source column 'CustomerID'): no such column in the file "
        "(did you mean 'Customer ID'?)",
    ),
    (
        "  columns: {customer_id: Customer ID, order_ts: Order Date, net_amount: Qty * UnitPrice}\n",
        "(source column 'UnitPrice'): no such column in the file (did you mean 'Unit Price'? names with spaces "
        "go in backticks)",
    ),
    (
        "  columns: {customer_id: Customer ID, order_ts: Order Date, net_amount: Qty * Unit Price}\n",
        "not an expression; names with spaces go in backticks: `Unit Price`",
    ),
    (
        "  columns: {customer_id: Customer ID, order_ts: Order Date, net_amount: Qty, signup_ts: Order Date}\n",
        "mapping orders.columns.signup_ts: is not a column of the contract table",
    ),
    (
        "  line_items: true\n  order_key: Invoice\n"
        "  columns: {customer_id: Customer ID, order_ts: Order Date, net_amount: Qty}\n",
        "mapping orders.order_key (source column 'Invoice'): no such column in the file (did you mean 'InvoiceNo'?)",
    ),
]


@pytest.mark.parametrize(("body", "said"), MISTAKES)
def test_mapping_mistakes_name_the_key_and_the_closest_name(
    tmp_path: Path, body: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "export"
    data.mkdir()
    (data / "o.csv").write_text(
        "InvoiceNo,Customer ID,Order Date,Qty,Unit Price\nA1,1,2024-01-05,2,3.5\nA2,2,2024-02-05,1,4\n"
    )
    (tmp_path / "m.yaml").write_text("orders:\n  file: o.csv\n" + body, encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(data)]) == 2
    assert said in _one_line_error(capsys)


def test_a_typo_in_a_table_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.yaml").write_text("order:\n  file: o.csv\n  columns: {customer_id: c}\n", encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) == 2
    assert "mapping order: is not a table of a mapping (did you mean 'orders'?)" in _one_line_error(capsys)


def test_infer_reads_german_names_offsets_and_a_customers_file(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "export"
    data.mkdir()
    orders = ["Bestellnr;Kundennr;Bestelldatum;Anzahl;Betrag"]
    orders += [f"B{i};K{i % 4};{i + 1:02d}.02.2023 10:15;{i % 3 + 1};{i},50" for i in range(20)]
    orders += ["B99;K1;21.02.2023 09:00;1;1.006,39"]
    (data / "bestellungen.csv").write_text("\n".join(orders) + "\n", encoding="utf-8")
    (data / "kunden.csv").write_text(
        "Kundennr;Registriert\n" + "".join(f"K{i};0{i + 1}.01.2023\n" for i in range(4)), encoding="utf-8"
    )
    assert main(["sources", "infer", str(data / "bestellungen.csv")]) == 0
    proposed_orders = capsys.readouterr().out
    assert main(["sources", "infer", str(data / "kunden.csv"), "--table", "customers"]) == 0
    proposed_customers = capsys.readouterr().out
    orders_part = yaml.safe_load(proposed_orders)["orders"]
    assert orders_part["columns"] == {
        "customer_id": "Kundennr",
        "order_id": "Bestellnr",
        "order_ts": "Bestelldatum",
        "net_amount": "Betrag",
        "n_items": "Anzahl",
    }
    assert (orders_part["decimal"], orders_part["timestamp_format"]) == (",", "%d.%m.%Y %H:%M")
    customers_part = yaml.safe_load(proposed_customers)["customers"]
    assert customers_part["columns"] == {"customer_id": "Kundennr", "signup_date": "Registriert"}
    assert customers_part["timestamp_format"] == "%d.%m.%Y"
    # the two proposals, one file: clean takes them as they are, every euro in
    (tmp_path / "m.yaml").write_text(proposed_orders + proposed_customers.split("\n", 1)[1], encoding="utf-8")
    args = [
        "clean",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--private-dir",
        str(tmp_path / "p"),
    ]
    assert main([*args, "--as-of", AS_OF, "--mapping", str(tmp_path / "m.yaml")]) == 0
    report = _report(tmp_path)
    assert Decimal(str(report["tables"]["orders"]["net_amount_in"])) == Decimal("200.00") + Decimal("1006.39")
    assert report["tables"]["customers"]["rows_kept"] == 4


def test_infer_falls_back_to_values_and_reads_offsets(tmp_path: Path) -> None:
    (tmp_path / "anon.csv").write_text(
        "a,b,c\n1001,05/01/2024 10:00 +0100,10.50\n1001,06/01/2024 11:00 +0000,3.25\n1002,17/01/2024 12:00 -0500,1.00\n"
    )
    proposal = infer_mapping(tmp_path / "anon.csv")
    orders = proposal["orders"]
    assert orders["columns"] == {"order_ts": "b", "customer_id": "a", "net_amount": "c"}
    assert orders["timestamp_format"] == "%d/%m/%Y %H:%M %z"
    assert any("guessed from its values" in n for n in proposal["notes"])
    assert not any(n.startswith("timezone") for n in proposal["notes"])  # the offsets say it
    with pytest.raises(MappingError, match="orders, customers or interactions"):
        infer_mapping(tmp_path / "anon.csv", table="campaigns")


def test_ids_written_as_floats_match_the_same_customer(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # orders saved from a spreadsheet (or pandas with blank ids) write 17850 as '17850.0'; the CRM file does not
    data = tmp_path / "export"
    data.mkdir()
    (data / "o.csv").write_text(
        "cid,ts,amt\n17850.0,2024-01-05,1.5\n17850,2024-01-06,2\n12583.00,2024-01-07,3\n,2024-01-08,4\n"
        "1.5,2024-01-09,5\n"
    )
    (data / "c.csv").write_text("cid,signup\n17850,2023-01-01\n12583,2023-02-01\n1.5,2023-03-01\n")
    mapping = """\
orders:
  file: o.csv
  columns: {customer_id: cid, order_ts: ts, net_amount: amt}
customers:
  file: c.csv
  columns: {customer_id: cid, signup_date: signup}
"""
    assert _clean(data, tmp_path, mapping) == 0
    report = _report(tmp_path)
    assert report["quarantined_by_reason"] == {"null_required": 1}  # only the order without a customer
    assert report["tables"]["orders"]["rows_kept"] == 4
    assert report["sources"]["tables"]["orders"]["ids_written_as_float"] == {"customer_id": 2}
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(data)]) == 0
    assert "ids written as floats" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip"])
def test_compressed_exports_are_read_as_they_are(tmp_path: Path, suffix: str) -> None:
    import bz2
    import gzip
    import lzma
    import zipfile

    text = "Kunde;Datum;Betrag\nK1;05.01.2024;1.006,39\nK2;06.01.2024;2,50\n".encode("latin-1")
    data = tmp_path / "export"
    data.mkdir()
    path = data / f"orders{suffix}"
    if suffix.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("orders.csv", text)
    else:
        path.write_bytes(
            {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[path.suffix](text)
        )
    proposal = infer_mapping(path)
    assert proposal["orders"]["columns"] == {
        "customer_id": "Kunde",
        "order_ts": "Datum",
        "net_amount": "Betrag",
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"orders": proposal["orders"]}), encoding="utf-8")
    orders = read_sources(data, tmp_path / "m.yaml").tables["orders"]
    assert orders["net_amount"].tolist() == [1006.39, 2.5]
    # a folder of compressed daily files is read too
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"orders": {**proposal["orders"], "file": "."}}))
    assert len(read_sources(data, tmp_path / "m.yaml").tables["orders"]) == 2


def test_a_workbook_is_refused_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # .xlsx is read (tests/test_sources_real.py); an old .xls is refused, a broken .xlsx named as such
    (tmp_path / "Online Retail.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really a workbook")
    (tmp_path / "Online Retail.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    mapping = "orders:\n  file: Online Retail.xls\n  columns: {customer_id: CustomerID}\n"
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) == 2
    said = _one_line_error(capsys)
    assert "mapping orders.file: Online Retail.xls is a spreadsheet custml does not read" in said
    assert "save it as .xlsx or the sheet as CSV" in said
    assert main(["sources", "infer", str(tmp_path / "Online Retail.xls")]) == 2
    assert "save it as .xlsx or the sheet as CSV" in _one_line_error(capsys)
    (tmp_path / "m.yaml").write_text(mapping.replace(".xls", ".xlsx"), encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) == 2
    assert "Online Retail.xlsx is not a readable .xlsx workbook" in _one_line_error(capsys)


def test_utf16_tab_export_is_inferred_and_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated
    text = "Kunde\tDatum\tBetrag\tText\nK1\t05.01.2024\t1.006,50\tCafé, groß\nK2\t06.01.2024\t2,50\tÄrger\n"
    (tmp_path / "export.txt").write_text(text, encoding="utf-16")
    proposal = infer_mapping(tmp_path / "export.txt")
    orders = proposal["orders"]
    assert (orders["encoding"], orders["delimiter"], orders["decimal"]) == ("utf-16", "\t", ",")
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"orders": orders}), encoding="utf-8")
    assert read_sources(tmp_path, tmp_path / "m.yaml").tables["orders"]["net_amount"].tolist() == [
        1006.5,
        2.5,
    ]
    # left at utf-8, the error says which encoding to set
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"orders": {**orders, "encoding": "utf-8"}}))
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) == 2
    assert "mapping orders.encoding: export.txt is not utf-8 text" in (said := _one_line_error(capsys))
    assert "set `encoding: utf-16`" in said


def test_utf8_sample_cut_inside_a_character_is_still_utf8(tmp_path: Path) -> None:
    # the 200,000-byte sample ends between the two bytes of an 'é': not a reason to propose cp1252
    data = b"cid,ts,amt,desc\n" + "1001,2024-01-05,1.50,caf\u00e9\n".encode() * 20_000
    pad = 199_999 - data.rindex(b"\xc3", 0, 200_000)  # lengthen the header: an 'é' starts on the last byte
    data = data.replace(b"desc", b"desc" + b"_" * pad, 1)
    assert data[199_999:200_001] == b"\xc3\xa9"
    (tmp_path / "o.csv").write_bytes(data)
    assert "encoding" not in infer_mapping(tmp_path / "o.csv")["orders"]


def test_a_row_counter_is_not_a_count_of_items(tmp_path: Path) -> None:
    rows = "".join(f"{i};2024-01-{i:02d};{i},5;a, b\n" for i in range(1, 13))
    (tmp_path / "semi.csv").write_text("id;date;amount;desc\n" + rows, encoding="utf-8")
    columns = infer_mapping(tmp_path / "semi.csv")["orders"]["columns"]
    assert "n_items" not in columns
    assert columns["net_amount"] == "amount" and columns["order_ts"] == "date"


def test_dates_that_read_both_ways_are_flagged(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text(
        "cid,ts,amt\n1,01/02/2024 10:00,1.5\n1,03/04/2024 10:00,1.5\n2,12/11/2024 11:00,2\n"
    )
    notes = infer_mapping(tmp_path / "o.csv")["notes"]
    assert any(
        n.startswith("order_ts (ts): every sampled date reads day first and month first") for n in notes
    )
    # a day above 12 tells the order: no such note
    (tmp_path / "o.csv").write_text("cid,ts,amt\n1,01/02/2024 10:00,1.5\n1,23/04/2024 10:00,1.5\n")
    assert not any("reads day first and month first" in n for n in infer_mapping(tmp_path / "o.csv")["notes"])


def test_sources_check_prints_the_net_amount_to_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "o.csv").write_text("cid;ts;amt\n1;2024-01-05;1.006,39\n2;2024-01-06;-2,50\n")
    mapping = 'orders:\n  file: o.csv\n  decimal: ","\n  currency: EUR\n  columns: {customer_id: cid, order_ts: ts, net_amount: amt}\n'
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) == 0
    assert "orders: 2 rows read -> 2 rows; net amount 1,003.89 EUR" in " ".join(
        capsys.readouterr().out.split()
    )


def test_unix_times_are_not_dates_in_the_year_1704(tmp_path: Path, key_env: None) -> None:
    # a payment platform's export: created as Unix seconds (UTC); one broken value among them
    lines = ["id,customer,created,amount"]
    lines += [f"ch_{i},cus_{i % 3},{1704448800 + i * 86_400},{i}.25" for i in range(30)]
    lines += ["ch_x,cus_1,not-a-time,1.00"]
    data = tmp_path / "export"
    data.mkdir()
    (data / "charges.csv").write_text("\n".join(lines) + "\n")
    proposal = infer_mapping(data / "charges.csv")
    assert proposal["orders"]["timestamp_format"] == "unix"
    assert not any(n.startswith("timezone") for n in proposal["notes"])  # Unix time is UTC
    mapping = "orders:\n  file: charges.csv\n  timezone: Europe/Berlin\n"
    mapping += "  columns: {order_id: id, customer_id: customer, order_ts: created, net_amount: amount}\n"
    assert _clean(data, tmp_path, mapping) == 0  # no format: Unix time is recognised, and never localised
    report = _report(tmp_path)
    assert report["quarantined_by_reason"] == {"unparseable_timestamp": 1}
    kept = pd.read_parquet(tmp_path / "out" / "orders.parquet")
    assert kept["order_ts"].min() == pd.Timestamp("2024-01-05 10:00")
    assert kept["order_ts"].max() == pd.Timestamp("2024-02-03 10:00")
    ms = TableSource(file="x", columns={}, timestamp_format="unix_ms")
    parsed, _, _ = _timestamps("orders.columns.order_ts", "t", pd.Series(["1704448800123"]), ms)
    assert parsed[0] == pd.Timestamp("2024-01-05 10:00:00.123")


def test_a_column_ending_in_ts_is_not_taken_for_the_timestamp(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text(
        "CustomerID,Products,Discounts,Date,Amount\n1,3,0,2024-01-05,9.50\n1,1,0,2024-02-05,2.00\n"
    )
    assert infer_mapping(tmp_path / "o.csv")["orders"]["columns"]["order_ts"] == "Date"
