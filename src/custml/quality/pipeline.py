"""The quality stage end to end: validate, quarantine, normalise, de-duplicate, pseudonymise, reconcile.

:func:`clean_tables` turns the raw contract tables into the clean tables every later stage reads (contract
section 2): customer ids are keyed pseudonyms of the golden record's raw id, timestamps are naive UTC, and the
customers table carries no direct personal data (an age band instead of the birth date, no name, e-mail, phone or
address). The link between pseudonyms and raw ids (``id_map``), the golden records with their normalised
personal fields (``golden_customers``) and the scored duplicate pairs stay in :class:`CleanResult` for the private
folder only.

Idempotence: cleaning the clean tables again returns them unchanged. Clean tables are recognised by their
customers table (``n_source_records`` present, no ``name``/``email``/``phone``): they are re-validated against the
clean contract (so broken rows would still be quarantined) but not de-duplicated or pseudonymised again, since
their ids already are pseudonyms.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from pydantic import Field

from custml.contracts import DedupStats, QualityReport, Reconciliation, TableQuality
from custml.errors import SchemaError
from custml.privacy import pseudonymise
from custml.quality.dedup import DedupParams, DedupResult, find_duplicates, golden_records, stable_golden_ids
from custml.quality.normalise import (
    AGE_BANDS,
    age_band,
    normalise_email,
    normalise_name,
    normalise_phone,
    parse_timestamps,
)
from custml.quality.validate import (
    REASON_EXPLANATIONS,
    REASONS,
    TABLE_ORDER,
    ReconciliationError,
    TableValidation,
    ValidationResult,
    empty_quarantine,
    validate_table,
    validate_tables,
)
from custml.schema import ACQUISITION_CHANNELS, CONTRACT, CUSTOMERS, GENDERS, Column, TableSchema
from custml.settings import Settings

__all__ = [
    "CLEAN_CUSTOMERS",
    "CleanResult",
    "QualityParams",
    "IDENTITY_COLUMNS",
    "clean_tables",
    "customers_from_orders",
    "is_clean_customers",
    "line_item_hint",
]

# Personal fields de-duplication compares; without a value in any of them it is skipped (and says so).
IDENTITY_COLUMNS = ("name", "email", "phone", "birth_date", "address")
# Share of order rows repeating an order id above which the file is most likely one row per order line.
LINE_ITEM_SHARE = 0.2

log = logging.getLogger(__name__)

CLEAN_CUSTOMERS = TableSchema(
    name="customers",
    description="One row per person after de-duplication; pseudonymous id, no direct personal data.",
    primary_key=("customer_id",),
    columns=(
        Column("customer_id", "string", "Pseudonym: HMAC-SHA256 of the golden raw id, 16 hex characters."),
        Column("signup_date", "datetime", "Earliest sign-up date of the person's records."),
        Column("age_band", "string", "Age band at as_of.", nullable=True, allowed=AGE_BANDS),
        Column("region", "string", "State or province.", nullable=True, pii="quasi"),
        Column("country", "string", "ISO 3166-1 alpha-2 country code.", nullable=True),
        Column("gender", "string", "Self-reported gender.", nullable=True, pii="quasi", allowed=GENDERS),
        Column("acquisition_channel", "string", "How the customer was first acquired.", nullable=True,
               allowed=ACQUISITION_CHANNELS),
        Column("loyalty_member", "bool", "Member of the loyalty programme.", nullable=True),
        Column("marketing_consent", "bool", "Agreed to receive marketing.", nullable=True),
        Column("n_source_records", "int", "Raw customer records merged into this person.", min=1),
    ),
)  # fmt: skip
_CLEAN_CUSTOMER_COLUMNS = CLEAN_CUSTOMERS.column_names


class QualityParams(Settings):
    """Settings of the quality stage."""

    default_region: str = Field(
        "US", description="Region used to parse phone numbers of customers without a country."
    )
    require_valid_phone: bool = Field(
        True, description="Phones must be valid numbers for their region (else only possible lengths)."
    )
    deduplicate: bool = Field(True, description="Merge duplicate customer records of one person.")
    dedup: DedupParams = Field(default_factory=DedupParams)


@dataclass
class CleanResult:
    """Everything :func:`clean_tables` produces.

    Attributes
    ----------
    tables : dict[str, DataFrame]
        Clean ``customers`` (columns of :data:`CLEAN_CUSTOMERS`), ``orders`` and, when given, ``interactions``,
        ``campaigns``; ids are pseudonyms. Safe for modelling.
    quarantine : DataFrame
        One row per rejected input row: table, row_number (0-based position in the raw table), record_id (the
        row's key), reason, detail, values (the raw row as JSON; null for customers, which never carry personal
        data here).
    id_map : DataFrame
        raw_customer_id, golden_raw_id, customer_id (pseudonym). Private: links pseudonyms to raw ids.
    report : QualityReport
        Counts per table and reason, before/after, normalisation counts, dedup statistics, reconciliation
        (:class:`custml.contracts.QualityReport`, written as ``quality_report.json``).
    dedup_pairs : DataFrame
        Scored candidate pairs (raw ids, per-field agreement levels, weight, probability, match). Private.
    golden_customers : DataFrame
        Golden records with normalised personal fields, keyed by pseudonym and golden raw id. Private.
    golden_merges : DataFrame
        Earlier golden ids absorbed into another in this run (``absorbed_golden_raw_id``,
        ``surviving_golden_raw_id`` and their pseudonyms). Private.
    dedup : DedupResult or None
        The matcher's full result (uncertain pairs with their values, Splink's model and charts). Private.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    id_map: pd.DataFrame
    report: QualityReport
    dedup_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    golden_customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    golden_merges: pd.DataFrame = field(default_factory=pd.DataFrame)
    dedup: DedupResult | None = None


