"""Mappings of related files, evaluated in DuckDB: lookups (``join``), child aggregates (``aggregate``),
constants, row filters (``where``) and SQL expressions (text functions, ``case``).

:func:`relate` is pure: it takes the main file's rows and the related files' rows (read by the caller) and
returns one frame with the joined, aggregated and computed columns, the rows that pass ``where``, and what
happened (joins that found nothing, rows excluded). Every expression is first checked by
:func:`~custml.sources.expressions.sql_expression` (column names, literals, operators, a short list of
functions), and the DuckDB connection cannot read files; nothing goes through Python ``eval``.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd

from custml.errors import MappingError
from custml.schema import CONTRACT
from custml.sources.expressions import (
    SQL_AGGREGATES,
    _check_share,
    _quote,
    _to_number,
    is_arithmetic,
    sql_expression,
)
from custml.sources.mapping import AggregateSource, JoinSource, TableSource, _did_you_mean

__all__ = ["looks_sql", "needs_relations", "relate"]

_SQL_HINTS = re.compile(r"'|\|\||\b\w+\s*\(|^\s*case\b", re.IGNORECASE)
_AGGREGATE = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$", re.DOTALL)
_ROW = "__row"


def looks_sql(spec: str) -> bool:
    """A column spec that is an SQL expression (a text literal, ``||``, a function call, ``case``), not a
    column name or arithmetic."""
    return bool(_SQL_HINTS.search(spec)) and not is_arithmetic(spec)


def needs_relations(source: TableSource, columns: list[str]) -> bool:
    """Whether reading the table goes through DuckDB: joins, aggregates, constants, a filter or an SQL column."""
    return source.is_relational() or any(
        spec not in columns and looks_sql(str(spec)) for spec in source.columns.values()
    )


def _key_text(alias: str, column: str) -> str:
    return f"nullif(trim(CAST({alias}.{_quote(column)} AS VARCHAR)), '')"


def _need_column(key: str, column: str, columns: list[str], what: str) -> None:
    if column not in columns:
        raise MappingError(
            key,
            f"no column {column!r} in {what}{_did_you_mean(column, columns)} (columns: {', '.join(columns[:20])})",
            column,
        )


def _bind(con: duckdb.DuckDBPyConnection, key: str, spec: str, sql: str) -> None:
    """Let DuckDB check types and names now, so that an error names the mapping key."""
    try:
        con.execute(sql).fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise MappingError(key, f"{spec!r} does not evaluate: {first}") from None


def _numbers(
    key: str, frame: pd.DataFrame, columns: list[str], source: TableSource, *, strict: bool
) -> pd.DataFrame:
    """``frame`` with ``columns`` as numbers (the file's decimal mark); ``strict``: refuse a mostly-text column.
    Not strict: a column that does not read as numbers stays text (min/max of dates)."""
    out = frame.copy()
    for col in columns:
        num = _to_number(frame[col], source)
        bad = frame[col].notna().to_numpy() & num.isna().to_numpy()
        if strict:
            _check_share(key, col, frame[col], bad, "a number", f"check `decimal:` (now {source.decimal!r})")
        elif bad.any():
            continue
        out[col] = num
    return out


def _join(
    con: duckdb.DuckDBPyConnection,
    table: str,
    i: int,
    spec: JoinSource,
    lookup: pd.DataFrame,
    current: str,
    columns: list[str],
) -> tuple[str, list[str], str]:
    key = f"{table}.join[{i}]"
    names = [str(c) for c in lookup.columns]
    _need_column(f"{key}.key", spec.key, names, spec.file)
    _need_column(f"{key}.main_key", spec.left(), columns, f"the {table} rows (main file and earlier joins)")
    taken = spec.named_columns()
    for new, col in taken.items():
        _need_column(f"{key}.columns", col, names, spec.file)
        if new in columns:
            raise MappingError(
                f"{key}.columns",
                f"{new!r} is already a column of the {table} rows: rename it ({{new_name: {col}}})",
                new,
            )
    keys = lookup[spec.key].astype("str").where(lookup[spec.key].notna(), None).str.strip()
    repeated = int(keys.dropna().duplicated().sum())
    if repeated:
        raise MappingError(
            f"{key}.key",
            f"{spec.file}: {repeated:,} repeated values of {spec.key!r}: a join looks up one row per key (it "
            "would repeat the main rows); use `aggregate:` for a child file",
            spec.key,
            repeated,
        )
    con.register(f"j{i}", lookup[list(dict.fromkeys([spec.key, *taken.values()]))])
    picks = ", ".join(f"j.{_quote(col)} AS {_quote(new)}" for new, col in taken.items())
    flag = f"__nomatch{i}"
    sql = (
        f"(SELECT t.*, {picks}, ({_key_text('t', spec.left())} IS NOT NULL AND j.{_quote(spec.key)} IS NULL) "
        f"AS {flag} FROM {current} t LEFT JOIN j{i} j ON {_key_text('t', spec.left())} = "
        f"{_key_text('j', spec.key)})"
    )
    return sql, [*columns, *taken], flag


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    table: str,
    i: int,
    spec: AggregateSource,
    child: pd.DataFrame,
    current: str,
    columns: list[str],
    source: TableSource,
) -> tuple[str, list[str], str]:
    key = f"{table}.aggregate[{i}]"
    names = [str(c) for c in child.columns]
    _need_column(f"{key}.key", spec.key, names, spec.file)
    _need_column(f"{key}.main_key", spec.left(), columns, f"the {table} rows (main file and earlier joins)")
    parts: list[str] = []
    counts: list[str] = []
    numeric: dict[str, bool] = {}
    for new, text in spec.columns.items():
        ckey = f"{key}.columns.{new}"
        if new in columns:
            raise MappingError(
                ckey, f"{new!r} is already a column of the {table} rows: name it otherwise", new
            )
        m = _AGGREGATE.match(text)
        if m is None or m.group(1).lower() not in SQL_AGGREGATES:
            raise MappingError(
                ckey,
                f"{text!r} is not an aggregate: write sum(col), count(*), count(col), min(col) or max(col)",
            )
        fn, inner = m.group(1).lower(), m.group(2).strip()
        if inner == "*":
            if fn != "count":
                raise MappingError(ckey, f"{text!r}: only count takes '*'")
            parts.append(f"count(*) AS {_quote(new)}")
            counts.append(new)
            continue
        sql, used = sql_expression(ckey, inner, names)
        for col in used:
            numeric[col] = numeric.get(col, False) or fn in ("sum", "avg")
        parts.append(f"{fn}({sql}) AS {_quote(new)}")
        if fn == "count":
            counts.append(new)
    frame = child
    strict = [c for c, must in numeric.items() if must]
    loose = [c for c, must in numeric.items() if not must]
    options = source.model_copy(update={"decimal": spec.decimal or source.decimal})
    frame = _numbers(f"{key}.columns", frame, strict, options, strict=True)
    frame = _numbers(f"{key}.columns", frame, loose, options, strict=False)
    con.register(f"c{i}", frame)
    where = ""
    if spec.where:
        cond, _ = sql_expression(f"{key}.where", spec.where, names)
        where = f"WHERE coalesce(({cond}), false)"
    grouped = f"SELECT {_key_text('c', spec.key)} AS __k, {', '.join(parts)} FROM c{i} c {where} GROUP BY 1"
    for new, text in spec.columns.items():
        _bind(con, f"{key}.columns.{new}", text, f"SELECT * FROM ({grouped}) LIMIT 0")
    if spec.where:
        _bind(con, f"{key}.where", spec.where, f"SELECT * FROM ({grouped}) LIMIT 0")
    picks = ", ".join(
        f"coalesce(a.{_quote(n)}, 0) AS {_quote(n)}" if n in counts else f"a.{_quote(n)} AS {_quote(n)}"
        for n in spec.columns
    )
    flag = f"__nochild{i}"
    sql = (
        f"(SELECT t.*, {picks}, ({_key_text('t', spec.left())} IS NOT NULL AND a.__k IS NULL) AS {flag} "
        f"FROM {current} t LEFT JOIN ({grouped}) a ON {_key_text('t', spec.left())} = a.__k)"
    )
    return sql, [*columns, *spec.columns], flag


def relate(
    table: str,
    source: TableSource,
    main: pd.DataFrame,
    lookups: list[pd.DataFrame] | None = None,
    children: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict[str, str], dict[str, object]]:
    """The rows of ``table`` with its related files applied, in DuckDB.

    Parameters
    ----------
    table : str
        Contract table name (errors name ``<table>.join[i].key`` and the like).
    source : TableSource
        The table's mapping.
    main : DataFrame
        The main file's rows (as read: text).
    lookups, children : list of DataFrame
        The rows of ``source.join[i].file`` and ``source.aggregate[i].file``, in order.

    Returns
    -------
    (DataFrame, dict, dict)
        The rows that pass ``where`` (in file order) with the main columns, the joined and aggregated ones and
        the computed ones; ``{contract column: frame column}`` for the columns given as SQL expressions or
        constants; and the report (``joins``/``aggregates`` with the rows that found no match,
        ``rows_excluded`` by ``where``).

    Examples
    --------
    >>> orders = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["c1", "c2"], "status": ["ok", "canceled"]})
    >>> customers = pd.DataFrame({"customer_id": ["c1", "c2"], "person": ["p1", "p1"]})
    >>> payments = pd.DataFrame({"order_id": ["o1", "o1", "o2"], "value": ["10.5", "2.25", "7"]})
    >>> src = TableSource(file="orders.csv", columns={"customer_id": "person", "net_amount": "paid"},
    ...     join=[{"file": "customers.csv", "key": "customer_id", "columns": ["person"]}],
    ...     aggregate=[{"file": "payments.csv", "key": "order_id", "columns": {"paid": "sum(value)"}}],
    ...     where="status <> 'canceled'")
    >>> rows, renamed, info = relate("orders", src, orders, [customers], [payments])
    >>> rows[["order_id", "person", "paid"]], info["rows_excluded"]
    (  order_id person   paid
    0       o1     p1  12.75, 1)
    """
    lookups = lookups or []
    children = children or []
    if table not in CONTRACT:
        raise MappingError(table, f"is not a contract table (expected some of {', '.join(CONTRACT)})")
    con = duckdb.connect(config={"enable_external_access": False})  # reads no file, whatever the SQL
    try:
        base = main.reset_index(drop=True).copy()
        base.columns = [str(c) for c in base.columns]
        base[_ROW] = np.arange(len(base), dtype="int64")
        con.register("t0", base)
        current = "t0"
        columns = [c for c in base.columns if c != _ROW]
        flags: list[tuple[str, str, str]] = []
        for i, (spec, lookup) in enumerate(zip(source.join, lookups, strict=True)):
            current, columns, flag = _join(con, table, i, spec, lookup, current, columns)
            flags.append(("joins", spec.file, flag))
        for i, (agg, child) in enumerate(zip(source.aggregate, children, strict=True)):
            current, columns, flag = _aggregate(con, table, i, agg, child, current, columns, source)
            flags.append(("aggregates", agg.file, flag))
        computed, renamed = _computed_columns(con, table, source, columns, current)
        _check_constants(table, source)
        where = _where_clause(con, table, source, columns, current)
        out, n_all, info = _evaluate(con, table, current, computed, where, flags)
    finally:
        con.close()
    out = out.drop(columns=[_ROW, *(f for _, _, f in flags)])
    for contract_col, value in source.constants.items():
        name = f"__const_{contract_col}"
        out[name] = str(value).lower() if isinstance(value, bool) else str(value)
        renamed[contract_col] = name
    if source.where:
        info["where"] = source.where
        info["rows_excluded"] = n_all - len(out)
    return out.reset_index(drop=True), renamed, info


def _computed_columns(
    con: duckdb.DuckDBPyConnection, table: str, source: TableSource, columns: list[str], current: str
) -> tuple[list[str], dict[str, str]]:
    """The SQL of the contract columns given as expressions (checked, bound against ``current``), and
    ``{contract column: frame column}`` for them."""
    renamed: dict[str, str] = {}
    computed: list[str] = []
    for contract_col, raw_spec in source.columns.items():
        text = str(raw_spec).strip()
        if text in columns or not looks_sql(text):
            continue
        key = f"{table}.columns.{contract_col}"
        sql, _ = sql_expression(key, text, columns)
        name = f"__expr_{contract_col}"
        _bind(con, key, text, f"SELECT {sql} AS x FROM {current} LIMIT 0")
        computed.append(f"{sql} AS {_quote(name)}")
        renamed[contract_col] = name
    return computed, renamed


def _check_constants(table: str, source: TableSource) -> None:
    """Constants fill contract columns that ``columns`` does not map."""
    schema = CONTRACT[table]
    for contract_col in source.constants:
        key = f"{table}.constants.{contract_col}"
        if contract_col not in schema.column_names:
            raise MappingError(
                key,
                f"is not a column of the contract table{_did_you_mean(contract_col, list(schema.column_names))}",
            )
        if contract_col in source.columns:
            raise MappingError(key, "is mapped in `columns` too: keep one of them")


def _where_clause(
    con: duckdb.DuckDBPyConnection, table: str, source: TableSource, columns: list[str], current: str
) -> str:
    """The ``WHERE`` clause of ``source.where`` (checked and bound; a null condition keeps no row), or ""."""
    if not source.where:
        return ""
    cond, _ = sql_expression(f"{table}.where", source.where, columns)
    _bind(con, f"{table}.where", source.where, f"SELECT * FROM {current} WHERE ({cond}) LIMIT 0")
    return f"WHERE coalesce(({cond}), false)"


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    table: str,
    current: str,
    computed: list[str],
    where: str,
    flags: list[tuple[str, str, str]],
) -> tuple[pd.DataFrame, int, dict[str, object]]:
    """The rows kept (in file order), the number of rows before ``where`` and the rows without a match per
    related file."""
    select = ", ".join(["*", *computed])
    try:
        out = con.execute(f"SELECT {select} FROM {current} {where} ORDER BY {_ROW}").df()
        n_all = int(con.execute(f"SELECT count(*) FROM {current}").fetchone()[0])  # type: ignore[index]
        info: dict[str, object] = {}
        for part, file, flag in flags:
            n = int(con.execute(f"SELECT count(*) FROM {current} WHERE {flag}").fetchone()[0])  # type: ignore[index]
            entry = info.setdefault(part, [])
            assert isinstance(entry, list)
            entry.append({"file": file, "rows_without_match": n})
    except duckdb.Error as exc:
        raise MappingError(table, f"the mapping does not evaluate: {str(exc).splitlines()[0]}") from None
    return out, n_all, info
