"""Exceptions custml raises on purpose: each names what is wrong in words a data scientist understands."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CustmlError",
    "DataFileError",
    "DriftError",
    "MappingError",
    "MissingSecretError",
    "SchemaError",
]


class CustmlError(Exception):
    """Base class of every error custml raises deliberately (the CLI prints these without a traceback)."""


class SchemaError(CustmlError, ValueError):
    """A table breaks the data contract.

    Parameters
    ----------
    table, column : str
        Where the problem is (``column`` may be ``None`` for table-level problems such as an empty table).
    n_rows : int
        How many rows are affected (0 for a missing column or an empty table).
    problem : str
        What is wrong, in plain words.
    """

    def __init__(self, table: str, column: str | None, problem: str, n_rows: int = 0) -> None:
        self.table = table
        self.column = column
        self.n_rows = n_rows
        self.problem = problem
        where = f"{table}: column '{column}'" if column else f"{table}:"
        rows = f" ({n_rows:,} rows)" if n_rows else ""
        super().__init__(f"{where} {problem}{rows}")


class DataFileError(CustmlError, OSError):
    """A data file is missing, unreadable, truncated or of the wrong kind."""


class DriftError(CustmlError):
    """Scoring found features that drifted from the training reference and was asked to fail on drift."""


class ConfigError(CustmlError, ValueError):
    """A configuration file or parameter is invalid."""


class MissingSecretError(CustmlError, RuntimeError):
    """A secret (such as the pseudonymisation key) is required but not configured."""


class MappingError(CustmlError, ValueError):
    """A source mapping (``--mapping FILE.yaml``) does not fit the file it maps.

    The message names the mapping key (``orders.columns.net_amount``), the source column and the row count.
    """

    def __init__(self, key: str, problem: str, column: str | None = None, n_rows: int = 0) -> None:
        self.key = key
        self.column = column
        self.n_rows = n_rows
        self.problem = problem
        where = f"mapping {key}" + (f" (source column {column!r})" if column else "")
        rows = f" ({n_rows:,} rows)" if n_rows else ""
        super().__init__(f"{where}: {problem}{rows}")