def is_clean_customers(customers: pd.DataFrame) -> bool:
    """Whether ``customers`` is already a clean table (pseudonymised, no direct personal columns)."""
    direct = set(CUSTOMERS.pii_columns("direct"))
    return "n_source_records" in customers.columns and not (direct & set(customers.columns))


def customers_from_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """A minimal raw customers table derived from raw orders: one row per customer id, first order as sign-up.

    Used when no customers table is given (orders only is enough). Ids are stripped and blank ids dropped; the
    sign-up date is the earliest parseable ``order_ts`` of the customer (later ones, even after ``as_of``, count:
    a customer whose first order is after the as-of date is then quarantined as ``future_timestamp``, i.e. not
    yet a customer). Customers without any parseable timestamp are not derived: their orders are quarantined for
    the timestamp already.

    Examples
    --------
    >>> orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["b", " a", "b"],
    ...                        "order_ts": ["2024-03-01 10:00", "2024-01-05", "2024-02-01"], "net_amount": [1.0, 2, 3]})
    >>> customers_from_orders(orders)
      customer_id signup_date
    0           a  2024-01-05
    1           b  2024-02-01
    """
    for col in ("customer_id", "order_ts"):
        if col not in orders.columns:
            raise SchemaError("orders", col, "required column is missing (customers are derived from orders)")
    ids = orders["customer_id"].astype("str").where(orders["customer_id"].notna(), None).str.strip()
    ts = parse_timestamps(orders["order_ts"]).values
    frame = pd.DataFrame({"customer_id": ids.to_numpy(dtype=object), "signup_date": ts.to_numpy()})
    frame = frame[frame["customer_id"].notna() & (frame["customer_id"] != "") & frame["signup_date"].notna()]
    first = frame.groupby("customer_id", sort=True)["signup_date"].min().reset_index()
    first["customer_id"] = first["customer_id"].astype("str")
    first["signup_date"] = first["signup_date"].astype("datetime64[us]")
    return first


