"""The whole mapping applied: source files -> raw contract tables (and what happened on the way)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from custml.errors import MappingError
from custml.schema import CONTRACT
from custml.sources.expressions import _check_share, _column, _to_number
from custml.sources.line_items import _order_groups, aggregate_line_items, line_accounting
from custml.sources.mapping import (
    FileOptions,
    SourceMapping,
    Sources,
    TableSource,
    _did_you_mean,
    load_mapping,
)
from custml.sources.readers import _read_all
from custml.sources.relations import needs_relations, relate
from custml.sources.timestamps import _timestamp_text, _timestamps

log = logging.getLogger(__name__)


def _map_columns(
    table: str, df: pd.DataFrame, source: TableSource
) -> tuple[pd.DataFrame, dict[str, pd.Series], dict[str, object]]:
    """Contract columns from the source frame; timestamps come back parsed (and their failures) separately."""
    schema = CONTRACT[table]
    unknown = [c for c in source.columns if c not in schema.column_names]
    if unknown:
        hint = _did_you_mean(unknown[0], list(schema.column_names))
        raise MappingError(
            f"{table}.columns.{unknown[0]}",
            f"is not a column of the contract table{hint} (columns: {', '.join(schema.column_names)})",
        )
    out = pd.DataFrame(index=df.index)
    failed: dict[str, pd.Series] = {}
    info: dict[str, object] = {"columns": dict(source.columns)}
    unparseable: dict[str, int] = {}
    offsets: dict[str, int] = {}
    ids_as_float: dict[str, int] = {}
    for contract_col, spec in source.columns.items():
        kind = schema[contract_col].kind
        values, src = _column(table, contract_col, spec, df, source, numeric=kind in ("int", "float"))
        key = f"{table}.columns.{contract_col}"
        if kind in ("int", "float"):
            num = _to_number(values, source)
            bad = values.notna().to_numpy() & num.isna().to_numpy()
            n_bad = _check_share(
                key,
                src,
                values,
                bad,
                "a number",
                f"check `decimal:` (now {source.decimal!r}) and `thousands:` (now {source.thousands!r})",
            )
            if n_bad:
                unparseable[contract_col] = n_bad
            out[contract_col] = num
        elif kind == "datetime":
            parsed, fail, n_offset = _timestamps(key, src, values, source)
            if n_offset:
                offsets[contract_col] = n_offset
            out[contract_col] = parsed
            failed[contract_col] = fail
        else:
            text = values.astype("str").where(values.notna(), None).str.strip()
            if contract_col.endswith("_id"):
                # an id column read as floats somewhere upstream (a spreadsheet, pandas with blanks) writes
                # 17850 as '17850.0': the same customer as '17850' in another table
                as_float = text.str.fullmatch(r"\d+\.0+").fillna(False).astype(bool)
                if as_float.any():
                    text = text.where(~as_float, text.str.replace(r"\.0+$", "", regex=True))
                    ids_as_float[contract_col] = int(as_float.sum())
            out[contract_col] = text.astype(object).where(text.notna(), None)
    if ids_as_float:
        info["ids_written_as_float"] = ids_as_float  # '17850.0' read as '17850'
    if unparseable:
        info["numbers_unparseable"] = unparseable
    if offsets:
        info["timestamps_with_offset"] = offsets  # converted to UTC here, so the quality stage sees none
    return out, failed, info


_DUPLICATE = "__exact_duplicate"


def _related(source: TableSource, entry: FileOptions) -> TableSource:
    """How a related file is read: its own encoding, delimiter and decimal mark, else the main file's."""
    update: dict[str, object] = {"file": entry.file, "sheet": None, "names": None, "header": True}
    for option in ("encoding", "delimiter", "decimal"):
        if getattr(entry, option) is not None:
            update[option] = getattr(entry, option)
    return source.model_copy(update=update)


def read_source_table(
    name: str, source: TableSource, base: Path | str
) -> tuple[pd.DataFrame, dict[str, object]]:
    """One contract table (raw: timestamps as ISO text, numbers as floats) read through its mapping."""
    if name not in CONTRACT:
        raise MappingError(name, f"is not a contract table (expected some of {', '.join(CONTRACT)})")
    df, files, empty = _read_all(name, source, Path(base))
    info: dict[str, object] = {"files": files, "rows_read": len(df)}
    if empty:
        info["files_empty"] = empty
    if source.currency:
        info["currency"] = source.currency
    cols = dict(source.columns)
    # a line identical to an earlier one in every column of the file (an export repeating a row)
    duplicate = df.duplicated(keep="first").to_numpy()
    if needs_relations(source, [str(c) for c in df.columns]):
        df, duplicate, renamed, relations = _with_relations(name, source, Path(base), df, duplicate, files)
        info.update(relations)
        cols.update(renamed)
    if source.line_items:
        _check_line_items(name, source, df, cols)
        if source.order_key is not None:
            cols["order_id"] = source.order_key
    mapped, failed, col_info = _map_columns(name, df, source.model_copy(update={"columns": cols}))
    info.update(col_info)
    info["columns"] = {**source.columns, **{c: f"constant {v!r}" for c, v in source.constants.items()}}
    if name == "orders" and "order_id" not in mapped:
        # No order id in the source (CDNOW): each row is one order, numbered by its row.
        mapped.insert(
            0, "order_id", pd.Series(np.arange(1, len(df) + 1).astype(str), index=df.index, dtype=object)
        )
        info["order_id"] = "not mapped: the row number (1-based) is the order id"
    if not source.line_items and duplicate.any():
        info["rows_exact_duplicate"] = int(duplicate.sum())  # quarantined as exact_duplicate_row downstream
    if source.line_items:
        mapped, failed = _orders_of_lines(source, mapped, failed, duplicate, info)
    for col, fail in failed.items():
        mapped[col] = _timestamp_text(mapped[col], fail.reindex(mapped.index))
    return mapped.reset_index(drop=True), info


