"""Validation with quarantine: every raw row is either kept (typed) or quarantined with a reason code.

Structural problems that make a table unusable (missing required column, empty table, incompatible dtype, a
timestamp column in which almost nothing parses) raise :class:`~custml.errors.SchemaError`. Row-level problems send
the row to the quarantine table with one reason code; nothing is dropped or coerced silently, and
``rows_in == rows_kept + rows_quarantined`` is checked for every table by the code itself.

Reason codes (first matching wins, in this order):

=============================  ================================================================================
``exact_duplicate_row``        every column equals an earlier row (a double load, not a key conflict)
``null_required``              a required value is missing (ids, timestamps, amounts, ...)
``unparseable_timestamp``      a timestamp is present but not an ISO-8601 date/time ("2024-02-30", "n/a", "")
``future_timestamp``           a timestamp is later than ``as_of`` (or than the current date, when the quality
                               stage is given it: a typo such as 2099)
``not_allowed``                a value outside the allowed codes, a boolean that is not true/false, a fraction
                               of an item
``below_min`` / ``above_max``  a number outside its range (negative discount, CSAT 7, ...)
``negative_amount_not_refund`` an order with a negative net amount that is not marked as a refund
``refund_positive_amount``     a refund row with a positive net amount
``unknown_customer``           the row's customer is not in (the kept rows of) the customers table
``duplicate_key``              the primary key repeats an earlier kept row with different content
=============================  ================================================================================

One policy for invalid values, in every table: **a row is quarantined only when a required field is unusable**
(missing, unparseable, out of its code list, contradicting another required field) or the row as a whole is
(a duplicate, an unknown customer). An invalid *optional* value (a channel outside the code list, a negative
discount, a CSAT of 7, a gender not in the code list, an unparseable birth date, a boolean that is not
true/false) is set to null and counted in ``TableValidation.nulled``: the row is still a real order, event or
customer, and quarantining it would lose revenue (or, for a customer, all their orders). Customers are
quarantined only for problems with their identity (id, sign-up date, duplicates).

Refunds are data, not dirt: an order with a negative net amount and no ``is_refund`` value (column absent or
null) is a refund and is kept with ``is_refund`` true (counted as ``refunds_inferred_from_sign``); only a
negative amount on a row explicitly marked as *not* a refund, or a positive one on a row marked as a refund, is
quarantined, because the sign of the amount cannot then be trusted. For orders the report reconciles revenue:
``net_amount_in == net_amount_kept + net_amount_quarantined`` (to the cent).

Quarantine rows of the customers table carry only the raw id and the reason (no personal data), so the
quarantine file can sit next to the modelling inputs. :data:`REASON_EXPLANATIONS` gives every reason code a
one-line explanation; the quality report carries the ones that occurred.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custml.errors import CustmlError, SchemaError
from custml.frames import isin
from custml.quality.normalise import parse_timestamps
from custml.schema import CONTRACT, CUSTOMERS, TableSchema

__all__ = [
    "AFTER_NOW_DETAIL",
    "QUARANTINE_COLUMNS",
    "REASONS",
    "REASON_EXPLANATIONS",
    "ReconciliationError",
    "TableValidation",
    "ValidationResult",
    "validate_table",
    "validate_tables",
]

log = logging.getLogger(__name__)

REASONS = (
    "exact_duplicate_row",
    "null_required",
    "unparseable_timestamp",
    "future_timestamp",
    "not_allowed",
    "below_min",
    "above_max",
    "negative_amount_not_refund",
    "refund_positive_amount",
    "unknown_customer",
    "duplicate_key",
    "duplicate_key_after_merge",
)
REASON_EXPLANATIONS: dict[str, str] = {
    "exact_duplicate_row": "every column repeats an earlier row: a double load; the first copy is kept",
    "null_required": "a required value (an id, a timestamp, an amount, a code) is missing",
    "unparseable_timestamp": "a required timestamp is present but is not a valid date/time in the expected format",
    "future_timestamp": "a timestamp is later than the as-of date (for a customer: signed up after it) or than "
    "the current date (a typo such as 2099)",
    "not_allowed": "a required value is outside its code list (e.g. an interaction kind custml does not know)",
    "below_min": "a required number is below its allowed range",
    "above_max": "a required number is above its allowed range",
    "negative_amount_not_refund": "a negative net amount on a row explicitly marked as not a refund",
    "refund_positive_amount": "a positive net amount on a row marked as a refund: the sign cannot be trusted",
    "unknown_customer": "the row's customer is not among the (kept) customers",
    "duplicate_key": "the primary key repeats an earlier kept row with other values (in orders: a line-item file?)",
    "duplicate_key_after_merge": "two merged customer records were in the same campaign: one row is kept",
}
# Detail of a timestamp later than the current date (``not_after``): a typo, not later data.
AFTER_NOW_DETAIL = "is later than the current date"
QUARANTINE_COLUMNS = ("table", "row_number", "record_id", "reason", "detail", "values")
TABLE_ORDER = ("customers", "orders", "interactions", "campaigns")
# A timestamp column where more than this share of present values cannot be parsed is a wrong format, not dirt.
MAX_UNPARSEABLE_SHARE = 0.5
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
# Customer columns whose problems quarantine the customer; other customer columns are nulled and counted.
_CUSTOMER_IDENTITY = ("customer_id", "signup_date")


class ReconciliationError(CustmlError, AssertionError):
    """Rows were lost or invented on the way: rows in != rows kept + rows quarantined (a bug, never dirt)."""


@dataclass
class TableValidation:
    """Outcome of validating one table."""

    table: str
    kept: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    nulled: dict[str, int] = field(default_factory=dict)
    offsets_converted: int = 0
    columns_dropped: list[str] = field(default_factory=list)
    kept_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """0-based positions in the raw table of the kept rows (aligned with ``kept``)."""
    extra: dict[str, object] = field(default_factory=dict)
    """Table-specific counts: for orders the revenue reconciliation and the refunds inferred from the sign."""

    @property
    def rows_kept(self) -> int:
        return len(self.kept)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    def counts(self) -> dict[str, object]:
        by_reason = self.quarantine["reason"].value_counts().sort_index() if len(self.quarantine) else []
        return {
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_by_reason": {str(k): int(v) for k, v in dict(by_reason).items()}
            if len(by_reason)
            else {},
            "values_nulled": dict(sorted(self.nulled.items())),
            "timestamps_with_offset_converted": self.offsets_converted,
            "columns_dropped": self.columns_dropped,
            **self.extra,
        }


@dataclass
class ValidationResult:
    """Kept (typed) tables, one quarantine frame for all tables, and per-table outcomes."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    per_table: dict[str, TableValidation]


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series([], dtype="str"),
            "row_number": pd.Series([], dtype="int64"),
            "record_id": pd.Series([], dtype="str"),
            "reason": pd.Series([], dtype="str"),
            "detail": pd.Series([], dtype="str"),
            "values": pd.Series([], dtype="str"),
        }
    )


