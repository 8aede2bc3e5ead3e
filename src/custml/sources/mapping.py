"""The mapping schema: which file holds each contract table, how it is written, where each column comes from."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field

from custml.errors import MappingError
from custml.settings import Settings

log = logging.getLogger(__name__)


class FileOptions(Settings):
    """How a related file (a lookup or a child file) is written, where it differs from its table's main file."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="File or folder, relative to the data folder (or absolute).")
    key: str = Field(description="Column of this file that the main file's `main_key` column matches.")
    main_key: str | None = Field(
        None,
        description="Column of the main file (or of an earlier join) to match; default: the same as `key`.",
    )
    encoding: str | None = Field(None, description="Text encoding, if not the main file's.")
    delimiter: str | None = Field(None, description="Delimiter, if not the main file's.")
    decimal: str | None = Field(None, description="Decimal mark, if not the main file's.")

    def left(self) -> str:
        """The main-file column matched against :attr:`key`."""
        return self.main_key or self.key


class JoinSource(FileOptions):
    """A lookup: one row of ``file`` per ``key``; its ``columns`` join the main file's rows (left join)."""

    columns: list[str] | dict[str, str] = Field(
        description="Columns taken from the file: a list, or {new_name: file_column} to rename."
    )

    def named_columns(self) -> dict[str, str]:
        """``{name in the joined frame: column of the file}``."""
        if isinstance(self.columns, dict):
            return dict(self.columns)
        return {c: c for c in self.columns}


class AggregateSource(FileOptions):
    """A child file summed, counted, or its minimum or maximum taken per ``key``, as new columns."""

    columns: dict[str, str] = Field(
        description="{new_name: 'sum(col)' | 'sum(price + freight)' | 'count(*)' | 'count(col)' | 'min(col)' | "
        "'max(col)'}"
    )
    where: str | None = Field(None, description="Only the child rows where this holds (an SQL condition).")


class TableSource(Settings):
    """Where one contract table comes from and how its file is written.

    Beyond one file: ``join`` looks up columns in related files, ``aggregate`` adds sums, counts, minima and
    maxima of child files, ``constants`` fill a contract column with one value, ``where`` keeps only the rows
    that meet a condition (the others are counted as excluded), and a column may be an SQL expression
    (``concat(first_name, ' ', last_name)``, ``lower(trim(email))``, ``case when ... then ... end``). All of it
    is evaluated in DuckDB (:mod:`custml.sources.relations`), after a check that admits only column names,
    literals, operators and a short list of functions.
    """

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
    duplicate_lines: Literal["keep", "drop"] = Field(
        "keep",
        description="Line-item mode: a line identical to an earlier one in every column is summed into its "
        "order like any other (keep: the source system counted it) or left out (drop); counted either way.",
    )
    join: list[JoinSource] = Field(default_factory=list, description="Lookups in related files, in order.")
    aggregate: list[AggregateSource] = Field(
        default_factory=list, description="Sums, counts, minima, maxima of child files per key."
    )
    constants: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="contract_column: one value for every row (e.g. kind: survey)."
    )
    where: str | None = Field(
        None,
        description="Keep only the rows where this SQL condition holds (e.g. order_status not in "
        "('canceled', 'unavailable')); the others are counted as excluded by the mapping.",
    )

    def is_relational(self) -> bool:
        """Whether reading the table needs DuckDB (joins, aggregates, constants or a filter)."""
        return bool(self.join or self.aggregate or self.constants or self.where)


class SourceMapping(Settings):
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
        for part, model in (("join", JoinSource), ("aggregate", AggregateSource)):
            entries = section.get(part) if isinstance(section, dict) else None
            for i, entry in enumerate(entries if isinstance(entries, list) else ()):
                allowed = list(model.model_fields)
                for option in entry if isinstance(entry, dict) else ():
                    if option is True:  # YAML reads a key `on:` as true
                        raise MappingError(
                            f"{table}.{part}[{i}].on",
                            "is not an option (YAML reads `on` as true): the main file's column is `main_key:`",
                        )
                    if option not in allowed:
                        raise MappingError(
                            f"{table}.{part}[{i}].{option}",
                            f"is not an option of a {part}{_did_you_mean(str(option), allowed)}; options: "
                            f"{', '.join(allowed)}",
                        )


def load_mapping(path: Path | str) -> SourceMapping:
    """Read and validate a mapping file; a :class:`~custml.errors.MappingError` or
    :class:`~custml.errors.ConfigError` names the bad key."""
    from custml.config import read_yaml, validate_params

    raw = read_yaml(path)
    _check_keys(raw)
    return validate_params(raw, SourceMapping, path)
