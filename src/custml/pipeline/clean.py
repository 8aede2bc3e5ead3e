"""Step ``clean``: raw tables -> ``data/interim`` (validated, de-duplicated, pseudonymised) and ``data/private``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from custml.config import ProjectPaths
from custml.contracts import AfterAsOf, SourceAccounting, SourcesBlock
from custml.errors import CustmlError
from custml.io import atomic_write, read_tables, write_json, write_table
from custml.pipeline._wiring import as_day, future_ceiling, infer_as_of, project_paths
from custml.pipeline.reports import SourcesInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.quality.pipeline import CleanResult

__all__ = [
    "CleanTargets",
    "RAW_OPTIONAL",
    "RAW_REQUIRED",
    "attach_sources",
    "read_clean",
    "read_inputs",
    "read_raw",
    "run_clean",
    "write_dedup_private",
]

RAW_REQUIRED = ("customers", "orders")
RAW_OPTIONAL = ("interactions", "campaigns")


def read_raw(raw_dir: Path | str) -> dict[str, pd.DataFrame]:
    """The raw contract tables of a folder (orders required; customers, interactions and campaigns optional:
    without customers, the quality stage derives them from orders)."""
    return read_tables(raw_dir, ("orders",), ("customers", *RAW_OPTIONAL))


def read_inputs(
    raw_dir: Path | str, mapping: Path | str | None = None
) -> tuple[dict[str, pd.DataFrame], SourcesInfo | None]:
    """The raw tables of ``raw_dir``: contract-named files, or any export read through a source mapping.

    Returns the tables and, with a mapping, what the sources stage reported (:class:`custml.sources.Sources`).
    """
    if mapping is None:
        return read_raw(raw_dir), None
    from custml.sources import read_sources

    sources = read_sources(raw_dir, mapping)
    return sources.tables, SourcesInfo(str(mapping), sources.report, sources.currency, sources.line_counts)


def attach_sources(result: CleanResult, sources: SourcesInfo | None) -> None:
    """Put the sources report into the quality report; check the line items' revenue reached the orders."""
    if sources is None:
        return
    from custml.sources.line_items import source_accounting

    tables = {name: dict(info) for name, info in sources.tables.items()}
    orders_src = tables.get("orders", {})
    if "orders" in sources.line_counts:
        # lines of quarantined orders, so that lines in = lines kept + lines quarantined
        n_lines = sources.line_counts["orders"]
        q = result.quarantine
        rows = q.loc[q["table"] == "orders", "row_number"].to_numpy(dtype="int64")
        orders_src["lines_quarantined"] = quarantined = int(n_lines[rows].sum())
        orders_src["lines_kept"] = int(n_lines.sum()) - quarantined
    result.report.sources = SourcesBlock.model_validate(
        {"mapping": sources.mapping, "tables": tables, "currency": sources.currency}
    )
    # the source's own units beside the contract rows (lines of a line-item export, rows excluded by a filter)
    result.report.source_accounting = {
        name: SourceAccounting.model_validate(source_accounting(info)) for name, info in tables.items()
    }
    orders_rep = result.report.tables.get("orders")
    if "net_amount_lines" in orders_src and orders_rep is not None and orders_rep.net_amount_in is not None:
        lines, orders = float(cast("float", orders_src["net_amount_lines"])), orders_rep.net_amount_in
        if abs(lines - orders) > 0.01:
            from custml.quality.validate import ReconciliationError

            raise ReconciliationError(
                f"orders: lines sum to {lines:,.2f} but the orders built to {orders:,.2f}"
            )


def _count_after_as_of(result: CleanResult, data_end: pd.Timestamp) -> None:
    """An as-of date before the data ends: say how many quarantined rows are only the data's later rows
    (``report.after_as_of``, :func:`custml.scoring.accounting.rows_after_as_of`), which scoring counts apart."""
    from custml.scoring.accounting import AFTER_AS_OF_EXPLAINED, rows_after_as_of

    later = {t: n for t, n in rows_after_as_of(result.quarantine, data_end).items() if n}
    if not later:
        return
    result.report.after_as_of = AfterAsOf(
        data_end=data_end.isoformat(), rows=later, explained=AFTER_AS_OF_EXPLAINED
    )
    counts = ", ".join(f"{t} {n:,}" for t, n in later.items())
    result.report.hints.append(
        f"of the future_timestamp rows, {sum(later.values()):,} are the data's later rows (the data runs to "
        f"{(data_end - pd.Timedelta(days=1)).date()}): {counts}; `custml score` counts them apart, not as quality "
        "losses"
    )


@dataclass(frozen=True)
class CleanTargets:
    """Where the clean step writes: ``out`` (default ``data/interim``) and the private folder (default
    ``data/private``), and whether an earlier id map there keeps its golden ids (``incremental``)."""

    out: Path | None = None
    private_dir: Path | None = None
    incremental: bool = True


