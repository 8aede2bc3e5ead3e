"""The data contract: the four tables every stage reads, as executable schemas.

Each :class:`TableSchema` documents its columns (type, meaning, whether personal data) and checks a frame:
:meth:`TableSchema.check_structure` fails fast on problems that make a table unusable (missing required column,
incompatible type, empty table), :meth:`TableSchema.row_violations` returns one boolean mask per broken row-level
rule (null key, value not allowed, out of range, duplicate key) so that the quality stage can quarantine exactly
those rows with a reason code, and :meth:`TableSchema.check` raises on the first violation.

``pii`` marks personal data: ``"direct"`` identifies a person (name, email, phone, address, birth date) and never
leaves the quality stage; ``"key"`` is a raw identifier that is replaced by a keyed pseudonym; ``"quasi"`` may
enter models only in coarse form (region, age band).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from custml.errors import SchemaError

__all__ = [
    "CAMPAIGNS",
    "CONTRACT",
    "CUSTOMERS",
    "INTERACTIONS",
    "INTERACTION_KINDS",
    "ORDERS",
    "Column",
    "RowViolation",
    "TableSchema",
    "contract_markdown",
]

Kind = Literal["string", "int", "float", "bool", "datetime"]
PII = Literal["none", "key", "quasi", "direct"]

INTERACTION_KINDS = (
    "support_ticket",
    "complaint",
    "survey",
    "email_sent",
    "email_open",
    "email_click",
    "app_session",
)
ACQUISITION_CHANNELS = ("organic", "paid_search", "social", "referral", "affiliate", "store")
ORDER_CHANNELS = ("web", "app", "store", "marketplace")
GENDERS = ("female", "male", "other")
ARMS = ("offer", "control")


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``required`` columns must be present; optional ones may be absent (their features are then missing, not an
    error). ``nullable=False`` rows with a null go to quarantine. ``allowed``/``min``/``max`` are row-level rules.
    """

    name: str
    kind: Kind
    description: str
    required: bool = True
    nullable: bool = False
    pii: PII = "none"
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class RowViolation:
    """Rows of ``table`` that break one rule on ``column``; ``mask`` is aligned with the frame's rows."""

    table: str
    column: str
    reason: str
    mask: np.ndarray
    message: str

    @property
    def n_rows(self) -> int:
        return int(self.mask.sum())

    def to_error(self) -> SchemaError:
        return SchemaError(self.table, self.column, self.message, self.n_rows)


def _kind_ok(series: pd.Series, kind: Kind, *, raw: bool) -> bool:
    """Whether a column's dtype can hold ``kind`` (raw inputs may carry timestamps as text)."""
    t = pd.api.types
    if kind == "string":
        return (
            t.is_string_dtype(series.dtype)
            or t.is_object_dtype(series.dtype)
            or isinstance(series.dtype, pd.CategoricalDtype)
        )
    if kind == "int":
        return t.is_integer_dtype(series.dtype) or (raw and t.is_float_dtype(series.dtype))
    if kind == "float":
        return t.is_numeric_dtype(series.dtype) and not t.is_bool_dtype(series.dtype)
    if kind == "bool":
        return t.is_bool_dtype(series.dtype) or (raw and t.is_object_dtype(series.dtype))
    if kind == "datetime":
        if t.is_datetime64_any_dtype(series.dtype):
            return True
        return raw and (t.is_string_dtype(series.dtype) or t.is_object_dtype(series.dtype))
    raise AssertionError(kind)


