"""CLI commands of the quality stage: ``custml clean``, ``custml sources infer`` and ``custml privacy scan``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import CleanSettings

if TYPE_CHECKING:
    from rich.console import Console

    from custml.contracts import QualityReport
    from custml.quality import CleanResult

__all__ = ["register"]

sources_app = typer.Typer(
    name="sources",
    help="Bring your own data: propose and check source mappings (YAML) for any export.",
    no_args_is_help=True,
)

privacy_app = typer.Typer(
    name="privacy",
    help="Privacy checks: scan files and folders for personal data.",
    no_args_is_help=True,
)


@settings_command(CleanSettings, "clean")
def clean(s: CleanSettings, layers: Layers) -> None:
    """Validate, quarantine, clean, de-duplicate and pseudonymise the raw tables.

    De-duplication runs Splink on DuckDB. Its steward's report (clusters, uncertain pairs with their values,
    Splink's model and match-weights chart) goes to the private folder's dedup_report/; decisions written to
    dedup_labels.csv there (id_a, id_b, is_match) are applied on the next run.
    """
    from rich.console import Console

    from custml.pipeline import run_step

    ctx = step_context()
    result = cast("CleanResult", run_step("clean", s, ctx))
    report = result.report
    console = Console()
    _print_tables(console, report)
    source_tables = cast("dict[str, dict[str, Any]]", report.sources.tables if report.sources else {})
    for table_name, info in source_tables.items():
        _print_source_notes(console, table_name, info)
    _print_dedup(console, report, source_tables)
    data = s.data or ctx.paths.raw
    truth_file = ctx.paths.truth_table_in(data, "duplicates")
    if report.mode == "raw" and truth_file.is_file() and len(result.id_map):
        _print_dedup_truth(console, result.id_map, truth_file)
    console.print(f"clean tables, quarantine.parquet, quality_report.json -> {s.out or ctx.paths.interim}")
    if report.mode == "raw":
        console.print(
            "id_map.parquet (private: links pseudonyms to raw ids), id map history, de-dup report -> "
            f"{s.private_dir or ctx.paths.private}"
        )
    else:
        console.print("input was already clean: re-validated only (no de-duplication, no new pseudonyms)")


def _print_tables(console: Console, report: QualityReport) -> None:
    """Rows in, kept, quarantined and out per table; quarantine reasons; revenue and line-item accounting."""
    from rich.table import Table

    table = Table(title=f"custml clean (as of {report.as_of})")
    for col in ("table", "rows in", "kept", "quarantined", "rows out"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, t in report.tables.items():
        cells = (t.rows_in, t.rows_kept, t.rows_quarantined, t.rows_out)
        table.add_row(name, *(f"{n:,}" for n in cells))
    console.print(table)
    if report.quarantined_by_reason:
        reasons = Table(title="quarantined rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("what it means")
        for reason, n in report.quarantined_by_reason.items():
            reasons.add_row(reason, f"{n:,}", report.reasons_explained.get(reason, ""))
        console.print(reasons)
    orders_report = report.tables.get("orders")
    if orders_report is not None and orders_report.net_amount_in is not None:
        console.print(
            f"orders revenue: {orders_report.net_amount_in:,.2f} in = {orders_report.net_amount_kept or 0:,.2f} "
            f"kept + {orders_report.net_amount_quarantined or 0:,.2f} quarantined; refunds inferred from a negative "
            f"amount: {orders_report.refunds_inferred_from_sign or 0:,}"
        )
    src = cast("dict[str, Any]", report.sources.tables.get("orders", {}) if report.sources else {})
    if "lines_in" in src:
        console.print(
            f"line items: {src['lines_in']:,} lines -> {src['orders_built']:,} orders "
            f"({src['refund_orders']:,} refunds); lines kept {src.get('lines_kept', 0):,}, quarantined "
            f"{src.get('lines_quarantined', 0):,}; lines' net amount {src['net_amount_lines']:,.2f}"
        )
    for hint in report.hints:
        console.print(f"[yellow]note:[/] {hint}", highlight=False)


def _print_source_notes(console: Console, table_name: str, info: dict[str, Any]) -> None:
    """What the source mapping left out or could not convert in one table."""
    if "rows_excluded" in info:
        console.print(
            f"{table_name}: {info['rows_excluded']:,} rows excluded by the mapping's filter (where: {info['where']})",
            highlight=False,
        )
    notes = []
    if info.get("lines_without_customer"):
        notes.append(
            f"{info['lines_without_customer']:,} of {info['lines_in']:,} lines have no customer id "
            f"({info['net_amount_lines_without_customer']:,.2f} of {info['net_amount_all_lines']:,.2f} net): "
            "their orders are quarantined as null_required"
        )
    if info.get("lines_exact_duplicate"):
        notes.append(
            f"{info['lines_exact_duplicate']:,} lines repeat an earlier line in every column "
            f"({info['net_amount_duplicate_lines']:,.2f} net): {info['duplicate_lines_policy']} (mapping option "
            "`duplicate_lines: keep|drop`)"
        )
    if info.get("numbers_unparseable"):
        notes.append(
            "source numbers that did not convert (nulled, so a required one is quarantined as null_required): "
            f"{info['numbers_unparseable']}; check the mapping's `decimal:` and `thousands:`"
        )
    if info.get("files_empty"):
        notes.append(f"empty files skipped: {info['files_empty']}")
    for note in notes:
        console.print(f"[yellow]note:[/] {table_name}: {note}", highlight=False)


def _print_dedup(console: Console, report: QualityReport, source_tables: dict[str, dict[str, Any]]) -> None:
    """Duplicates merged, normalisation counts and the de-duplication's figures."""
    norm = report.normalisation
    offsets = [info.get("timestamps_with_offset") for info in source_tables.values()]
    n_offsets = norm.get("timestamps_with_offset_converted", 0) + sum(
        sum(o.values()) for o in offsets if isinstance(o, dict)
    )
    console.print(
        f"duplicates merged: {report.duplicates_merged:,}; invalid e-mails nulled: "
        f"{norm.get('emails_invalid', 0):,}; invalid phones nulled: {norm.get('phones_invalid', 0):,}; "
        f"timestamps converted from offsets: {n_offsets:,}"
    )
    dedup = report.dedup
    if dedup is not None and dedup.threshold is not None:
        how = "estimated" if dedup.threshold_estimated else "set"
        console.print(
            f"de-duplication (Splink, {dedup.blocking} blocking): {dedup.scored_pairs or 0:,} pairs scored, "
            f"{dedup.matched_pairs or 0:,} linked at threshold {dedup.threshold:.3f} ({how}), prior "
            f"{dedup.match_prior or 0:.3g}; {dedup.uncertain_pairs or 0:,} uncertain pairs for review; "
            f"{dedup.seconds or 0:.1f} s",
            highlight=False,
        )
    if dedup is not None and dedup.golden_ids_kept is not None:
        console.print(
            f"golden ids kept from the earlier run: {dedup.golden_ids_kept:,}; merges of earlier golden "
            f"records: {dedup.golden_merges or 0:,}",
            highlight=False,
        )


