"""Bring your own data: a source mapping (YAML) that turns any export into the raw contract tables.

A mapping says, per contract table, which file holds it (CSV, parquet, an Excel workbook ``.xlsx`` with
``sheet:`` naming its sheet, or a folder of them), how the file is
written (encoding, delimiter, decimal mark, timestamp format or day-first dates, time zone, currency) and where
each contract column comes from: a source column (``customer_id: CustomerID``) or a simple arithmetic
expression over source columns (``net_amount: Quantity * UnitPrice``; names that are not identifiers go in
backticks). ``orders: {line_items: true, order_key: InvoiceNo}`` aggregates an invoice-line export to orders
(:func:`aggregate_line_items`). Only ``orders`` is needed: without a customers table the quality stage derives
customers from orders.

:func:`read_sources` applies a mapping and returns tables that :func:`custml.quality.clean_tables` takes as they
are; :func:`infer_mapping` proposes a mapping from a file's first rows for the user to check. Every problem is a
:class:`~custml.errors.MappingError` naming the mapping key, the source column and the row count.

Example mapping (an invoice export, one row per line, cancellations as invoices ``C...``)::

    orders:
      file: online_retail.csv
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

from __future__ import annotations

import ast
import codecs
import csv
import logging
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from custml.errors import DataFileError, MappingError
from custml.schema import CONTRACT

__all__ = [
    "SourceMapping",
    "Sources",
    "TableSource",
    "aggregate_line_items",
    "infer_mapping",
    "load_mapping",
    "mapping_yaml",
    "read_sources",
]

log = logging.getLogger(__name__)

_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_SUFFIXES = (".parquet", *_TEXT_SUFFIXES)
# compressed text exports (export.csv.gz): read as they are
_COMPRESSED = (".gz", ".bz2", ".xz", ".zip")
# Excel workbooks read through openpyxl (a dependency); older or other spreadsheet formats are refused.
_XLSX = (".xlsx", ".xlsm")
_WORKBOOKS = (".xls", ".ods", ".numbers")
# A column where more than this share of present values does not convert is a wrong option, not dirt.
MAX_UNPARSEABLE_SHARE = 0.5
_DAYFIRST_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
)
_MONTHFIRST_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y")
_OTHER_FORMATS = ("%Y%m%d", "%Y%m%d%H%M%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class TableSource(BaseModel):
    """Where one contract table comes from and how its file is written."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="File or folder, relative to the data folder (or absolute).")
    columns: dict[str, str] = Field(
        description="contract_column: source column, or an expression such as 'Quantity * UnitPrice'."
    )
    encoding: str = Field("utf-8", description="Text encoding of CSV files (e.g. latin-1, cp1252).")
    sheet: str | int | None = Field(
        None,
        description="Excel workbook (.xlsx): the sheet, by name or 0-based position (default: the first).",
    )
    delimiter: str | None = Field(None, description="',', ';', a tab, '|' or 'whitespace'; sniffed if unset.")
    header: bool = Field(True, description="The first line holds column names.")
    names: list[str] | None = Field(None, description="Column names of a file without a header row.")
    decimal: str = Field(".", description="Decimal mark of numbers ('.' or ',').")
    thousands: str | None = Field(None, description="Thousands separator to drop from numbers.")
    timestamp_format: str | None = Field(
        None,
        description="strftime format of timestamps, e.g. %d/%m/%Y %H:%M; or unix / unix_ms (seconds or "
        "milliseconds since 1970, UTC).",
    )
    dayfirst: bool = Field(
        False, description="Dates are day first (12/05/2024 is 12 May) when no format is set."
    )
    timezone: str | None = Field(None, description="Time zone of local timestamps (converted to UTC).")
    currency: str | None = Field(None, description="Currency of the amounts (reported; never converted).")
    line_items: bool = Field(False, description="One row per order line: aggregate lines to orders.")
    order_key: str | None = Field(None, description="Line-item mode: source column naming the order.")
    refund_prefix: str | None = Field(
        None, description="Line-item mode: order keys starting with this mark cancellations (e.g. 'C')."
    )


class SourceMapping(BaseModel):
    """A source mapping: one :class:`TableSource` per contract table present (``orders`` required)."""

    model_config = ConfigDict(extra="forbid")

    orders: TableSource
    customers: TableSource | None = None
    interactions: TableSource | None = None
    campaigns: TableSource | None = None

    def tables(self) -> dict[str, TableSource]:
        """The mapped tables, in pipeline order."""
        order = ("customers", "orders", "interactions", "campaigns")
        return {name: getattr(self, name) for name in order if getattr(self, name) is not None}


@dataclass
class Sources:
    """Raw contract tables read through a mapping, and what happened on the way (``report``, JSON-able)."""

    tables: dict[str, pd.DataFrame]
    report: dict[str, dict[str, object]] = field(default_factory=dict)
    line_counts: dict[str, np.ndarray] = field(default_factory=dict)
    """Line-item mode: lines per built order (aligned with the table's rows), to count lines kept/quarantined."""

    @property
    def currency(self) -> str | None:
        return self.report.get("orders", {}).get("currency")  # type: ignore[return-value]


def _did_you_mean(name: str, choices: list[str]) -> str:
    """`` (did you mean 'X'?)`` for the choice closest to ``name`` (ignoring case, spaces, '_' and '-')."""
    import difflib

    def norm(text: str) -> str:
        return re.sub(r"[\s_\-]", "", text).lower()

    same = [c for c in choices if norm(c) == norm(name)]
    close = same or difflib.get_close_matches(name, choices, n=1, cutoff=0.75)
    if not close:
        by_norm = difflib.get_close_matches(norm(name), [norm(c) for c in choices], n=1, cutoff=0.8)
        close = [c for c in choices if by_norm and norm(c) == by_norm[0]]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(raw: Any) -> None:
    """Unknown tables and options of a mapping, named with the closest valid one (typos)."""
    if not isinstance(raw, dict):
        return
    tables = list(SourceMapping.model_fields)
    options = list(TableSource.model_fields)
    for table, section in raw.items():
        if table not in tables:
            raise MappingError(
                str(table),
                f"is not a table of a mapping{_did_you_mean(str(table), tables)}; tables: {', '.join(tables)}",
            )
        for option in section if isinstance(section, dict) else ():
            if option not in options:
                raise MappingError(
                    f"{table}.{option}",
                    f"is not a mapping option{_did_you_mean(str(option), options)}; options: {', '.join(options)}",
                )


