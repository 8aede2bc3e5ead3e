"""`sources infer DIR`: a mapping proposed for an export of several related files (a shop's or a CRM's).

Each file's key is found (an id-like column with one distinct value per row), files are related by their
values (a column whose values are keys of another file), and the roles follow: the orders file (a key, a
timestamp, files that hang off it), a lookup that holds the person (a column with fewer distinct values that
many order-level ids map to), child files whose sums are the amount (payments, else item prices and freight)
or whose rows count the items, files of reviews, tickets or surveys as interactions with a ``kind`` and a
``score``, and a ``where`` filter for canceled orders. What it is unsure of goes into the notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from custml.errors import DataFileError
from custml.schema import INTERACTION_KINDS
from custml.sources.inference import (
    _GUESSES,
    _date_like,
    _date_setting,
    _looks_numeric,
    _read_sample,
    _whole_column,
    with_timestamp,
)
from custml.sources.mapping import SourceMapping
from custml.sources.proposal import (
    AggregateProposal,
    JoinProposal,
    MappingProposal,
    ReaderOptions,
    ReadOptions,
    TableProposal,
)
from custml.sources.readers import _is_blank, _readable

__all__ = ["infer_folder", "infer_interactions"]

_ID = re.compile(r"(^|[ _-])(id|key|nr|no|number|code)$|id$|^id", re.IGNORECASE)
_ORDER_FILE = re.compile(r"order|invoice|transaction|sale|purchase|bestell|commande|pedido", re.IGNORECASE)
_CUSTOMER = re.compile(r"customer|client|user|buyer|kunde|cliente|member|person|account", re.IGNORECASE)
_PERSON = re.compile(r"unique|person|master|golden|global|household", re.IGNORECASE)
_PAYMENT_FILE = re.compile(r"payment|paid|transaction", re.IGNORECASE)
_PAYMENT_VALUE = re.compile(r"payment[ _-]?(value|amount)|^(amount|value|paid|total)$|amount", re.IGNORECASE)
_ITEM_FILE = re.compile(r"item|line|product|position", re.IGNORECASE)
_PRICE = re.compile(r"^(unit[ _-]?)?price$|^item[ _-]?price$|^preis$|^prix$|^precio$", re.IGNORECASE)
_FREIGHT = re.compile(r"freight|shipping[ _-]?(cost|value|fee)|delivery[ _-]?(cost|fee)", re.IGNORECASE)
_QUANTITY = re.compile(r"^(quantity|qty|menge|anzahl)$", re.IGNORECASE)
_STATUS = re.compile(r"status|state$", re.IGNORECASE)
_CANCELED = re.compile(r"cancel|unavailable|void|storn|annul|reject|declin|fail|refus", re.IGNORECASE)
_PLACED = re.compile(r"purchase|placed|creat|order[ _-]?(date|time|ts)|^date$|^datum$", re.IGNORECASE)
_SCORE = re.compile(r"score|rating|stars|csat|satisfaction|grade|note$", re.IGNORECASE)
# interaction kind of a file, by its name or its columns (first that matches)
_KINDS = (
    ("complaint", re.compile(r"complain|beschwerde|reclam", re.IGNORECASE)),
    ("support_ticket", re.compile(r"ticket|support|case|incident|helpdesk", re.IGNORECASE)),
    ("survey", re.compile(r"review|survey|feedback|rating|csat|nps|bewertung|avis", re.IGNORECASE)),
)
_EVENT_TS = re.compile(r"creat|submit|open|sent|date|time|ts$", re.IGNORECASE)


@dataclass
class _File:
    """One file of the folder: its sampled rows, reading options, keys."""

    path: Path
    rows: pd.DataFrame
    options: ReadOptions
    reader: ReaderOptions
    decimal: str
    notes: list[str]
    keys: list[str] = field(default_factory=list)
    whole: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def column(self, col: str) -> pd.Series:
        """All values of ``col`` (read once from the whole file, for keys and overlaps)."""
        if col not in self.whole:
            self.whole[col] = _whole_column(self.path, self.reader, col, self.rows[col]).astype("str")
        return self.whole[col]

    def ids(self) -> list[str]:
        return [c for c in self.rows.columns if _ID.search(c)]

    def dates(self) -> list[str]:
        return [c for c in self.rows.columns if not _ID.search(c) and _date_like(self.rows[c], self.decimal)]

    def numbers(self) -> list[str]:
        return [
            c for c in self.rows.columns if not _ID.search(c) and _looks_numeric(self.rows[c], self.decimal)
        ]


@dataclass(frozen=True)
class _Link:
    """``child.column`` holds values of ``parent.key``; ``unique``: one child row per value (a lookup)."""

    child: str
    column: str
    parent: str
    key: str
    share: float
    unique: bool


def _files(folder: Path, n_rows: int) -> dict[str, _File]:
    found = sorted(p for p in folder.iterdir() if p.is_file() and _readable(p) and not _is_blank(p))
    if not found:
        raise DataFileError(f"sources infer: {folder} holds no CSV, parquet or .xlsx file")
    files: dict[str, _File] = {}
    for path in found:
        rows, options, notes, decimal, reader = _read_sample(path, n_rows)
        files[path.name] = _File(path, rows, options, reader, decimal, notes)
    for f in files.values():
        f.keys = [
            c
            for c in f.ids()
            if f.column(c).notna().all() and f.column(c).is_unique and f.column(c).nunique() > 1
        ]
    return files


def _links(files: dict[str, _File]) -> list[_Link]:
    """Columns whose values are (nearly all) keys of another file: same name, or both id-like and 90 % shared."""
    links: list[_Link] = []
    for child in files.values():
        for col in child.ids():
            values = pd.Series(child.column(col).dropna().unique())
            if len(values) < 2:
                continue
            for parent in files.values():
                if parent is child:
                    continue
                for key in parent.keys:
                    if key != col and not (_ID.search(key) and _ID.search(col)):
                        continue
                    share = float(values.isin(set(parent.column(key))).mean())
                    if share >= (0.5 if key == col else 0.9):
                        links.append(
                            _Link(child.name, col, parent.name, key, share, child.column(col).is_unique)
                        )
    return links


def _orders_file(files: dict[str, _File], links: list[_Link]) -> _File:
    """The file the others hang off, with a key and a timestamp."""

    def score(f: _File) -> float:
        children = {lk.child for lk in links if lk.parent == f.name}
        return len(children) + 2 * bool(_ORDER_FILE.search(f.name)) + 0.5 * len(f.dates())

    candidates = [f for f in files.values() if f.keys and f.dates()]
    if not candidates:
        names = ", ".join(files)
        raise DataFileError(
            f"sources infer: no file of {names} has both a key column and a timestamp: no orders file to map; "
            "infer from one file (custml sources infer FILE)"
        )
    return max(candidates, key=score)


def _placed(f: _File) -> str:
    dates = f.dates()
    return next((c for c in dates if _PLACED.search(c)), dates[0])


_Entry = TypeVar("_Entry", JoinProposal, AggregateProposal)


def _relative(entry: _Entry, main: _File, other: _File) -> _Entry:
    """A join or aggregate entry with the related file's own encoding, delimiter and decimal mark when they
    differ from the main file's."""
    theirs = other.options.get("encoding", "utf-8")
    if main.options.get("encoding", "utf-8") != theirs:
        entry["encoding"] = theirs
    theirs = other.options.get("delimiter", ",")
    if main.options.get("delimiter", ",") != theirs:
        entry["delimiter"] = theirs
    theirs = other.options.get("decimal", ".")
    if main.options.get("decimal", ".") != theirs:
        entry["decimal"] = theirs
    return entry


