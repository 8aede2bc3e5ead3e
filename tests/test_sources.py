"""Bring your own data: exports in real shapes, read through a source mapping, end in clean tables or one line.

Every case writes its own small file the way a shop system exports it (latin-1, dd/mm dates, semicolons with
comma decimals, invoice lines with cancellations, orders only, customers without personal columns) and checks
rows in = kept + quarantined and revenue to the cent, or a one-line error that names the mapping key.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custml.cli import main
from custml.errors import MappingError
from custml.privacy import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE
from custml.quality.dedup import prepare_records
from custml.quality.validate import REASON_EXPLANATIONS, REASONS
from custml.sources import aggregate_line_items, infer_mapping, mapping_yaml, read_sources

KEY = "k" * 32
AS_OF = "2024-12-31"

# An invoice export: one row per line, cancellations 'C...' with negative quantities, lines without a customer.
INVOICE_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
INVOICE_LINES = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,13/01/2024 08:26,2.55,17850,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,13/01/2024 08:26,3.39,17850,United Kingdom",
    "536365,84406B,CRÈME CUPID HEARTS COAT HANGER,8,13/01/2024 08:26,2.75,17850,United Kingdom",
    "536366,22633,HAND WARMER UNION JACK,6,02/02/2024 08:28,1.85,17850,United Kingdom",
    "536366,22632,HAND WARMER RED POLKA DOT,6,02/02/2024 08:28,1.85,17850,United Kingdom",
    "C536379,71053,WHITE METAL LANTERN,-1,14/02/2024 09:41,3.39,17850,United Kingdom",
    "536370,22728,ALARM CLOCK BAKELIKE PINK,24,25/03/2024 08:45,3.75,12583,France",
    "536370,22727,ALARM CLOCK BAKELIKE RED ,24,25/03/2024 08:45,3.75,12583,France",
    "536370,POST,POSTAGE,3,25/03/2024 08:45,18,12583,France",
    "536414,22139,RETROSPOT TEA SET CÉRAMIQUE,56,30/03/2024 11:52,0,,United Kingdom",
    "536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,21/04/2024 14:32,2.51,,United Kingdom",
    "536544,21774,DECORATIVE CATS BATHROOM BOTTLE,2,21/04/2024 14:32,2.51,,United Kingdom",
    "C536548,22244,3 HOOK HANGER MAGIC GARDEN,-4,22/04/2024 14:33,1.95,12472,Germany",
    "536549,22244,3 HOOK HANGER MAGIC GARDEN,12,22/04/2024 13:33,1.95,12472,Germany",
]
INVOICE_MAPPING = """\
orders:
  file: invoices.csv
  encoding: latin-1
  timestamp_format: "%d/%m/%Y %H:%M"
  timezone: Europe/London
  currency: GBP
  line_items: true
  order_key: InvoiceNo
  refund_prefix: C
  columns:
    customer_id: CustomerID
    order_ts: InvoiceDate
    n_items: Quantity
    net_amount: Quantity * UnitPrice
    category: StockCode
