"""The management report in a real browser: headless Chromium opens the file offline, with no console error,
every chart drawn, and a full-page screenshot saved as a test artefact; ``--pdf`` prints a real PDF.

Screenshots go to pytest's ``tmp_path`` and, when ``$CUSTML_TEST_ARTIFACTS`` is set, are copied there too.
Without Chromium or Playwright these tests skip locally and fail in CI (``CUSTML_REQUIRE_EXTERNAL=1``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import skip_or_fail

from custml.cli import main
from custml.io import write_json, write_table
from custml.report import build_report_data, find_chromium, render_html, sample_previous_scores, sample_scores
from custml.report.pdf import chromium_flags

pytestmark = pytest.mark.browser

ENV_ARTIFACTS = "CUSTML_TEST_ARTIFACTS"
EXPECTED_CHARTS = 11  # with a previous scoring: the ten standing charts plus the movement chart


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    # Playwright adds its own headless/profile switches; keep ours minus those two.
    args = [a for a in chromium_flags(profile) if a != "--headless" and not a.startswith("--user-data-dir")]
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=args)
        try:
            yield b
        finally:
            b.close()


def _save_artifact(path: Path) -> None:
    folder = os.environ.get(ENV_ARTIFACTS)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(folder) / path.name)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_chromium_without_errors(browser, tmp_path: Path, lang: str) -> None:
    scores, meta = sample_scores(1500, seed=21)
    previous = sample_previous_scores(scores, seed=22)
    html_path = tmp_path / f"customer-report-{lang}.html"
    html_path.write_text(render_html(build_report_data(scores, meta, previous), lang=lang), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(html_path.as_uri(), wait_until="load")

    assert errors == []
    assert requests == [html_path.as_uri()]  # nothing fetched besides the file itself
    charts = page.locator("figure.chart svg")
    assert charts.count() == EXPECTED_CHARTS
    for i in range(charts.count()):
        svg = charts.nth(i)
        box = svg.bounding_box()
        name = svg.evaluate("e => e.closest('figure').dataset.chart")
        assert box is not None and box["width"] > 200 and box["height"] > 120, name
        # drawn content: the SVG has painted shapes and text with a real size inside it
        drawn = svg.evaluate(
            "e => { const b = e.getBBox(); return [b.width, b.height, e.querySelectorAll('path, use, image').length,"
            " e.querySelectorAll('text').length]; }"
        )
        assert drawn[0] > 100 and drawn[1] > 80 and drawn[2] >= 1 and drawn[3] > 3, (name, drawn)
        assert svg.is_visible(), name
    # charts fit their slots: none is wider than the page's main column
    main_width = page.locator("main").bounding_box()["width"]
    assert all(charts.nth(i).bounding_box()["width"] <= main_width for i in range(charts.count()))
    # headline numbers are on screen
    assert page.locator(".kpi").count() == 6
    assert page.locator(".kpi .value").first.inner_text().replace(",", "") == "1500"
    if lang == "zh":
        assert page.locator("h1").inner_text() == "客户报告"

    shot = tmp_path / f"report-{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    _save_artifact(shot)
    context.close()


def test_cli_prints_pdf_with_chromium(chromium_path: str, tmp_path: Path) -> None:
    scores, meta = sample_scores(400, seed=3)
    write_table(scores, tmp_path / "scores.parquet")
    write_json(meta, tmp_path / "scores.meta.json")
    out = tmp_path / "customer-report.html"
    assert main(["report", "--scores", str(tmp_path / "scores.parquet"), "--out", str(out), "--pdf"]) == 0
    pdf = out.with_suffix(".pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 3  # a multi-page A4 report
    _save_artifact(pdf)