def _person(
    orders: _File, files: dict[str, _File], links: list[_Link], notes: list[str]
) -> tuple[list[JoinProposal], str | None]:
    """The joins and the column that name the person behind an order."""
    lookups = [
        lk
        for lk in links
        if lk.child == orders.name and lk.parent != orders.name and _CUSTOMER.search(lk.column + lk.parent)
    ]
    direct = next(
        (
            c
            for c in orders.rows.columns
            if any(re.search(p, c, re.IGNORECASE) for p in _GUESSES["customer_id"])
        ),
        None,
    )
    for lk in lookups:
        parent = files[lk.parent]
        per_order = orders.column(lk.column).nunique() >= 0.98 * orders.column(lk.column).notna().sum()
        if not per_order:
            notes.append(
                f"customer_id: {lk.column} of {orders.name} (it repeats across orders, as a person's id does)"
            )
            return [], lk.column
        # one id per order: the person is a column of the lookup with fewer distinct values than ids
        n_ids = parent.column(lk.key).nunique()
        people = [
            c
            for c in parent.ids()
            if c != lk.key
            and 1 < parent.column(c).nunique() < 0.98 * n_ids
            and parent.column(c).notna().mean() > 0.95
        ]
        people.sort(key=lambda c: (not _PERSON.search(c), not _CUSTOMER.search(c)))
        if people:
            person = people[0]
            notes.append(
                f"customer_id: {lk.column} of {orders.name} is one per order ({orders.column(lk.column).nunique():,} "
                f"distinct for {len(orders.column(lk.column)):,} orders); the person is {person} of {parent.name} "
                f"({parent.column(person).nunique():,} distinct for {n_ids:,} {lk.key} values): joined by {lk.key}"
            )
            join = _relative(JoinProposal(file=parent.name, key=lk.key, columns=[person]), orders, parent)
            if lk.column != lk.key:
                join["main_key"] = lk.column
            return [join], person
        notes.append(
            f"customer_id: {lk.column} of {orders.name} is one per order and {parent.name} names no person behind "
            "it: every order counts as a new customer; check"
        )
        return [], lk.column
    if direct is not None:
        return [], direct
    notes.append("customer_id: no customer column found in the orders file: map it by hand")
    return [], None