def _print_dedup_truth(console: Console, id_map: Any, truth_file: Path) -> None:
    """Pairwise precision and recall of the de-duplication against a synthetic world's true duplicates."""
    from custml.io import read_table
    from custml.quality import pairwise_precision_recall

    m = pairwise_precision_recall(
        id_map.set_index("raw_customer_id")["golden_raw_id"], read_table(truth_file, "truth/duplicates")
    )
    console.print(
        f"de-duplication against the world's truth: pairwise precision {m['precision']:.4f}, recall "
        f"{m['recall']:.4f}, F1 {m['f1']:.4f} ({m['true_positive_pairs']:,} of {m['true_pairs']:,} true "
        f"pairs found, {m['predicted_pairs']:,} linked)",
        highlight=False,
    )


@privacy_app.command("scan")
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to scan.")],
    customers: Annotated[
        Path | None,
        typer.Option(
            "--customers",
            help="Raw customers table whose names/e-mails/phones to look for (default: data/raw).",
        ),
    ] = None,
    generic: Annotated[
        bool, typer.Option("--generic/--no-generic", help="Also flag generic e-mail/phone patterns.")
    ] = True,
) -> None:
    """Look for personal data in files and folders; exit 1 with counts if any is found."""
    from rich.console import Console
    from rich.table import Table

    from custml.config import get_paths
    from custml.io import find_table_file, read_table
    from custml.privacy import scan_for_pii

    console = Console()
    if customers is None:
        customers = find_table_file(get_paths().raw, "customers")
        if customers is None:
            console.print("no raw customers table found: scanning for generic e-mail/phone patterns only")
    customers_raw = read_table(customers, "customers") if customers is not None else None
    result = scan_for_pii(paths, customers_raw, generic=generic)
    if not result.found:
        console.print(f"no personal data found in {result.files_scanned:,} files")
        return
    table = Table(title="personal data found")
    for col in ("file", "kind", "count"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for row in result.findings.sort_values(["file", "kind"]).itertuples(index=False):
        table.add_row(str(row.file), str(row.kind), f"{row.count:,}")
    console.print(table)
    console.print(result.summary())
    raise typer.Exit(code=1)


@sources_app.command("infer")
def infer(
    file: Annotated[
        Path,
        typer.Argument(
            help="An export file (CSV, TSV, whitespace-separated text, parquet, .xlsx), or a folder of related files."
        ),
    ],
    rows: Annotated[int, typer.Option("--rows", min=10, help="Rows read to infer the mapping.")] = 20_000,
    table: Annotated[
        str, typer.Option("--table", help="The contract table FILE holds: orders, customers or interactions.")
    ] = "orders",
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet", help="Excel workbook: the sheet, by name or 0-based position (default: first)."
        ),
    ] = None,
) -> None:
    """Propose a source mapping for FILE (orders, or --table customers) and print it as YAML: check it, save
    it, use --mapping (a customers section goes beside the orders one in the same file). FILE may be a folder
    of related files (orders, customers, payments, items, reviews): the proposal joins them."""
    from custml.sources import infer_folder, infer_mapping, mapping_yaml

    if file.is_dir():
        typer.echo(mapping_yaml(infer_folder(file, n_rows=rows)), nl=False)
        return
    which: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    typer.echo(mapping_yaml(infer_mapping(file, n_rows=rows, table=table, sheet=which)), nl=False)


