"""Bring your own data, several files: a marketplace export in five related CSV files (the public Brazilian
e-commerce schema) goes through `custml sources infer DIR` and `custml clean` with the proposal unchanged; the
mapping's joins, child aggregates, constants, filters and SQL expressions, and their one-line errors.
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
from custml.sources import TableSource, infer_folder, infer_mapping, read_sources
from custml.sources.expressions import sql_expression
from custml.sources.relations import relate
from custml.sources.tables import read_source_table
from custml.synth import WorldParams, generate_world
from custml.synth.exports import MARKETPLACE_FILES, write_marketplace_export

KEY = "m" * 32
AS_OF = "2025-12-31"
NOT_PAID = ("canceled", "unavailable")


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("marketplace")
    write_marketplace_export(generate_world(WorldParams(n_customers=250, seed=7)), folder, seed=3)
    return folder


def _read(export: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(export / MARKETPLACE_FILES[name], dtype=str, keep_default_na=False)


def test_the_export_is_consistent(export: Path) -> None:
    orders, payments, items = _read(export, "orders"), _read(export, "payments"), _read(export, "items")
    customers = _read(export, "customers")
    assert customers["customer_id"].is_unique and len(customers) == len(orders)
    assert customers["customer_unique_id"].nunique() < len(customers)  # persons with several orders
    paid = payments.assign(v=payments["payment_value"].map(Decimal)).groupby("order_id")["v"].sum()
    items_value = items.assign(v=items["price"].map(Decimal) + items["freight_value"].map(Decimal))
    assert paid.to_dict() == items_value.groupby("order_id")["v"].sum().to_dict()  # to the cent
    assert set(orders["order_status"]) >= {"delivered", "canceled"}
    assert (payments["payment_type"] == "voucher").any()


def test_infer_a_folder_then_clean_with_the_proposal_unchanged(
    export: Path, tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "infer", str(export)]) == 0
    proposal = capsys.readouterr().out
    mapping = tmp_path / "marketplace.yaml"
    mapping.write_text(proposal, encoding="utf-8")
    body = yaml.safe_load(proposal)
    assert body["orders"]["columns"]["customer_id"] == "customer_unique_id"
    assert body["interactions"]["constants"] == {"kind": "survey"}
    assert "one per order" in proposal and "&id" not in proposal  # the person note; no YAML aliases
    args = ["clean", "--data", str(export), "--mapping", str(mapping)]
    args += ["--out", str(tmp_path / "out"), "--private-dir", str(tmp_path / "priv")]
    assert main(args) == 0
    printed = " ".join(capsys.readouterr().out.split())
    report = json.loads((tmp_path / "out" / "quality_report.json").read_text(encoding="utf-8"))

    orders_src, customers_src = _read(export, "orders"), _read(export, "customers")
    payments = _read(export, "payments")
    paid_out = orders_src[~orders_src["order_status"].isin(NOT_PAID)]
    # orders in = kept + quarantined + excluded by the mapping's filter
    orders_rep = report["tables"]["orders"]
    excluded = report["sources"]["tables"]["orders"]["rows_excluded"]
    assert excluded == int(orders_src["order_status"].isin(NOT_PAID).sum()) > 0
    assert len(orders_src) == orders_rep["rows_kept"] + orders_rep["rows_quarantined"] + excluded
    assert f"{excluded:,} rows excluded by the mapping's filter" in printed
    # kept revenue = the payments of the orders not canceled or unavailable, to the cent
    expected = payments[payments["order_id"].isin(paid_out["order_id"])]["payment_value"].map(Decimal).sum()
    assert orders_rep["rows_quarantined"] == 0, report["quarantined_by_reason"]
    assert Decimal(str(orders_rep["net_amount_kept"])) == expected
    # customers = the distinct persons behind those orders (not the per-order customer ids)
    persons = customers_src.set_index("customer_id").loc[paid_out["customer_id"], "customer_unique_id"]
    customers = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    assert len(customers) == persons.nunique() < len(paid_out)
    # reviews arrive as survey interactions with their scores (a review of a person whose only orders were
    # canceled has no customer: quarantined as unknown_customer, counted)
    reviews = _read(export, "reviews")
    inter_rep = report["tables"]["interactions"]
    assert inter_rep["rows_in"] == len(reviews) == inter_rep["rows_kept"] + inter_rep["rows_quarantined"]
    interactions = pd.read_parquet(tmp_path / "out" / "interactions.parquet")
    assert set(interactions["kind"]) == {"survey"}
    quarantined = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert set(quarantined.loc[quarantined["table"] == "interactions", "reason"]) <= {"unknown_customer"}
    kept_reviews = reviews[
        ~reviews.index.isin(quarantined.loc[quarantined["table"] == "interactions", "row_number"])
    ]
    assert sorted(interactions["score"].astype(int)) == sorted(kept_reviews["review_score"].astype(int))


def test_infer_a_folder_finds_joins_amount_filter_and_notes(export: Path) -> None:
    proposal = infer_folder(export)
    orders = proposal["orders"]
    assert orders["file"] == MARKETPLACE_FILES["orders"]
    assert orders["join"] == [
        {"file": MARKETPLACE_FILES["customers"], "key": "customer_id", "columns": ["customer_unique_id"]}
    ]
    aggregates = {a["file"]: a["columns"] for a in orders["aggregate"]}
    assert aggregates[MARKETPLACE_FILES["payments"]] == {"paid": "sum(payment_value)"}
    assert aggregates[MARKETPLACE_FILES["items"]]["items_value"] == "sum(price + freight_value)"
    assert orders["columns"]["net_amount"] == "paid" and orders["columns"]["n_items"] == "n_lines"
    assert orders["where"] == "order_status not in ('canceled', 'unavailable')"
    assert orders["columns"]["order_ts"] == "order_purchase_timestamp"
    inter = proposal["interactions"]
    assert inter["columns"]["score"] == "review_score" and inter["columns"]["interaction_id"] == "review_id"
    assert [j["file"] for j in inter["join"]] == [MARKETPLACE_FILES["orders"], MARKETPLACE_FILES["customers"]]
    notes = " ".join(proposal["notes"])
    assert "the alternative is sum(price + freight_value)" in notes and "order_status" in notes


def test_infer_on_a_missing_folder_or_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "infer", str(tmp_path / "nothing")]) != 0
    assert "file not found" in capsys.readouterr().err
    (tmp_path / "notes.csv").write_text("a,b\nx,y\nz,w\n", encoding="utf-8")
    (tmp_path / "more.csv").write_text("c,d\nx,y\nz,w\n", encoding="utf-8")
    with pytest.raises(Exception, match="no orders file"):
        infer_folder(tmp_path)
    single = tmp_path / "single"
    single.mkdir()
    (single / "lines.csv").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    assert infer_folder(single)["orders"]["line_items"] is True  # one file: the single-file proposal


ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2", "o3", "o4"],
        "buyer": ["b1", "b2", "b3", "b4"],
        "status": ["delivered", "canceled", "delivered", None],
        "first": ["Ann", "Bo", " Cy ", "Di"],
        "last": ["Lee", "Chen", "Ray", "Fox"],
    }
)
BUYERS = pd.DataFrame({"buyer_id": ["b1", "b2", "b3", "b4"], "person": ["p1", "p1", "p2", "p3"]})
PAYMENTS = pd.DataFrame(
    {
        "order_id": ["o1", "o1", "o2", "o3"],
        "value": ["10.10", "2.20", "5.00", "1.05"],
        "kind": ["card", "voucher", "card", "card"],
    }
)


def _source(**extra: object) -> TableSource:
    base: dict[str, object] = {"file": "orders.csv", "columns": {"order_id": "order_id"}}
    base.update(extra)
    return TableSource.model_validate(base)


def test_joins_aggregates_constants_filters_and_text_expressions() -> None:
    source = _source(
        join=[
            {"file": "buyers.csv", "key": "buyer_id", "main_key": "buyer", "columns": {"customer": "person"}}
        ],
        aggregate=[
            {
                "file": "payments.csv",
                "key": "order_id",
                "columns": {"paid": "sum(value)", "n_pay": "count(*)"},
            },
            {
                "file": "payments.csv",
                "key": "order_id",
                "columns": {"card": "sum(value)"},
                "where": "kind = 'card'",
            },
        ],
        constants={"channel": "marketplace"},
        where="status <> 'canceled'",
        columns={
            "order_id": "order_id",
            "customer_id": "customer",
            "category": "case when paid > 10 then concat(lower(trim(first)), ' ', upper(last)) else 'small' end",
        },
    )
    rows, renamed, info = relate("orders", source, ORDERS, [BUYERS], [PAYMENTS, PAYMENTS])
    # o2 canceled, o4 with a null status: left out (a filter keeps the rows where it holds)
    assert list(rows["order_id"]) == ["o1", "o3"] and info["rows_excluded"] == 2
    assert list(rows["customer"]) == ["p1", "p2"]
    assert list(rows["paid"].round(2)) == [12.3, 1.05] and list(rows["n_pay"]) == [2, 1]
    assert list(rows["card"].round(2)) == [10.1, 1.05]
    assert list(rows[renamed["category"]]) == ["ann LEE", "small"]
    assert set(rows[renamed["channel"]]) == {"marketplace"}
    assert info["aggregates"][0]["rows_without_match"] == 1  # o4 (before the filter)


def test_a_child_without_rows_counts_zero_and_sums_nothing() -> None:
    source = _source(
        aggregate=[{"file": "p.csv", "key": "order_id", "columns": {"paid": "sum(value)", "n": "count(*)"}}]
    )
    rows, _, info = relate("orders", source, ORDERS, [], [PAYMENTS])
    assert list(rows["n"]) == [2, 1, 1, 0] and pd.isna(rows["paid"].iloc[3])
    assert info["aggregates"] == [{"file": "p.csv", "rows_without_match": 1}]


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ({"where": "read_csv('/etc/passwd') is null"}, "orders.where", "function 'read_csv' is not allowed"),
        ({"where": "status = 'x'; drop table t"}, "orders.where", "not allowed in an expression"),
        ({"where": "stauts = 'x'"}, "orders.where", "did you mean 'status'"),
        (
            {"columns": {"order_id": "order_id", "category": "lower(frist)"}},
            "orders.columns.category",
            "'first'",
        ),
        (
            {"join": [{"file": "p.csv", "key": "order_id", "columns": ["value"]}]},
            "orders.join[0].key",
            "repeated values of 'order_id'",
        ),
        (
            {"join": [{"file": "b.csv", "key": "buyer", "columns": ["person"]}]},
            "orders.join[0].key",
            "no column 'buyer'",
        ),
        (
            {"join": [{"file": "b.csv", "key": "buyer_id", "main_key": "buyr", "columns": ["person"]}]},
            "orders.join[0].main_key",
            "did you mean 'buyer'",
        ),
        (
            {"aggregate": [{"file": "p.csv", "key": "order_id", "columns": {"x": "median(value)"}}]},
            "orders.aggregate[0].columns.x",
            "is not an aggregate",
        ),
        (
            {"aggregate": [{"file": "p.csv", "key": "order_id", "columns": {"x": "sum(kind)"}}]},
            "orders.aggregate[0].columns",
            "is not a number",
        ),
        ({"constants": {"knid": "survey"}}, "orders.constants.knid", "not a column of the contract"),
        (
            {"columns": {"order_id": "order_id", "category": "first + 'x'"}},
            "orders.columns.category",
            "does not evaluate",
        ),
    ],
)
def test_mapping_errors_name_the_key(extra: dict[str, object], key: str, words: str) -> None:
    source = _source(**extra)
    lookups = [PAYMENTS if j.file == "p.csv" else BUYERS for j in source.join]
    with pytest.raises(MappingError) as err:
        relate("orders", source, ORDERS, lookups, [PAYMENTS] * len(source.aggregate))
    assert err.value.key == key and words in str(err.value) and "\n" not in str(err.value)


def test_sql_expressions_admit_backticked_names_and_casts() -> None:
    sql, used = sql_expression("k", "cast(`unit price` as double) * 2", ["unit price"])
    assert sql == 'cast ( "unit price" as double ) * 2' and used == ["unit price"]


def test_a_typo_in_a_join_option_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.yaml").write_text(
        "orders:\n  file: o.csv\n  join:\n  - {file: b.csv, key: id, colums: [x]}\n  columns: {order_id: id}\n",
        encoding="utf-8",
    )
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "orders.join[0].colums" in err and "did you mean 'columns'" in err
    (tmp_path / "m.yaml").write_text(
        "orders:\n  file: o.csv\n  join:\n  - {file: b.csv, key: id, on: x, columns: [x]}\n  columns: {order_id: id}\n",
        encoding="utf-8",
    )
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) != 0
    assert "main_key" in capsys.readouterr().err


def _month_first_export(path: Path, encoding: str) -> None:
    """Invoice lines whose first 1,200 rows are all dated 1-12 (ambiguous) and month first; later ones are not."""
    rows = ["Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"]
    for i in range(1_200):
        rows.append(
            f"{500000 + i // 3},A{i % 7},CAFÉ CRÈME,{1 + i % 4},12/{1 + i % 12}/2010 8:{i % 60:02d},2.50,{13000 + i % 40},France"
        )
    for i in range(60):
        rows.append(f"{600000 + i},B{i % 5},THÉ,2,1/{13 + i % 15}/2011 9:00,1.25,{13000 + i % 40},España")
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode(encoding))


def test_infer_reads_a_month_first_latin1_file_whose_first_rows_are_ambiguous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _month_first_export(tmp_path / "retail.csv", "latin-1")
    proposal = infer_mapping(tmp_path / "retail.csv", n_rows=1_000)
    orders = proposal["orders"]
    assert orders["encoding"] == "latin-1"
    assert orders["timestamp_format"] == "%m/%d/%Y %H:%M"
    assert not any("is a guess" in n for n in proposal["notes"])
    assert main(["sources", "infer", str(tmp_path / "retail.csv"), "--rows", "1000"]) == 0
    (tmp_path / "m.yaml").write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["sources", "check", str(tmp_path / "m.yaml"), "--data", str(tmp_path)]) == 0
    sources = read_sources(tmp_path, tmp_path / "m.yaml")
    assert sources.report["orders"].get("numbers_unparseable") is None
    assert pd.to_datetime(sources.tables["orders"]["order_ts"]).max() == pd.Timestamp("2011-01-27 09:00")


LINES = [
    "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID",
    "1001,A,2,2024-01-05 10:00,2.50,17850",
    "1001,B,1,2024-01-05 10:00,3.10,17850",
    "1001,B,1,2024-01-05 10:00,3.10,17850",  # an exact duplicate line
    "1002,C,4,2024-02-01 11:00,1.25,",
    "1002,D,1,2024-02-01 11:00,9.99,",
    "1003,A,3,2024-03-03 12:00,2.50,12583",
    "1004,E,1,2024-03-04 09:30,7.00,",
    "1004,E,1,2024-03-04 09:30,7.00,",  # a duplicate line without a customer
    "C1005,A,-1,2024-03-05 09:00,2.50,12583",
]
LINE_MAPPING = """\
orders:
  file: lines.csv
  currency: GBP
  line_items: true
  order_key: InvoiceNo
  refund_prefix: C
  {policy}
  columns:
    customer_id: CustomerID
    order_ts: InvoiceDate
    n_items: Quantity
    net_amount: Quantity * UnitPrice
