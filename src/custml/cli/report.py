"""CLI command of the report stage: ``custml report`` turns a scores table into the management report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["meta_path_for", "register"]


def meta_path_for(scores: Path) -> list[Path]:
    """Where the scores' sidecar meta may be: ``scores.meta.json`` then ``scores.parquet.meta.json``."""
    from custml.config import SIDECAR_SUFFIXES, ProjectPaths

    return [ProjectPaths.sidecar(scores), scores.with_name(scores.name + SIDECAR_SUFFIXES["meta"])]


def register(app: typer.Typer) -> None:
    """Add ``custml report`` to ``app``."""

    @app.command()
    def report(
        scores: Annotated[
            Path | None,
            typer.Option(
                "--scores", help="Scores table (parquet or CSV) (default: data/scores/scores.parquet)."
            ),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="HTML file to write (default: reports/customer-report.html)."),
        ] = None,
        previous: Annotated[
            Path | None,
            typer.Option("--previous", help="Previous scores table, to show what changed since then."),
        ] = None,
        pdf: Annotated[
            bool, typer.Option("--pdf", help="Also print a PDF beside the HTML (needs Chromium).")
        ] = False,
        lang: Annotated[str, typer.Option("--lang", help="Language of the report: en or zh.")] = "en",
    ) -> None:
        """Write the management report (one offline HTML file; optionally a PDF) from a scores table."""
        from rich.console import Console

        from custml.config import get_paths
        from custml.errors import DataFileError
        from custml.io import atomic_write, read_json, read_table
        from custml.report import build_report_data, print_pdf, render_html
        from custml.report.i18n import LANGUAGES

        if lang not in LANGUAGES:
            raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")
        paths = get_paths()
        scores = scores or paths.scores_table
        out = out or paths.customer_report
        table = read_table(scores, "scores")
        meta_file = next((p for p in meta_path_for(scores) if p.is_file()), None)
        if meta_file is None:
            raise DataFileError(
                f"scores: no meta file beside {scores} (looked for "
                f"{', '.join(p.name for p in meta_path_for(scores))}); it is written by `custml score`"
            )
        meta = read_json(meta_file)
        prev = read_table(previous, "previous scores") if previous is not None else None
        html = render_html(build_report_data(table, meta, prev), lang=lang)
        atomic_write(out, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
        console = Console()
        console.print(f"report written: {out}", highlight=False)
        if pdf:
            pdf_path = print_pdf(out, out.with_suffix(".pdf"))
            console.print(f"PDF written: {pdf_path}", highlight=False)
