"""Print the HTML report to PDF with headless Chromium (no network, throw-away profile)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from custml.errors import CustmlError

__all__ = [
    "CHROMIUM_NAMES",
    "ChromiumNotFoundError",
    "PdfPrintError",
    "chromium_flags",
    "find_chromium",
    "print_pdf",
]

logger = logging.getLogger(__name__)

CHROMIUM_NAMES: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
)


class ChromiumNotFoundError(CustmlError, FileNotFoundError):
    """No Chromium or Chrome executable was found to print the PDF."""


class PdfPrintError(CustmlError, RuntimeError):
    """Chromium ran but did not produce the PDF."""


def find_chromium(names: Sequence[str] = CHROMIUM_NAMES) -> str | None:
    """Path of the first Chromium/Chrome executable on ``PATH``, or None."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_flags(user_data_dir: Path | str) -> list[str]:
    """Flags for a quiet, offline, sandbox-free headless Chromium (also used by the browser tests)."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={user_data_dir}",
    ]


def print_pdf(
    html_path: Path | str, pdf_path: Path | str, *, chromium: str | None = None, timeout: float = 120
) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4, no header/footer) with headless Chromium; return the PDF path.

    Raises
    ------
    ChromiumNotFoundError
        If no Chromium is installed (install the ``chromium`` package, or pass ``chromium=``).
    PdfPrintError
        If Chromium fails, times out, or writes no PDF.
    """
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path).resolve()
    if not html_path.is_file():
        raise PdfPrintError(f"report HTML not found: {html_path}")
    exe = chromium or find_chromium()
    if exe is None:
        raise ChromiumNotFoundError(
            "cannot print the PDF: no Chromium found on PATH (looked for "
            f"{', '.join(CHROMIUM_NAMES)}); install it (e.g. `apt-get install chromium`) or omit --pdf"
        )
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_pdf = pdf_path.with_name(f".{pdf_path.name}.tmp")
    with tempfile.TemporaryDirectory(prefix="custml-chromium-") as profile:
        cmd = [
            exe,
            *chromium_flags(profile),
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp_pdf}",
            html_path.as_uri(),
        ]
        logger.info("printing %s to PDF with %s", html_path, exe)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            tmp_pdf.unlink(missing_ok=True)
            raise PdfPrintError(
                f"Chromium did not finish printing {html_path.name} within {timeout:.0f} s"
            ) from None
    if proc.returncode != 0 or not tmp_pdf.is_file() or tmp_pdf.stat().st_size == 0:
        tmp_pdf.unlink(missing_ok=True)
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        raise PdfPrintError(
            f"Chromium failed to print {html_path.name} (exit {proc.returncode}): {' | '.join(tail)}"
        )
    tmp_pdf.replace(pdf_path)
    return pdf_path
