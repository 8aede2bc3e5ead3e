"""Render :class:`~custml.report.build.ReportData` as one self-contained HTML page (English or Chinese).

The page shell (``templates/report.html.j2``: styles, header, contents, footer) places the sections of
:data:`custml.report.sections.ROOMS` in order; each section's view fills its own template. The page needs
nothing from the network and runs no script: styles are inline, charts are inline SVG drawn by
:mod:`custml.report.plots`, numbers are formatted per language by :class:`custml.report.format.Fmt`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib import rc_context

from custml import __version__
from custml.report import plots
from custml.report.build import ReportData
from custml.report.format import Fmt
from custml.report.i18n import LABELS, LANGUAGES, VALUES
from custml.report.sections import ROOMS

__all__ = ["SECTION_NAMES", "TEMPLATE_NAME", "PlacedRoom", "render_html"]

logger = logging.getLogger(__name__)

TEMPLATE_NAME = "report.html.j2"
#: The names of the report's sections in page order (``render_html(..., sections=...)`` picks among them).
SECTION_NAMES: tuple[str, ...] = tuple(room.name for room in ROOMS)


@functools.cache
def _env() -> Environment:
    """The report's template environment, made once per process (it caches the compiled templates)."""
    return Environment(
        loader=PackageLoader("custml", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class PlacedRoom:
    """A section on this page: its anchor, contents entry (label key or None), template and filled view."""

    anchor: str
    toc: str | None
    template: str
    view: object


def _models_used(data: ReportData) -> str:
    return ", ".join(
        f"{m.name} v{m.version}" if m.version else m.name
        for m in (data.churn_model, data.repurchase_model)
        if m is not None and m.name
    )


def _wanted_sections(sections: Collection[str] | str | None) -> frozenset[str] | None:
    """The section names asked for (a single name may be given as a string), checked; None: all."""
    if sections is None:
        return None
    wanted = frozenset([sections] if isinstance(sections, str) else sections)
    if not wanted:
        raise ValueError("no report section named: pass sections=None for the whole report")
    unknown = sorted(wanted - set(SECTION_NAMES))
    if unknown:
        raise ValueError(f"unknown report section {unknown[0]!r}; choose among {', '.join(SECTION_NAMES)}")
    return wanted


def render_html(data: ReportData, lang: str = "en", sections: Collection[str] | str | None = None) -> str:
    """The management report as one self-contained HTML document.

    Parameters
    ----------
    data : ReportData
        From :func:`custml.report.build_report_data`.
    lang : {"en", "zh"}
        Language of every label, sentence and chart text.
    sections : collection of str, or str, optional
        Only these sections (names of :data:`SECTION_NAMES`, e.g. ``{"headline", "who"}`` or ``"who"``), in page
        order, under the same header; None: the whole report. A section without data is left out either way;
        an empty collection or an unknown name is a one-line error.

    Returns
    -------
    str
        HTML with inline CSS and inline SVG charts; no script, no external resource.

    Examples
    --------
    >>> from custml.report import build_report_data, sample_scores
    >>> html = render_html(build_report_data(*sample_scores(200, seed=0)), lang="zh")
    >>> "客户报告" in html and "<script" not in html
    True
    >>> one = render_html(build_report_data(*sample_scores(200, seed=0)), sections={"headline"})
    >>> 'id="kpis"' in one and 'id="segments"' not in one
    True
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    wanted = _wanted_sections(sections)
    fmt = Fmt(lang, data.currency, LABELS[lang], VALUES[lang])
    if lang == "zh" and not plots.cjk_font_available():
        logger.warning(
            "no CJK font found (install fonts-noto-cjk): Chinese chart labels are sized approximately and the "
            "browser needs its own Chinese font to draw them"
        )
    with rc_context(cast(Any, plots.chart_style())):  # matplotlib types rc keys as literals
        placed = [
            PlacedRoom(room.anchor or room.name, room.toc, room.template, view)
            for room in ROOMS
            if (wanted is None or room.name in wanted) and (view := room.view(data, fmt)) is not None
        ]
    return (
        _env()
        .get_template(TEMPLATE_NAME)
        .render(
            L=fmt.t,
            as_of=fmt.date(data.as_of),
            scored_at=fmt.date(data.scored_at),
            models_used=_models_used(data),
            currency=data.currency,
            version=__version__,
            rooms=placed,
        )
    )
