"""Bring your own data, third round: an early scoring date on every table, a far-future date typo, Excel.

Each case is written in the shape a real export has (invoice lines with refunds as negative quantities, a
latin-1 semicolon file with day-first dates and comma decimals, a CRM's ticket and campaign exports, an .xlsx
workbook) and runs through the CLI or the public functions, ending with rows in = rows out + quarantined (+
counted apart).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from custml.cli import main
from custml.privacy import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE

KEY = "r" * 32
NOW = pd.Timestamp("2026-12-02")


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)


def _invoice_lines(typo: str | None = None) -> str:
    """A latin-1, semicolon, day-first invoice-line export (comma decimals); a refund is a 'C' invoice with a
    negative quantity. Invoices run from 2011-09-05 to 2011-12-09."""
    rows = []
    days = pd.date_range("2011-09-05", "2011-12-09", freq="7D").tolist() + [pd.Timestamp("2011-12-09")]
    for i, day in enumerate(days):
        ts = day.strftime("%d/%m/%Y 10:%M")
        cust = f"1{i % 4}850"
        rows.append(f"5{i:05d};85123A;HÄNGELAMPE WEIß;6;{ts};2,55;{cust};Österreich")
        rows.append(f"5{i:05d};71053;KERZENHALTER;2;{ts};3,39;{cust};Österreich")
    rows.append("C500002;85123A;HÄNGELAMPE WEIß;-2;20/09/2011 12:00;2,55;10850;Österreich")
    if typo:
        rows.append(f"599999;71053;KERZENHALTER;1;{typo};3,39;11850;Österreich")
    header = "Rechnung;Artikel;Bezeichnung;Menge;Datum;Preis;Kunde;Land"
    return header + "\n" + "\n".join(rows) + "\n"


ORDERS_MAPPING = """\
orders:
  file: rechnungen.csv
  encoding: latin-1
  delimiter: ";"
  decimal: ","
  timestamp_format: "%d/%m/%Y %H:%M"
  line_items: true
  order_key: Rechnung
  refund_prefix: C
  columns: {customer_id: Kunde, order_ts: Datum, n_items: Menge, net_amount: Menge * Preis, category: Artikel}
"""


def _crm_export(data: Path) -> str:
    """Support tickets and a campaign from a CRM, each with rows before and after 2011-10-01, and one ticket
    typed as 2099; returns the full mapping."""
    (data / "tickets.csv").write_bytes(
        (
            "Ticket;Kunde;Erstellt;Art\n"
            "T1;10850;12/09/2011 09:00;support_ticket\n"
            "T2;11850;02/11/2011 16:30;support_ticket\n"
            "T3;12850;05/12/2011 08:15;complaint\n"
            "T4;13850;01/01/2099 00:00;support_ticket\n"
        ).encode("latin-1")
    )
    (data / "kampagne.csv").write_text(
        "Kampagne;Kunde;Versand;Gruppe;Kosten\n"
        "K1;10850;15/09/2011;offer;1,50\nK1;11850;15/09/2011;control;0\n"
        "K2;12850;15/11/2011;offer;1,50\nK2;13850;15/11/2011;control;0\n",
        encoding="utf-8",
    )
    return (
        ORDERS_MAPPING
        + """\
interactions:
  file: tickets.csv
  encoding: latin-1
  delimiter: ";"
  dayfirst: true
  columns: {interaction_id: Ticket, customer_id: Kunde, ts: Erstellt, kind: Art}
campaigns:
  file: kampagne.csv
  delimiter: ";"
  decimal: ","
  dayfirst: true
  columns: {campaign_id: Kampagne, customer_id: Kunde, sent_ts: Versand, arm: Gruppe, offer_cost: Kosten}
