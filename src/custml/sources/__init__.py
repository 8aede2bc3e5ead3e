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

The package holds one concern per module: :mod:`~custml.sources.mapping` (the schema),
:mod:`~custml.sources.readers` (files and encodings), :mod:`~custml.sources.expressions` (columns and
arithmetic), :mod:`~custml.sources.timestamps`, :mod:`~custml.sources.line_items`,
:mod:`~custml.sources.tables` (the mapping applied) and :mod:`~custml.sources.inference` (``sources infer``).
"""

from custml.sources.folder import infer_folder
from custml.sources.inference import infer_mapping, mapping_yaml
from custml.sources.line_items import aggregate_line_items
from custml.sources.mapping import SourceMapping, Sources, TableSource, load_mapping
from custml.sources.tables import read_sources

__all__ = [
    "SourceMapping",
    "Sources",
    "TableSource",
    "aggregate_line_items",
    "infer_folder",
    "infer_mapping",
    "load_mapping",
    "mapping_yaml",
    "read_sources",
]