def line_item_hint(validation: TableValidation) -> str | None:
    """A one-line hint when an orders table looks like one row per order line (many rows repeat an order id)."""
    counts = validation.quarantine["reason"].value_counts()
    repeats = int(counts.get("duplicate_key", 0)) + int(counts.get("exact_duplicate_row", 0))
    if validation.rows_in == 0 or repeats / validation.rows_in <= LINE_ITEM_SHARE:
        return None
    return (
        f"orders: {repeats:,} of {validation.rows_in:,} rows ({repeats / validation.rows_in:.1%}) repeat an "
        "order_id: this looks like a line-item file (one row per order line); map it with "
        "`orders: {line_items: true, order_key: <invoice column>}` (custml sources infer FILE proposes one)"
    )


def _as_of(as_of: pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _normalise_customers(
    customers: pd.DataFrame, params: QualityParams
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Normalised personal fields (name, e-mail, phone, address) and counts of what changed or was invalid."""
    out = customers.copy()
    counts: dict[str, int] = {}
    if "name" in out:
        new = normalise_name(out["name"])
        counts["names_changed"] = int((new.fillna("\0") != out["name"].fillna("\0")).sum())
        out["name"] = new
    if "email" in out:
        new, invalid = normalise_email(out["email"])
        counts["emails_changed"] = int((new.notna() & (new != out["email"])).sum())
        counts["emails_invalid"] = int(invalid.sum())
        out["email"] = new
    if "phone" in out:
        regions = out.get("country", params.default_region)
        if isinstance(regions, pd.Series):
            regions = regions.where(regions.notna(), params.default_region)
        new, invalid = normalise_phone(out["phone"], regions, require_valid=params.require_valid_phone)
        counts["phones_reformatted"] = int((new.notna() & (new != out["phone"])).sum())
        counts["phones_invalid"] = int(invalid.sum())
        out["phone"] = new
    if "address" in out:
        addr = out["address"].astype("str").where(out["address"].notna(), None)
        out["address"] = addr.str.normalize("NFKC").str.split().str.join(" ").replace("", None)
    return out, counts


def _finalise_customers(df: pd.DataFrame) -> pd.DataFrame:
    """The clean customers' columns in contract order and with stable dtypes (missing optional ones all-null)."""
    out = pd.DataFrame(index=df.index)
    for col in CLEAN_CUSTOMERS.columns:
        s = (
            df[col.name]
            if col.name in df.columns
            else pd.Series([None] * len(df), index=df.index, dtype=object)
        )
        if col.kind == "string":
            s = s.astype("str").where(s.notna(), None).astype("str")
        elif col.kind == "bool":
            s = s.astype("boolean")
        elif col.kind == "datetime":
            s = pd.to_datetime(s).astype("datetime64[us]")
        elif col.kind == "int":
            s = s.astype("int64")
        out[col.name] = s
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _rekey(
    name: str, df: pd.DataFrame, raw_to_pseudonym: pd.Series, raw_rows: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, Reconciliation]:
    """Replace raw customer ids by the golden record's pseudonym; check nothing was lost."""
    out = df.copy()
    mapped = raw_to_pseudonym.reindex(out["customer_id"].astype("str")).to_numpy(dtype=object)
    if pd.isna(mapped).any():
        raise ReconciliationError(f"{name}: {int(pd.isna(mapped).sum()):,} rows have no golden customer id")
    out["customer_id"] = pd.Series(mapped, index=out.index, dtype="str")
    quarantine = empty_quarantine()
    if name == "campaigns":
        # Two records of one person in the same campaign collapse onto one (campaign_id, customer_id) key.
        dup = out.duplicated(subset=["campaign_id", "customer_id"], keep="first").to_numpy()
        if dup.any():
            quarantine = pd.DataFrame(
                {
                    "table": pd.Series([name] * int(dup.sum()), dtype="str"),
                    "row_number": pd.Series(raw_rows[dup], dtype="int64"),
                    "record_id": (df["campaign_id"].astype("str") + "|" + df["customer_id"].astype("str"))[
                        dup
                    ]
                    .astype("str")
                    .to_numpy(),
                    "reason": pd.Series(["duplicate_key_after_merge"] * int(dup.sum()), dtype="str"),
                    "detail": pd.Series(
                        ["campaign_id+customer_id: the merged person is already in this campaign"]
                        * int(dup.sum()),
                        dtype="str",
                    ),
                    "values": pd.Series([None] * int(dup.sum()), dtype="str"),
                }
            )
            out = out[~dup].reset_index(drop=True)
    recon = Reconciliation(rows_before_merge=len(df), rows_after_merge=len(out))
    if name == "orders":
        before, after = float(df["net_amount"].sum()), float(out["net_amount"].sum())
        recon.net_amount_before_merge, recon.net_amount_after_merge = round(before, 2), round(after, 2)
        if len(out) != len(df) or not np.isclose(before, after, rtol=0, atol=1e-6 * max(1.0, abs(before))):
            raise ReconciliationError(
                f"orders: re-keying changed the totals ({len(df):,} -> {len(out):,} orders, "
                f"{before:,.2f} -> {after:,.2f} net revenue)"
            )
    elif len(out) + len(quarantine) != len(df):
        raise ReconciliationError(
            f"{name}: {len(df):,} rows before re-keying, {len(out) + len(quarantine):,} after"
        )
    return out, quarantine, recon


def _table_report(v: TableValidation, rows_out: int, extra_quarantine: pd.DataFrame) -> TableQuality:
    counts = v.counts()
    by_reason = dict(cast(Mapping[str, int], counts["quarantined_by_reason"]))
    for reason, n in extra_quarantine["reason"].value_counts().items():
        by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
    n_q = v.rows_quarantined + len(extra_quarantine)
    rows_kept = v.rows_in - n_q
    if rows_kept + n_q != v.rows_in:  # pragma: no cover - guarded above, kept as the stated invariant
        raise ReconciliationError(f"{v.table}: rows in != kept + quarantined")
    return TableQuality.model_validate(
        {
            **counts,
            "rows_quarantined": n_q,
            "rows_kept": rows_kept,
            "rows_out": rows_out,
            "quarantined_by_reason": dict(sorted(by_reason.items())),
        }
    )


def _report(
    as_of: pd.Timestamp,
    mode: Literal["raw", "already_clean"],
    per_table: dict[str, TableQuality],
    normalisation: dict[str, int],
    dedup: DedupStats | None,
    reconciliation: dict[str, Reconciliation],
    seconds: float,
) -> QualityReport:
    by_reason: dict[str, int] = {}
    for t in per_table.values():
        for r, n in t.quarantined_by_reason.items():
            by_reason[r] = by_reason.get(r, 0) + n
    rows_in = sum(t.rows_in for t in per_table.values())
    rows_q = sum(t.rows_quarantined for t in per_table.values())
    return QualityReport(
        as_of=as_of.isoformat(),
        mode=mode,
        rows_in=rows_in,
        rows_kept=rows_in - rows_q,
        rows_quarantined=rows_q,
        tables=per_table,
        quarantined_by_table={k: v.rows_quarantined for k, v in per_table.items()},
        quarantined_by_reason={r: by_reason[r] for r in REASONS if r in by_reason},
        reasons_explained={r: REASON_EXPLANATIONS[r] for r in REASONS if r in by_reason},
        duplicates_merged=dedup.records_merged if dedup is not None else 0,
        normalisation=normalisation,
        dedup=dedup,
        reconciliation=reconciliation,
        seconds=round(seconds, 3),
    )


def _empty_id_map() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype="str") for c in ("raw_customer_id", "golden_raw_id", "customer_id")}
    )


