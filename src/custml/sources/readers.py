"""Reading export files: CSV/TSV/text (compressed or not), parquet, Excel workbooks; folders of them; encodings."""

from __future__ import annotations

import codecs
import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custml.errors import DataFileError, MappingError
from custml.sources.mapping import TableSource, _did_you_mean

log = logging.getLogger(__name__)


_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_SUFFIXES = (".parquet", *_TEXT_SUFFIXES)
# compressed text exports (export.csv.gz): read as they are
_COMPRESSED = (".gz", ".bz2", ".xz", ".zip")
# Excel workbooks read through openpyxl (a dependency); older or other spreadsheet formats are refused.
_XLSX = (".xlsx", ".xlsm")
_WORKBOOKS = (".xls", ".ods", ".numbers")
# A column where more than this share of present values does not convert is a wrong option, not dirt.


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


def _encoding_of(path: Path, limit: int = 1 << 30) -> str:
    """The text encoding of a file, from all its bytes (up to ``limit``): UTF-16 by its byte-order mark, else
    strict UTF-8, else cp1252 when the file uses its printable characters in 0x80-0x9f (the euro sign, curly
    quotes), else latin-1 (it reads any byte; without those bytes both read the same). A latin-1 byte far down
    a large export decides as much as one in the first lines."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = cp1252_ok = True
    windows = False
    seen = 0
    with _open_text(path, "latin-1") as fh:  # latin-1 reads any byte: recover the raw bytes
        while seen < limit:
            raw = fh.read(1 << 20).encode("latin-1")
            if not raw:
                break
            if seen == 0 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" exports
                return "utf-16"
            seen += len(raw)
            if utf8_ok:
                try:
                    utf8.decode(raw, final=False)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not utf8_ok and cp1252_ok:
                # bytes cp1252 leaves undefined: only latin-1 reads them
                cp1252_ok = not any(b in raw for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))
                windows = windows or any(0x80 <= b <= 0x9F for b in raw)
            if not utf8_ok and not cp1252_ok:
                break
    if utf8_ok:
        return "utf-8"
    return "cp1252" if cp1252_ok and windows else "latin-1"