def _with_relations(
    name: str, source: TableSource, base: Path, df: pd.DataFrame, duplicate: np.ndarray, files: list[str]
) -> tuple[pd.DataFrame, np.ndarray, dict[str, str], dict[str, object]]:
    """The rows with the related files applied (:func:`relate`); the related files read are added to
    ``files``. Returns the rows, their duplicate marks, the renamed contract columns and the report."""
    lookups: list[pd.DataFrame] = []
    children: list[pd.DataFrame] = []
    for part, entries, out in (("join", source.join, lookups), ("aggregate", source.aggregate, children)):
        for i, entry in enumerate(entries):
            related, related_files, _ = _read_all(f"{name}.{part}[{i}]", _related(source, entry), base)
            out.append(related)
            files.extend(f for f in related_files if f not in files)
    # the duplicate mark rides along the rows through the joins and the filter
    df, renamed, relations = relate(name, source, df.assign(**{_DUPLICATE: duplicate}), lookups, children)
    duplicate = df.pop(_DUPLICATE).to_numpy(dtype=bool)
    return df, duplicate, renamed, relations


def _check_line_items(name: str, source: TableSource, df: pd.DataFrame, cols: dict[str, str]) -> None:
    """Line-item mode reads orders only, and needs an order key that the file has."""
    if name != "orders":
        raise MappingError(f"{name}.line_items", "only orders can be read as line items")
    if source.order_key is None and "order_id" not in cols:
        raise MappingError("orders.order_key", "line-item mode needs `order_key:` (the invoice/order column)")
    if source.order_key is not None and source.order_key not in df.columns:
        cols_in_file = list(map(str, df.columns))
        raise MappingError(
            "orders.order_key",
            f"no such column in the file{_did_you_mean(source.order_key, cols_in_file)} "
            f"(columns: {', '.join(cols_in_file[:20])})",
            source.order_key,
        )


def _orders_of_lines(
    source: TableSource,
    mapped: pd.DataFrame,
    failed: dict[str, pd.Series],
    duplicate: np.ndarray,
    info: dict[str, object],
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Order lines aggregated to orders (their accounting added to ``info``); the unparsed timestamps follow
    their orders."""
    info.update(line_accounting(mapped, duplicate, dropped=source.duplicate_lines == "drop"))
    info["lines_in"] = info["rows_read"]  # the file's lines (those a `where` left out are rows_excluded)
    if source.duplicate_lines == "drop" and duplicate.any():
        mapped = mapped[~duplicate]
        failed = {col: fail[~duplicate] for col, fail in failed.items()}
    line_net = mapped["net_amount"].fillna(0.0)
    orders = aggregate_line_items(mapped, source.refund_prefix)
    if "order_ts" in failed:
        # an order whose every line failed to parse keeps a raw text (quarantined as unparseable)
        _, groups = _order_groups(mapped["order_id"].reset_index(drop=True))
        fail = failed["order_ts"].reset_index(drop=True).groupby(groups, sort=False).first()
        failed["order_ts"] = pd.Series(fail.to_numpy(dtype=object), index=orders.index)
    info.update(
        lines_aggregated=len(mapped),
        orders_built=len(orders),
        lines_per_order=round(len(mapped) / max(len(orders), 1), 2),
        refund_orders=int(orders["is_refund"].sum()),
        net_amount_lines=round(float(line_net.sum()), 2),
    )
    info["_n_lines"] = orders["n_lines"].to_numpy()
    return orders.drop(columns=["n_lines"]), failed


def read_sources(data_dir: Path | str, mapping: SourceMapping | Path | str) -> Sources:
    """Read every table of ``mapping`` (files relative to ``data_dir``) as raw contract tables.

    Returns
    -------
    Sources
        ``tables`` for :func:`custml.quality.clean_tables`; ``report`` per table: files, rows read, the mapping,
        values that did not convert and, in line-item mode, lines in, orders built and the lines' net amount.

    Raises
    ------
    MappingError
        If a file, column, format or option of the mapping does not fit the data (key, column, rows named).
    """
    if not isinstance(mapping, SourceMapping):
        mapping = load_mapping(mapping)
    data_dir = Path(data_dir)
    tables: dict[str, pd.DataFrame] = {}
    report: dict[str, dict[str, object]] = {}
    line_counts: dict[str, np.ndarray] = {}
    for name, source in mapping.tables().items():
        tables[name], report[name] = read_source_table(name, source, data_dir)
        if "_n_lines" in report[name]:
            line_counts[name] = np.asarray(report[name].pop("_n_lines"))
        log.info("sources: %s: %s rows from %s", name, len(tables[name]), report[name]["files"])
    return Sources(tables, report, line_counts)
