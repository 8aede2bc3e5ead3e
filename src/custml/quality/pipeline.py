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
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import Field

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
    report : dict
        Counts per table and reason, before/after, normalisation counts, dedup statistics, reconciliation.
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
    report: dict[str, object]
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
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
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
    recon: dict[str, object] = {"rows_before_merge": len(df), "rows_after_merge": len(out)}
    if name == "orders":
        before, after = float(df["net_amount"].sum()), float(out["net_amount"].sum())
        recon.update(net_amount_before_merge=round(before, 2), net_amount_after_merge=round(after, 2))
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


def _table_report(v: TableValidation, rows_out: int, extra_quarantine: pd.DataFrame) -> dict[str, object]:
    counts = v.counts()
    by_reason = dict(cast(Mapping[str, int], counts["quarantined_by_reason"]))
    for reason, n in extra_quarantine["reason"].value_counts().items():
        by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
    n_q = v.rows_quarantined + len(extra_quarantine)
    rows_kept = v.rows_in - n_q
    counts.update(
        rows_quarantined=n_q,
        rows_kept=rows_kept,
        rows_out=rows_out,
        quarantined_by_reason=dict(sorted(by_reason.items())),
    )
    if rows_kept + n_q != v.rows_in:  # pragma: no cover - guarded above, kept as the stated invariant
        raise ReconciliationError(f"{v.table}: rows in != kept + quarantined")
    return counts


