"""The shape of a proposed mapping (``custml sources infer``): plain dicts, in the order a user reads them, with
the keys of :class:`custml.sources.mapping.SourceMapping` (which validates each proposal before it is returned)."""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "AggregateProposal",
    "JoinProposal",
    "MappingProposal",
    "ReaderOptions",
    "ReadOptions",
    "TableProposal",
    "TimestampOption",
]


class TimestampOption(TypedDict, total=False):
    """How a timestamp column reads (no key: ISO-8601)."""

    timestamp_format: str


class ReadOptions(TypedDict, total=False):
    """How a file is written, where it differs from the defaults of :class:`~custml.sources.mapping.TableSource`."""

    sheet: str | int
    header: bool
    names: list[str]
    encoding: str
    delimiter: str
    decimal: str


class ReaderOptions(TypedDict, total=False):
    """How to read a whole column of a text export again (``pandas.read_csv`` arguments); empty otherwise."""

    sep: str | None
    encoding: str
    header: bool


class JoinProposal(TypedDict, total=False):
    """A lookup in a related file (:class:`~custml.sources.mapping.JoinSource`)."""

    file: str
    key: str
    columns: list[str] | dict[str, str]
    main_key: str
    encoding: str
    delimiter: str
    decimal: str


class AggregateProposal(TypedDict, total=False):
    """Sums or counts of a child file (:class:`~custml.sources.mapping.AggregateSource`)."""

    file: str
    key: str
    columns: dict[str, str]
    main_key: str
    encoding: str
    delimiter: str
    decimal: str


class TableProposal(TypedDict, total=False):
    """One contract table's source (:class:`~custml.sources.mapping.TableSource`)."""

    file: str
    sheet: str | int
    header: bool
    names: list[str]
    encoding: str
    delimiter: str
    decimal: str
    timestamp_format: str
    line_items: bool
    order_key: str
    refund_prefix: str
    join: list[JoinProposal]
    aggregate: list[AggregateProposal]
    where: str
    constants: dict[str, str | int | float | bool]
    columns: dict[str, str]


class MappingProposal(TypedDict, total=False):
    """A proposed mapping: a source per table found and the notes saying what to check."""

    orders: TableProposal
    customers: TableProposal
    interactions: TableProposal
    notes: list[str]
