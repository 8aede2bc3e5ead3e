"""The data catalogue: every dataset a step reads or writes, by name, located by :class:`custml.config.ProjectPaths`.

Steps declare their inputs and outputs as these names (:data:`custml.pipeline.steps.STEPS`); the catalogue
says where each one lives (``custml.config`` stays the only module that knows file names) and, for a dataset
not produced in the current run, reads it from there.

Examples
--------
>>> from custml.config import ProjectPaths
>>> cat = Catalogue(ProjectPaths(Path("/p")))
>>> str(cat.location("features", stamp="2025-01-01"))
'/p/data/processed/features_2025-01-01.parquet'
>>> "scores" in DATASETS
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from custml.config import ProjectPaths

__all__ = ["DATASETS", "Catalogue"]

#: Every dataset of the pipeline and what it holds (``models`` is the MLflow registry, not a file).
DATASETS: dict[str, str] = {
    "raw": "raw contract tables (a generated world, an export read through a mapping)",
    "truth": "a synthetic world's ground truth (evaluation only)",
    "clean": "validated, cleaned, de-duplicated, pseudonymised tables, quarantine and quality report",
    "id_map": "pseudonym -> raw id map (private)",
    "features": "point-in-time features of every customer as of a date",
    "segments": "rule-based segments and clusters of every customer",
    "segmentation": "the fitted clusterer and its cluster names, read by scoring",
    "models": "registered churn, repurchase and uplift models (MLflow registry, champion alias)",
    "backtest": "per test month figures and chart of a rolling-origin backtest",
    "scores": "batch scores as of a date with their .meta.json sidecar",
    "contacts": "the contact list of a campaign under a budget",
    "report": "the management report (offline HTML)",
    "monitoring": "model-health tables and verdict",
}


@dataclass(frozen=True)
class Catalogue:
    """Where each dataset of :data:`DATASETS` lives for one project."""

    paths: ProjectPaths

    def location(self, name: str, *, stamp: str | None = None, task: str | None = None) -> Path:
        """The file or folder of dataset ``name`` (``stamp``: the as-of date of dated datasets; ``task``:
        the backtest's task). ``models`` lives in the tracking store (the project's ``mlflow.db`` by default).

        Raises
        ------
        KeyError
            For a name that is not in :data:`DATASETS` (the message names it).
        """
        p = self.paths
        fixed = {
            "raw": p.raw,
            "truth": p.truth,
            "clean": p.interim,
            "id_map": p.id_map,
            "segmentation": p.segmentation,
            "models": p.mlflow_db,
            "monitoring": p.monitoring,
        }
        if name in fixed:
            return fixed[name]
        dated = {
            "features": p.features_table,
            "segments": p.segments_table,
            "scores": p.scores_for,
            "report": p.report_for,
        }
        if name in dated:
            return (
                dated[name](stamp) if stamp is not None else p.scores_table if name == "scores" else p.reports
            )
        if name == "backtest":
            return p.backtest_table(task or "churn")
        if name == "contacts":
            return p.scores
        raise KeyError(f"catalogue: no dataset {name!r} (known: {', '.join(DATASETS)})")
