"""Paths and settings: the one module that knows the project's folder layout and environment variables.

Everything else asks this module where things live. The layout follows cookiecutter-data-science::

    <root>/data/raw -> data/interim -> data/processed -> data/scores (-> data/monitoring)
    <root>/models, <root>/reports, <root>/mlflow.db, <root>/mlartifacts

The root is ``$CUSTML_HOME`` if set, otherwise the nearest folder above the working directory holding a
``pyproject.toml`` that names custml, otherwise the working directory.

File names inside a data folder (``manifest.json``, ``truth/<name>.parquet``, ``id_map.parquet``) are spelled
here too: :class:`ProjectPaths` has a property for each file of the project layout, and static methods
(``manifest_in``, ``truth_in``, ``truth_table_in``) for the same names inside any folder a world was written to.
Public reference data (CDNOW) is looked for in ``$CUSTML_SHARED_DIR``, then in ``shared/`` beside the project
root (:attr:`ProjectPaths.shared`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from custml.errors import ConfigError

__all__ = [
    "ENV_HOME",
    "ENV_PSEUDONYM_KEY",
    "ENV_PSEUDONYM_KEY_FILE",
    "ENV_REQUIRE_EXTERNAL",
    "ENV_SHARED_DIR",
    "ENV_TRACKING_URI",
    "ProjectPaths",
    "find_project_root",
    "get_paths",
    "load_params",
    "read_yaml",
    "require_external_tools",
    "tracking_uri",
    "validate_params",
]

ENV_HOME = "CUSTML_HOME"
ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_PSEUDONYM_KEY = "CUSTML_PSEUDONYM_KEY"
ENV_PSEUDONYM_KEY_FILE = "CUSTML_PSEUDONYM_KEY_FILE"
# Set by CI so tests needing Java/Spark, Chromium or an mlflow server fail instead of skipping.
ENV_REQUIRE_EXTERNAL = "CUSTML_REQUIRE_EXTERNAL"
# Where public reference data (CDNOW) lives when not in shared/ beside the project root.
ENV_SHARED_DIR = "CUSTML_SHARED_DIR"

# File names inside a data folder (raw, interim, private); ProjectPaths joins them onto folders.
MANIFEST_FILE = "manifest.json"
TRUTH_DIR = "truth"
ID_MAP_FILE = "id_map.parquet"

P = TypeVar("P", bound=BaseModel)


def find_project_root(start: Path | None = None) -> Path:
    """Return the custml project root (see module docstring)."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and 'name = "custml"' in pyproject.read_text(
            encoding="utf-8", errors="ignore"
        ):
            return folder
    return here


@dataclass(frozen=True)
class ProjectPaths:
    """Where every layer of data, model and report lives, relative to one root."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        """Immutable input tables (the synthetic world is written here)."""
        return self.data / "raw"

    @property
    def interim(self) -> Path:
        """Validated, cleaned, de-duplicated, pseudonymised tables, quarantine and quality report."""
        return self.data / "interim"

    @property
    def processed(self) -> Path:
        """Feature and label tables."""
        return self.data / "processed"

    @property
    def scores(self) -> Path:
        return self.data / "scores"

    @property
    def monitoring(self) -> Path:
        """Model-health tables written by ``custml monitor`` (aggregates only, no customer rows)."""
        return self.data / "monitoring"

    @property
    def private(self) -> Path:
        """Files that link pseudonyms to people (id maps, local demo key); never read by modelling code."""
        return self.data / "private"

    @property
    def truth(self) -> Path:
        """Ground truth of a synthetic world written to :attr:`raw` (read by evaluation code and tests only)."""
        return self.truth_in(self.raw)

    @property
    def raw_manifest(self) -> Path:
        """The manifest of the world (or export) in :attr:`raw`."""
        return self.manifest_in(self.raw)

    @property
    def id_map(self) -> Path:
        """Pseudonym -> raw id map written by ``custml clean`` (private)."""
        return self.private / ID_MAP_FILE

    @property
    def scores_table(self) -> Path:
        """The latest batch scores (``custml score`` writes it; ``custml report`` reads it)."""
        return self.scores / "scores.parquet"

    @property
    def customer_report(self) -> Path:
        """Default output of ``custml report``."""
        return self.reports / "customer-report.html"

    @property
    def shared(self) -> Path:
        """``shared/`` beside the project root: public reference data such as CDNOW (``shared/data/cdnow``)."""
        return self.root.parent / "shared"

    @staticmethod
    def manifest_in(folder: Path | str) -> Path:
        """The manifest file of a data folder (a written world or an export)."""
        return Path(folder) / MANIFEST_FILE

    @staticmethod
    def truth_in(world_dir: Path | str) -> Path:
        """The ground-truth folder of a world written to ``world_dir``."""
        return Path(world_dir) / TRUTH_DIR

    @staticmethod
    def truth_table_in(world_dir: Path | str, name: str) -> Path:
        """``truth/<name>.parquet`` of a world written to ``world_dir``."""
        return Path(world_dir) / TRUTH_DIR / f"{name}.parquet"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def drift_references(self) -> Path:
        """Local copies of each training run's drift reference, ``<run_id>.json`` (the run logs the original)."""
        return self.models / "drift_reference"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def mlartifacts(self) -> Path:
        return self.root / "mlartifacts"

    def ensure(self) -> ProjectPaths:
        """Create the data, model and report folders; return self."""
        for p in (
            self.raw,
            self.interim,
            self.processed,
            self.scores,
            self.private,
            self.models,
            self.reports,
        ):
            p.mkdir(parents=True, exist_ok=True)
        return self


def get_paths(root: Path | str | None = None) -> ProjectPaths:
    """Paths for ``root`` (default: :func:`find_project_root`)."""
    return ProjectPaths(Path(root).resolve() if root is not None else find_project_root())


def tracking_uri(paths: ProjectPaths | None = None) -> str:
    """MLflow tracking URI: ``$MLFLOW_TRACKING_URI`` if set, else SQLite in the project root (never the file store)."""
    env = os.environ.get(ENV_TRACKING_URI)
    if env:
        return env
    paths = paths or get_paths()
    return f"sqlite:///{paths.mlflow_db}"


def require_external_tools() -> bool:
    """True when tests needing external tools (Java, Chromium, mlflow server) must fail rather than skip."""
    return os.environ.get(ENV_REQUIRE_EXTERNAL, "").lower() in {"1", "true", "yes"}


def read_yaml(path: Path | str) -> Any:
    """Parse a YAML file (an empty file gives ``{}``).

    Raises
    ------
    ConfigError
        If the file is missing or is not YAML.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def validate_params(raw: Any, model: type[P], source: Path | str) -> P:
    """Validate ``raw`` into ``model``; a :class:`ConfigError` names ``source`` and every bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_params(path: Path | str, model: type[P], section: str | None = None) -> P:
    """Load typed parameters from a YAML file (optionally one top-level ``section`` of it).

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or does not match ``model`` (the message names the field).
    """
    raw = read_yaml(path)
    if section is not None:
        raw = raw.get(section, {}) or {}
    return validate_params(raw, model, path)