@dataclass(frozen=True)
class TableSchema:
    """A contract table: named columns, a primary key and a description."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}: no column '{name}' in the contract")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def pii_columns(self, *levels: PII) -> list[str]:
        """Columns whose ``pii`` level is in ``levels`` (default: direct identifiers)."""
        levels = levels or ("direct",)
        return [c.name for c in self.columns if c.pii in levels]

    def check_structure(self, df: pd.DataFrame, *, raw: bool = False) -> None:
        """Raise :class:`SchemaError` if ``df`` cannot be used at all.

        Checks that the table is non-empty, every required column is present, and every present contract column
        has a compatible dtype. ``raw=True`` accepts timestamps stored as text (they are parsed, and malformed ones
        quarantined, by the quality stage).
        """
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(self.name, None, f"expected a pandas DataFrame, got {type(df).__name__}")
        missing = [c for c in self.required_columns if c not in df.columns]
        if missing:
            raise SchemaError(
                self.name, missing[0], f"required column is missing (all missing: {', '.join(missing)})"
            )
        if len(df) == 0:
            raise SchemaError(self.name, None, "table is empty")
        for col in self.columns:
            if col.name in df.columns and not _kind_ok(df[col.name], col.kind, raw=raw):
                raise SchemaError(
                    self.name,
                    col.name,
                    f"has dtype {df[col.name].dtype}, expected {col.kind}",
                    len(df),
                )

    def row_violations(self, df: pd.DataFrame) -> list[RowViolation]:
        """One :class:`RowViolation` per broken row-level rule (nulls, allowed values, ranges, duplicate keys)."""
        out: list[RowViolation] = []
        for col in self.columns:
            if col.name not in df.columns:
                continue
            s = df[col.name]
            null = s.isna().to_numpy()
            if not col.nullable and null.any():
                out.append(RowViolation(self.name, col.name, "null_required", null, "is null but required"))
            if col.allowed is not None:
                bad = ~null & ~s.isin(col.allowed).to_numpy()
                if bad.any():
                    shown = ", ".join(map(repr, pd.unique(s[bad].astype(str))[:3]))
                    out.append(
                        RowViolation(
                            self.name,
                            col.name,
                            "not_allowed",
                            bad,
                            f"has values outside {list(col.allowed)} (e.g. {shown})",
                        )
                    )
            if col.kind in ("int", "float") and (col.min is not None or col.max is not None):
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                if col.min is not None and (low := v < col.min).any():
                    out.append(RowViolation(self.name, col.name, "below_min", low, f"is below {col.min}"))
                if col.max is not None and (high := v > col.max).any():
                    out.append(RowViolation(self.name, col.name, "above_max", high, f"is above {col.max}"))
        key = [k for k in self.primary_key if k in df.columns]
        if len(key) == len(self.primary_key):
            dup = df.duplicated(subset=key, keep="first").to_numpy()
            if dup.any():
                out.append(
                    RowViolation(
                        self.name,
                        "+".join(key),
                        "duplicate_key",
                        dup,
                        "repeats a key already seen in an earlier row",
                    )
                )
        return out

    def check(self, df: pd.DataFrame, *, raw: bool = False) -> None:
        """Raise :class:`SchemaError` on the first structural or row-level violation; return None if valid.

        Examples
        --------
        >>> import pandas as pd
        >>> from custml.schema import CAMPAIGNS
        >>> df = pd.DataFrame({"campaign_id": ["c1"], "customer_id": ["a"],
        ...                    "sent_ts": pd.to_datetime(["2025-01-01"]), "arm": ["gift"], "offer_cost": [0.0]})
        >>> CAMPAIGNS.check(df)
        Traceback (most recent call last):
        ...
        custml.errors.SchemaError: campaigns: column 'arm' has values outside ['offer', 'control'] (e.g. 'gift') (1 rows)
        """
        self.check_structure(df, raw=raw)
        violations = self.row_violations(df)
        if violations:
            raise violations[0].to_error()

    def to_markdown(self) -> str:
        """The table's documentation as a Markdown table."""
        lines = [
            f"### `{self.name}`",
            "",
            self.description,
            "",
            f"Primary key: `{', '.join(self.primary_key)}`",
            "",
            "| column | type | required | nullable | PII | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for c in self.columns:
            rule = ""
            if c.allowed:
                rule = " One of: " + ", ".join(f"`{a}`" for a in c.allowed) + "."
            if c.min is not None or c.max is not None:
                rule += (
                    f" Range: [{c.min if c.min is not None else ''}, {c.max if c.max is not None else ''}]."
                )
            lines.append(
                f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {'yes' if c.nullable else 'no'} "
                f"| {c.pii if c.pii != 'none' else ''} | {c.description}{rule} |"
            )
        return "\n".join(lines)


CUSTOMERS = TableSchema(
    name="customers",
    description="One row per customer record (a real person may have several records before de-duplication).",
    primary_key=("customer_id",),
    columns=(
        Column("customer_id", "string", "Raw customer identifier of the source system.", pii="key"),
        Column("signup_date", "datetime", "Date the customer record was created."),
        Column(
            "name",
            "string",
            "Full name (optional: without name, e-mail, phone or address de-duplication is skipped).",
            required=False,
            nullable=True,
            pii="direct",
        ),
        Column("email", "string", "E-mail address as entered.", required=False, nullable=True, pii="direct"),
        Column("phone", "string", "Phone number as entered.", required=False, nullable=True, pii="direct"),
        Column("address", "string", "Street address.", required=False, nullable=True, pii="direct"),
        Column("city", "string", "City.", required=False, nullable=True, pii="quasi"),
        Column(
            "region",
            "string",
            "State or province (may enter models).",
            required=False,
            nullable=True,
            pii="quasi",
        ),
        Column(
            "country",
            "string",
            "ISO 3166-1 alpha-2 country code, used to parse phone numbers.",
            required=False,
            nullable=True,
        ),
        Column(
            "birth_date",
            "datetime",
            "Date of birth (models see only an age band).",
            required=False,
            nullable=True,
            pii="direct",
        ),
        Column(
            "gender",
            "string",
            "Self-reported gender.",
            required=False,
            nullable=True,
            pii="quasi",
            allowed=GENDERS,
        ),
        Column(
            "acquisition_channel",
            "string",
            "How the customer was acquired.",
            required=False,
            nullable=True,
            allowed=ACQUISITION_CHANNELS,
        ),
        Column("loyalty_member", "bool", "Member of the loyalty programme.", required=False, nullable=True),
        Column("marketing_consent", "bool", "Agreed to receive marketing.", required=False, nullable=True),
    ),
)

ORDERS = TableSchema(
    name="orders",
    description=(
        "One row per order or refund. Refund rows have `is_refund` true, non-positive amounts and may name the "
        "order they refund. Only `order_id`, `customer_id`, `order_ts` and `net_amount` are required, so any "
        "transactions data (e.g. CDNOW) can be mapped to the contract."
    ),
    primary_key=("order_id",),
    columns=(
        Column("order_id", "string", "Order identifier."),
        Column("customer_id", "string", "Customer who placed the order (refers to customers).", pii="key"),
        Column("order_ts", "datetime", "When the order was placed (UTC, naive)."),
        Column(
            "channel",
            "string",
            "Where the order was placed.",
            required=False,
            nullable=True,
            allowed=ORDER_CHANNELS,
        ),
        Column("n_items", "int", "Number of items.", required=False, nullable=True, min=0),
        Column("gross_amount", "float", "Amount before discount.", required=False, nullable=True),
        Column(
            "discount_amount",
            "float",
            "Discount granted (non-negative).",
            required=False,
            nullable=True,
            min=0,
        ),
        Column("net_amount", "float", "Amount paid: gross minus discount; negative on refund rows."),
        Column("category", "string", "Main product category of the order.", required=False, nullable=True),
        Column("is_refund", "bool", "The row is a refund or return.", required=False, nullable=True),
        Column(
            "refund_of_order_id", "string", "For refunds: the refunded order.", required=False, nullable=True
        ),
    ),
)

INTERACTIONS = TableSchema(
    name="interactions",
    description=(
        "Service and engagement events: support tickets, complaints, satisfaction surveys (CSAT 1-5), e-mails sent, "
        "opened and clicked, app sessions."
    ),
    primary_key=("interaction_id",),
    columns=(
        Column("interaction_id", "string", "Event identifier."),
        Column("customer_id", "string", "Customer concerned.", pii="key"),
        Column("ts", "datetime", "When the event happened (UTC, naive)."),
        Column("kind", "string", "Type of event.", allowed=INTERACTION_KINDS),
        Column(
            "score",
            "float",
            "Satisfaction score of a survey (CSAT, 1 = very unhappy, 5 = very happy).",
            required=False,
            nullable=True,
            min=1,
            max=5,
        ),
        Column("resolved", "bool", "Ticket or complaint resolved.", required=False, nullable=True),
        Column(
            "resolution_hours",
            "float",
            "Hours from opening to resolution of a resolved ticket or complaint.",
            required=False,
            nullable=True,
            min=0,
        ),
    ),
)

CAMPAIGNS = TableSchema(
    name="campaigns",
    description="A randomised retention campaign: who was sent an offer and who was held out as control.",
    primary_key=("campaign_id", "customer_id"),
    columns=(
        Column("campaign_id", "string", "Campaign identifier."),
        Column("customer_id", "string", "Customer assigned to an arm.", pii="key"),
        Column("sent_ts", "datetime", "When the offer was sent (or would have been, for control)."),
        Column("arm", "string", "Randomised arm.", allowed=ARMS),
        Column("offer_cost", "float", "Cost of the offer to the business (0 for control).", min=0),
    ),
)

CONTRACT: dict[str, TableSchema] = {s.name: s for s in (CUSTOMERS, ORDERS, INTERACTIONS, CAMPAIGNS)}


def contract_markdown() -> str:
    """Documentation of the whole contract (used for docs/data-contract.md)."""
    return "\n\n".join(s.to_markdown() for s in CONTRACT.values()) + "\n"