def _after_now_hints(per_table: Mapping[str, TableValidation]) -> list[str]:
    """One line per column with timestamps after the current date (quarantined as future_timestamp)."""
    hints = []
    for name, v in per_table.items():
        for col, n in cast(Mapping[str, int], v.extra.get("timestamps_after_now", {})).items():
            hints.append(
                f"{name}.{col}: {n:,} timestamp(s) later than the current date (typos such as 2099?) "
                "quarantined as future_timestamp; the data end is inferred from the other rows"
            )
    return hints


def _clean_again(
    raw: dict[str, pd.DataFrame], as_of: pd.Timestamp, t0: float, not_after: pd.Timestamp | None = None
) -> CleanResult:
    """Re-validate already clean tables (no de-duplication or pseudonymisation: ids already are pseudonyms)."""
    customers = validate_table(CLEAN_CUSTOMERS, raw["customers"], as_of, not_after=not_after)
    per: dict[str, TableValidation] = {"customers": customers}
    known = pd.Index(customers.kept["customer_id"].unique())
    for name in TABLE_ORDER[1:]:
        if name in raw:
            per[name] = validate_table(
                CONTRACT[name], raw[name], as_of, known_customers=known, not_after=not_after
            )
    tables = {k: v.kept for k, v in per.items()}
    tables["customers"] = _finalise_customers(tables["customers"])
    quarantine = pd.concat([empty_quarantine(), *(v.quarantine for v in per.values())], ignore_index=True)
    per_table = {k: _table_report(v, len(tables[k]), empty_quarantine()) for k, v in per.items()}
    offsets = sum(v.offsets_converted for v in per.values())
    normalisation = {"timestamps_with_offset_converted": offsets}
    report = _report(as_of, "already_clean", per_table, normalisation, None, {}, time.perf_counter() - t0)
    report.hints = _after_now_hints(per)
    return CleanResult(tables, quarantine, _empty_id_map(), report)