def _as_text(s: pd.Series) -> pd.Series:
    """Text column with surrounding whitespace removed (nulls stay null)."""
    out = s.astype("str").where(s.notna(), None)
    return out.str.strip()


def _coerce_bool(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Nullable boolean from bools, 0/1 or true/false/yes/no text; returns (values, invalid mask)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), np.zeros(len(s), dtype=bool)
    present = s.notna().to_numpy()
    text = (
        s.astype(object).map(lambda v: str(v).strip().lower() if v is not None else v).where(s.notna(), None)
    )
    mapped = text.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
    invalid = present & mapped.isna().to_numpy()
    return mapped.astype("boolean"), invalid


def _record_ids(df: pd.DataFrame, schema: TableSchema) -> pd.Series:
    cols = [c for c in schema.primary_key if c in df.columns]
    if not cols:
        return pd.Series([None] * len(df), index=df.index, dtype="str")
    out = df[cols[0]].astype("str").where(df[cols[0]].notna(), "<null>")
    for c in cols[1:]:
        out = out + "|" + df[c].astype("str").where(df[c].notna(), "<null>")
    return out


def _row_json(df: pd.DataFrame) -> list[str]:
    records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    return [json.dumps(r, default=str, ensure_ascii=False, sort_keys=True) for r in records]