def load_mapping(path: Path | str) -> SourceMapping:
    """Read and validate a mapping file; a :class:`~custml.errors.MappingError` or
    :class:`~custml.errors.ConfigError` names the bad key."""
    from custml.config import read_yaml, validate_params

    raw = read_yaml(path)
    _check_keys(raw)
    return validate_params(raw, SourceMapping, path)


# --------------------------------------------------------------------------------------------------------
# reading files
# --------------------------------------------------------------------------------------------------------


def _readable(path: Path) -> bool:
    """A file custml reads: parquet, CSV/TSV/text, or CSV/TSV/text compressed (``.csv.gz``, ``.txt.zip``)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    if len(suffixes) == 1 and suffixes[-1] in _XLSX:
        return True
    return bool(suffixes) and suffixes[-1] in _SUFFIXES


def _refuse_workbook(key: str, path: Path) -> None:
    if path.suffix.lower() in _WORKBOOKS:
        raise MappingError(
            key,
            f"{path.name} is a spreadsheet custml does not read (it reads .xlsx): save it as .xlsx or the sheet "
            "as CSV (UTF-8) and map that file",
        )


def _read_workbook(table: str, source: TableSource, path: Path, nrows: int | None = None) -> pd.DataFrame:
    """One sheet of an Excel workbook (``sheet:``, default the first). Real Excel dates come back as datetimes
    and numbers as numbers; other cells as text (a column mixing numbers and text, such as invoice numbers with
    a 'C' for cancellations, becomes text)."""
    import zipfile

    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise MappingError(
            f"{table}.file", f"{path.name}: reading .xlsx needs openpyxl (pip install openpyxl)"
        ) from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise MappingError(f"{table}.file", f"{path.name} is not a readable .xlsx workbook ({exc})") from None
    sheets = list(workbook.sheetnames)
    workbook.close()
    sheet = source.sheet if source.sheet is not None else 0
    if isinstance(sheet, int) and not 0 <= sheet < len(sheets):
        raise MappingError(
            f"{table}.sheet", f"{path.name} has {len(sheets)} sheet(s), no position {sheet}; sheets: {sheets}"
        )
    if isinstance(sheet, str) and sheet not in sheets:
        raise MappingError(
            f"{table}.sheet",
            f"{path.name} has no sheet {sheet!r}{_did_you_mean(sheet, sheets)}; sheets: {', '.join(sheets)}",
        )
    if source.names is None and not source.header:
        raise MappingError(f"{table}.names", "a sheet without a header row needs `names: [...]`")
    df = pd.read_excel(
        path,
        sheet_name=sheet,
        header=0 if source.header else None,
        names=source.names,
        nrows=nrows,
        engine="openpyxl",
    )
    df = df.dropna(how="all")  # rows Excel keeps formatted but empty
    for col in df.columns:
        s = df[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            df[col] = s.map(
                lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
            )
    df.columns = [str(c).strip() for c in df.columns]
    return df.reset_index(drop=True)


def _open_text(path: Path, encoding: str) -> Any:
    """A text handle on ``path``, through its compression (gzip, bz2, xz, a zip holding one file)."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding=encoding, newline="")
    if suffix == ".bz2":
        import bz2

        return bz2.open(path, "rt", encoding=encoding, newline="")
    if suffix == ".xz":
        import lzma

        return lzma.open(path, "rt", encoding=encoding, newline="")
    if suffix == ".zip":
        import io
        import zipfile

        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise DataFileError(f"{path.name}: a zip archive holding {len(members)} files (pandas reads one)")
        return io.TextIOWrapper(archive.open(members[0]), encoding=encoding, newline="")
    return path.open("r", encoding=encoding, newline="")


def _files(table: str, source: TableSource, base: Path) -> list[Path]:
    path = Path(source.file).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _readable(p))
        if not files:
            workbooks = sorted(p for p in path.iterdir() if p.suffix.lower() in _WORKBOOKS)
            if workbooks:
                _refuse_workbook(f"{table}.file", workbooks[0])
            raise MappingError(f"{table}.file", f"folder {path} holds no CSV, parquet or .xlsx file")
        return files
    if not path.is_file():
        raise MappingError(f"{table}.file", f"file not found: {path}")
    _refuse_workbook(f"{table}.file", path)
    return [path]


def _sniff(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] == 0 and len(first.split()) > 1:
            return "whitespace"
        return best if counts[best] > 0 else ","