def _validation_counts(validation: ValidationResult) -> dict[str, int]:
    """Timestamps converted from an offset and values nulled, over every table."""
    per = validation.per_table.values()
    return {
        "timestamps_with_offset_converted": sum(v.offsets_converted for v in per),
        "values_nulled": sum(sum(v.nulled.values()) for v in per),
    }


def _with_customers(raw: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], bool]:
    """``raw`` with a customers table (derived from the orders when absent) and whether it was derived."""
    if "customers" in raw:
        return raw, False
    if "orders" not in raw:
        raise SchemaError("orders", None, "table is missing (orders is required)")
    return {**raw, "customers": customers_from_orders(raw["orders"])}, True


def _deduplicate(
    customers: pd.DataFrame,
    params: QualityParams,
    labels: pd.DataFrame | None,
    work_dir: Path | None,
    backend: Any | None,
) -> tuple[pd.Series, DedupResult | None, DedupStats]:
    """Golden id per customer id (``clusters``), the matcher's result (``None`` when skipped) and its statistics."""
    identity = [c for c in IDENTITY_COLUMNS if c in customers.columns and customers[c].notna().any()]
    if params.deduplicate and len(customers) > 1 and identity:
        dedup = find_duplicates(
            customers,
            params.dedup,
            work_dir=work_dir,
            db_api=backend,
            charts=work_dir is not None,
            labels=labels,
        )
        return dedup.clusters, dedup, DedupStats.model_validate({**dedup.stats, "identity_columns": identity})
    ids = customers["customer_id"].astype("str")
    clusters = pd.Series(ids.to_numpy(), index=pd.Index(ids.to_numpy(), name="customer_id"), name="golden_id")
    skipped = (
        "de-duplication switched off (--no-dedup)"
        if not params.deduplicate
        else "no identity columns with values (name, e-mail, phone, birth date, address): "
        "each customer id is one customer"
        if not identity
        else None
    )
    return clusters, None, DedupStats(records=len(customers), records_merged=0, skipped=skipped)