@sources_app.command("check")
def check(
    mapping: Annotated[Path, typer.Argument(help="Source mapping (YAML).")],
    data: Annotated[
        Path, typer.Option("--data", help="Folder the mapping's files are relative to.")
    ] = Path(),
) -> None:
    """Read the files through MAPPING and print what came in (rows, line items, values that did not convert)."""
    from rich.console import Console

    from custml.sources import read_sources

    sources = read_sources(data, mapping)
    console = Console()
    for name, info in sources.report.items():
        line = f"{name}: {info['rows_read']:,} rows read -> {len(sources.tables[name]):,} rows"
        if "lines_in" in info:
            line += f" (line items: {info['orders_built']:,} orders, {info['refund_orders']:,} refunds)"
        table = sources.tables[name]
        if "net_amount" in table:
            # to compare with the source system's own total before cleaning
            line += (
                f"; net amount {float(table['net_amount'].sum()):,.2f} {info.get('currency') or ''}".rstrip()
            )
        if "rows_excluded" in info:
            line += f"; {info['rows_excluded']:,} rows excluded by the filter (where: {info['where']})"
        if info.get("lines_without_customer"):
            line += (
                f"; {info['lines_without_customer']:,} lines without a customer id "
                f"({info['net_amount_lines_without_customer']:,.2f} net)"
            )
        if info.get("lines_exact_duplicate"):
            line += f"; {info['lines_exact_duplicate']:,} exact duplicate lines ({info['duplicate_lines_policy']})"
        for part in ("joins", "aggregates"):
            for entry in info.get(part, []):  # type: ignore[attr-defined]
                if entry["rows_without_match"]:
                    line += f"; {entry['rows_without_match']:,} rows found nothing in {entry['file']}"
        if "numbers_unparseable" in info:
            line += f"; numbers that did not convert (null): {info['numbers_unparseable']}"
        if "timestamps_with_offset" in info:
            line += f"; timestamps with a UTC offset (converted): {info['timestamps_with_offset']}"
        if "ids_written_as_float" in info:
            line += f"; ids written as floats ('17850.0' read as '17850'): {info['ids_written_as_float']}"
        if "files_empty" in info:
            line += f"; empty files skipped: {len(info['files_empty'])}"  # type: ignore[arg-type]
        console.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``clean``, ``sources infer|check`` and ``privacy scan`` to ``app``."""
    app.command("clean")(clean)
    app.add_typer(sources_app, name="sources")
    app.add_typer(privacy_app, name="privacy")