"""


def _clean_lines(tmp_path: Path, policy: str = "") -> dict:
    data = tmp_path / "export"
    data.mkdir(exist_ok=True)
    (data / "lines.csv").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(LINE_MAPPING.format(policy=policy), encoding="utf-8")
    args = ["clean", "--data", str(data), "--mapping", str(tmp_path / "m.yaml"), "--as-of", "2024-12-31"]
    assert main([*args, "--out", str(tmp_path / "out"), "--private-dir", str(tmp_path / "priv")]) == 0
    return json.loads((tmp_path / "out" / "quality_report.json").read_text(encoding="utf-8"))


def _recount() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    from io import StringIO

    lines = pd.read_csv(StringIO("\n".join(LINES)), dtype={"CustomerID": str})
    net = lines["Quantity"].map(Decimal) * lines["UnitPrice"].astype(str).map(Decimal)
    return lines, net, lines.duplicated()


def test_line_figures_of_the_quality_report_equal_a_pandas_recount(
    tmp_path: Path, key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _clean_lines(tmp_path)
    printed = " ".join(capsys.readouterr().out.split())
    lines, net, duplicate = _recount()
    nobody = lines["CustomerID"].isna()
    acc = report["source_accounting"]["orders"]
    assert acc["unit"] == "lines" and acc["in"] == len(lines) == 9
    assert acc["without_customer"] == int(nobody.sum()) == 4
    assert Decimal(str(acc["net_amount_without_customer"])) == net[nobody].sum() == Decimal("28.99")
    assert acc["exact_duplicates"] == int(duplicate.sum()) == 2
    assert Decimal(str(acc["net_amount_exact_duplicates"])) == net[duplicate].sum()
    assert acc["exact_duplicates_policy"].startswith("kept")
    assert Decimal(str(acc["net_amount_in"])) == net.sum()
    assert acc["kept"] + acc["quarantined"] == acc["in"]  # kept: duplicates are summed into their orders
    assert acc["quarantined"] == 4  # the lines of the two orders without a customer
    assert Decimal(str(report["tables"]["orders"]["net_amount_in"])) == net.sum()
    assert "4 of 9 lines have no customer id (28.99 of" in printed
    assert "2 lines repeat an earlier line in every column" in printed


def test_duplicate_lines_dropped_are_still_counted(tmp_path: Path, key_env: None) -> None:
    report = _clean_lines(tmp_path, policy="duplicate_lines: drop")
    lines, net, duplicate = _recount()
    acc = report["source_accounting"]["orders"]
    assert acc["exact_duplicates"] == 2 and acc["exact_duplicates_policy"] == "dropped"
    assert acc["kept"] + acc["quarantined"] + acc["exact_duplicates"] == acc["in"]
    assert Decimal(str(report["tables"]["orders"]["net_amount_in"])) == net[~duplicate].sum()


def test_the_html_report_names_the_lines_and_revenue_without_a_customer(
    tmp_path: Path, key_env: None
) -> None:
    from custml.contracts import QualityReport
    from custml.report import build_report_data, render_html, sample_scores
    from custml.report.i18n import format_money
    from custml.scoring.accounting import quality_meta

    report = _clean_lines(tmp_path)
    quarantine = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    scores, meta = sample_scores(120, seed=5)
    meta["quality"] = quality_meta(QualityReport.model_validate(report), quarantine).model_dump(by_alias=True)
    html = " ".join(render_html(build_report_data(scores, meta), "en", sections={"quality"}).split())
    assert "Lines without a customer id" in html and "Lines in the export" in html
    money = format_money(28.99, meta["currency"], "en")
    assert f"4 of them (44.4%) had no customer id and carried {money}" in html
    assert "2 lines repeated an earlier line in every column" in html
    zh = render_html(build_report_data(scores, meta), "zh", sections={"quality"})
    assert "无客户编号的明细行" in zh


def test_the_readme_multi_file_mapping_reads_the_export(export: Path, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = (
        readme.split("Several related files map the same way", 1)[1]
        .split("```yaml\n", 1)[1]
        .split("```", 1)[0]
    )
    (tmp_path / "m.yaml").write_text(block, encoding="utf-8")
    sources = read_sources(export, tmp_path / "m.yaml")
    orders = _read(export, "orders")
    assert len(sources.tables["orders"]) + sources.report["orders"]["rows_excluded"] == len(orders)
    assert set(sources.tables["interactions"]["kind"]) == {"survey"}
    assert sources.tables["interactions"]["customer_id"].notna().all()


def test_one_file_of_a_folder_says_what_it_cannot_know(export: Path) -> None:
    reviews = infer_mapping(export / MARKETPLACE_FILES["reviews"])
    notes = " ".join(reviews["notes"])
    assert "looks like reviews" in notes and "--table interactions" in notes
    assert reviews["orders"]["columns"].get("n_items") != "review_score"
    orders = infer_mapping(export / MARKETPLACE_FILES["orders"])
    assert "distinct value in every row" in " ".join(orders["notes"]) and "sources infer DIR" in " ".join(
        orders["notes"]
    )
    proposal = infer_mapping(export / MARKETPLACE_FILES["reviews"], table="interactions")
    inter = proposal["interactions"]
    assert inter["constants"] == {"kind": "survey"} and inter["columns"]["score"] == "review_score"
    assert "customer_id" not in inter["columns"] and "names no customer" in " ".join(proposal["notes"])


def test_infer_interactions_of_a_ticket_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["ticket_id,customer_id,opened_at,channel,satisfaction"]
    rows += [f"T{i},C{i % 7},2024-0{1 + i % 9}-1{i % 10} 10:00,mail,{1 + i % 5}" for i in range(40)]
    (tmp_path / "tickets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["sources", "infer", str(tmp_path / "tickets.csv"), "--table", "interactions"]) == 0
    body = yaml.safe_load(capsys.readouterr().out)["interactions"]
    assert body["constants"] == {"kind": "support_ticket"}
    assert body["columns"] == {
        "interaction_id": "ticket_id",
        "customer_id": "customer_id",
        "ts": "opened_at",
        "score": "satisfaction",
    }
    table, info = read_source_table("interactions", TableSource.model_validate(body), tmp_path)
    assert len(table) == info["rows_read"] == 40 and set(table["kind"]) == {"support_ticket"}


def test_infer_customers_on_a_line_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lines.csv").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    with pytest.raises(Exception, match="several rows per customer"):
        infer_mapping(tmp_path / "lines.csv", table="customers")


def test_the_encoding_is_decided_from_every_byte(tmp_path: Path) -> None:
    from custml.sources.readers import _encoding_of

    head = "id,name\n" + "".join(
        f"{i},plain ascii text\n" for i in range(30_000)
    )  # ~600 KB before the accent
    cases = {"latin-1": ("Müller", "latin-1"), "cp1252": ("5 €", "cp1252"), "utf-8": ("Müller €", "utf-8")}
    for expected, (text, encoding) in cases.items():
        path = tmp_path / f"{expected}.csv"
        path.write_bytes((head + f"30001,{text}\n").encode(encoding))
        assert _encoding_of(path) == expected, expected


def test_a_folder_proposal_has_the_shape_of_its_type(export: Path) -> None:
    from custml.sources.proposal import AggregateProposal, JoinProposal, MappingProposal, TableProposal

    proposal = infer_folder(export)
    assert set(proposal) <= (MappingProposal.__required_keys__ | MappingProposal.__optional_keys__)
    tables = [table for name, table in proposal.items() if name != "notes"]
    table_keys = TableProposal.__required_keys__ | TableProposal.__optional_keys__
    for table in tables:
        assert set(table) <= table_keys, set(table) - table_keys
        for join in table.get("join", []):
            assert set(join) <= (JoinProposal.__required_keys__ | JoinProposal.__optional_keys__)
        for agg in table.get("aggregate", []):
            assert set(agg) <= (AggregateProposal.__required_keys__ | AggregateProposal.__optional_keys__)
