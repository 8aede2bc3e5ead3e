"""`sources infer`: a mapping proposed from an export's rows, for the user to check."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from custml.errors import DataFileError, MappingError
from custml.sources.mapping import SourceMapping, TableSource
from custml.sources.proposal import (
    MappingProposal,
    ReaderOptions,
    ReadOptions,
    TableProposal,
    TimestampOption,
)
from custml.sources.readers import (
    _WORKBOOKS,
    _XLSX,
    _encoding_of,
    _is_blank,
    _open_text,
    _read_workbook,
    _sniff,
)
from custml.sources.timestamps import (
    _DAYFIRST_FORMATS,
    _EPOCH_UNITS,
    _MONTHFIRST_FORMATS,
    _OTHER_FORMATS,
    _epoch_kind,
    _with_offsets,
)

log = logging.getLogger(__name__)


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


def _looks_numeric(s: pd.Series, decimal: str) -> bool:
    v = s.dropna().astype(str).str.strip()
    if not len(v):
        return False
    if decimal != ".":
        v = v.str.replace(decimal, ".", regex=False)
    return bool(pd.to_numeric(v, errors="coerce").notna().mean() > 0.95)


def _date_option(s: pd.Series) -> TimestampOption | None:
    """The timestamp option that parses ``s`` best: a strftime format (day first when a day exceeds 12)."""
    text = s.dropna().astype(str).str.strip()
    epoch = _epoch_kind(text)
    if epoch is not None:
        return {"timestamp_format": epoch}
    if not len(text) or not text.str.contains(r"\d").all():
        return None
    best: tuple[int, TimestampOption] | None = None
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
        and not _EVENT_COLUMNS.search(str(c))
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


def _date_order_note(text: pd.Series, column: str, option: TimestampOption) -> str | None:
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


_EVENT_COLUMNS = re.compile(r"review|survey|ticket|rating|score|complaint|feedback|csat|nps", re.IGNORECASE)


def _refuse_repeated_customers(path: Path, df: pd.DataFrame, column: str | None) -> None:
    """A customers file holds one row per customer: a file where the id repeats is orders or order lines."""
    if column is None:
        return
    ids = df[column].dropna()
    repeated = int(ids.duplicated().sum())
    if len(ids) and repeated / len(ids) > 0.05:
        raise DataFileError(
            f"sources infer --table customers: {column} repeats in {repeated:,} of {len(ids):,} rows of "
            f"{path.name} ({repeated / len(ids):.0%}): the file has several rows per customer (orders or order "
            "lines), not one per customer; map it as orders (customers are then derived from orders)"
        )


def _infer_customers(df: pd.DataFrame, source: TableProposal, notes: list[str], decimal: str) -> None:
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
        option = _date_option(df[date_col]) or TimestampOption()
        with_timestamp(source, option)
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


def _read_sample(
    path: Path | str, n_rows: int, table: str = "orders", sheet: str | int | None = None
) -> tuple[pd.DataFrame, ReadOptions, list[str], str, ReaderOptions]:
    """The first ``n_rows`` of an export as text, with the reading options found (encoding from the whole file,
    delimiter, decimal mark, header): (rows, reading options for the mapping, notes, decimal mark, how to re-read a
    column)."""
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
    options: ReadOptions = {}
    notes: list[str] = []
    reader: ReaderOptions = {}
    if path.suffix.lower() == ".parquet":
        from custml.io import read_table

        df = read_table(path).head(n_rows).astype(str)
        decimal = "."
    elif path.suffix.lower() in _XLSX:
        if sheet is not None:
            options["sheet"] = sheet
        book = _read_workbook(table, TableSource(file=path.name, columns={}, sheet=sheet), path, nrows=n_rows)
        # as text, like a CSV: real Excel dates read as ISO text, numbers as numbers written out
        df = book.astype(object).where(book.notna(), None).astype("str").where(book.notna(), None)
        decimal = "."
    else:
        encoding = _encoding_of(path)
        reader["sep"], reader["encoding"] = None, encoding
        with _open_text(path, encoding) as fh:
            sample = fh.read(64_000)
        if not sample.lstrip("\ufeff").strip():
            raise DataFileError(
                f"sources infer: {path.name} is empty (no header, no rows): nothing to infer from"
            )
        delimiter = _sniff(sample.lstrip("\ufeff"))
        sep = r"\s+" if delimiter == "whitespace" else delimiter
        reader["sep"] = sep
        df = pd.read_csv(
            path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False, na_values=[""], nrows=n_rows
        )
        header = [str(c) for c in df.columns]
        if all(re.fullmatch(r"[\d.,\-\s]+", h) for h in header):
            names = [f"col{i + 1}" for i in range(len(header))]
            df = pd.read_csv(
                path, sep=sep, encoding=encoding, dtype=str, header=None, names=names, nrows=n_rows
            )
            options["header"], options["names"] = False, names
            reader["header"] = False
            notes.append("no header row: columns are named col1, col2, ...; rename them in `names:`")
        if encoding != "utf-8":
            options["encoding"] = encoding
        if delimiter != ",":
            options["delimiter"] = delimiter
        numbers = df.apply(
            lambda s: s.dropna().astype(str).str.fullmatch(r"-?\d{1,3}([.\s]\d{3})*,\d+|-?\d+,\d+").mean()
        )
        decimal = "," if delimiter != "," and len(numbers) and float(numbers.max()) > 0.5 else "."
        if decimal == ",":
            options["decimal"] = ","
    if len(df) == 0:
        raise DataFileError(
            f"sources infer: {path.name} has a header but no data rows: nothing to infer from"
        )
    df.columns = [str(c).strip() for c in df.columns]
    return df, options, notes, decimal, reader


def _whole_column(path: Path, reader: ReaderOptions, column: str, sample: pd.Series) -> pd.Series:
    """Every value of ``column`` in a text export (to decide the date order from all dates, not the first
    rows'); the sample itself for parquet and workbooks."""
    if not reader.get("sep") or reader.get("header") is False:
        return sample
    try:
        return pd.read_csv(
            path,
            sep=reader["sep"],
            encoding=reader["encoding"],
            dtype=str,
            usecols=[column],
            keep_default_na=False,
            na_values=[""],
        )[column]
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return sample


def _date_setting(
    path: Path, reader: ReaderOptions, column: str, sample: pd.Series, label: str
) -> tuple[TimestampOption | None, str | None]:
    """The timestamp option of ``column`` and a note when its date order stays open. When every sampled date
    reads day first and month first, the whole column decides (one day above 12 is enough)."""
    option = _date_option(sample)
    if option is None or _date_order_note(sample, label, option) is None:
        return option, None
    whole = _whole_column(path, reader, column, sample).dropna().drop_duplicates()
    option = _date_option(whole) or option
    return option, _date_order_note(whole, label, option)


def infer_mapping(
    path: Path | str, n_rows: int = 20_000, table: str = "orders", sheet: str | int | None = None
) -> MappingProposal:
    """Propose a mapping for one export file from its first rows: encoding, delimiter, decimal mark, date
    format and order, contract columns by name (or, failing names, by value), and for orders line-item mode
    when order keys repeat with one timestamp.

    ``table`` is ``"orders"`` or ``"customers"`` (an id and a sign-up date, personal columns when named).
    ``sheet`` picks the sheet of an Excel workbook (``.xlsx``; default the first).
    Returns the mapping as a plain dict (``{table: {...}}``, plus a ``notes`` list saying what to check);
    :func:`mapping_yaml` prints it. The proposal is validated by :class:`SourceMapping` before it is returned.
    """
    if table not in ("orders", "customers", "interactions"):
        raise MappingError(table, "sources infer proposes orders, customers or interactions mappings")
    path = Path(path)
    if table == "interactions":
        from custml.sources.folder import infer_interactions

        return infer_interactions(path, n_rows)
    df, options, notes, decimal, reader = _read_sample(path, n_rows, table, sheet)
    source: TableProposal = {"file": path.name, **options}
    if table == "customers":
        _infer_customers(df, source, notes, decimal)
        _refuse_repeated_customers(path, df, source["columns"].get("customer_id"))
        SourceMapping.model_validate({"orders": {"file": "-", "columns": {}}, "customers": source})
        return {"customers": source, "notes": notes}
    if _EVENT_COLUMNS.search(" ".join(df.columns)) and not any(
        re.search(p, c, re.IGNORECASE) for c in df.columns for p in _GUESSES["net_amount"][:2]
    ):
        notes.append(
            f"{path.name} looks like reviews, tickets or surveys (no amount, columns such as "
            f"{', '.join(c for c in df.columns if _EVENT_COLUMNS.search(c))[:60]}): propose it with "
            "`--table interactions`, or infer the whole folder (custml sources infer DIR)"
        )
    columns = _match_names(df, _GUESSES)
    date_col = _order_timestamp(path, df, columns, source, notes, decimal, reader)
    price = next((c for c in df.columns if re.search(_UNIT_PRICE, c, re.IGNORECASE)), None)
    if price is not None and "n_items" in columns and columns.get("net_amount") in (None, price):
        columns["net_amount"] = f"{columns['n_items']} * {price}"
    if source.get("header") is False or "customer_id" not in columns or "net_amount" not in columns:
        # no names to go by (or names in no language known here): guess the columns from their values
        _guess_unnamed(df, columns, decimal, notes)
    key = columns.get("order_id")
    if key is not None and date_col is not None:
        _line_items(df, key, date_col, columns, source, notes)
    _order_notes(df, columns, date_col, source, notes)
    source["columns"] = columns
    SourceMapping.model_validate({"orders": source})
    return {"orders": source, "notes": notes}


def _order_timestamp(
    path: Path,
    df: pd.DataFrame,
    columns: dict[str, str],
    source: TableProposal,
    notes: list[str],
    decimal: str,
    reader: ReaderOptions,
) -> str | None:
    """The order timestamp column (by name, else the first date-like column) and its format on ``source``."""
    date_col = columns.get("order_ts")
    if date_col is None:
        date_col = next(
            (c for c in df.columns if _date_like(df[c], decimal)),
            None,
        )
        if date_col is not None:
            columns["order_ts"] = date_col
    if date_col is not None:
        option, note = _date_setting(path, reader, date_col, df[date_col], f"order_ts ({date_col})")
        if option is None:
            notes.append(f"order_ts: could not tell the format of {date_col!r}: set `timestamp_format:`")
        else:
            with_timestamp(source, option)
            if note:
                notes.append(note)
    return date_col


def _line_items(
    df: pd.DataFrame,
    key: str,
    date_col: str,
    columns: dict[str, str],
    source: TableProposal,
    notes: list[str],
) -> None:
    """Line-item mode when order keys repeat with one timestamp each (and a refund prefix when keys start with
    a letter on some rows only)."""
    repeats = df[key].duplicated(keep=False)
    same_ts = df.groupby(key)[date_col].nunique() == 1
    if repeats.mean() > 0.2 and same_ts.mean() > 0.9:
        source["line_items"], source["order_key"] = True, key
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


def _order_notes(
    df: pd.DataFrame, columns: dict[str, str], date_col: str | None, source: TableProposal, notes: list[str]
) -> None:
    """What the user should check in an orders proposal: ids, missing columns, time zone and currency."""
    cust = columns.get("customer_id")
    if cust is not None and len(df) >= 20 and df[cust].notna().all() and df[cust].is_unique:
        notes.append(
            f"customer_id: {cust} has a distinct value in every row ({len(df):,} rows): each order would be a "
            "new customer; if the person is named in another file (a customers file with a person id), infer "
            "the folder (custml sources infer DIR), which joins it"
        )
    for required in ("customer_id", "order_ts", "net_amount"):
        if required not in columns:
            notes.append(f"{required}: no column found: map it by hand (`{required}: <source column>`)")
    if "order_id" not in columns and not source.get("line_items"):
        notes.append("order_id: none found: each row becomes one order (numbered by its row)")
    fmt = str(source.get("timestamp_format", ""))
    if date_col is not None and "%z" not in fmt and fmt not in _EPOCH_UNITS:
        notes.append("timezone: not in the file: set `timezone:` (e.g. Europe/London) if the times are local")
    notes.append("currency: set `currency:` (e.g. GBP) to have it named in the reports")


def mapping_yaml(proposal: MappingProposal) -> str:
    """A proposal of :func:`infer_mapping` as YAML, its notes as comments on top."""
    notes = proposal.get("notes", [])
    body = {k: v for k, v in proposal.items() if k != "notes"}
    head = "# custml source mapping proposed by `custml sources infer`: check every line before use\n"
    head += "".join(f"# - {n}\n" for n in notes)
    return head + yaml.dump(body, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


def with_timestamp(source: TableProposal, option: TimestampOption) -> None:
    """Set the timestamp option of ``option`` on ``source`` (none: ISO-8601, nothing to set)."""
    if "timestamp_format" in option:
        source["timestamp_format"] = option["timestamp_format"]


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases (``&id001``/``*id001``): a user edits one entry, not two."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