def _amount(
    orders: _File, files: dict[str, _File], links: list[_Link], notes: list[str]
) -> tuple[list[AggregateProposal], dict[str, str]]:
    """Aggregates of the orders' child files for the amount (payments, else prices + freight) and item count."""
    children = [
        lk
        for lk in links
        if lk.parent == orders.name and lk.key in orders.keys and not _is_event(files[lk.child])
    ]
    aggregates: list[AggregateProposal] = []
    columns: dict[str, str] = {}
    payments = [lk for lk in children if _PAYMENT_FILE.search(lk.child) or _payment_column(files[lk.child])]
    items = [lk for lk in children if _ITEM_FILE.search(lk.child) or _price_column(files[lk.child])]
    items = [lk for lk in items if lk not in payments]
    alternative = None
    for lk in items[:1]:
        child = files[lk.child]
        entry = AggregateProposal(file=child.name, key=lk.column, columns={"n_lines": "count(*)"})
        if lk.column != lk.key:
            entry["main_key"] = lk.key
        price, freight = _price_column(child), next((c for c in child.numbers() if _FREIGHT.search(c)), None)
        quantity = next((c for c in child.numbers() if _QUANTITY.search(c)), None)
        if price is not None:
            value = f"{quantity} * {price}" if quantity else price
            value = f"{value} + {freight}" if freight else value
            entry["columns"]["items_value"] = f"sum({value})"
            alternative = f"sum({value}) over {child.name} (items_value)"
        if quantity:
            entry["columns"]["n_lines"] = f"sum({quantity})"
        aggregates.append(_relative(entry, orders, child))
        columns["n_items"] = "n_lines"
    for lk in payments[:1]:
        child = files[lk.child]
        paid = _payment_column(child)
        entry = AggregateProposal(file=child.name, key=lk.column, columns={"paid": f"sum({paid})"})
        if lk.column != lk.key:
            entry["main_key"] = lk.key
        aggregates.append(_relative(entry, orders, child))
        columns["net_amount"] = "paid"
        notes.append(
            f"net_amount: the sum of {paid} over {child.name} (what was paid, vouchers included)"
            + (f"; the alternative is {alternative}" if alternative else "")
        )
    if "net_amount" not in columns and alternative:
        columns["net_amount"] = "items_value"
        notes.append(f"net_amount: {alternative}: no payments file found")
    if "net_amount" not in columns:
        own = next(
            (
                c
                for c in orders.numbers()
                if any(re.search(p, c, re.IGNORECASE) for p in _GUESSES["net_amount"])
            ),
            None,
        )
        if own:
            columns["net_amount"] = own
        else:
            notes.append(
                "net_amount: no amount found in the orders file or a file that hangs off it: map it by hand"
            )
    return aggregates, columns