def _golden(
    customers: pd.DataFrame,
    clusters: pd.Series,
    previous_id_map: pd.DataFrame | None,
    key: bytes,
    stats: DedupStats,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The id map (raw id, golden raw id, pseudonym), the golden records keyed by pseudonym and golden raw id,
    and the merges of earlier golden ids (pseudonymised); ``stats`` gets the kept golden ids and merges."""
    signup = pd.Series(
        pd.to_datetime(customers["signup_date"]).to_numpy(), index=customers["customer_id"].astype("str")
    )
    clusters, merges = stable_golden_ids(clusters, previous_id_map, signup)
    if previous_id_map is not None:
        kept = pd.Index(clusters.unique()).isin(previous_id_map["golden_raw_id"].astype(str))
        stats.golden_ids_kept, stats.golden_merges = int(kept.sum()), len(merges)
    id_map = pd.DataFrame(
        {
            "raw_customer_id": pd.Series(clusters.index.to_numpy(), dtype="str"),
            "golden_raw_id": pd.Series(clusters.to_numpy(), dtype="str"),
        }
    )
    id_map["customer_id"] = pseudonymise(id_map["golden_raw_id"], key)
    golden = golden_records(customers, clusters).rename(columns={"customer_id": "golden_raw_id"})
    golden.insert(0, "customer_id", pseudonymise(golden["golden_raw_id"], key))
    merges = merges.assign(
        absorbed_customer_id=pseudonymise(merges["absorbed_golden_raw_id"], key),
        surviving_customer_id=pseudonymise(merges["surviving_golden_raw_id"], key),
    )
    return id_map, golden, merges


def _clean_customers(golden: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The clean customers table from the golden records: no raw id, an age band instead of the birth date."""
    out = golden.drop(columns=["golden_raw_id"])
    if "birth_date" in out:
        out["age_band"] = age_band(out["birth_date"], as_of)
    return _finalise_customers(out)


def _rekey_tables(
    validation: ValidationResult, raw_to_pseudonym: pd.Series, customers: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, TableQuality], dict[str, Reconciliation]]:
    """The clean tables (``customers`` as given, the others keyed by pseudonym), the quarantine with the rows
    merging lost, the per-table counts and the reconciliation of the re-keying."""
    tables: dict[str, pd.DataFrame] = {"customers": customers}
    extra_q: dict[str, pd.DataFrame] = {}
    reconciliation: dict[str, Reconciliation] = {}
    for name in TABLE_ORDER[1:]:
        if name in validation.tables:
            tables[name], extra_q[name], reconciliation[name] = _rekey(
                name, validation.tables[name], raw_to_pseudonym, validation.per_table[name].kept_rows
            )
    quarantine = pd.concat(
        [validation.quarantine, *(q for q in extra_q.values() if len(q))], ignore_index=True
    ).astype({"row_number": "int64"})
    per_table = {
        name: _table_report(v, len(tables[name]), extra_q.get(name, empty_quarantine()))
        for name, v in validation.per_table.items()
    }
    return tables, quarantine, per_table, reconciliation


def _hints(
    raw: dict[str, pd.DataFrame], derived: bool, validation: ValidationResult, dedup: DedupStats
) -> list[str]:
    hints = []
    if derived:
        hints.append(
            f"customers: no customers table given; {len(raw['customers']):,} customers derived from orders "
            "(first order as sign-up date)"
        )
    hints.extend(_after_now_hints(validation.per_table))
    if dedup.skipped is not None:
        hints.append(f"de-duplication skipped: {dedup.skipped}")
    if "orders" in validation.per_table and (hint := line_item_hint(validation.per_table["orders"])):
        hints.append(hint)
    return hints