def _prepare_column(
    prepared: pd.DataFrame,
    s: pd.Series,
    schema: TableSchema,
    col: str,
    as_of: pd.Timestamp,
    flag: Callable[..., None],
    not_after: pd.Timestamp | None = None,
    after_now: dict[str, int] | None = None,
) -> int:
    """Parse raw column ``s`` into ``prepared[col]`` by its contract kind, flagging bad values with ``flag``.

    Returns the number of timestamps that carried a UTC offset. Raises :class:`SchemaError` when most
    timestamps of the column are unparseable (a wrong format, not dirty rows). Timestamps after ``not_after``
    (the current date) are flagged ``future_timestamp`` with their own detail and counted in ``after_now``.
    """
    name = schema.name
    spec = schema[col]
    if spec.kind == "datetime":
        parsed = parse_timestamps(s)
        n_present = int(s.notna().sum())
        n_bad = int(parsed.unparseable.sum())
        if n_present and n_bad / n_present > MAX_UNPARSEABLE_SHARE and n_bad > 1:
            example = s[parsed.unparseable].astype(str).iloc[0]
            raise SchemaError(
                name,
                col,
                f"is not an ISO-8601 timestamp in {n_bad:,} of {n_present:,} rows (e.g. {example!r}); "
                "expected e.g. '2024-03-05 14:22:10' or '2024-03-05T22:22:10+08:00' (for another format, read "
                "the file through a source mapping with `timestamp_format:` or `dayfirst: true`: --mapping)",
                n_bad,
            )
        prepared[col] = parsed.values
        flag("unparseable_timestamp", parsed.unparseable, col, "is not a valid timestamp", s)
        if not_after is not None:
            beyond = (parsed.values > not_after).to_numpy(dtype=bool, na_value=False)
            if beyond.any() and after_now is not None and spec.required:  # optional ones: nulled, counted
                after_now[col] = int(beyond.sum())
            # flagged first: these rows keep this detail (a typo, never later data of the export)
            flag("future_timestamp", beyond, col, f"{AFTER_NOW_DETAIL} {not_after}", parsed.values)
        future = (parsed.values > as_of).to_numpy(dtype=bool, na_value=False)
        if n_present and future.sum() > 0.5 * n_present:
            log.warning(
                "%s: %d of %d %s values are later than as_of %s; is as_of right?",
                name,
                int(future.sum()),
                n_present,
                col,
                as_of,
            )
        flag("future_timestamp", future, col, f"is later than as_of {as_of}", parsed.values)
        return int(parsed.with_offset.sum())
    elif spec.kind == "bool":
        values, invalid = _coerce_bool(s)
        prepared[col] = values
        flag("not_allowed", invalid, col, "is not true/false", s)
    elif spec.kind == "string":
        text = _as_text(s)
        if spec.allowed is not None:
            text = text.str.lower()
        if spec.pii in ("key", "none") and spec.allowed is None:
            text = text.where(text != "", None)  # a blank id is a missing id
        prepared[col] = text
    elif spec.kind == "int":
        v = pd.to_numeric(s, errors="coerce")
        fractional = (v.notna() & (v != np.floor(v))).to_numpy()
        flag("not_allowed", fractional, col, "is not a whole number", s)
        prepared[col] = v.where(~fractional).round().astype("Int64")
    else:
        prepared[col] = pd.to_numeric(s, errors="coerce").astype("float64")
    return 0