def _payment_column(f: _File) -> str | None:
    return next((c for c in f.numbers() if _PAYMENT_VALUE.search(c)), None)


def _price_column(f: _File) -> str | None:
    return next((c for c in f.numbers() if _PRICE.search(c)), None)


def _is_event(f: _File) -> bool:
    return _kind(f) is not None


def _kind(f: _File) -> str | None:
    text = f.name + " " + " ".join(f.rows.columns)
    return next((kind for kind, pattern in _KINDS if pattern.search(text)), None)


def _status_filter(orders: _File, notes: list[str]) -> str | None:
    for col in orders.rows.columns:
        if not _STATUS.search(col) or _CUSTOMER.search(col):
            continue
        values = orders.column(col).dropna().astype("str")
        distinct = sorted(values.unique())
        if not 1 < len(distinct) <= 30:
            continue
        canceled = [v for v in distinct if _CANCELED.search(v)]
        if canceled:
            share = float(values.isin(canceled).mean())
            notes.append(
                f"where: orders with {col} in {canceled} ({share:.1%}) are left out as never paid out (counted as "
                f"excluded); other values of {col}: {[v for v in distinct if v not in canceled]}; check"
            )
            listed = ", ".join("'" + v.replace("'", "''") + "'" for v in canceled)
            return f"{col} not in ({listed})"
    return None


def _score(f: _File) -> str | None:
    for col in f.rows.columns:
        if _SCORE.search(col) and not _ID.search(col):
            values = pd.to_numeric(f.rows[col], errors="coerce").dropna()
            if len(values) and values.between(1, 5).all():
                return col
    return None


def _interactions(
    f: _File,
    orders: _File,
    files: dict[str, _File],
    links: list[_Link],
    person_joins: list[JoinProposal],
    person: str | None,
    order_customer: str | None,
    notes: list[str],
) -> TableProposal | None:
    """One interactions mapping for a file of reviews, tickets or surveys."""
    kind = _kind(f)
    if kind is None or person is None:
        return None
    source: TableProposal = {"file": f.name, **f.options}
    columns: dict[str, str] = {}
    key = _interaction_key(f, notes)
    if key is None:
        notes.append(f"interactions ({f.name}): no id column: skipped")
        return None
    columns["interaction_id"] = key
    route = _customer_route(f, orders, files, links, person_joins, person, order_customer)
    if route is None:
        notes.append(f"interactions ({f.name}): no way to a customer (no order or customer column): skipped")
        return None
    joins, columns["customer_id"] = route
    dates = f.dates()
    if not dates:
        notes.append(f"interactions ({f.name}): no timestamp column: skipped")
        return None
    ts = next((c for c in dates if _EVENT_TS.search(c)), dates[0])
    columns["ts"] = ts
    ts_option, note = _date_setting(f.path, f.reader, ts, f.rows[ts], f"interactions.ts ({ts})")
    if ts_option:
        with_timestamp(source, ts_option)
    if note:
        notes.append(note)
    own_kind = next(
        (c for c in f.rows.columns if f.rows[c].dropna().isin(INTERACTION_KINDS).mean() > 0.9), None
    )
    if own_kind:
        columns["kind"] = own_kind
    else:
        source["constants"] = {"kind": kind}
        notes.append(
            f"interactions ({f.name}): every row is a {kind} (kind: {kind}, from the file's name and columns)"
        )
    score = _score(f)
    if score:
        columns["score"] = score
    elif kind == "survey":
        notes.append(f"interactions ({f.name}): no 1-5 score column found: surveys without a score")
    if joins:
        source["join"] = joins
    source["columns"] = columns
    return source


