"""Step ``report``: the management report of a scores file -> ``reports/report_<as_of>.html``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custml.config import ProjectPaths
from custml.errors import DataFileError
from custml.io import atomic_write, read_table
from custml.pipeline._wiring import find_scores_meta, project_paths

__all__ = ["run_report"]


def run_report(
    scores: Path | str,
    *,
    out: Path | str | None = None,
    previous: Path | str | None = None,
    lang: str = "en",
    root: Path | str | None = None,
    health: Any = None,
) -> Path:
    """Render the management report of a scores file and its ``.meta.json`` (required) to ``reports/``; return
    the path.

    ``health`` (a :class:`custml.monitoring.MonitoringTables` from :func:`run_monitor`) adds the Model health
    section.
    """
    from custml.contracts import ScoreMeta
    from custml.report import build_report_data, model_health, render_html

    paths = project_paths(root)
    scores = Path(scores)
    frame = read_table(scores, "scores")
    meta_path = find_scores_meta(scores)
    if meta_path is None:
        candidates = ProjectPaths.meta_candidates(scores)
        raise DataFileError(
            f"scores: no meta file beside {scores} (looked for {', '.join(p.name for p in candidates)}); it is "
            "written by `custml score`"
        )
    meta = ScoreMeta.read_json(meta_path)
    prev = read_table(previous, "previous scores") if previous is not None else None
    section = model_health(health.health, health.verdict, health.reasons) if health is not None else None
    data = build_report_data(frame, meta, prev, health=section)
    html = render_html(data, lang=lang)
    suffix = scores.stem.removeprefix("scores_")
    target = Path(out) if out is not None else paths.report_for(suffix)
    atomic_write(target, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    return target