def _read_text(table: str, source: TableSource, path: Path) -> pd.DataFrame:
    try:
        with _open_text(path, source.encoding) as fh:
            sample = fh.read(64_000)
    except LookupError:
        raise MappingError(f"{table}.encoding", f"unknown encoding {source.encoding!r}") from None
    except UnicodeDecodeError as exc:
        utf16 = bytes(exc.object[:2]) in (b"\xff\xfe", b"\xfe\xff")
        options = "`encoding: utf-16`" if utf16 else "e.g. `encoding: latin-1` or `encoding: cp1252`"
        raise MappingError(
            f"{table}.encoding",
            f"{path.name} is not {source.encoding} text (byte {exc.object[exc.start : exc.start + 1]!r} at "
            f"{exc.start:,}); set {options}",
        ) from None
    sample = sample.lstrip("\ufeff")
    if not sample.strip():
        raise MappingError(f"{table}.file", f"{path.name}: empty file (no header, no rows)")
    delimiter = source.delimiter or _sniff(sample)
    sep = r"\s+" if delimiter == "whitespace" else delimiter
    names = source.names
    header: int | None = 0 if source.header else None
    if names is None and not source.header:
        raise MappingError(f"{table}.names", "a file without a header row needs `names: [...]`")
    try:
        df = pd.read_csv(
            path,
            sep=sep,
            encoding=source.encoding,
            header=header,
            names=names,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            engine="c" if delimiter == "whitespace" or len(sep) == 1 else "python",
        )
    except UnicodeDecodeError:
        raise MappingError(
            f"{table}.encoding",
            f"{path.name} is not {source.encoding} text; set e.g. `encoding: latin-1` or `encoding: cp1252`",
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise MappingError(
            f"{table}.delimiter", f"cannot parse {path.name} with delimiter {delimiter!r} ({exc})"
        ) from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


def _read_file(table: str, source: TableSource, path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        from custml.io import read_table

        return read_table(path, table)
    if path.suffix.lower() in _XLSX:
        return _read_workbook(table, source, path)
    return _read_text(table, source, path)


def _is_blank(path: Path) -> bool:
    """A text file with nothing in it (0 bytes, or only a byte-order mark and blank lines)."""
    if path.suffix.lower() in (".parquet", *_XLSX, *_WORKBOOKS):
        return False
    with _open_text(path, "latin-1") as fh:  # through its compression; latin-1 reads any byte
        head = fh.read(4097)
    return len(head) <= 4096 and head.replace("\xef\xbb\xbf", "").strip() == ""


def _read_all(table: str, source: TableSource, base: Path) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The rows of every file of ``table`` (one frame) , the files read and the empty files skipped."""
    found = _files(table, source, base)
    empty = [p for p in found if _is_blank(p)]
    files = [p for p in found if p not in empty]
    if not files:
        names = ", ".join(p.name for p in empty)
        raise MappingError(
            f"{table}.file", f"{names}: empty file{'s' if len(empty) > 1 else ''} (no header, no rows)"
        )
    if empty:
        log.warning("sources: %s: %d empty file(s) skipped: %s", table, len(empty), [p.name for p in empty])
    frames = [_read_file(table, source, p) for p in files]
    first = list(frames[0].columns)
    for p, f in zip(files[1:], frames[1:], strict=True):
        if list(f.columns) != first:
            raise MappingError(
                f"{table}.file",
                f"{p.name} has other columns than {files[0].name} ({list(f.columns)} vs {first})",
            )
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(df) == 0:
        raise MappingError(f"{table}.file", f"{', '.join(p.name for p in files)}: no data rows")
    return df, [str(p) for p in files], [str(p) for p in empty]


# --------------------------------------------------------------------------------------------------------
# columns: source names, expressions, conversions
# --------------------------------------------------------------------------------------------------------


def _to_number(s: pd.Series, source: TableSource) -> pd.Series:
    """Numbers from text written with the mapping's decimal mark and thousands separator (bad values: NaN)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    text = s.astype("str").where(s.notna(), None).str.strip().str.replace(r"\s", "", regex=True)
    if source.thousands:
        text = text.str.replace(source.thousands, "", regex=False)
    elif source.decimal in _GROUPING:
        # '1.006,39' with a comma decimal (or '1,006.39' with a point): the other mark can only group thousands
        sep = _GROUPING[source.decimal]
        grouped = text.str.fullmatch(_grouped_pattern(sep, source.decimal)).fillna(False).astype(bool)
        text = text.where(~grouped, text.str.replace(sep, "", regex=False))
    if source.decimal != ".":
        text = text.str.replace(source.decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


_GROUPING = {",": ".", ".": ","}


def _grouped_pattern(sep: str, decimal: str) -> str:
    """Digits grouped by three with ``sep``, an optional fraction after ``decimal`` ('12.345.678,90')."""
    return rf"[-+]?\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+(?:{re.escape(decimal)}\d*)?"


def _check_share(key: str, column: str, raw: pd.Series, bad: np.ndarray, what: str, hint: str) -> int:
    present = int(raw.notna().sum())
    n_bad = int(bad.sum())
    if present and n_bad > 1 and n_bad / present > MAX_UNPARSEABLE_SHARE:
        example = raw[bad].astype(str).iloc[0]
        raise MappingError(
            key, f"is not {what} in {n_bad:,} of {present:,} rows (e.g. {example!r}); {hint}", column, n_bad
        )
    return n_bad


_BACKTICK = re.compile(r"`([^`]+)`")


def _expression(spec: str, columns: list[str]) -> tuple[ast.expr, dict[str, str]]:
    """Parse ``spec`` (names, numbers, + - * /, parentheses; backticks around other names)."""
    aliases: dict[str, str] = {}

    def alias(m: re.Match[str]) -> str:
        name = f"_c{len(aliases)}"
        aliases[name] = m.group(1)
        return name

    text = _BACKTICK.sub(alias, spec)
    tree = ast.parse(text, mode="eval").body
    for node in ast.walk(tree):
        ok = isinstance(node, ast.BinOp | ast.UnaryOp | ast.Name | ast.Constant | ast.Load)
        ok = ok or type(node) in _OPS or isinstance(node, ast.USub | ast.UAdd)
        if not ok or (isinstance(node, ast.Constant) and not isinstance(node.value, int | float)):
            raise SyntaxError(f"not allowed in an expression: {ast.dump(node)[:40]}")
        if isinstance(node, ast.Name) and node.id not in aliases:
            aliases[node.id] = node.id
    return tree, aliases


def _evaluate(node: ast.expr, values: dict[str, pd.Series]) -> Any:
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # _expression admits int/float constants only
    if isinstance(node, ast.UnaryOp):
        v = _evaluate(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    assert isinstance(node, ast.BinOp)
    return _OPS[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))


def _column(
    table: str, contract_col: str, spec: str, df: pd.DataFrame, source: TableSource, numeric: bool
) -> tuple[pd.Series, str]:
    """The source values of one contract column (a copy of a column, or an evaluated expression)."""
    key = f"{table}.columns.{contract_col}"
    spec = str(spec).strip()
    if spec in df.columns:
        return df[spec], spec
    available = ", ".join(map(str, df.columns[:20]))
    try:
        tree, names = _expression(spec, list(df.columns))
    except SyntaxError:
        spaced = [c for c in map(str, df.columns) if " " in c and c in spec]
        hint = f"; names with spaces go in backticks: `{spaced[0]}`" if spaced else ""
        hint = hint or _did_you_mean(spec, list(map(str, df.columns)))
        raise MappingError(
            key, f"no column {spec!r} in the file, and not an expression{hint} (columns: {available})"
        ) from None
    missing = [src for src in names.values() if src not in df.columns]
    if missing:
        hint = _did_you_mean(missing[0], list(map(str, df.columns)))
        if " " in hint and not isinstance(tree, ast.Name):
            hint = hint.replace("?)", "? names with spaces go in backticks)")
        raise MappingError(key, f"no such column in the file{hint} (columns: {available})", missing[0])
    if isinstance(tree, ast.Name):  # an identifier that is a backticked column
        return df[names[tree.id]], names[tree.id]
    if not numeric:
        raise MappingError(key, f"an expression ({spec!r}) can only fill a numeric column")
    values: dict[str, pd.Series] = {}
    for alias, src in names.items():
        v = _to_number(df[src], source)
        bad = df[src].notna().to_numpy() & v.isna().to_numpy()
        _check_share(
            key,
            src,
            df[src],
            bad,
            "a number",
            f"check `decimal:` (now {source.decimal!r}) and `thousands:` (now {source.thousands!r})",
        )
        values[alias] = v
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _evaluate(tree, values)
    out = pd.Series(out, index=df.index, dtype="float64").replace([np.inf, -np.inf], np.nan)
    return out, spec


def _best_format(text: pd.Series, formats: tuple[str, ...]) -> tuple[pd.Series, int]:
    """The parse of ``text`` under the format of ``formats`` that reads the most values, and that count.

    Formats with an offset (ISO-8601, ``%z``) are read as instants and returned as naive UTC.
    """
    best, best_n = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]"), -1
    for fmt in formats:
        instant = fmt == "ISO8601" or "%z" in fmt
        attempt = pd.to_datetime(text, format=fmt, errors="coerce", utc=instant)
        if instant:
            attempt = attempt.dt.tz_convert("UTC").dt.tz_localize(None)
        n_ok = int(attempt.notna().sum())
        if n_ok > best_n:
            best, best_n = attempt, n_ok
    return best, best_n


def _with_offsets(formats: tuple[str, ...]) -> tuple[str, ...]:
    """``formats`` and, for those with a time of day, the same followed by a UTC offset (``+0100``)."""
    return formats + tuple(f"{f}{sep}%z" for f in formats if "%H" in f for sep in (" ", ""))


# A timestamp text that carries its own UTC offset (or Z): never localised to the mapping's time zone.
_OFFSET_AT_END = r".*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT)"


# Unix time: seconds (10 digits) or milliseconds (13) since 1970 in UTC, as payment and web platforms export.
_EPOCH_UNITS = {"unix": ("s", r"\d{9,10}(?:\.\d+)?"), "unix_ms": ("ms", r"\d{12,13}")}


def _epoch_kind(text: pd.Series) -> str | None:
    """``"unix"``/``"unix_ms"`` when (nearly) every present value is a Unix time of this century, else None."""
    values = text.dropna().astype(str)
    if not len(values):
        return None
    for kind, (unit, pattern) in _EPOCH_UNITS.items():
        match = values.str.fullmatch(pattern)
        if match.mean() >= 0.95:
            when = pd.to_datetime(pd.to_numeric(values[match]), unit=unit, errors="coerce")
            if when.notna().all() and (when >= "2000-01-01").all() and (when < "2100-01-01").all():
                return kind
    return None


def _parse_epoch(text: pd.Series, kind: str) -> pd.Series:
    unit, pattern = _EPOCH_UNITS[kind]
    numbers = pd.to_numeric(
        text.where(text.str.fullmatch(pattern).fillna(False).astype(bool)), errors="coerce"
    )
    return pd.to_datetime(numbers, unit=unit, errors="coerce")


def _parse_without_format(key: str, column: str, text: pd.Series, dayfirst: bool) -> pd.Series:
    """ISO-8601 or compact dates, else day-first or month-first ones; refuses to guess the date order wrong."""
    n = int(text.notna().sum())
    parsed, n_ok = _best_format(text, ("ISO8601", *_OTHER_FORMATS))
    if n_ok == n:
        return parsed
    day, n_day = _best_format(text, _with_offsets(_DAYFIRST_FORMATS))
    month, n_month = _best_format(text, _with_offsets(_MONTHFIRST_FORMATS))
    if not dayfirst and n_day > n_month and n_day > n_ok:
        example = text[month.isna() & day.notna()].iloc[0]
        raise MappingError(
            key,
            f"dates are day first (e.g. {example!r}), read as month first: set `dayfirst: true` or "
            "`timestamp_format:` (e.g. '%d/%m/%Y %H:%M')",
            column,
            n_day - n_month,
        )
    if dayfirst and n_month > n_day and n_month > n_ok:
        example = text[day.isna() & month.notna()].iloc[0]
        raise MappingError(
            key,
            f"dates are month first (e.g. {example!r}) but `dayfirst: true` is set",
            column,
            n_month - n_day,
        )
    chosen, n_chosen = (day, n_day) if dayfirst else (month, n_month)
    return chosen if n_chosen > n_ok else parsed


def _timestamps(
    key: str, column: str, raw: pd.Series, source: TableSource
) -> tuple[pd.Series, pd.Series, int]:
    """(parsed naive-UTC datetimes, raw text of the values that did not parse, values that carried a UTC offset)
    for one timestamp column. ``timezone`` localises only the values without an offset of their own."""
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = raw
        has_offset = pd.Series(getattr(raw.dtype, "tz", None) is not None, index=raw.index)
    else:
        text = raw.astype("str").where(raw.notna(), None).str.strip()
        has_offset = text.str.fullmatch(_OFFSET_AT_END).fillna(False).astype(bool)
        epoch = source.timestamp_format if source.timestamp_format in _EPOCH_UNITS else None
        if epoch is None and not source.timestamp_format:
            epoch = _epoch_kind(text)  # 1704448800 is not a date in the year 1704
        if epoch is not None:
            parsed = _parse_epoch(text, epoch)
            has_offset = parsed.notna()  # Unix time is UTC: never localised
        elif source.timestamp_format:
            # a format with an offset (%z) reads mixed offsets only as UTC instants
            instant = "%z" in source.timestamp_format or "%Z" in source.timestamp_format
            parsed = pd.to_datetime(text, format=source.timestamp_format, errors="coerce", utc=instant)
            if instant:
                has_offset = parsed.notna()
        else:
            parsed = _parse_without_format(key, column, text, source.dayfirst)
        bad = text.notna().to_numpy() & parsed.isna().to_numpy()
        hint = (
            f"set `timestamp_format:` (now {source.timestamp_format!r})"
            if source.timestamp_format
            else "set `timestamp_format:` (e.g. '%d/%m/%Y %H:%M') or `dayfirst: true`"
        )
        _check_share(key, column, raw, bad, "a timestamp in the expected format", hint)
    if getattr(parsed.dtype, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    has_offset = has_offset & parsed.notna()
    if source.timezone and not has_offset.all():
        try:
            # A local time in the hour the clocks go back happens twice: it is read as the first (summer
            # time) one; one in the hour they skip is moved forward. Neither is a broken timestamp.
            summer_first = np.ones(len(parsed), dtype=bool)
            local = parsed.dt.tz_localize(
                source.timezone, ambiguous=summer_first, nonexistent="shift_forward"
            )
        except Exception as exc:  # zoneinfo raises several types for an unknown zone
            raise MappingError(
                f"{key.split('.')[0]}.timezone", f"unknown time zone {source.timezone!r} ({exc})"
            ) from None
        parsed = parsed.where(has_offset, local.dt.tz_convert("UTC").dt.tz_localize(None))
    parsed = parsed.astype("datetime64[us]")
    failed = raw.astype("str").where(raw.notna() & parsed.isna(), None)
    return parsed, failed, int(has_offset.sum())


def _timestamp_text(parsed: pd.Series, failed: pd.Series) -> pd.Series:
    """ISO text for the quality stage: parsed values, else the raw text (quarantined there as unparseable)."""
    text = parsed.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
    return text.where(parsed.notna(), failed.astype(object)).astype("str")


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


# --------------------------------------------------------------------------------------------------------
# line items
# --------------------------------------------------------------------------------------------------------


def _order_groups(order_id: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(stripped order keys, group ids): a line without a key is its own order under a private group id."""
    key = order_id.astype("str").where(order_id.notna(), None).str.strip()
    key = key.where(key != "", None)
    own = "\0line:" + pd.Series(np.arange(len(key)).astype(str), index=key.index)
    return key, key.where(key.notna(), own).to_numpy(dtype=object)


def aggregate_line_items(lines: pd.DataFrame, refund_prefix: str | None = None) -> pd.DataFrame:
    """One order per ``order_id`` from order lines (contract column names, one row per line).

    ``net_amount`` (and ``gross_amount``/``discount_amount`` when present) are summed, ``n_items`` is the total
    quantity (as a count of items, so positive on refunds), ``order_ts`` is the earliest line's, ``customer_id``
    the first non-null one, ``category`` the one with the most revenue (absolute) in the order. ``is_refund`` is
    true when the order key starts with ``refund_prefix``, the net amount is negative, or (when mapped) any line
    says so. Lines without an order key stay one order each (their null id is quarantined downstream). Returns
    the orders with ``n_lines``.

    Examples
    --------
    >>> lines = pd.DataFrame({"order_id": ["A1", "A1", "C2"], "customer_id": ["7", "7", "7"],
    ...     "order_ts": pd.to_datetime(["2024-01-02 10:00", "2024-01-02 10:00", "2024-01-03 09:00"]),
    ...     "n_items": [2.0, 1.0, -1.0], "net_amount": [5.0, 2.5, -2.5], "category": ["x", "y", "y"]})
    >>> aggregate_line_items(lines, refund_prefix="C")[["order_id", "n_items", "net_amount", "category", "is_refund"]]
      order_id  n_items  net_amount category  is_refund
    0       A1        3         7.5        x      False
    1       C2        1        -2.5        y       True
    """
    df = lines.reset_index(drop=True).copy()
    key, df["_group"] = _order_groups(df["order_id"])
    g = df.groupby("_group", sort=False)
    out = pd.DataFrame(index=g.size().index)
    out["order_id"] = key.groupby(df["_group"], sort=False).first()
    out["customer_id"] = g["customer_id"].first() if "customer_id" in df else None
    if "order_ts" in df:
        out["order_ts"] = g["order_ts"].min()
    for col in ("net_amount", "gross_amount", "discount_amount"):
        if col in df:
            out[col] = g[col].sum(min_count=1)
    if "gross_amount" not in df and "net_amount" in df:
        out["gross_amount"] = out["net_amount"]
    if "n_items" in df:
        out["n_items"] = g["n_items"].sum(min_count=1).abs().round().astype("Int64")
    if "category" in df and "net_amount" in df:
        rev = df.assign(_rev=df["net_amount"].abs()).groupby(["_group", "category"], sort=False)["_rev"].sum()
        top = rev.reset_index().sort_values(["_group", "_rev"], ascending=[True, False], kind="stable")
        out["category"] = top.drop_duplicates("_group").set_index("_group")["category"]
    for col in ("channel",):
        if col in df:
            out[col] = g[col].first()
    refund = (
        (out["net_amount"] < 0).fillna(False) if "net_amount" in out else pd.Series(False, index=out.index)
    )
    if refund_prefix:
        refund |= out["order_id"].fillna("").str.startswith(refund_prefix)
    if "is_refund" in df:
        flag = df["is_refund"].astype("str").str.strip().str.lower().isin(["true", "1", "yes", "y", "t"])
        refund |= flag.groupby(df["_group"], sort=False).any()
    out["is_refund"] = refund.astype(bool)
    out["n_lines"] = g.size().astype("int64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------
# the whole mapping
# --------------------------------------------------------------------------------------------------------


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
    if source.line_items:
        if name != "orders":
            raise MappingError(f"{name}.line_items", "only orders can be read as line items")
        if source.order_key is None and "order_id" not in cols:
            raise MappingError(
                "orders.order_key", "line-item mode needs `order_key:` (the invoice/order column)"
            )
        if source.order_key is not None:
            if source.order_key not in df.columns:
                cols_in_file = list(map(str, df.columns))
                raise MappingError(
                    "orders.order_key",
                    f"no such column in the file{_did_you_mean(source.order_key, cols_in_file)} "
                    f"(columns: {', '.join(cols_in_file[:20])})",
                    source.order_key,
                )
            cols["order_id"] = source.order_key
    mapped, failed, col_info = _map_columns(name, df, source.model_copy(update={"columns": cols}))
    info.update(col_info)
    if name == "orders" and "order_id" not in mapped:
        # No order id in the source (CDNOW): each row is one order, numbered by its row.
        mapped.insert(
            0, "order_id", pd.Series(np.arange(1, len(df) + 1).astype(str), index=df.index, dtype=object)
        )
        info["order_id"] = "not mapped: the row number (1-based) is the order id"
    if source.line_items:
        line_net = mapped["net_amount"].fillna(0.0)
        orders = aggregate_line_items(mapped, source.refund_prefix)
        if "order_ts" in failed:
            # an order whose every line failed to parse keeps a raw text (quarantined as unparseable)
            _, groups = _order_groups(mapped["order_id"].reset_index(drop=True))
            fail = failed["order_ts"].reset_index(drop=True).groupby(groups, sort=False).first()
            failed["order_ts"] = pd.Series(fail.to_numpy(dtype=object), index=orders.index)
        info.update(
            lines_in=len(mapped),
            orders_built=len(orders),
            lines_per_order=round(len(mapped) / max(len(orders), 1), 2),
            refund_orders=int(orders["is_refund"].sum()),
            net_amount_lines=round(float(line_net.sum()), 2),
        )
        info["_n_lines"] = orders["n_lines"].to_numpy()
        mapped = orders.drop(columns=["n_lines"])
    for col, fail in failed.items():
        mapped[col] = _timestamp_text(mapped[col], fail.reindex(mapped.index))
    return mapped.reset_index(drop=True), info


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


# --------------------------------------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------------------------------------

_GUESSES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        r"^cust(omer)?[ _-]?(id|no|number|key)$",
        r"^client[ _-]?id$",
        r"^customer$",
        r"^user[ _-]?id$",
        r"^c(ust)?id$",
        # German, French, Spanish, Dutch exports
        r"^(kunden?|client[e]?|klant)[ _-]?(id|nr|no|nummer|num|number|code)?$",
    ),
    "order_id": (
        r"^(invoice|order|transaction|receipt)[ _-]?(id|no|number|key)?$",
        r"^(bestell|bestellung|rechnungs?|auftrags?|belegs?|commande|facture|pedido|factura|bestelling)[ _-]?"
        r"(id|nr|no|nummer|num|number)?$",
    ),
    "order_ts": (
        # anchored: 'Discounts' or 'Products' end in 'ts' but are not timestamps
        r"^(invoice|order|transaction|purchase|sale|payment|created)?[ _-]?(date|time|ts|timestamp|datetime)$",
        r"^created([ _-]?at)?$",
        r"^date$",
        r"datum$|^fecha|^date[ _-]",
    ),
    "net_amount": (
        r"^(net[ _-]?)?(amount|total|revenue|sales|value|dollar[ _-]?value|amt)$",
        r"^(betrag|summe|umsatz|gesamt|montant|importe|bedrag|netto)$",
        r"amount|revenue|value|betrag|umsatz|montant|importe",
    ),
    "n_items": (
        r"^(quantity|qty|n[ _-]?items|items|number[ _-]?of[ _-]?\w+)$",
        r"^(anzahl|menge|st(ü|ue)ck|quantit(é|e)|qt(é|e)|cantidad|aantal)$",
    ),
    "category": (
        r"^(category|product[ _-]?category|stock[ _-]?code|sku|product)$",
        r"^(kategorie|warengruppe|cat(é|e)gorie|categor(í|i)a|artikel(nr)?)$",
    ),
}
_UNIT_PRICE = (
    r"^(unit[ _-]?price|price|einzelpreis|st(ü|ue)ckpreis|preis|prix[ _-]?unitaire|prix|precio[ _-]?unitario|precio"
    r"|stukprijs|prijs)$"
)


def _encoding_of(path: Path) -> str:
    with _open_text(path, "latin-1") as fh:  # latin-1 reads any byte: recover the raw bytes
        raw = fh.read(200_000).encode("latin-1")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" and other UTF-16 exports
        return "utf-16"
    try:
        # the sample may end inside a multi-byte character: that is still UTF-8
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        try:
            raw.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def _looks_numeric(s: pd.Series, decimal: str) -> bool:
    v = s.dropna().astype(str).str.strip()
    if not len(v):
        return False
    if decimal != ".":
        v = v.str.replace(decimal, ".", regex=False)
    return bool(pd.to_numeric(v, errors="coerce").notna().mean() > 0.95)


def _date_option(s: pd.Series) -> dict[str, object] | None:
    """The timestamp option that parses ``s`` best: a strftime format (day first when a day exceeds 12)."""
    text = s.dropna().astype(str).str.strip()
    epoch = _epoch_kind(text)
    if epoch is not None:
        return {"timestamp_format": epoch}
    if not len(text) or not text.str.contains(r"\d").all():
        return None
    best: tuple[int, dict[str, object]] | None = None
    # compact formats first: ISO-8601 also reads 19970101, but the explicit format says what the file holds
    day_month = _with_offsets(_DAYFIRST_FORMATS) + _with_offsets(_MONTHFIRST_FORMATS)
    for fmt in (*_OTHER_FORMATS, "ISO8601", *day_month):
        instant = fmt == "ISO8601" or "%z" in fmt
        n_ok = int(pd.to_datetime(text, format=fmt, errors="coerce", utc=instant).notna().sum())
        if best is None or n_ok > best[0]:
            best = (n_ok, {} if fmt == "ISO8601" else {"timestamp_format": fmt})
    if best is None or best[0] < 0.95 * len(text):
        return None
    return best[1]


def _date_like(s: pd.Series, decimal: str) -> bool:
    """Dates as text, or as 8-digit YYYYMMDD numbers (CDNOW), or Unix times."""
    if _epoch_kind(s.dropna().astype(str).str.strip()) is not None:
        return True
    compact = s.dropna().astype(str).str.fullmatch(r"(19|20)\d{6}").all()
    return _date_option(s) is not None and (bool(compact) or not _looks_numeric(s, decimal))


def _guess_unnamed(df: pd.DataFrame, columns: dict[str, str], decimal: str, notes: list[str]) -> None:
    """Columns of a file without names, by their values: a repeating whole-number id first, amounts with
    decimals last, small whole numbers between as item counts."""
    free = [c for c in df.columns if c not in columns.values()]
    whole = [c for c in free if df[c].dropna().astype(str).str.strip().str.fullmatch(r"\d+").all()]
    fractional = [c for c in free if c not in whole and _looks_numeric(df[c], decimal)]
    ids = [c for c in whole if df[c].nunique() < 0.9 * df[c].notna().sum() and df[c].str.len().max() > 3]
    if "customer_id" not in columns and ids:
        columns["customer_id"] = ids[0]
        notes.append(f"customer_id: {ids[0]} guessed from its values (repeating whole numbers); check")
    if "net_amount" not in columns and fractional:
        columns["net_amount"] = fractional[-1]
        notes.append(f"net_amount: {fractional[-1]} guessed from its values (numbers with decimals); check")
    # an id-like name or one distinct value per row (a row counter) is not a count of items
    counts = [
        c
        for c in whole
        if c not in ids
        and pd.to_numeric(df[c]).max() < 1000
        and not re.search(r"(^|[ _-])(id|nr|no|number|key)$|^id", str(c), re.IGNORECASE)
        and not (len(df) >= 10 and df[c].is_unique)
    ]
    if "n_items" not in columns and counts:
        columns["n_items"] = counts[-1]


_CUSTOMER_GUESSES: dict[str, tuple[str, ...]] = {
    "customer_id": _GUESSES["customer_id"] + (r"^id$",),
    "signup_date": (
        r"sign[ _-]?up|regist|created|joined|since|first[ _-]?(order|purchase)|anmeld|inscri|alta",
        r"date$|datum$|^fecha",
    ),
    "email": (r"e[ _-]?mail|courriel|correo",),
    "phone": (r"phone|^tel|telefon|t(é|e)l(é|e)phone|tel(é|e)fono|mobile",),
    "name": (r"^(full[ _-]?)?name$|^customer[ _-]?name$|^nom$|^nombre$|^kundenname$",),
    "birth_date": (r"birth|geburt|naissance|nacimiento|^dob$",),
    "city": (r"^(city|town|stadt|ort|ville|ciudad)$",),
    "country": (r"^(country|land|pays|pa(í|i)s)$",),
    "gender": (r"^(gender|sex|geschlecht|sexe|sexo)$",),
}


def _match_names(df: pd.DataFrame, guesses: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Contract columns found by their source names (first pattern that hits a column not yet taken)."""
    columns: dict[str, str] = {}
    for contract_col, patterns in guesses.items():
        for pattern in patterns:
            hit = next(
                (c for c in df.columns if re.search(pattern, c, re.IGNORECASE) and c not in columns.values()),
                None,
            )
            if hit is not None:
                columns[contract_col] = hit
                break
    return columns


def _date_order_note(text: pd.Series, column: str, option: dict[str, object]) -> str | None:
    """A note when every sampled date reads both day first and month first (no day above 12 to tell)."""
    fmt = str(option.get("timestamp_format", ""))
    if "%d" not in fmt or "%m" not in fmt:
        return None
    swapped = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    values = text.dropna().astype(str).str.strip()
    both = pd.to_datetime(values, format=swapped, errors="coerce", utc="%z" in fmt).notna().all()
    if not both:
        return None
    return (
        f"{column}: every sampled date reads day first and month first (no day above 12): {fmt!r} is a guess; "
        f"if the export is month first, use {swapped!r}"
    )


def _infer_customers(df: pd.DataFrame, source: dict[str, Any], notes: list[str], decimal: str) -> None:
    """The ``customers`` proposal: an id and a sign-up date are enough; personal columns when named."""
    columns = _match_names(df, _CUSTOMER_GUESSES)
    date_col = columns.get("signup_date")
    if date_col is not None and _date_option(df[date_col]) is None:
        del columns["signup_date"]
        date_col = None
    if date_col is None:
        date_col = next(
            (c for c in df.columns if c not in columns.values() and _date_like(df[c], decimal)), None
        )
        if date_col is not None:
            columns["signup_date"] = date_col
    if date_col is not None:
        option = _date_option(df[date_col]) or {}
        source.update(option)
        note = _date_order_note(df[date_col], f"signup_date ({date_col})", option)
        if note:
            notes.append(note)
    if "customer_id" not in columns:
        unique = [
            c for c in df.columns if c not in columns.values() and df[c].notna().all() and df[c].is_unique
        ]
        if unique:
            columns["customer_id"] = unique[0]
            notes.append(
                f"customer_id: {unique[0]} guessed from its values (one distinct value per row); check"
            )
    for required in ("customer_id", "signup_date"):
        if required not in columns:
            notes.append(f"{required}: no column found: map it by hand (`{required}: <source column>`)")
    source["columns"] = columns


def infer_mapping(
    path: Path | str, n_rows: int = 20_000, table: str = "orders", sheet: str | int | None = None
) -> dict[str, Any]:
    """Propose a mapping for one export file from its first rows: encoding, delimiter, decimal mark, date
    format and order, contract columns by name (or, failing names, by value), and for orders line-item mode
    when order keys repeat with one timestamp.

    ``table`` is ``"orders"`` or ``"customers"`` (an id and a sign-up date, personal columns when named).
    ``sheet`` picks the sheet of an Excel workbook (``.xlsx``; default the first).
    Returns the mapping as a plain dict (``{table: {...}}``, plus a ``notes`` list saying what to check);
    :func:`mapping_yaml` prints it. The proposal is validated by :class:`SourceMapping` before it is returned.
    """
    if table not in ("orders", "customers"):
        raise MappingError(table, "sources infer proposes orders or customers mappings")
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"sources infer: file not found: {path}")
    if path.suffix.lower() in _WORKBOOKS:
        raise DataFileError(
            f"sources infer: {path.name} is a spreadsheet custml does not read (it reads .xlsx): save it as "
            ".xlsx or the sheet as CSV (UTF-8) and infer from that file"
        )
    if _is_blank(path):
        raise DataFileError(
            f"sources infer: {path.name} is empty (no header, no rows): nothing to infer from"
        )
    source: dict[str, Any] = {"file": path.name}
    notes: list[str] = []
    if path.suffix.lower() == ".parquet":
        from custml.io import read_table

        df = read_table(path).head(n_rows).astype(str)
        decimal = "."
    elif path.suffix.lower() in _XLSX:
        if sheet is not None:
            source["sheet"] = sheet
        book = _read_workbook(table, TableSource(file=path.name, columns={}, sheet=sheet), path, nrows=n_rows)
        # as text, like a CSV: real Excel dates read as ISO text, numbers as numbers written out
        df = book.astype(object).where(book.notna(), None).astype("str").where(book.notna(), None)
        decimal = "."
    else:
        encoding = _encoding_of(path)
        with _open_text(path, encoding) as fh:
            sample = fh.read(64_000)
        if not sample.lstrip("\ufeff").strip():
            raise DataFileError(
                f"sources infer: {path.name} is empty (no header, no rows): nothing to infer from"
            )
        delimiter = _sniff(sample.lstrip("\ufeff"))
        sep = r"\s+" if delimiter == "whitespace" else delimiter
        df = pd.read_csv(
            path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False, na_values=[""], nrows=n_rows
        )
        header = [str(c) for c in df.columns]
        if all(re.fullmatch(r"[\d.,\-\s]+", h) for h in header):
            names = [f"col{i + 1}" for i in range(len(header))]
            df = pd.read_csv(
                path, sep=sep, encoding=encoding, dtype=str, header=None, names=names, nrows=n_rows
            )
            source.update(header=False, names=names)
            notes.append("no header row: columns are named col1, col2, ...; rename them in `names:`")
        if encoding != "utf-8":
            source["encoding"] = encoding
        if delimiter != ",":
            source["delimiter"] = delimiter
        numbers = df.apply(
            lambda s: s.dropna().astype(str).str.fullmatch(r"-?\d{1,3}([.\s]\d{3})*,\d+|-?\d+,\d+").mean()
        )
        decimal = "," if delimiter != "," and len(numbers) and float(numbers.max()) > 0.5 else "."
        if decimal == ",":
            source["decimal"] = ","
    if len(df) == 0:
        raise DataFileError(
            f"sources infer: {path.name} has a header but no data rows: nothing to infer from"
        )
    df.columns = [str(c).strip() for c in df.columns]
    if table == "customers":
        _infer_customers(df, source, notes, decimal)
        SourceMapping.model_validate({"orders": {"file": "-", "columns": {}}, "customers": source})
        return {"customers": source, "notes": notes}
    columns = _match_names(df, _GUESSES)
    date_col = columns.get("order_ts")
    if date_col is None:
        date_col = next(
            (c for c in df.columns if _date_like(df[c], decimal)),
            None,
        )
        if date_col is not None:
            columns["order_ts"] = date_col
    if date_col is not None:
        option = _date_option(df[date_col])
        if option is None:
            notes.append(f"order_ts: could not tell the format of {date_col!r}: set `timestamp_format:`")
        else:
            source.update(option)
            note = _date_order_note(df[date_col], f"order_ts ({date_col})", option)
            if note:
                notes.append(note)
    price = next((c for c in df.columns if re.search(_UNIT_PRICE, c, re.IGNORECASE)), None)
    if price is not None and "n_items" in columns and columns.get("net_amount") in (None, price):
        columns["net_amount"] = f"{columns['n_items']} * {price}"
    if source.get("header") is False or "customer_id" not in columns or "net_amount" not in columns:
        # no names to go by (or names in no language known here): guess the columns from their values
        _guess_unnamed(df, columns, decimal, notes)
    key = columns.get("order_id")
    if key is not None and date_col is not None:
        repeats = df[key].duplicated(keep=False)
        same_ts = df.groupby(key)[date_col].nunique() == 1
        if repeats.mean() > 0.2 and same_ts.mean() > 0.9:
            source.update(line_items=True, order_key=key)
            del columns["order_id"]
            notes.append(
                f"line items: {repeats.mean():.0%} of rows repeat {key!r} with one timestamp per {key!r}: "
                "lines are aggregated to orders"
            )
            starts = df[key].dropna().astype(str).str[:1]
            if len(starts) and starts.str.isalpha().any() and (~starts.str.isalpha()).any():
                prefix = starts[starts.str.isalpha()].mode().iloc[0]
                source["refund_prefix"] = prefix
                notes.append(f"keys starting with {prefix!r} are taken as cancellations (refund_prefix)")
    for required in ("customer_id", "order_ts", "net_amount"):
        if required not in columns:
            notes.append(f"{required}: no column found: map it by hand (`{required}: <source column>`)")
    if "order_id" not in columns and not source.get("line_items"):
        notes.append("order_id: none found: each row becomes one order (numbered by its row)")
    fmt = str(source.get("timestamp_format", ""))
    if date_col is not None and "%z" not in fmt and fmt not in _EPOCH_UNITS:
        notes.append("timezone: not in the file: set `timezone:` (e.g. Europe/London) if the times are local")
    notes.append("currency: set `currency:` (e.g. GBP) to have it named in the reports")
    source["columns"] = columns
    SourceMapping.model_validate({"orders": source})
    return {"orders": source, "notes": notes}


def mapping_yaml(proposal: dict[str, Any]) -> str:
    """A proposal of :func:`infer_mapping` as YAML, its notes as comments on top."""
    notes = proposal.get("notes", [])
    body = {k: v for k, v in proposal.items() if k != "notes"}
    head = "# custml source mapping proposed by `custml sources infer`: check every line before use\n"
    head += "".join(f"# - {n}\n" for n in notes)
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