def _interaction_key(f: _File, notes: list[str]) -> str | None:
    """The id of an interactions file: a key, else an id column named like the file (its repeats noted)."""
    key = next(iter(f.keys), None)
    if key is None:
        key = next((c for c in f.ids() if f.name.split("_")[0][:4].lower() in c.lower()), None) or next(
            iter(f.ids()), None
        )
        if key is not None:
            n_rep = int(f.column(key).duplicated().sum())
            notes.append(
                f"interactions ({f.name}): {key} repeats in {n_rep:,} rows: those rows are quarantined as duplicate keys; check"
            )
    return key


def _customer_route(
    f: _File,
    orders: _File,
    files: dict[str, _File],
    links: list[_Link],
    person_joins: list[JoinProposal],
    person: str,
    order_customer: str | None,
) -> tuple[list[JoinProposal], str] | None:
    """How an interaction reaches its customer: through its order (joins to the orders file and on to the
    person), else its own customer column; None when neither exists."""
    to_orders = next((lk for lk in links if lk.child == f.name and lk.parent == orders.name), None)
    if to_orders is None or order_customer is None:
        own = next((c for c in f.rows.columns if _CUSTOMER.search(c) and _ID.search(c)), None)
        return None if own is None else ([], own)
    joins: list[JoinProposal] = []
    carried = (
        f"order_{order_customer}" if order_customer in f.rows.columns or person_joins else order_customer
    )
    join = JoinProposal(file=orders.name, key=to_orders.key, columns={carried: order_customer})
    if to_orders.column != to_orders.key:
        join["main_key"] = to_orders.column
    joins.append(_relative(join, f, orders))
    for pj in person_joins:
        later = JoinProposal(file=pj["file"], key=pj["key"], columns=list(pj["columns"]))
        if isinstance(pj["columns"], dict):
            later["columns"] = dict(pj["columns"])
        later["main_key"] = carried
        joins.append(_relative(later, f, files[pj["file"]]))
    return joins, person