"""


def _line_revenue() -> Decimal:
    total = Decimal(0)
    for line in INVOICE_LINES:
        f = line.split(",")
        total += Decimal(f[3]) * Decimal(f[5])
    return total


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)


@pytest.fixture
def invoices(tmp_path: Path) -> Path:
    data = tmp_path / "export"
    data.mkdir()
    text = "\n".join([INVOICE_HEADER, *INVOICE_LINES]) + "\n"
    (data / "invoices.csv").write_bytes(text.encode("latin-1"))
    return data


def _clean(data: Path, tmp_path: Path, *extra: str) -> int:
    args = [
        "clean",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--private-dir",
        str(tmp_path / "priv"),
    ]
    return main([*args, "--as-of", AS_OF, *extra])


def _report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "quality_report.json").read_text(encoding="utf-8"))


def _assert_reconciled(report: dict) -> None:
    assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
    for name, t in report["tables"].items():
        assert t["rows_in"] == t["rows_kept"] + t["rows_quarantined"], name
    orders = report["tables"]["orders"]
    assert round(orders["net_amount_kept"] + orders["net_amount_quarantined"], 2) == orders["net_amount_in"]
    # every quarantine reason that occurred is explained in one line
    assert set(report["reasons_explained"]) == set(report["quarantined_by_reason"])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


def test_invoice_lines_latin1_ddmm_with_cancellations(
    invoices: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "invoices.yaml").write_text(INVOICE_MAPPING, encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "invoices.yaml")) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "14 lines -> 8 orders (2 refunds)" in printed
    report = _report(tmp_path)
    _assert_reconciled(report)
    src = report["sources"]["tables"]["orders"]
    assert (src["lines_in"], src["orders_built"], src["currency"]) == (14, 8, "GBP")
    assert (src["lines_kept"], src["lines_quarantined"]) == (11, 3)  # 3 lines without a customer
    assert report["sources"]["currency"] == "GBP"
    orders_report = report["tables"]["orders"]
    # revenue to the cent: every line's Quantity * UnitPrice is in a kept or a quarantined order
    assert Decimal(str(orders_report["net_amount_in"])) == _line_revenue()
    assert orders_report["rows_in"] == 8 and orders_report["rows_quarantined"] == 2
    assert report["quarantined_by_reason"] == {"null_required": 2}  # the two invoices without a customer
    orders = pd.read_parquet(tmp_path / "out" / "orders.parquet")
    assert Decimal(str(round(orders["net_amount"].sum(), 2))) == Decimal(
        str(orders_report["net_amount_kept"])
    )
    refunds = orders[orders["is_refund"]]
    assert sorted(refunds["net_amount"].round(2)) == [-7.8, -3.39]  # kept, as negative revenue
    first = orders.sort_values("order_ts").iloc[0]
    # 13/01/2024 08:26 London (GMT) is 08:26 UTC; three lines, 20 items, main category by revenue
    assert first["order_ts"] == pd.Timestamp("2024-01-13 08:26")
    assert (first["n_items"], first["category"], round(first["net_amount"], 2)) == (20, "84406B", 57.64)
    summer = orders[orders["order_ts"].dt.month == 4]
    assert pd.Timestamp("2024-04-22 12:33") in set(summer["order_ts"])  # BST: 13:33 local is 12:33 UTC
    customers = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    assert len(customers) == 3  # derived from orders: 17850, 12583, 12472
    assert report["tables"]["customers"]["derived_from_orders"] is True
    assert any("de-duplication skipped" in h for h in report["hints"])


def test_wrong_encoding_names_the_mapping_key(
    invoices: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.yaml").write_text(INVOICE_MAPPING.replace("  encoding: latin-1\n", ""), encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 2
    err = _one_line_error(capsys)
    assert "mapping orders.encoding: invoices.csv is not utf-8 text" in err and "latin-1" in err


def test_day_first_dates_need_saying_so(
    invoices: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    no_format = INVOICE_MAPPING.replace('  timestamp_format: "%d/%m/%Y %H:%M"\n', "")
    (tmp_path / "m.yaml").write_text(no_format, encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 2
    err = _one_line_error(capsys)
    assert "mapping orders.columns.order_ts (source column 'InvoiceDate'): dates are day first" in err
    assert "dayfirst: true" in err and "rows)" in err
    (tmp_path / "m.yaml").write_text(no_format + "  dayfirst: true\n", encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 0
    orders = pd.read_parquet(tmp_path / "out" / "orders.parquet")
    assert orders["order_ts"].min() == pd.Timestamp("2024-01-13 08:26")


def test_semicolon_csv_with_comma_decimals(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "de"
    data.mkdir()
    (data / "bestellungen.csv").write_text(
        "Bestellnummer;Kunde;Datum;Betrag;Rabatt\n"
        "B-1;K1;13.01.2024;1.212,50;0,00\n"
        "B-2;K2;14.01.2024;19,99;-5,00\n"  # a negative discount: an optional value, nulled and counted
        "B-3;K1;15.01.2024;-3,20;\n"  # a refund (negative amount, no refund flag)
        "B-4;;16.01.2024;7,10;\n",  # no customer: quarantined, its revenue counted
        encoding="utf-8",
    )
    mapping = (
        "orders:\n  file: bestellungen.csv\n  delimiter: ';'\n  decimal: ','\n  thousands: '.'\n"
        "  timestamp_format: '%d.%m.%Y'\n  currency: EUR\n  columns:\n    order_id: Bestellnummer\n"
        "    customer_id: Kunde\n    order_ts: Datum\n    net_amount: Betrag\n    discount_amount: Rabatt\n"
    )
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    assert _clean(data, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 0
    report = _report(tmp_path)
    _assert_reconciled(report)
    orders_report = report["tables"]["orders"]
    assert (orders_report["net_amount_in"], orders_report["net_amount_kept"]) == (1236.39, 1229.29)
    assert orders_report["net_amount_quarantined"] == 7.10
    assert orders_report["refunds_inferred_from_sign"] == 1
    assert orders_report["values_nulled"] == {"discount_amount": 1}
    # without the decimal mark the amounts are not numbers: one line naming the key and the column
    (tmp_path / "m.yaml").write_text(mapping.replace("  decimal: ','\n", ""), encoding="utf-8")
    assert _clean(data, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 2
    err = _one_line_error(capsys)
    assert "mapping orders.columns.net_amount (source column 'Betrag'): is not a number in" in err
    assert "decimal" in err


def test_orders_only_is_enough(tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "raw"
    data.mkdir()
    pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "customer_id": ["a", "a", "b", "c"],
            "order_ts": ["2024-01-02 10:00:00", "2024-03-02 10:00:00", "2024-02-01 09:00:00", "2025-06-01"],
            "net_amount": [10.0, 12.5, -4.0, 3.0],
        }
    ).to_csv(data / "orders.csv", index=False)
    assert _clean(data, tmp_path) == 0
    report = _report(tmp_path)
    _assert_reconciled(report)
    assert "customers derived from orders" in " ".join(capsys.readouterr().out.split())
    customers = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    assert len(customers) == 2  # c first ordered after the as-of date: not yet a customer
    assert sorted(customers["signup_date"]) == [
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-02-01 09:00"),
    ]
    q = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert sorted(q["reason"]) == ["future_timestamp", "future_timestamp"]  # c's record and c's order
    assert report["tables"]["orders"]["refunds_inferred_from_sign"] == 1


@pytest.mark.parametrize("empty", [False, True], ids=["no personal columns", "all-null personal columns"])
def test_customers_without_personal_data(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str], empty: bool
) -> None:
    data = tmp_path / "raw"
    data.mkdir()
    customers = "customer_id,signup_date" + (",name,email,phone" if empty else "") + "\n"
    for cid in ("c1", "c2", "c3"):
        customers += f"{cid},2024-01-01" + (",,," if empty else "") + "\n"
    (data / "customers.csv").write_text(customers, encoding="utf-8")
    (data / "orders.csv").write_text(
        "order_id,customer_id,order_ts,net_amount\no1,c1,2024-02-01,5.5\no2,c2,2024-02-02,6.25\n",
        encoding="utf-8",
    )
    assert _clean(data, tmp_path) == 0
    report = _report(tmp_path)
    _assert_reconciled(report)
    assert "no identity columns with values" in report["dedup"]["skipped"]
    assert "de-duplication skipped" in " ".join(capsys.readouterr().out.split())
    assert len(pd.read_parquet(tmp_path / "out" / "customers.parquet")) == 3


def test_all_null_identity_columns_do_not_break_the_scoring_path() -> None:
    """`custml score` re-cleans with de-duplication on (run_clean(raw=..., write=False)): no crash."""
    from custml.quality import clean_tables

    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "signup_date": ["2024-01-01"] * 3,
            "name": [None, None, "Ann Lee"],
            "email": [None] * 3,
            "phone": [None] * 3,
            "birth_date": [None] * 3,
        }
    )
    orders = pd.DataFrame(
        {"order_id": ["o1"], "customer_id": ["c1"], "order_ts": ["2024-02-01"], "net_amount": [1.0]}
    )
    result = clean_tables({"customers": customers, "orders": orders}, AS_OF, KEY.encode())
    assert len(result.tables["customers"]) == 3 and result.report.dedup.identity_columns == ["name"]
    # all-null columns prepare to null keys, not a TypeError (object + str)
    prepared = prepare_records(customers.assign(name=[None, None, None], address=[None] * 3))
    assert prepared[["first_name", "surname", "address", "birth_date"]].isna().all().all()


def test_line_item_file_mapped_as_orders_says_so(
    invoices: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    naive = INVOICE_MAPPING.replace("  line_items: true\n  order_key: InvoiceNo\n", "").replace(
        "    customer_id:", "    order_id: InvoiceNo\n    customer_id:"
    )
    (tmp_path / "m.yaml").write_text(naive, encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "this looks like a line-item file" in printed and "line_items: true" in printed
    report = _report(tmp_path)
    _assert_reconciled(report)
    assert any("line-item file" in h for h in report["hints"])
    # even mapped naively, refund lines keep their revenue: only repeated keys are quarantined
    assert Decimal(str(report["tables"]["orders"]["net_amount_in"])) == _line_revenue()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("CustomerID", "CustID"),
            "mapping orders.columns.customer_id (source column 'CustID'): no such column",
        ),
        (("Quantity * UnitPrice", "Quantity * Price"), "orders.columns.net_amount (source column 'Price')"),
        (("category: StockCode", "colour: StockCode"), "mapping orders.columns.colour: is not a column of"),
        (
            ("order_key: InvoiceNo", "order_key: Invoice"),
            "mapping orders.order_key (source column 'Invoice')",
        ),
        (("file: invoices.csv", "file: nowhere.csv"), "mapping orders.file: file not found"),
        (("timezone: Europe/London", "timezone: Mars/Olympus"), "mapping orders.timezone: unknown time zone"),
        (
            ("  currency: GBP\n", "  curency: GBP\n"),
            "mapping orders.curency: is not a mapping option (did you mean 'currency'?)",
        ),
    ],
)
def test_mapping_errors_are_one_line_naming_the_key(
    invoices: Path,
    tmp_path: Path,
    key_env: None,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    expected: str,
) -> None:
    (tmp_path / "m.yaml").write_text(INVOICE_MAPPING.replace(*change), encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 2
    assert expected in _one_line_error(capsys)


def test_infer_proposes_a_working_mapping(
    invoices: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    proposal = infer_mapping(invoices / "invoices.csv")
    orders = proposal["orders"]
    assert orders["encoding"] in ("cp1252", "latin-1")
    assert orders["timestamp_format"] == "%d/%m/%Y %H:%M"
    assert (orders["line_items"], orders["order_key"], orders["refund_prefix"]) == (True, "InvoiceNo", "C")
    assert orders["columns"]["net_amount"] == "Quantity * UnitPrice"
    assert orders["columns"]["customer_id"] == "CustomerID"
    assert main(["sources", "infer", str(invoices / "invoices.csv")]) == 0
    printed = capsys.readouterr().out
    assert printed == mapping_yaml(proposal) and "line items:" in printed
    (tmp_path / "proposed.yaml").write_text(printed, encoding="utf-8")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "proposed.yaml")) == 0
    report = _report(tmp_path)
    _assert_reconciled(report)
    assert Decimal(str(report["tables"]["orders"]["net_amount_in"])) == _line_revenue()
    assert main(["sources", "check", str(tmp_path / "proposed.yaml"), "--data", str(invoices)]) == 0
    assert "14 rows read -> 8 rows (line items: 8 orders, 2 refunds)" in " ".join(
        capsys.readouterr().out.split()
    )


def test_expressions_and_a_folder_of_files(tmp_path: Path) -> None:
    data = tmp_path / "exports"
    (data / "orders").mkdir(parents=True)
    (data / "orders" / "2024-01.csv").write_text("id,cust,when,Unit Price,qty\n1,a,2024-01-05,2.5,4\n")
    (data / "orders" / "2024-02.csv").write_text(
        "id,cust,when,Unit Price,qty\n2,b,2024-02-05,x,2\n3,b,2024-02-06,1,3\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "orders:\n  file: orders\n  columns:\n    order_id: id\n    customer_id: cust\n    order_ts: when\n"
        "    net_amount: '`Unit Price` * qty - 0.5'\n    gross_amount: '`Unit Price` * qty'\n",
    )
    sources = read_sources(data, mapping)
    orders = sources.tables["orders"]
    assert orders["net_amount"].tolist()[0] == 9.5 and np.isnan(orders["net_amount"].tolist()[1])
    assert orders["order_ts"].tolist() == [
        "2024-01-05 00:00:00",
        "2024-02-05 00:00:00",
        "2024-02-06 00:00:00",
    ]
    assert len(sources.report["orders"]["files"]) == 2
    mapping.write_text(mapping.read_text().replace("'`Unit Price` * qty - 0.5'", "'qty ** 2'"))
    with pytest.raises(MappingError, match=r"mapping orders.columns.net_amount: no column 'qty \*\* 2'"):
        read_sources(data, mapping)


def test_line_items_aggregate_and_keep_keyless_lines_apart() -> None:
    lines = pd.DataFrame(
        {
            "order_id": ["A", "A", None, None, "CB"],
            "customer_id": ["1", "1", "2", "2", "1"],
            "order_ts": pd.to_datetime(
                ["2024-01-02 10:05", "2024-01-02 10:00", "2024-01-03", "2024-01-04", "2024-01-05"],
                format="ISO8601",
            ),
            "n_items": [1.0, 2.0, 1.0, 1.0, -2.0],
            "net_amount": [1.0, 4.0, 2.0, 3.0, 4.0],
            "category": ["x", "y", "x", "x", "y"],
        }
    )
    out = aggregate_line_items(lines, refund_prefix="C")
    assert out["order_id"].tolist()[:1] == ["A"] and out["order_id"].isna().sum() == 2
    a = out.iloc[0]
    assert (a["n_items"], a["net_amount"], a["category"], a["order_ts"]) == (
        3,
        5.0,
        "y",
        pd.Timestamp("2024-01-02 10:00"),
    )
    # a cancellation key with a positive amount is still a refund: the quality stage quarantines the contradiction
    assert out.set_index("order_id").loc["CB", "is_refund"]
    assert out["n_lines"].sum() == len(lines)


def test_every_reason_has_an_explanation() -> None:
    assert set(REASON_EXPLANATIONS) == set(REASONS)
    assert all(text and "\n" not in text for text in REASON_EXPLANATIONS.values())


def test_readme_invoice_mapping_works_on_an_invoice_export(
    invoices: Path, tmp_path: Path, key_env: None
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("# retail.yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "retail.yaml").write_text(block, encoding="utf-8")
    (invoices / "invoices.csv").rename(invoices / "online_retail.csv")
    assert _clean(invoices, tmp_path, "--mapping", str(tmp_path / "retail.yaml")) == 0
    report = _report(tmp_path)
    _assert_reconciled(report)
    assert Decimal(str(report["tables"]["orders"]["net_amount_in"])) == _line_revenue()
    assert report["sources"]["tables"]["orders"]["refund_orders"] == 2


def test_customers_signed_up_after_as_of_are_not_yet_customers() -> None:
    from custml.quality import clean_tables
    from custml.scoring.accounting import not_yet_customers

    customers = pd.DataFrame(
        {"customer_id": ["c1", "c2", "c3"], "signup_date": ["2024-01-01", "2025-03-01", "2099-13-01"]}
    )
    orders = pd.DataFrame(
        {"order_id": ["o1"], "customer_id": ["c1"], "order_ts": ["2024-02-01"], "net_amount": [1.0]}
    )
    result = clean_tables({"customers": customers, "orders": orders}, AS_OF, KEY.encode())
    assert sorted(result.quarantine["reason"]) == ["future_timestamp", "unparseable_timestamp"]
    # only the later sign-up is "not yet a customer"; the broken date stays a quality loss
    assert not_yet_customers(result.quarantine) == 1


def test_orders_after_as_of_are_counted_apart_from_quality_losses() -> None:
    """Scoring as of a day before the data ends: the later orders are quarantined as future_timestamp by the
    quality stage, but the scores' meta counts them apart (an invoice export scored as of 2011-10-01 showed
    9,270 of 18,865 rows as quality losses); a date past the data's end (a typo) stays a quality loss."""
    from custml.quality import clean_tables
    from custml.scoring.accounting import orders_after_as_of, quality_meta

    customers = pd.DataFrame({"customer_id": ["c1", "c2"], "signup_date": ["2024-01-01", "2024-02-01"]})
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "customer_id": ["c1", "c1", "c2", "c2", "c1", "c2"],
            "order_ts": ["2024-02-01", "2025-02-01", "2024-03-01", "2025-03-01", "garbage", "2099-01-01"],
            "net_amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    data_end = "2025-03-02"  # the day after the last real order
    result = clean_tables({"customers": customers, "orders": orders}, AS_OF, KEY.encode())
    assert orders_after_as_of(result.quarantine, data_end) == 2
    meta = quality_meta(result.report, result.quarantine, data_end)
    assert meta.orders_after_as_of == 2 and meta.customers_not_yet == 0
    # the unreadable timestamp and the year-2099 typo are the quality losses
    assert meta.rows_quarantined == result.report.rows_quarantined - 2 == 2
    assert meta.quarantined_by_table["orders"] == 2
    assert meta.quarantined_by_reason == {"unparseable_timestamp": 1, "future_timestamp": 1}
    # rows in = rows kept + quality losses + orders after the as-of date
    kept = len(result.tables["orders"]) + len(result.tables["customers"])
    assert meta.rows_in == kept + meta.rows_quarantined + meta.orders_after_as_of
    # scoring as of the data's end (or without knowing it): every future date stays a quality loss
    assert quality_meta(result.report, result.quarantine).orders_after_as_of == 0
    assert orders_after_as_of(result.quarantine, AS_OF) == 0


