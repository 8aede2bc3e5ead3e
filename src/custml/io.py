"""Reading and writing tables: parquet and CSV in, parquet out, with errors that name the table and file.

Writes are atomic (a temporary file in the same folder, then ``os.replace``) so that a killed run leaves the
previous file intact.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custml.errors import DataFileError

__all__ = [
    "atomic_write",
    "count_rows",
    "find_table_file",
    "read_json",
    "read_table",
    "read_tables",
    "write_json",
    "write_table",
]

_SUFFIXES = (".parquet", ".csv", ".tsv", ".txt")
# pandas' default missing-value markers, used for the non-text columns of a delimited file.
_NA_MARKERS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


def find_table_file(folder: Path | str, table: str) -> Path | None:
    """The file holding ``table`` in ``folder`` (``table.parquet``, then ``.csv``/``.tsv``/``.txt``), or None."""
    folder = Path(folder)
    for suffix in _SUFFIXES:
        p = folder / f"{table}{suffix}"
        if p.is_file():
            return p
    return None


def read_table(
    path: Path | str,
    table: str | None = None,
    *,
    columns: Iterable[str] | None = None,
    bad_lines: list[list[str]] | None = None,
) -> pd.DataFrame:
    """Read one table from parquet or delimited text (the delimiter is sniffed).

    ``columns`` reads only those of a parquet file's columns that it has (all columns of a text file).
    ``bad_lines``: a list that receives the fields of each text line with more fields than the header; those
    lines are skipped instead of failing the read (the caller counts them in its quarantine).

    Raises
    ------
    DataFileError
        If the file is missing, empty, truncated, or not a readable parquet/CSV file; the message names the table.
    """
    path = Path(path)
    name = table or path.stem
    if not path.is_file():
        raise DataFileError(f"{name}: file not found: {path}")
    if path.stat().st_size == 0:
        raise DataFileError(f"{name}: file is empty: {path}")
    if path.suffix == ".parquet":
        try:
            if columns is None:
                return pq.read_table(path).to_pandas()
            present = set(pq.read_schema(path).names)
            return pq.read_table(path, columns=[c for c in columns if c in present]).to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataFileError(
                f"{name}: cannot read parquet file {path.name} (truncated or not parquet: {exc})"
            ) from None
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(64_000)
        delimiter = _sniff_delimiter(sample, path.suffix)
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        if not [h for h in header if h.strip()]:
            raise DataFileError(f"{name}: {path.name} has no header row")
        options = _text_read_options(name, header)
        try:
            df = pd.read_csv(path, sep=delimiter, encoding="utf-8-sig", **options)
        except pd.errors.ParserError:
            if bad_lines is None:
                raise
            df = pd.read_csv(
                path,
                sep=delimiter,
                encoding="utf-8-sig",
                engine="python",
                on_bad_lines=lambda fields: bad_lines.append(fields),  # returns None: the line is skipped
                **options,
            )
        return df.rename(columns=lambda c: c.strip() if isinstance(c, str) else c)
    except UnicodeDecodeError:
        raise DataFileError(
            f"{name}: {path.name} is not UTF-8 text (is it a binary or parquet file? For text in another "
            "encoding, read it through a source mapping with `encoding: latin-1`: --mapping)"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"{name}: cannot parse {path.name} as delimited text ({exc})") from None


def _sniff_delimiter(sample: str, suffix: str) -> str:
    """The delimiter of a text table: sniffed from its header and first lines (``,``, ``;``, tab or ``|``)."""
    if suffix == ".tsv":
        return "\t"
    lines = sample.splitlines()
    # Sniff on whole lines only: a sample cut mid-line confuses the sniffer.
    head = "\n".join(lines[:50]) if len(lines) > 1 else sample
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        # Fall back to the candidate that splits the header into the most fields.
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


class _TextReadOptions(TypedDict, total=False):
    """The ``pd.read_csv`` options of :func:`_text_read_options`."""

    dtype: dict[str, type[str]]
    keep_default_na: bool
    na_values: dict[str, list[str]]
    skipinitialspace: bool


def _text_read_options(table: str, header: list[str]) -> _TextReadOptions:
    """``pd.read_csv`` options that keep text columns of the contract as text.

    Identifier, name and timestamp columns are read as strings (``"007"`` stays ``"007"``, a person called
    ``"Nan"`` or ``"NA"`` is not turned into a missing value); only empty fields are missing there. Other columns
    use pandas' usual missing-value markers.
    """
    from custml.schema import CONTRACT

    schema = CONTRACT.get(table)
    if schema is None:
        return {}
    text_cols = {c.name for c in schema.columns if c.kind in ("string", "datetime")}
    dtype = {h: str for h in header if h.strip() in text_cols}
    na_values = {h: ([""] if h.strip() in text_cols else list(_NA_MARKERS)) for h in header}
    return {"dtype": dtype, "keep_default_na": False, "na_values": na_values, "skipinitialspace": False}


def read_tables(
    folder: Path | str, required: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, pd.DataFrame]:
    """Read the named tables from ``folder``; a missing required table raises, a missing optional one is skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFileError(f"data folder not found: {folder}")
    out: dict[str, pd.DataFrame] = {}
    for name in required:
        p = find_table_file(folder, name)
        if p is None:
            raise DataFileError(f"{name}: no {name}.parquet or {name}.csv in {folder}")
        out[name] = read_table(p, name)
    for name in optional:
        p = find_table_file(folder, name)
        if p is not None:
            out[name] = read_table(p, name)
    return out


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path | str, write: Any) -> Path:
    """Call ``write(tmp_path)`` then move the temporary file onto ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600 files; give the result the permissions a plain open() would (umask applies).
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_table(df: pd.DataFrame, path: Path | str, *, csv_copy: bool = False) -> Path:
    """Write ``df`` as parquet atomically (and a CSV beside it when ``csv_copy``); return the parquet path.

    The file is written without the pandas index and with deterministic settings, so the same frame gives the
    same bytes.
    """
    path = Path(path)
    table = pa.Table.from_pandas(df, preserve_index=False)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    if csv_copy:
        atomic_write(path.with_suffix(".csv"), lambda tmp: df.to_csv(tmp, index=False))
    return path


def write_json(obj: Any, path: Path | str) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))


def read_json(path: Path | str) -> Any:
    """Read a JSON file, raising :class:`DataFileError` with the path if it is missing or invalid."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}: not valid JSON ({exc})") from None


def count_rows(table: Any) -> int:
    """Rows of a table given as a DataFrame, an Arrow table or a parquet path (read from the file's footer)."""
    if isinstance(table, str | Path):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(table).metadata.num_rows)
    return len(table)