def infer_folder(folder: Path | str, n_rows: int = 20_000) -> MappingProposal:
    """Propose a mapping for a folder of related export files (orders, their customers, payments, items,
    reviews): which file is which table, how they join, the person behind an order, the amount, the
    interactions, the canceled orders to leave out.

    Returns ``{"orders": {...}, "interactions": {...}, "notes": [...]}`` like :func:`infer_mapping` (files
    relative to ``folder``); :func:`mapping_yaml` prints it. Validated by :class:`SourceMapping`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFileError(f"sources infer: folder not found: {folder}")
    files = _files(folder, n_rows)
    if len(files) == 1:  # one file: the single-file proposal (line items, names, values)
        from custml.sources.inference import infer_mapping

        return infer_mapping(next(iter(files.values())).path, n_rows=n_rows)
    links = _links(files)
    orders = _orders_file(files, links)
    notes: list[str] = [f"{f.name}: {n}" for f in files.values() for n in f.notes]
    source: TableProposal = {"file": orders.name, **orders.options}
    person_joins, person = _person(orders, files, links, notes)
    order_customer = next(
        (lk.column for lk in links if lk.child == orders.name and _CUSTOMER.search(lk.column + lk.parent)),
        person,
    )
    aggregates, amount_columns = _amount(orders, files, links, notes)
    if person_joins:
        source["join"] = person_joins
    if aggregates:
        source["aggregate"] = aggregates
    where = _status_filter(orders, notes)
    if where:
        source["where"] = where
    placed = _placed(orders)
    columns: dict[str, str] = {"order_id": orders.keys[0]}
    if person:
        columns["customer_id"] = person
    columns["order_ts"] = placed
    option, note = _date_setting(
        orders.path, orders.reader, placed, orders.rows[placed], f"order_ts ({placed})"
    )
    if option is None:
        notes.append(f"order_ts: could not tell the format of {placed!r}: set `timestamp_format:`")
    else:
        with_timestamp(source, option)
    if note:
        notes.append(note)
    others = [c for c in orders.dates() if c != placed]
    if others:
        notes.append(f"order_ts: {placed} (the other timestamps: {', '.join(others)})")
    columns.update(amount_columns)
    source["columns"] = columns
    proposal: MappingProposal = {"orders": source}
    events = [
        m
        for f in files.values()
        if f is not orders and _is_event(f)
        if (m := _interactions(f, orders, files, links, person_joins, person, order_customer, notes))
        is not None
    ]
    if len(events) > 1:
        notes.append(
            f"interactions: {len(events)} files qualify ({', '.join(e['file'] for e in events)}): the first is "
            "proposed; a mapping holds one interactions file"
        )
    if events:
        proposal["interactions"] = events[0]
    tables = [source, *events[:1]]
    unused = [f.name for f in files.values() if f.name not in _used(tables)]
    if unused:
        notes.append(f"files not used: {', '.join(unused)}")
    notes.append("timezone: not in the files: set `timezone:` if the times are local")
    notes.append("currency: set `currency:` (e.g. BRL) to have it named in the reports")
    SourceMapping.model_validate(dict(proposal))
    proposal["notes"] = notes
    return proposal


def _used(tables: list[TableProposal]) -> set[str]:
    names: set[str] = set()
    for table in tables:
        names.add(table["file"])
        names.update(e["file"] for e in table.get("join", []))
        names.update(e["file"] for e in table.get("aggregate", []))
    return names


def infer_interactions(path: Path | str, n_rows: int = 20_000) -> MappingProposal:
    """Propose an ``interactions`` mapping for one file of reviews, tickets or surveys: its id, the customer
    column, the timestamp, the ``kind`` (a column of kinds, else a constant from the file's name and columns) and
    a 1-5 ``score``. A file that names no customer (reviews of orders) is said: infer the folder instead."""
    path = Path(path)
    rows, options, notes, decimal, reader = _read_sample(path, n_rows, "interactions")
    f = _File(path, rows, options, reader, decimal, list(notes))
    f.keys = [c for c in f.ids() if f.column(c).notna().all() and f.column(c).is_unique]
    notes = list(f.notes)
    source: TableProposal = {"file": path.name, **f.options}
    columns: dict[str, str] = {}
    key = next(iter(f.keys), None)
    if key is not None:
        columns["interaction_id"] = key
    else:
        notes.append("interaction_id: no column with one distinct value per row: map it by hand")
    customer = next(
        (c for c in rows.columns if any(re.search(p, c, re.IGNORECASE) for p in _GUESSES["customer_id"])),
        None,
    ) or next((c for c in rows.columns if _CUSTOMER.search(c) and _ID.search(c) and c != key), None)
    if customer is not None:
        columns["customer_id"] = customer
    else:
        others = [c for c in f.ids() if c != key]
        notes.append(
            f"customer_id: {path.name} names no customer (ids: {', '.join(others) or 'none'}): the customer is in "
            "another file; infer the folder (custml sources infer DIR), which joins it"
        )
    dates = f.dates()
    if dates:
        ts = next((c for c in dates if _EVENT_TS.search(c)), dates[0])
        columns["ts"] = ts
        option, note = _date_setting(path, reader, ts, rows[ts], f"interactions.ts ({ts})")
        if option:
            with_timestamp(source, option)
        if note:
            notes.append(note)
    else:
        notes.append("ts: no timestamp column found: map it by hand")
    own_kind = next((c for c in rows.columns if rows[c].dropna().isin(INTERACTION_KINDS).mean() > 0.9), None)
    if own_kind:
        columns["kind"] = own_kind
    else:
        kind = _kind(f) or "survey"
        source["constants"] = {"kind": kind}
        notes.append(f"kind: every row is a {kind} (from the file's name and columns); check")
    score = _score(f)
    if score:
        columns["score"] = score
    source["columns"] = columns
    SourceMapping.model_validate({"orders": {"file": "-", "columns": {}}, "interactions": source})
    return {"interactions": source, "notes": notes}