def _report(
    as_of: pd.Timestamp,
    mode: str,
    per_table: dict[str, dict[str, object]],
    normalisation: dict[str, int],
    dedup_stats: dict[str, object],
    reconciliation: dict[str, dict[str, object]],
    seconds: float,
) -> dict[str, object]:
    by_reason: dict[str, int] = {}
    for t in per_table.values():
        for r, n in cast(Mapping[str, int], t["quarantined_by_reason"]).items():
            by_reason[r] = by_reason.get(r, 0) + int(n)
    rows_in = sum(int(t["rows_in"]) for t in per_table.values())  # type: ignore[call-overload]
    rows_q = sum(int(t["rows_quarantined"]) for t in per_table.values())  # type: ignore[call-overload]
    return {
        "as_of": as_of.isoformat(),
        "mode": mode,
        "rows_in": rows_in,
        "rows_kept": rows_in - rows_q,
        "rows_quarantined": rows_q,
        "tables": per_table,
        "quarantined_by_table": {k: int(v["rows_quarantined"]) for k, v in per_table.items()},  # type: ignore[call-overload]
        "quarantined_by_reason": {r: by_reason[r] for r in REASONS if r in by_reason},
        "reasons_explained": {r: REASON_EXPLANATIONS[r] for r in REASONS if r in by_reason},
        "duplicates_merged": int(dedup_stats.get("records_merged", 0)),  # type: ignore[call-overload]
        "normalisation": normalisation,
        "dedup": dedup_stats,
        "reconciliation": reconciliation,
        "seconds": round(seconds, 3),
    }


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
    report = _report(
        as_of,
        "already_clean",
        per_table,
        {"timestamps_with_offset_converted": offsets},
        {},
        {},
        time.perf_counter() - t0,
    )
    report["hints"] = _after_now_hints(per)
    return CleanResult(tables, quarantine, _empty_id_map(), report)


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
        absent), ``interactions`` and ``campaigns`` (optional), as read from files or built by
        :func:`custml.sources.read_sources`.
    as_of : Timestamp or str
        Timestamps after this moment are quarantined as ``future_timestamp``; age bands are computed at it.
    key : bytes
        Pseudonymisation key (see :func:`custml.privacy.load_pseudonym_key`).
    params : QualityParams, optional
    not_after : Timestamp or str, optional
        The current date plus a tolerance (:func:`custml.quality.timeline.wall_clock_ceiling`): later
        timestamps are quarantined as ``future_timestamp`` even when ``as_of`` is later still (typos such as
        2099), counted per column (``timestamps_after_now``) and named in the report's hints. None: no check
        (a generated world may lie in the future).
    previous_id_map : DataFrame, optional
        The id map of an earlier run: its golden ids are kept (:func:`custml.quality.dedup.stable_golden_ids`),
        so pseudonyms, features and scores keep their keys; merges of two earlier golden records are returned
        in ``golden_merges``.
    dedup_labels : DataFrame, optional
        The steward's decisions on pairs (``id_a``, ``id_b``, ``is_match``), applied by the matcher.
    dedup_work_dir : Path, optional
        A private folder for Splink's intermediate tables (DuckDB spill files).
    dedup_backend : splink DatabaseAPI, optional
        Another Splink back end (Spark); default DuckDB.

    Returns
    -------
    CleanResult

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
    >>> len(r.tables["orders"]), r.quarantine["reason"].tolist(), r.report["normalisation"]["emails_invalid"]
    (1, ['unknown_customer'], 1)
    """
    t0 = time.perf_counter()
    params = params or QualityParams()
    as_of = _as_of(as_of)
    ceiling = _as_of(not_after) if not_after is not None else None
    derived = False
    if "customers" not in raw:
        if "orders" not in raw:
            raise SchemaError("orders", None, "table is missing (orders is required)")
        raw = {**raw, "customers": customers_from_orders(raw["orders"])}
        derived = True
    if is_clean_customers(raw["customers"]):
        return _clean_again(raw, as_of, t0, ceiling)

    validation = validate_tables(raw, as_of, not_after=ceiling)
    customers, normalisation = _normalise_customers(validation.tables["customers"], params)
    normalisation["timestamps_with_offset_converted"] = sum(
        v.offsets_converted for v in validation.per_table.values()
    )
    normalisation["values_nulled"] = sum(sum(v.nulled.values()) for v in validation.per_table.values())

    identity = [c for c in IDENTITY_COLUMNS if c in customers.columns and customers[c].notna().any()]
    dedup: DedupResult | None = None
    if params.deduplicate and len(customers) > 1 and identity:
        dedup = find_duplicates(
            customers,
            params.dedup,
            work_dir=dedup_work_dir,
            db_api=dedup_backend,
            charts=dedup_work_dir is not None,
            labels=dedup_labels,
        )
        clusters, pairs, dedup_stats = dedup.clusters, dedup.pairs, dedup.stats
        dedup_stats["identity_columns"] = identity
    else:
        ids = customers["customer_id"].astype("str")
        clusters = pd.Series(
            ids.to_numpy(), index=pd.Index(ids.to_numpy(), name="customer_id"), name="golden_id"
        )
        pairs, dedup_stats = pd.DataFrame(), {"records": len(customers), "records_merged": 0}
        if not params.deduplicate:
            dedup_stats["skipped"] = "de-duplication switched off (--no-dedup)"
        elif not identity:
            dedup_stats["skipped"] = (
                "no identity columns with values (name, e-mail, phone, birth date, address): "
                "each customer id is one customer"
            )

    signup = pd.Series(
        pd.to_datetime(customers["signup_date"]).to_numpy(), index=customers["customer_id"].astype("str")
    )
    clusters, merges = stable_golden_ids(clusters, previous_id_map, signup)
    if previous_id_map is not None:
        dedup_stats["golden_ids_kept"] = int(
            pd.Index(clusters.unique()).isin(previous_id_map["golden_raw_id"].astype(str)).sum()
        )
        dedup_stats["golden_merges"] = len(merges)
    golden = golden_records(customers, clusters)
    id_map = pd.DataFrame(
        {
            "raw_customer_id": pd.Series(clusters.index.to_numpy(), dtype="str"),
            "golden_raw_id": pd.Series(clusters.to_numpy(), dtype="str"),
        }
    )
    id_map["customer_id"] = pseudonymise(id_map["golden_raw_id"], key)
    raw_to_pseudonym = id_map.set_index("raw_customer_id")["customer_id"]

    golden_private = golden.rename(columns={"customer_id": "golden_raw_id"})
    golden_private.insert(0, "customer_id", pseudonymise(golden_private["golden_raw_id"], key))
    clean_customers = golden_private.drop(columns=["golden_raw_id"])
    if "birth_date" in clean_customers:
        clean_customers["age_band"] = age_band(clean_customers["birth_date"], as_of)
    tables = {"customers": _finalise_customers(clean_customers)}

    extra_q: dict[str, pd.DataFrame] = {}
    reconciliation: dict[str, dict[str, object]] = {}
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
    report = _report(
        as_of, "raw", per_table, normalisation, dedup_stats, reconciliation, time.perf_counter() - t0
    )
    hints = []
    if derived:
        per_table["customers"]["derived_from_orders"] = True
        hints.append(
            f"customers: no customers table given; {len(raw['customers']):,} customers derived from orders "
            "(first order as sign-up date)"
        )
    hints.extend(_after_now_hints(validation.per_table))
    if "skipped" in dedup_stats:
        hints.append(f"de-duplication skipped: {dedup_stats['skipped']}")
    if "orders" in validation.per_table and (hint := line_item_hint(validation.per_table["orders"])):
        hints.append(hint)
    report["hints"] = hints
    log.info("clean_tables: %s rows in, %s quarantined", report["rows_in"], report["rows_quarantined"])
    merges = merges.assign(
        absorbed_customer_id=pseudonymise(merges["absorbed_golden_raw_id"], key),
        surviving_customer_id=pseudonymise(merges["surviving_golden_raw_id"], key),
    )
    return CleanResult(
        tables=tables,
        quarantine=quarantine,
        id_map=id_map,
        report=report,
        dedup_pairs=pairs,
        golden_customers=golden_private.sort_values("customer_id").reset_index(drop=True),
        golden_merges=merges,
        dedup=dedup,
    )