def test_customers_and_orders_both_mapped(tmp_path: Path, key_env: None) -> None:
    data = tmp_path / "crm"
    data.mkdir()
    (data / "kunden.csv").write_bytes(
        "Kundennr;Angelegt;Name;EMail\nK1;01.02.2023;Jörg Müller;jm@example.de\nK2;03.02.2023;Jörg Müller;"
        "jm@example.de\nK3;04.02.2023;;\n".encode("latin-1")
    )
    (data / "bestellungen.csv").write_text(
        "Nr;Kunde;Datum;Betrag\nB1;K1;05.02.2023;10,00\nB2;K2;06.02.2023;5,50\n"
    )
    (tmp_path / "m.yaml").write_text(
        "customers:\n  file: kunden.csv\n  encoding: latin-1\n  delimiter: ';'\n  dayfirst: true\n"
        "  columns: {customer_id: Kundennr, signup_date: Angelegt, name: Name, email: EMail}\n"
        "orders:\n  file: bestellungen.csv\n  delimiter: ';'\n  decimal: ','\n  dayfirst: true\n"
        "  columns: {order_id: Nr, customer_id: Kunde, order_ts: Datum, net_amount: Betrag}\n",
        encoding="utf-8",
    )
    assert _clean(data, tmp_path, "--mapping", str(tmp_path / "m.yaml")) == 0
    report = _report(tmp_path)
    _assert_reconciled(report)
    assert report["duplicates_merged"] == 1  # K1 and K2: same name and e-mail, read from latin-1
    assert report["dedup"]["identity_columns"] == ["name", "email"]
    assert report["tables"]["orders"]["net_amount_kept"] == 15.5
    customers = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    assert sorted(customers["signup_date"]) == [pd.Timestamp("2023-02-01"), pd.Timestamp("2023-02-04")]