"""
    )


def test_early_scoring_counts_later_rows_of_every_table_apart(tmp_path: Path, key_env: None) -> None:
    """Scoring as of 2011-10-01 on data to 2011-12-09: later orders, tickets and campaign sends are not quality
    losses; the ticket dated 2099 (after the current date) is."""
    from custml.pipeline import default_as_of, run_clean
    from custml.pipeline.clean import read_inputs
    from custml.report.sections.quality import data_quality
    from custml.scoring.accounting import quality_meta

    data = tmp_path / "export"
    data.mkdir()
    (data / "rechnungen.csv").write_bytes(_invoice_lines().encode("latin-1"))
    (tmp_path / "m.yaml").write_text(_crm_export(data), encoding="utf-8")
    raw, _ = read_inputs(data, tmp_path / "m.yaml")
    data_end = default_as_of(data, raw["orders"])
    assert data_end == pd.Timestamp("2011-12-10")
    result = run_clean(
        data, as_of="2011-10-01", root=tmp_path / "project", mapping=tmp_path / "m.yaml", write=False
    )
    q = result.quarantine
    assert set(q["reason"]) == {"future_timestamp"}  # the quality stage itself quarantines all later rows
    # and its report says which of them are the data's later rows
    after = result.report.after_as_of
    assert after is not None and after.data_end == "2011-12-10T00:00:00"
    assert after.rows == {"orders": len(q) - 5, "interactions": 2, "campaigns": 2}
    assert any("are the data's later rows" in h for h in result.report.hints)
    meta = quality_meta(result.report, q, data_end)
    later_orders = int((raw["orders"]["order_ts"] > "2011-10-01").sum())
    assert meta.rows_after_as_of == {"orders": later_orders, "interactions": 2, "campaigns": 2}
    assert meta.orders_after_as_of == later_orders and meta.customers_not_yet == 0
    # the 2099 ticket is the one quality loss, named as later than the current date
    assert meta.rows_quarantined == 1
    assert meta.quarantined_by_table == {"customers": 0, "orders": 0, "interactions": 1, "campaigns": 0}
    assert meta.quarantined_by_reason == {"future_timestamp": 1}
    assert q.loc[q["record_id"] == "T4", "detail"].str.contains("later than the current date").all()
    assert "interactions" in (meta.after_as_of_explained or "")
    # reconciled: rows in = rows kept + quality losses + rows counted apart
    kept = sum(len(t) for t in result.tables.values())
    assert meta.rows_kept == kept
    assert meta.rows_in == kept + meta.rows_quarantined + sum(meta.rows_after_as_of.values())
    # the report shows them as rows after the scoring date, not as quarantined
    dq = data_quality(meta, [], {}, 0)  # the report's section reads the typed quality block
    assert dq.after_as_of == sum(meta.rows_after_as_of.values()) and dq.rows_quarantined == 1


def test_a_far_future_typo_does_not_move_the_data_end(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """One invoice typed 01/01/2099 in data to 2011-12-09, no manifest: the inferred end stays 2011-12-09, the
    typo is quarantined as future_timestamp and `custml clean` says so with table, column and count."""
    from custml.pipeline import default_as_of
    from custml.pipeline.clean import read_inputs

    data = tmp_path / "export"
    data.mkdir()
    (data / "rechnungen.csv").write_bytes(_invoice_lines(typo="01/01/2099 10:00").encode("latin-1"))
    (tmp_path / "m.yaml").write_text(ORDERS_MAPPING, encoding="utf-8")
    raw, _ = read_inputs(data, tmp_path / "m.yaml")
    assert default_as_of(data, raw["orders"], now=NOW) == pd.Timestamp("2011-12-10")
    out = tmp_path / "out"
    args = ["clean", "--data", str(data), "--mapping", str(tmp_path / "m.yaml"), "--out", str(out)]
    assert main([*args, "--private-dir", str(tmp_path / "p")]) == 0
    said = " ".join(capsys.readouterr().out.split())
    report = json.loads((out / "quality_report.json").read_text(encoding="utf-8"))
    orders = report["tables"]["orders"]
    assert orders["quarantined_by_reason"] == {"future_timestamp": 1}
    assert orders["timestamps_after_now"] == {"order_ts": 1}
    assert orders["rows_in"] == orders["rows_kept"] + orders["rows_quarantined"]
    assert "orders.order_ts: 1 timestamp(s) later than the current date" in said
    assert "the data end is taken as 2011-12-09" in said
    # an explicit as-of later than the typo does not let it through either
    assert main([*args, "--private-dir", str(tmp_path / "p"), "--as-of", "2100-01-01"]) == 0
    report = json.loads((out / "quality_report.json").read_text(encoding="utf-8"))
    assert report["tables"]["orders"]["quarantined_by_reason"] == {"future_timestamp": 1}


def test_an_isolated_far_outlier_is_left_out_of_the_data_end() -> None:
    from custml.quality.timeline import infer_data_end

    bulk = pd.Series(pd.date_range("2011-01-04", "2011-12-09 12:00", periods=3000))
    typo = pd.concat([bulk, pd.Series([pd.Timestamp("2021-12-01")])], ignore_index=True)
    d = infer_data_end(typo, NOW)
    assert d.end == bulk.max() and (d.outliers, d.after_now) == (1, 0)
    assert "1 more than 365 days after all others" in str(d.note("orders.order_ts"))
    # a real quiet year is not an outlier: many rows after the gap
    later = pd.Series(pd.date_range("2013-01-01", "2013-03-01", periods=50))
    assert infer_data_end(pd.concat([bulk, later]), NOW).end == later.max()
    # a small file: no outlier rule (too few values to tell), only the current-date one
    assert infer_data_end(typo.iloc[-20:], NOW).end == pd.Timestamp("2021-12-01")


def _workbook(path: Path) -> None:
    """An Online Retail-shaped workbook: invoice lines, a cancellation 'C' invoice with a negative quantity,
    real Excel dates on the first sheet, a notes sheet before it in the second workbook."""
    lines = pd.DataFrame(
        {
            "InvoiceNo": [536365, 536365, 536366, "C536379", 536380, 536380],
            "StockCode": ["85123A", "71053", "22633", "85123A", "22632", "84879"],
            "Description": ["WHITE HANGING HEART", "WHITE LANTERN", "HAND WARMER", "WHITE HANGING HEART",
                            "HAND WARMER RED", "BIRD ORNAMENT"],
            "Quantity": [6, 6, 6, -2, 4, 8],
            "InvoiceDate": pd.to_datetime(["2010-12-01 08:26", "2010-12-01 08:26", "2010-12-01 08:28",
                                           "2010-12-01 09:41", "2010-12-02 10:00", "2010-12-02 10:00"]),
            "UnitPrice": [2.55, 3.39, 1.85, 2.55, 2.10, 1.69],
            "CustomerID": [17850.0, 17850.0, 17850.0, 17850.0, 13047.0, 13047.0],
            "Country": ["United Kingdom"] * 6,
        }
    )  # fmt: skip
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        lines.to_excel(writer, sheet_name="Online Retail", index=False)
    with pd.ExcelWriter(path.with_name("with_notes.xlsx"), engine="openpyxl") as writer:
        pd.DataFrame({"note": ["exported by the shop system"]}).to_excel(
            writer, sheet_name="Notes", index=False
        )
        day_first = lines.assign(InvoiceDate=lines["InvoiceDate"].dt.strftime("%d/%m/%Y %H:%M"))
        day_first.to_excel(writer, sheet_name="Lines", index=False)


def test_an_excel_workbook_is_inferred_and_cleaned(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from decimal import Decimal

    data = tmp_path / "export"
    data.mkdir()
    book = data / "Online Retail.xlsx"
    _workbook(book)
    assert main(["sources", "infer", str(book)]) == 0
    proposal = capsys.readouterr().out
    (tmp_path / "m.yaml").write_text(proposal, encoding="utf-8")
    import yaml

    orders = yaml.safe_load(proposal)["orders"]
    assert orders["line_items"] is True and orders["order_key"] == "InvoiceNo"
    assert orders["refund_prefix"] == "C"
    assert orders["columns"]["net_amount"] == "Quantity * UnitPrice"
    out = tmp_path / "out"
    args = ["clean", "--data", str(data), "--out", str(out), "--private-dir", str(tmp_path / "p")]
    assert main([*args, "--mapping", str(tmp_path / "m.yaml"), "--as-of", "2011-01-01"]) == 0
    report = json.loads((out / "quality_report.json").read_text(encoding="utf-8"))
    src = report["sources"]["tables"]["orders"]
    assert (src["lines_in"], src["orders_built"], src["refund_orders"]) == (6, 4, 1)
    assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
    assert report["rows_quarantined"] == 0
    expected = Decimal("15.30") + Decimal("20.34") + Decimal("11.10") - Decimal("5.10") + Decimal("8.40")
    assert Decimal(str(report["tables"]["orders"]["net_amount_kept"])) == expected + Decimal("13.52")
    assert report["tables"]["customers"]["rows_in"] == 2  # 17850.0 read as the customer 17850

    # day-first date text on a named sheet that is not the first
    notes = data / "with_notes.xlsx"
    capsys.readouterr()
    assert main(["sources", "infer", str(notes), "--sheet", "Lines"]) == 0
    proposal = yaml.safe_load(capsys.readouterr().out)["orders"]
    assert proposal["sheet"] == "Lines" and proposal["timestamp_format"] == "%d/%m/%Y %H:%M"
    mapping = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace("file: Online Retail.xlsx", "file: with_notes.xlsx\n  sheet: Lines")
    mapping += '  timestamp_format: "%d/%m/%Y %H:%M"\n'
    (tmp_path / "m2.yaml").write_text(mapping, encoding="utf-8")
    assert main([*args, "--mapping", str(tmp_path / "m2.yaml"), "--as-of", "2011-01-01"]) == 0
    again = json.loads((out / "quality_report.json").read_text(encoding="utf-8"))
    assert again["tables"]["orders"]["net_amount_kept"] == report["tables"]["orders"]["net_amount_kept"]
    # a sheet that is not there: one line naming the key and the sheets
    (tmp_path / "m3.yaml").write_text(mapping.replace("sheet: Lines", "sheet: Line"), encoding="utf-8")
    capsys.readouterr()
    assert main([*args, "--mapping", str(tmp_path / "m3.yaml"), "--as-of", "2011-01-01"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "orders.sheet" in err and "no sheet 'Line' (did you mean 'Lines'?)" in err and "Traceback" not in err
    )


@pytest.mark.parametrize(("key", "price"), [("Rechnung", "Preis"), ("Belegnr", "Einzelpreis")])
def test_infer_proposes_line_items_of_a_latin1_semicolon_day_first_export(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str], key: str, price: str
) -> None:
    """The new-user path on a German invoice-line export: the proposal is used as it is."""
    import yaml

    data = tmp_path / "export"
    data.mkdir()
    text = _invoice_lines().replace("Rechnung;", f"{key};").replace(";Preis;", f";{price};")
    (data / "rechnungen.csv").write_bytes(text.encode("latin-1"))
    assert main(["sources", "infer", str(data / "rechnungen.csv")]) == 0
    proposal = capsys.readouterr().out
    orders = yaml.safe_load(proposal)["orders"]
    assert orders["encoding"] in ("latin-1", "cp1252") and orders["delimiter"] == ";"
    assert orders["decimal"] == "," and orders["timestamp_format"] == "%d/%m/%Y %H:%M"
    assert (orders["line_items"], orders["order_key"], orders["refund_prefix"]) == (True, key, "C")
    assert orders["columns"]["net_amount"] == f"Menge * {price}"
    (tmp_path / "m.yaml").write_text(proposal, encoding="utf-8")
    out = tmp_path / "out"
    args = ["clean", "--data", str(data), "--mapping", str(tmp_path / "m.yaml"), "--out", str(out)]
    assert main([*args, "--private-dir", str(tmp_path / "p"), "--as-of", "2012-01-01"]) == 0
    report = json.loads((out / "quality_report.json").read_text(encoding="utf-8"))
    src = report["sources"]["tables"]["orders"]
    assert src["lines_in"] == src["lines_kept"] + src["lines_quarantined"] == text.count("\n") - 1
    assert src["refund_orders"] == 1 and report["rows_quarantined"] == 0


def test_without_the_current_date_only_the_outlier_rule_applies() -> None:
    from custml.quality.timeline import infer_data_end

    future_world = pd.Series(pd.date_range("2030-01-01", "2032-12-31", periods=500))
    assert infer_data_end(future_world, now=None).end == future_world.max()
    assert infer_data_end(future_world, now=NOW).end is None  # every value after the current date