def run_clean(
    raw_dir: Path | str | None = None,
    *,
    as_of: Any = None,
    root: Path | str | None = None,
    allow_demo_key: bool = False,
    params: Any = None,
    raw: Mapping[str, pd.DataFrame] | None = None,
    write: bool = True,
    mapping: Path | str | None = None,
    targets: CleanTargets | None = None,
    dedup_backend: Any = None,
) -> CleanResult:
    """Validate, clean, de-duplicate and pseudonymise the raw tables; write interim and private outputs.

    Writes ``<table>.parquet``, ``quarantine.parquet`` and ``quality_report.json`` to ``targets.out`` (default
    ``data/interim``), and the files that link pseudonyms to people (id map, dedup pairs, golden records) to
    ``targets.private_dir`` (default ``data/private``). ``custml clean`` calls it. ``mapping`` (a source mapping YAML,
    :mod:`custml.sources`) reads any export in ``raw_dir`` instead of contract-named files.

    Without a manifest (real data), timestamps after the current date (plus a day) are quarantined as
    ``future_timestamp`` whatever ``as_of`` is, and the default ``as_of`` is inferred from the other orders
    (:func:`custml.pipeline.default_as_of`).

    De-duplication state lives in the private folder: an earlier ``id_map.parquet`` there keeps its golden ids
    (``targets.incremental=False`` starts afresh), the steward's labels CSV is applied, Splink's intermediate tables spill
    to its ``dedup_work`` folder only, and :func:`write_dedup_private` writes the id map's history, the merges
    and the steward's report. ``dedup_backend`` is another Splink back end (``splink.SparkAPI``).
    """
    from custml.privacy import load_pseudonym_key
    from custml.quality import clean_tables

    paths = project_paths(root)
    targets = targets or CleanTargets()
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw
    sources = None
    if raw is not None:
        tables = dict(raw)
    else:
        tables, sources = read_inputs(raw_dir, mapping)
    try:
        inferred, end_note = infer_as_of(raw_dir, tables.get("orders"))
    except CustmlError:
        if as_of is None:
            raise
        inferred, end_note = None, None
    as_of = as_day(as_of) if as_of is not None else inferred
    key = load_pseudonym_key(paths, allow_demo_key=allow_demo_key)
    private = Path(targets.private_dir) if targets.private_dir is not None else paths.private
    previous, labels = _read_dedup_state(private) if targets.incremental else (None, None)
    result = clean_tables(
        tables,
        as_of,
        key,
        params,
        not_after=future_ceiling(raw_dir),
        previous_id_map=previous,
        dedup_labels=labels,
        dedup_work_dir=ProjectPaths.dedup_work_in(private) if write else None,
        dedup_backend=dedup_backend,
    )
    if end_note:
        result.report.hints.append(end_note)
    if inferred is not None and as_of < inferred:
        _count_after_as_of(result, inferred)
    attach_sources(result, sources)
    if write:
        out_dir = Path(targets.out) if targets.out is not None else paths.interim
        for name, table in result.tables.items():
            write_table(table, ProjectPaths.table_in(out_dir, name))
        write_table(result.quarantine, ProjectPaths.quarantine_in(out_dir))
        result.report.write_json(ProjectPaths.quality_report_in(out_dir))
        if result.report.mode == "raw":
            write_table(result.id_map, ProjectPaths.id_map_in(private))
            write_table(result.golden_customers, ProjectPaths.golden_customers_in(private))
            if len(result.dedup_pairs):
                write_table(result.dedup_pairs, ProjectPaths.dedup_pairs_in(private))
            write_dedup_private(result, private, as_of)
    return result


def _read_dedup_state(private: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The previous run's id map and the steward's labels, when the private folder holds them."""
    id_map = ProjectPaths.id_map_in(private)
    labels = ProjectPaths.dedup_labels_in(private)
    previous = pd.read_parquet(id_map) if id_map.is_file() else None
    decisions = pd.read_csv(labels, dtype=str) if labels.is_file() else None
    return previous, decisions


def write_dedup_private(result: CleanResult, private: Path, as_of: Any) -> dict[str, Path]:
    """Write the id map's new version, the merges and the steward's de-dup report into the private folder.

    The id map history gets ``id_map_<n>.parquet`` (one more each run); merges of golden records are appended to
    ``golden_merges.parquet`` with the run's as-of date; the report folder holds the clusters with more than one
    record, the uncertain pairs (fill in ``is_match`` and save them as the labels CSV to feed decisions back),
    Splink's model and its match-weights chart.
    """
    written: dict[str, Path] = {}
    history = ProjectPaths.id_map_history_in(private)
    history.mkdir(parents=True, exist_ok=True)
    version = len(list(history.glob(f"*{ProjectPaths.id_map_version_in(history, 0).suffix}"))) + 1
    written["id_map_version"] = write_table(result.id_map, ProjectPaths.id_map_version_in(history, version))
    merges_path = ProjectPaths.golden_merges_in(private)
    if len(result.golden_merges):
        new = result.golden_merges.assign(as_of=str(as_of), id_map_version=version)
        old = pd.read_parquet(merges_path) if merges_path.is_file() else None
        written["merges"] = write_table(
            pd.concat([old, new], ignore_index=True) if old is not None else new, merges_path
        )
    dedup = result.dedup
    if dedup is None:
        return written
    report = ProjectPaths.dedup_report_in(private)
    ids = result.id_map
    multi = ids[ids.duplicated("golden_raw_id", keep=False)].sort_values(["golden_raw_id", "raw_customer_id"])
    written["clusters"] = write_table(
        multi.reset_index(drop=True), ProjectPaths.dedup_report_file(report, "clusters")
    )
    written["uncertain"] = write_table(
        dedup.uncertain, ProjectPaths.dedup_report_file(report, "uncertain"), csv_copy=True
    )
    written["model"] = write_json(dedup.model, ProjectPaths.dedup_report_file(report, "model"))
    if "match_weights" in dedup.charts:
        chart = ProjectPaths.dedup_report_file(report, "chart")
        written["chart"] = atomic_write(
            chart, lambda tmp: Path(tmp).write_text(dedup.charts["match_weights"], encoding="utf-8")
        )
    return written


def read_clean(root: Path | str | None = None) -> dict[str, pd.DataFrame]:
    """The clean tables of ``data/interim`` (customers and orders required)."""
    return read_tables(project_paths(root).interim, RAW_REQUIRED, RAW_OPTIONAL)
