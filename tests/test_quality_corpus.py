"""A corpus of bad inputs: each has its expected error or quarantine reason, and reconciliation is checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from quality_world import AS_OF, KEY, raw_world

from custml.errors import DataFileError, SchemaError
from custml.io import read_tables
from custml.quality import clean_tables
from custml.quality.validate import REASONS

Mutation = Callable[[dict[str, pd.DataFrame]], None]


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutation
    table: str | None = None  # table whose quarantine is expected
    reason: str | None = None  # expected quarantine reason
    n: int = 1  # expected number of rows with that reason
    error: type[Exception] | None = None
    match: str | None = None  # regex the error message must match
    check: Callable[[object], None] | None = None  # extra assertion on the CleanResult


def _set(table: str, col: str, row: int, value: object) -> Mutation:
    def f(w: dict[str, pd.DataFrame]) -> None:
        df = w[table]
        numeric = isinstance(value, float | int) and not isinstance(value, bool)
        df = df.astype({col: "float64" if numeric else object})
        df.loc[row, col] = value
        w[table] = df

    return f


def _append_copy(table: str, row: int, **changes: object) -> Mutation:
    def f(w: dict[str, pd.DataFrame]) -> None:
        extra = w[table].iloc[[row]].copy()
        for k, v in changes.items():
            extra[k] = v
        w[table] = pd.concat([w[table], extra], ignore_index=True)

    return f


def _drop(table: str, col: str) -> Mutation:
    def f(w: dict[str, pd.DataFrame]) -> None:
        w[table] = w[table].drop(columns=[col])

    return f


def _both(*muts: Mutation) -> Mutation:
    def f(w: dict[str, pd.DataFrame]) -> None:
        for m in muts:
            m(w)

    return f


def _tz_aware(w: dict[str, pd.DataFrame]) -> None:
    w["orders"]["order_ts"] = pd.to_datetime(w["orders"]["order_ts"]).dt.tz_localize("Asia/Shanghai")


def _empty_orders(w: dict[str, pd.DataFrame]) -> None:
    w["orders"] = w["orders"].iloc[0:0]


def _orders_from_customers(w: dict[str, pd.DataFrame]) -> None:
    w["orders"] = w["customers"].copy()


def _all_bad_dates(w: dict[str, pd.DataFrame]) -> None:
    w["orders"]["order_ts"] = ["05/01/2024"] * len(w["orders"])


def _unknown_table(w: dict[str, pd.DataFrame]) -> None:
    w["products"] = pd.DataFrame({"sku": ["a"]})


def _offsets_checked(result: object) -> None:
    orders = result.tables["orders"]  # type: ignore[attr-defined]
    # 2024-01-05 18:00+08:00 and 2024-01-05T10:00:00Z are both 10:00 UTC
    assert (orders["order_ts"].iloc[:2] == pd.Timestamp("2024-01-05 10:00:00")).all()
    assert result.report.normalisation["timestamps_with_offset_converted"] == 2  # type: ignore[attr-defined]


def _nulled(column: str, table: str = "customers") -> Callable[[object], None]:
    def check(result: object) -> None:
        assert result.report.tables[table].values_nulled == {column: 1}  # type: ignore[attr-defined]
        assert len(result.quarantine) == 0  # type: ignore[attr-defined]
        if table == "orders":  # the order and its revenue stay
            assert len(result.tables["orders"]) == 7  # type: ignore[attr-defined]

    return check


def _refund_inferred(result: object) -> None:
    orders = result.tables["orders"]  # type: ignore[attr-defined]
    assert len(orders) == 7 and len(result.quarantine) == 0  # type: ignore[attr-defined]
    assert result.report.tables["orders"].refunds_inferred_from_sign == 1  # type: ignore[attr-defined]
    assert bool(orders.loc[orders["net_amount"] == -25.0, "is_refund"].iloc[0])


def _unset_refund_flag(w: dict[str, pd.DataFrame]) -> None:
    w["orders"] = w["orders"].astype({"is_refund": object})
    w["orders"].loc[0, "is_refund"] = None


def _emails_invalid(result: object) -> None:
    assert result.report.normalisation["emails_invalid"] == 1  # type: ignore[attr-defined]
    golden = result.golden_customers  # type: ignore[attr-defined]
    assert golden["email"].isna().sum() >= 1


def _unicode_names(result: object) -> None:
    golden = result.golden_customers  # type: ignore[attr-defined]
    names = set(golden["name"].dropna())
    assert "Carla Diaz" in names  # fullwidth letters and a zero-width space normalised away


def _orders_kept(n: int) -> Callable[[object], None]:
    def check(result: object) -> None:
        assert len(result.tables["orders"]) == n  # type: ignore[attr-defined]

    return check


CASES = [
    # structural: the table cannot be used at all
    Case("missing required column", _drop("customers", "signup_date"), error=SchemaError,
         match=r"customers: column 'signup_date' required column is missing"),
    Case("missing amount column", _drop("orders", "net_amount"), error=SchemaError,
         match=r"orders: column 'net_amount'"),
    Case("empty table", _empty_orders, error=SchemaError, match=r"orders: table is empty"),
    Case("wrong dtype", _set("orders", "net_amount", 0, "twenty"), error=SchemaError,
         match=r"orders: column 'net_amount' has dtype .* expected float"),
    Case("wrong file (customers given as orders)", _orders_from_customers, error=SchemaError,
         match=r"orders: column 'order_id' required column is missing"),
    Case("timestamps in a non-ISO format", _all_bad_dates, error=SchemaError,
         match=r"orders: column 'order_ts' is not an ISO-8601 timestamp in 7 of 7 rows"),
    Case("unknown table", _unknown_table, error=SchemaError, match=r"products: is not a contract table"),
    # row-level: quarantined with a reason
    Case("null order id", _set("orders", "order_id", 1, None), "orders", "null_required"),
    Case("null customer id", _set("customers", "customer_id", 2, None), "customers", "null_required",
         check=_orders_kept(6)),  # c3's order has lost its customer -> unknown_customer
    Case("negative amount not a refund", _set("orders", "net_amount", 0, -25.0), "orders",
         "negative_amount_not_refund"),
    Case("refund with a positive amount", _set("orders", "net_amount", 6, 45.0), "orders",
         "refund_positive_amount"),
    Case("duplicated order id, other content", _append_copy("orders", 0, net_amount=99.0), "orders",
         "duplicate_key"),
    Case("exact duplicate order row", _append_copy("orders", 2), "orders", "exact_duplicate_row"),
    Case("order of an unknown customer", _set("orders", "customer_id", 3, "c404"), "orders", "unknown_customer"),
    Case("future order", _set("orders", "order_ts", 4, "2099-01-01 00:00:00"), "orders", "future_timestamp"),
    Case("impossible date", _set("orders", "order_ts", 4, "2024-02-30 10:00:00"), "orders",
         "unparseable_timestamp"),
    Case("n/a timestamp", _set("interactions", "ts", 0, "n/a"), "interactions", "unparseable_timestamp"),
    Case("blank timestamp", _set("campaigns", "sent_ts", 1, ""), "campaigns", "unparseable_timestamp"),
    Case("null timestamp", _set("orders", "order_ts", 0, None), "orders", "null_required"),
    Case("interaction kind not allowed", _set("interactions", "kind", 1, "tweet"), "interactions", "not_allowed"),
    Case("campaign arm not allowed", _set("campaigns", "arm", 0, "gift"), "campaigns", "not_allowed"),
    Case("negative offer cost", _set("campaigns", "offer_cost", 0, -1.0), "campaigns", "below_min"),
    Case("future sign-up quarantines the customer and its orders",
         _set("customers", "signup_date", 2, "2099-05-01"), "customers", "future_timestamp",
         check=_orders_kept(6)),
    Case("unparseable sign-up", _set("customers", "signup_date", 2, "31/02/2024"), "customers",
         "unparseable_timestamp"),
    Case("duplicated customer id, other content", _append_copy("customers", 2, name="Someone Else"),
         "customers", "duplicate_key"),
    Case("exact duplicate customer row", _append_copy("customers", 1), "customers", "exact_duplicate_row"),
    # kept, with values normalised or nulled and counted (never silently)
    Case("mixed time zones", _both(_set("orders", "order_ts", 0, "2024-01-05T18:00:00+08:00"),
                                   _set("orders", "order_ts", 1, "2024-01-05T10:00:00Z")),
         check=_offsets_checked),
    Case("tz-aware datetime column", _tz_aware, check=_orders_kept(7)),
    # an invalid optional value is nulled and counted, the row kept (one policy for every table)
    Case("channel not allowed", _set("orders", "channel", 0, "fax"), check=_nulled("channel", "orders")),
    Case("CSAT out of range", _set("interactions", "score", 1, 7.0), check=_nulled("score", "interactions")),
    Case("negative discount", _set("orders", "discount_amount", 1, -5.0),
         check=_nulled("discount_amount", "orders")),
    Case("fractional item count", _set("orders", "n_items", 1, 2.5), check=_nulled("n_items", "orders")),
    Case("boolean that is not true/false", _set("orders", "is_refund", 1, "maybe"),
         check=_nulled("is_refund", "orders")),
    Case("negative amount without a refund flag is a refund",
         _both(_set("orders", "net_amount", 0, -25.0), _unset_refund_flag), check=_refund_inferred),
    Case("gender outside the code list", _set("customers", "gender", 0, "x"), check=_nulled("gender")),
    Case("unparseable birth date", _set("customers", "birth_date", 2, "not a date"), check=_nulled("birth_date")),
    Case("invalid e-mail", _set("customers", "email", 2, "carla at diaz"), check=_emails_invalid),
    Case("unicode oddities in a name", _set("customers", "name", 2, "Ｃａｒｌａ\u200b  Di\u0301az"[:0] + "Ｃａｒｌａ \u200bDiaz"),
         check=_unicode_names),
    Case("ids with surrounding spaces", _set("orders", "customer_id", 0, " c1 "), check=_orders_kept(7)),
    Case("boolean as text", _set("orders", "is_refund", 0, "no"), check=_orders_kept(7)),
]  # fmt: skip


def _reconciles(raw: dict[str, pd.DataFrame], result: object) -> None:
    report = result.report  # type: ignore[attr-defined]
    q = result.quarantine  # type: ignore[attr-defined]
    for name, df in raw.items():
        t = report.tables[name]
        assert t.rows_in == len(df)
        assert t.rows_in == t.rows_kept + t.rows_quarantined, name
        assert int((q["table"] == name).sum()) == t.rows_quarantined
        # each quarantined row appears once, and points at a real input row
        rows = q.loc[q["table"] == name, "row_number"]
        assert rows.is_unique and rows.between(0, len(df) - 1).all()
    assert set(q["reason"]) <= set(REASONS)
    assert report.rows_in == report.rows_kept + report.rows_quarantined


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case) -> None:
    raw = raw_world()
    case.mutate(raw)
    if case.error is not None:
        with pytest.raises(case.error, match=case.match):
            clean_tables(raw, AS_OF, KEY)
        return
    result = clean_tables(raw, AS_OF, KEY)
    _reconciles(raw, result)
    q = result.quarantine
    if case.reason is not None:
        got = q[(q["table"] == case.table) & (q["reason"] == case.reason)]
        assert len(got) == case.n, q[["table", "reason", "detail"]]
    if case.check is not None:
        case.check(result)
    # customers' quarantine rows never carry personal values
    assert q.loc[q["table"] == "customers", "values"].isna().all()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


# ---- file-level bad inputs ------------------------------------------------------------------------------------
def _write_world(folder: Path, fmt: dict[str, str] | None = None, sep: str = ",") -> dict[str, pd.DataFrame]:
    w = raw_world()
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in w.items():
        kind = (fmt or {}).get(name, "parquet")
        if kind == "parquet":
            df.to_parquet(folder / f"{name}.parquet")
        else:
            df.to_csv(folder / f"{name}.{kind}", index=False, sep=sep if kind == "csv" else "\t")
    return w


@pytest.mark.parametrize("sep", [";", "|", "\t", ","])
def test_csv_with_other_delimiters_gives_the_same_clean_tables(tmp_path: Path, sep: str) -> None:
    _write_world(tmp_path / "pq")
    _write_world(tmp_path / "csv", {"customers": "csv", "orders": "csv"}, sep=sep)
    names = ("customers", "orders")
    a = clean_tables(read_tables(tmp_path / "pq", names), AS_OF, KEY)
    b = clean_tables(read_tables(tmp_path / "csv", names), AS_OF, KEY)
    for name in names:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_tsv_and_bom_and_text_ids(tmp_path: Path) -> None:
    w = _write_world(tmp_path, {"interactions": "tsv"})
    path = tmp_path / "customers.csv"
    (tmp_path / "customers.parquet").unlink()
    c = w["customers"].copy()
    c.loc[2, "customer_id"] = "007"
    c.loc[2, "name"] = "Nan"  # a real name, not a missing value
    path.write_text("\ufeff" + c.to_csv(index=False), encoding="utf-8")
    raw = read_tables(tmp_path, ("customers", "orders"), ("interactions",))
    assert raw["customers"]["customer_id"].tolist()[2] == "007"
    assert raw["customers"]["name"].tolist()[2] == "Nan"
    assert len(raw["interactions"]) == 4
    result = clean_tables(raw, AS_OF, KEY)
    # c3 was renamed 007 in customers only: its order is now of an unknown customer
    q = result.quarantine
    assert q.loc[q["table"] == "orders", "reason"].tolist() == ["unknown_customer"]


def test_truncated_parquet_names_the_table(tmp_path: Path) -> None:
    _write_world(tmp_path)
    p = tmp_path / "orders.parquet"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(DataFileError, match=r"^orders: cannot read parquet file orders.parquet"):
        read_tables(tmp_path, ("customers", "orders"))


def test_empty_file_and_header_only_csv(tmp_path: Path) -> None:
    _write_world(tmp_path)
    (tmp_path / "orders.parquet").unlink()
    (tmp_path / "orders.csv").write_text("")
    with pytest.raises(DataFileError, match=r"orders: file is empty"):
        read_tables(tmp_path, ("customers", "orders"))
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_ts,net_amount\n")
    raw = read_tables(tmp_path, ("customers", "orders"))
    with pytest.raises(SchemaError, match=r"orders: table is empty"):
        clean_tables(raw, AS_OF, KEY)


def test_binary_file_with_csv_suffix(tmp_path: Path) -> None:
    _write_world(tmp_path)
    (tmp_path / "orders.parquet").rename(tmp_path / "orders.csv")
    with pytest.raises(DataFileError, match=r"orders: .*not UTF-8 text"):
        read_tables(tmp_path, ("customers", "orders"))


def test_quarantine_details_name_the_column_and_value() -> None:
    raw = raw_world()
    raw["orders"].loc[4, "order_ts"] = "2024-02-30 10:00:00"
    result = clean_tables(raw, AS_OF, KEY)
    row = result.quarantine.iloc[0]
    assert row["record_id"] == "o5" and row["row_number"] == 4
    assert re.search(r"order_ts: .*'2024-02-30 10:00:00'", row["detail"])
    assert '"order_id": "o5"' in row["values"]


def test_several_problems_in_one_row_give_one_quarantine_row() -> None:
    raw = raw_world()
    raw["orders"].loc[0, "order_ts"] = "2099-01-01 00:00:00"
    raw["orders"].loc[0, "net_amount"] = -3.0
    raw["orders"].loc[0, "customer_id"] = "nobody"
    result = clean_tables(raw, AS_OF, KEY)
    assert result.quarantine["reason"].tolist() == ["future_timestamp"]
    assert result.report.tables["orders"].rows_kept == 6


def test_first_valid_copy_of_a_key_survives() -> None:
    raw = raw_world()
    bad_first = raw["orders"].iloc[[0]].assign(net_amount=np.nan)
    raw["orders"] = pd.concat([bad_first, raw["orders"]], ignore_index=True)
    result = clean_tables(raw, AS_OF, KEY)
    assert result.quarantine["reason"].tolist() == ["null_required"]
    assert (result.tables["orders"]["order_id"] == "o1").sum() == 1
