"""The management report: figures and findings from a scores table, rendered as one offline HTML page (or PDF).

Reads scores and their meta (contracts section 7), never models. The report is a list of sections
(:mod:`custml.report.sections`), each owning its numbers, its words (en, zh) and its HTML template;
``build_report_data`` computes every section's content, ``render_html`` writes it in English or Chinese (the
whole report, or the sections named in ``SECTION_NAMES`` that one asks for), ``print_pdf`` prints the HTML with headless Chromium.
"""

from __future__ import annotations

from custml.report.build import ReportData, ReportParams, build_report_data
from custml.report.pdf import ChromiumNotFoundError, find_chromium, print_pdf
from custml.report.render import SECTION_NAMES, render_html
from custml.report.sample import sample_previous_scores, sample_scores
from custml.report.scores_table import compute_kpis
from custml.report.sections.health import ModelHealth, model_health

__all__ = [
    "SECTION_NAMES",
    "ChromiumNotFoundError",
    "ModelHealth",
    "ReportData",
    "ReportParams",
    "build_report_data",
    "compute_kpis",
    "find_chromium",
    "model_health",
    "print_pdf",
    "render_html",
    "sample_previous_scores",
    "sample_scores",
]