def clean_tables(
    raw: dict[str, pd.DataFrame],
    as_of: pd.Timestamp | str,
    key: bytes,
    params: QualityParams | None = None,
    not_after: pd.Timestamp | str | None = None,
    *,
    previous_id_map: pd.DataFrame | None = None,
    dedup_labels: pd.DataFrame | None = None,
    dedup_work_dir: Path | None = None,
    dedup_backend: Any | None = None,
) -> CleanResult:
    """Validate, quarantine, normalise, de-duplicate and pseudonymise the raw contract tables.

    Parameters
    ----------
    raw : dict[str, DataFrame]
        ``orders`` (required), ``customers`` (optional: derived from orders, first order as sign-up, when
        absent), ``interactions`` and ``campaigns`` (optional), as read from files or by :mod:`custml.sources`.
    as_of : Timestamp or str
        Timestamps after this moment are quarantined as ``future_timestamp``; age bands are computed at it.
    key : bytes
        Pseudonymisation key (see :func:`custml.privacy.load_pseudonym_key`).
    params : QualityParams, optional
    not_after : Timestamp or str, optional
        The current date plus a tolerance (:func:`custml.quality.timeline.wall_clock_ceiling`): later
        timestamps are ``future_timestamp`` even before ``as_of`` (typos such as 2099). None: no check.
    previous_id_map : DataFrame, optional
        The id map of an earlier run: its golden ids are kept (:func:`custml.quality.dedup.stable_golden_ids`);
        merges of two earlier golden records are returned in ``golden_merges``.
    dedup_labels, dedup_work_dir, dedup_backend : optional
        The steward's decisions on pairs (``id_a``, ``id_b``, ``is_match``); a private folder for Splink's
        intermediate tables; another Splink back end (Spark; default DuckDB).

    Returns
    -------
    CleanResult
        Its ``report`` is a :class:`custml.contracts.QualityReport`.

    Raises
    ------
    SchemaError
        If a table is structurally unusable (the message names the table and column).
    ReconciliationError
        If rows were lost: a bug, never a property of the data.

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": ["c1", "c2"], "signup_date": ["2024-01-01", "2024-02-01"],
    ...     "name": ["Ann Lee", "Bo Chen"], "email": ["ANN@x.org", "bad"], "phone": [None, None]})
    >>> orders = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["c1", "c9"],
    ...     "order_ts": ["2024-03-01 10:00:00", "2024-03-02 10:00:00"], "net_amount": [20.0, 5.0]})
    >>> r = clean_tables({"customers": customers, "orders": orders}, "2025-01-01", b"k" * 16)
    >>> len(r.tables["orders"]), r.quarantine["reason"].tolist(), r.report.normalisation["emails_invalid"]
    (1, ['unknown_customer'], 1)
    """
    t0 = time.perf_counter()
    params = params or QualityParams()
    as_of = _as_of(as_of)
    ceiling = _as_of(not_after) if not_after is not None else None
    raw, derived = _with_customers(raw)
    if is_clean_customers(raw["customers"]):
        return _clean_again(raw, as_of, t0, ceiling)

    validation = validate_tables(raw, as_of, not_after=ceiling)
    customers, normalisation = _normalise_customers(validation.tables["customers"], params)
    normalisation.update(_validation_counts(validation))
    clusters, dedup, stats = _deduplicate(customers, params, dedup_labels, dedup_work_dir, dedup_backend)
    id_map, golden, merges = _golden(customers, clusters, previous_id_map, key, stats)
    pseudonyms = id_map.set_index("raw_customer_id")["customer_id"]
    tables, quarantine, per_table, reconciliation = _rekey_tables(
        validation, pseudonyms, _clean_customers(golden, as_of)
    )
    per_table["customers"].derived_from_orders = derived
    report = _report(as_of, "raw", per_table, normalisation, stats, reconciliation, time.perf_counter() - t0)
    report.hints = _hints(raw, derived, validation, stats)
    log.info("clean_tables: %s rows in, %s quarantined", report.rows_in, report.rows_quarantined)
    pairs = dedup.pairs if dedup is not None else pd.DataFrame()
    golden = golden.sort_values("customer_id").reset_index(drop=True)
    return CleanResult(tables, quarantine, id_map, report, pairs, golden, merges, dedup)