def _flag_refund_rules(
    prepared: pd.DataFrame, raw: pd.DataFrame, contract_cols: list[str], flag: Callable[..., None]
) -> dict[str, object]:
    """Orders: infer ``is_refund`` from a negative amount where unknown (adding the column, and appending it to
    ``contract_cols``, when absent) and flag amounts whose sign contradicts the refund flag."""
    net = prepared["net_amount"]
    negative = (net < 0).to_numpy(dtype=bool, na_value=False)
    if "is_refund" not in prepared:
        prepared["is_refund"] = pd.Series(False, index=prepared.index, dtype="boolean")
        prepared.loc[negative, "is_refund"] = True
        contract_cols.append("is_refund")
        inferred = int(negative.sum())
    else:
        unknown_flag = prepared["is_refund"].isna().to_numpy()
        prepared.loc[negative & unknown_flag, "is_refund"] = True
        inferred = int((negative & unknown_flag).sum())
    refund = prepared["is_refund"].fillna(False).to_numpy(dtype=bool)
    not_refund = (prepared["is_refund"] == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712
    flag(
        "negative_amount_not_refund",
        negative & not_refund,
        "net_amount",
        "is negative but the order is not a refund",
        raw["net_amount"],
    )
    flag(
        "refund_positive_amount",
        (net > 0).to_numpy(dtype=bool, na_value=False) & refund,
        "net_amount",
        "is positive on a refund row",
        raw["net_amount"],
    )
    return {"refunds_inferred_from_sign": inferred}


def _exact_duplicate_rows(raw: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """Rows that repeat an earlier row exactly (only rows whose key repeats or is null are compared)."""
    n = len(raw)
    key_present = [k for k in schema.primary_key if k in raw.columns]
    exact = np.zeros(n, dtype=bool)
    candidates = (
        raw.duplicated(subset=key_present, keep=False).to_numpy()
        | raw[key_present].isna().any(axis=1).to_numpy()
        if key_present
        else np.ones(n, dtype=bool)
    )
    if candidates.any():
        exact[candidates] = raw[candidates].duplicated(keep="first").to_numpy()
    return exact


def _quarantine_rows(
    raw: pd.DataFrame, schema: TableSchema, reasons: dict[str, np.ndarray], details: dict[str, pd.Series]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One quarantine row per bad input row, with its first reason in ``REASONS`` order; and the bad-row mask."""
    n = len(raw)
    primary = np.full(n, None, dtype=object)
    detail = np.full(n, None, dtype=object)
    for r in REASONS:
        m = reasons[r] & (primary == None)  # noqa: E711 - elementwise test on an object array
        if m.any():
            primary[m] = r
            detail[m] = details[r].reindex(raw.index[m]).to_numpy(dtype=object)
    bad = primary != None  # noqa: E711
    bad_idx = np.flatnonzero(bad)
    quarantine = empty_quarantine()
    if len(bad_idx):
        quarantine = pd.DataFrame(
            {
                "table": pd.Series([schema.name] * len(bad_idx), dtype="str"),
                "row_number": bad_idx.astype("int64"),
                "record_id": _record_ids(raw.iloc[bad_idx], schema).to_numpy(dtype=object),
                "reason": pd.Series(primary[bad_idx], dtype="str"),
                "detail": pd.Series(detail[bad_idx], dtype="str"),
                # Customers: only the raw id and the reason, never personal values.
                "values": pd.Series(
                    [None] * len(bad_idx) if schema.name == CUSTOMERS.name else _row_json(raw.iloc[bad_idx]),
                    dtype="str",
                ),
            }
        )
        quarantine["record_id"] = quarantine["record_id"].astype("str")
    return quarantine, bad


def validate_table(
    schema: TableSchema,
    df: pd.DataFrame,
    as_of: pd.Timestamp,
    known_customers: pd.Index | None = None,
    not_after: pd.Timestamp | None = None,
) -> TableValidation:
    """Validate one raw table against ``schema``: typed kept rows plus quarantined rows with reasons.

    Parameters
    ----------
    schema : TableSchema
        The contract table (``custml.schema.CONTRACT[name]``).
    df : DataFrame
        The raw table (timestamps may be ISO-8601 text, booleans text or 0/1).
    as_of : Timestamp
        Timestamps later than this are quarantined as ``future_timestamp``.
    known_customers : Index, optional
        Raw customer ids that exist (kept customers); rows of other customers are ``unknown_customer``.
    not_after : Timestamp, optional
        The current date (plus a tolerance): later timestamps are ``future_timestamp`` whatever ``as_of`` is,
        with the detail :data:`AFTER_NOW_DETAIL`, and counted per column in ``extra["timestamps_after_now"]``.

    Raises
    ------
    SchemaError
        If the table is unusable: empty, a required column missing, an incompatible dtype, or a timestamp
        column where most values are not ISO-8601.

    Examples
    --------
    >>> from custml.schema import ORDERS
    >>> raw = pd.DataFrame({"order_id": ["o1", "o2", "o2"], "customer_id": ["c1", "c1", "c1"],
    ...                     "order_ts": ["2024-01-02 10:00:00", "2099-01-01 00:00:00", "2024-01-03 09:00:00"],
    ...                     "net_amount": [10.0, 5.0, 7.0]})
    >>> v = validate_table(ORDERS, raw, pd.Timestamp("2025-01-01"))
    >>> v.rows_kept, v.quarantine["reason"].tolist()
    (2, ['future_timestamp'])
    """
    name = schema.name
    schema.check_structure(df, raw=True)
    as_of = _naive_utc(pd.Timestamp(as_of))
    not_after = None if not_after is None else _naive_utc(pd.Timestamp(not_after))
    n = len(df)
    raw = df.reset_index(drop=True)
    contract_cols = [c for c in schema.column_names if c in raw.columns]
    dropped = [str(c) for c in raw.columns if c not in schema.column_names]
    flags = _Flags(schema, raw)
    offsets = 0
    after_now: dict[str, int] = {}
    for col in contract_cols:
        offsets += _prepare_column(
            flags.prepared, raw[col], schema, col, as_of, flags.flag, not_after, after_now
        )
    _flag_rule_violations(flags, contract_cols)
    extra: dict[str, object] = {"timestamps_after_now": after_now} if after_now else {}
    if name == "orders":
        extra.update(_flag_refund_rules(flags.prepared, raw, contract_cols, flags.flag))
    prepared = flags.prepared
    if known_customers is not None and "customer_id" in prepared and name != CUSTOMERS.name:
        unknown = prepared["customer_id"].notna().to_numpy() & ~isin(prepared["customer_id"], known_customers)
        flags.flag("unknown_customer", unknown, "customer_id", "is not a (kept) customer", raw["customer_id"])
    flags.exact_duplicates(_exact_duplicate_rows(raw, schema))
    flags.duplicate_keys(list(schema.primary_key))

    # One quarantine row per bad input row, with its first reason in REASONS order.
    quarantine, bad = _quarantine_rows(raw, schema, flags.reasons, flags.details)
    kept = _kept_rows(prepared, bad, contract_cols, schema)
    if name == "orders":
        extra.update(_net_amounts(prepared, bad))
    result = TableValidation(
        name, kept, quarantine, n, flags.nulled, offsets, dropped, np.flatnonzero(~bad), extra
    )
    if result.rows_kept + result.rows_quarantined != n:
        raise ReconciliationError(
            f"{name}: {n:,} rows in but {result.rows_kept:,} kept + {result.rows_quarantined:,} quarantined"
        )
    return result


def _kept_rows(
    prepared: pd.DataFrame, bad: np.ndarray, contract_cols: list[str], schema: TableSchema
) -> pd.DataFrame:
    """The rows kept, their contract columns typed (text as strings)."""
    kept = prepared.loc[~bad, contract_cols].reset_index(drop=True)
    for col in contract_cols:
        if schema[col].kind == "string":
            kept[col] = kept[col].astype("str")
    return kept


def _net_amounts(prepared: pd.DataFrame, bad: np.ndarray) -> dict[str, object]:
    """Orders: the net amount in, kept and quarantined (they reconcile)."""
    amounts = prepared["net_amount"].fillna(0.0).to_numpy(dtype="float64")
    return {
        "net_amount_in": round(float(amounts.sum()), 2),
        "net_amount_kept": round(float(amounts[~bad].sum()), 2),
        "net_amount_quarantined": round(float(amounts[bad].sum()), 2),
    }


def _naive_utc(ts: pd.Timestamp) -> pd.Timestamp:
    """A time zone aware timestamp as naive UTC; a naive one as it is."""
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


class _Flags:
    """The rows of one raw table found bad so far: reasons per row, their details, the prepared (typed) values
    and the optional values nulled."""

    def __init__(self, schema: TableSchema, raw: pd.DataFrame) -> None:
        self.schema = schema
        self.raw = raw
        self.prepared = pd.DataFrame(index=raw.index)
        self.reasons: dict[str, np.ndarray] = {r: np.zeros(len(raw), dtype=bool) for r in REASONS}
        self.details: dict[str, pd.Series] = {}
        self.nulled: dict[str, int] = {}

    def flag(
        self, reason: str, mask: np.ndarray, column: str, message: str, values: pd.Series | None = None
    ) -> None:
        """Rows of ``mask`` break a rule on ``column``: an optional value is nulled (the row kept and counted),
        otherwise the rows are quarantined for ``reason`` (their values shown, personal data excepted)."""
        schema, raw = self.schema, self.raw
        is_customers = schema.name == CUSTOMERS.name
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        optional = column in schema.column_names and not schema[column].required
        if is_customers:
            optional = column not in _CUSTOMER_IDENTITY
        if optional and reason != "exact_duplicate_row":
            # An optional value is invalid: null the value, keep the row, count it (module docstring).
            self.prepared.loc[mask, column] = None
            self.nulled[column] = self.nulled.get(column, 0) + int(mask.sum())
            return
        self.reasons[reason] |= mask
        text = f"{column}: {message}"
        if values is not None and not (is_customers and schema[column].pii == "direct"):
            shown = values[mask].astype(object).map(lambda v: f"{text} ({v!r})")
        else:
            shown = pd.Series(text, index=raw.index[mask])
        prior = self.details.get(reason)
        self.details[reason] = shown if prior is None else prior.combine_first(shown)

    def exact_duplicates(self, exact: np.ndarray) -> None:
        """Exact duplicate rows (whole row repeated), counted apart from key conflicts."""
        self.reasons["exact_duplicate_row"] |= exact
        if exact.any():
            self.details["exact_duplicate_row"] = pd.Series(
                "row repeats an earlier row exactly", index=self.raw.index[exact]
            )

    def duplicate_keys(self, key_cols: list[str]) -> None:
        """Rows repeating the key of an earlier row, among the rows no other rule rejects."""
        n = len(self.raw)
        bad_before_key = np.zeros(n, dtype=bool)
        for r in REASONS:
            bad_before_key |= self.reasons[r]
        ok_idx = np.flatnonzero(~bad_before_key)
        dup = self.prepared.iloc[ok_idx].duplicated(subset=key_cols, keep="first").to_numpy()
        dup_mask = np.zeros(n, dtype=bool)
        dup_mask[ok_idx[dup]] = True
        if dup_mask.any():
            self.reasons["duplicate_key"] |= dup_mask
            self.details["duplicate_key"] = pd.Series(
                f"{'+'.join(key_cols)}: repeats the key of an earlier row with different values",
                index=self.raw.index[dup_mask],
            )


def _flag_rule_violations(flags: _Flags, contract_cols: list[str]) -> None:
    """Schema rules on the prepared values (nulls, allowed codes, ranges); duplicate keys are decided later,
    among rows that survive every other rule, so that a broken first copy does not doom a good second one."""
    schema, raw = flags.schema, flags.raw
    rule_frame = flags.prepared.copy()
    for col in contract_cols:
        if schema[col].kind == "datetime":  # unparseable text is not "null": it has its own reason
            rule_frame[col] = raw[col].where(raw[col].notna(), None)
    for v in schema.row_violations(rule_frame):
        if v.reason == "duplicate_key":
            continue
        flags.flag(v.reason, v.mask, v.column, v.message, raw[v.column] if v.column in raw.columns else None)


def validate_tables(
    raw: dict[str, pd.DataFrame], as_of: pd.Timestamp, not_after: pd.Timestamp | None = None
) -> ValidationResult:
    """Validate the contract tables in ``raw`` (customers and orders required) with referential integrity.

    Customers are validated first; rows of orders, interactions and campaigns whose customer is not among the
    kept customers are quarantined as ``unknown_customer``. ``not_after`` (the current date): see
    :func:`validate_table`.

    Raises
    ------
    SchemaError
        If customers or orders is missing, or any table is structurally unusable.
    """
    for required in ("customers", "orders"):
        if required not in raw:
            raise SchemaError(required, None, "table is missing (customers and orders are required)")
    unknown_tables = sorted(set(raw) - set(CONTRACT))
    if unknown_tables:
        raise SchemaError(
            unknown_tables[0], None, f"is not a contract table (expected some of {', '.join(TABLE_ORDER)})"
        )
    per_table: dict[str, TableValidation] = {}
    known: pd.Index | None = None
    for name in TABLE_ORDER:
        if name not in raw:
            continue
        v = validate_table(CONTRACT[name], raw[name], as_of, known_customers=known, not_after=not_after)
        per_table[name] = v
        if name == "customers":
            known = pd.Index(v.kept["customer_id"].unique())
    quarantine = pd.concat(
        [empty_quarantine(), *(v.quarantine for v in per_table.values() if len(v.quarantine))],
        ignore_index=True,
    )
    return ValidationResult({k: v.kept for k, v in per_table.items()}, quarantine, per_table)
