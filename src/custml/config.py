"""Paths and settings: the one module that knows the project's folder layout and environment variables.

Everything else asks this module where things live. The layout follows cookiecutter-data-science::

    <root>/data/raw -> data/interim -> data/processed -> data/scores (-> data/monitoring)
    <root>/models, <root>/reports, <root>/mlflow.db, <root>/mlartifacts

The root is ``$CUSTML_HOME`` if set, otherwise the nearest folder above the working directory holding a
``pyproject.toml`` that names custml, otherwise the working directory.

Every file name of the layout is spelled here and nowhere else (``tests/test_architecture.py`` checks it):
:class:`ProjectPaths` has a property or method for each file of the project layout (``features_table``,
``segments_table``, ``scores_for``, ``segmentation``, ``report_for``...), and static methods (``table_in``,
``manifest_in``, ``truth_in``, ``quarantine_in``, ``sidecar``...) for the same names inside any folder a world,
an export or a step's output was written to.

Step settings are layered (:func:`load_settings`): the defaults of each settings class, then the step's section
of the project parameters file (``conf/parameters.yaml``, :attr:`ProjectPaths.parameters`), then the same
section of an experiment file, then command-line values (``--set section.key=value``).

Experiment configs are looked for in ``$CUSTML_EXPERIMENTS_DIR`` (one folder, or several joined with
``os.pathsep``), then in the project's ``experiments/`` (:func:`experiment_dirs`).
Public reference data (CDNOW) is looked for in ``$CUSTML_SHARED_DIR``, then in ``shared/`` beside the project
root (:attr:`ProjectPaths.shared`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from custml.errors import ConfigError
from custml.settings import Settings
from custml.types import JSONObject, JSONValue

__all__ = [
    "DriftThresholds",
    "ENV_EXPERIMENTS_DIR",
    "ENV_HOME",
    "ENV_PSEUDONYM_KEY",
    "ENV_PSEUDONYM_KEY_FILE",
    "ENV_REQUIRE_EXTERNAL",
    "ENV_SHARED_DIR",
    "ENV_TRACKING_URI",
    "ProjectPaths",
    "experiment_dirs",
    "find_project_root",
    "get_paths",
    "load_params",
    "load_settings",
    "parse_overrides",
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
# Folders of experiment configs read before the project's experiments/ (os.pathsep-separated), e.g. the
# checkout's experiments/ when notebooks or tests run with CUSTML_HOME in a temporary folder.
ENV_EXPERIMENTS_DIR = "CUSTML_EXPERIMENTS_DIR"

# File names inside a data folder (raw, interim, private); ProjectPaths joins them onto folders.
MANIFEST_FILE = "manifest.json"
TRUTH_DIR = "truth"
ID_MAP_FILE = "id_map.parquet"
TABLE_SUFFIX = ".parquet"
QUARANTINE_FILE = "quarantine.parquet"
QUALITY_REPORT_FILE = "quality_report.json"
GOLDEN_CUSTOMERS_FILE = "customers_golden.parquet"
DEDUP_PAIRS_FILE = "dedup_pairs.parquet"
# The steward's view of de-duplication and the id map's history, all in the private folder (personal data).
DEDUP_WORK_DIR = "dedup_work"  # DuckDB spill files of Splink's tables
DEDUP_REPORT_DIR = "dedup_report"
DEDUP_UNCERTAIN_FILE = "uncertain_pairs.parquet"
DEDUP_CLUSTERS_FILE = "clusters.parquet"
DEDUP_MODEL_FILE = "splink_model.json"
DEDUP_CHART_FILE = "match_weights.html"
DEDUP_LABELS_FILE = "dedup_labels.csv"
ID_MAP_HISTORY_DIR = "id_map_history"
GOLDEN_MERGES_FILE = "golden_merges.parquet"
VERDICT_FILE = "verdict.json"
SEGMENTATION_FILE = "segmentation.joblib"
SCORES_GLOB = "scores_*.parquet"
# The as-of stamp of a dated scores file: a day, or a day and a time (sorted by name, the latest is last).
_SCORES_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{6})?")
PARAMETERS_FILE = "conf/parameters.yaml"
# Files written beside a table, named after it: ``scores_<as_of>.meta.json``, ``segments.profiles.csv``...
SIDECAR_SUFFIXES = {"meta": ".meta.json", "profiles": ".profiles.csv", "k_curve": ".k_curve.csv"}

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
        """The latest batch scores, what ``custml report`` and ``custml campaign`` read by default: the dated
        ``scores_<as_of>.parquet`` (as ``custml score`` writes them) with the latest as-of date, ignoring files
        named otherwise (``scores_shifted.parquet``); ``scores.parquet`` when nothing is scored yet (a missing file
        is then an error that names it)."""
        dated = [
            p for p in self.scores_files_in(self.scores) if _SCORES_STAMP.fullmatch(p.stem[len("scores_") :])
        ]
        return dated[-1] if dated else self.scores / "scores.parquet"

    def scores_for(self, stamp: str) -> Path:
        """Batch scores as of a date: ``data/scores/scores_<stamp>.parquet``."""
        return self.scores / f"scores_{stamp}.parquet"

    def features_table(self, stamp: str) -> Path:
        """Features as of a date: ``data/processed/features_<stamp>.parquet``."""
        return self.processed / f"features_{stamp}.parquet"

    def segments_table(self, stamp: str) -> Path:
        """Segments as of a date: ``data/processed/segments_<stamp>.parquet``."""
        return self.processed / f"segments_{stamp}.parquet"

    @property
    def segmentation(self) -> Path:
        """The fitted clusterer saved by the segment step and read by scoring."""
        return self.models / SEGMENTATION_FILE

    def report_for(self, label: str) -> Path:
        """Default output of ``custml report`` for a scores file: ``reports/report_<label>.html``."""
        return self.reports / f"report_{label}.html"

    @property
    def customer_report(self) -> Path:
        """Default output of ``custml report``."""
        return self.reports / "customer-report.html"

    def snapshot_quarantine(self, source: str) -> Path:
        """Rows of a snapshot table that ``custml train --table`` left out, with the reason:
        ``data/interim/quarantine_snapshot_<source stem>.parquet`` (raw rows: kept beside the other quarantine)."""
        return self.interim / f"quarantine_snapshot_{Path(source).stem}.parquet"

    def backtest_table(self, task: str) -> Path:
        """Per test month and scorer figures of ``custml backtest TASK``: ``reports/backtest_<task>.csv``."""
        return self.reports / f"backtest_{task}.csv"

    def backtest_figure(self, task: str) -> Path:
        """The ECE and base-rate chart of ``custml backtest TASK``: ``reports/backtest_<task>.png``."""
        return self.reports / f"backtest_{task}.png"

    @property
    def shared(self) -> Path:
        """``shared/`` beside the project root: public reference data such as CDNOW (``shared/data/cdnow``)."""
        return self.root.parent / "shared"

    @staticmethod
    def table_in(folder: Path | str, name: str) -> Path:
        """The parquet file of table ``name`` in a data folder: ``<folder>/<name>.parquet``."""
        return Path(folder) / f"{name}{TABLE_SUFFIX}"

    @staticmethod
    def tables_in(folder: Path | str) -> list[Path]:
        """Every parquet table of a folder, sorted by name."""
        return sorted(Path(folder).glob(f"*{TABLE_SUFFIX}"))

    @staticmethod
    def scores_files_in(folder: Path | str) -> list[Path]:
        """The dated scores files (``scores_*.parquet``) of a folder, sorted by name (so by date)."""
        return sorted(Path(folder).glob(SCORES_GLOB))

    @staticmethod
    def quarantine_in(folder: Path | str) -> Path:
        """Rows set aside by ``custml clean`` in its output folder."""
        return Path(folder) / QUARANTINE_FILE

    @staticmethod
    def quality_report_in(folder: Path | str) -> Path:
        """The quality report written by ``custml clean`` in its output folder."""
        return Path(folder) / QUALITY_REPORT_FILE

    @staticmethod
    def id_map_in(folder: Path | str) -> Path:
        """The pseudonym -> raw id map in a private folder."""
        return Path(folder) / ID_MAP_FILE

    @staticmethod
    def golden_customers_in(folder: Path | str) -> Path:
        """The de-duplicated customer records (with PII) in a private folder."""
        return Path(folder) / GOLDEN_CUSTOMERS_FILE

    @staticmethod
    def dedup_pairs_in(folder: Path | str) -> Path:
        """The pairs of raw records found to be one person, in a private folder."""
        return Path(folder) / DEDUP_PAIRS_FILE

    @staticmethod
    def dedup_work_in(folder: Path | str) -> Path:
        """The folder for Splink's intermediate tables (DuckDB spill files), in a private folder."""
        return Path(folder) / DEDUP_WORK_DIR

    @staticmethod
    def dedup_report_in(folder: Path | str) -> Path:
        """The steward's de-dup report folder (clusters, uncertain pairs, Splink model and chart), private."""
        return Path(folder) / DEDUP_REPORT_DIR

    @staticmethod
    def dedup_report_file(folder: Path | str, kind: str) -> Path:
        """One file of the de-dup report folder ``folder``: ``uncertain``, ``clusters``, ``model`` or ``chart``."""
        names = {
            "uncertain": DEDUP_UNCERTAIN_FILE,
            "clusters": DEDUP_CLUSTERS_FILE,
            "model": DEDUP_MODEL_FILE,
            "chart": DEDUP_CHART_FILE,
        }
        return Path(folder) / names[kind]

    @staticmethod
    def dedup_labels_in(folder: Path | str) -> Path:
        """The steward's decisions on pairs (``id_a``, ``id_b``, ``is_match``) in a private folder."""
        return Path(folder) / DEDUP_LABELS_FILE

    @staticmethod
    def id_map_history_in(folder: Path | str) -> Path:
        """Earlier versions of the id map (``id_map_<n>.parquet``), in a private folder."""
        return Path(folder) / ID_MAP_HISTORY_DIR

    @staticmethod
    def id_map_version_in(folder: Path | str, version: int) -> Path:
        """Version ``version`` of the id map in the history folder ``folder``."""
        return Path(folder) / f"id_map_{version:04d}{TABLE_SUFFIX}"

    @staticmethod
    def golden_merges_in(folder: Path | str) -> Path:
        """Every merge of two golden records across runs (both ids, when), in a private folder."""
        return Path(folder) / GOLDEN_MERGES_FILE

    @staticmethod
    def verdict_in(folder: Path | str) -> Path:
        """The monitoring verdict written by ``custml monitor`` in its output folder."""
        return Path(folder) / VERDICT_FILE

    @staticmethod
    def drift_reference_in(folder: Path | str, run_id: str) -> Path:
        """Local copy of a training run's drift reference: ``<folder>/<run_id>.json``."""
        return Path(folder) / f"{run_id}.json"

    @staticmethod
    def sidecar(table: Path | str, kind: str = "meta") -> Path:
        """A file written beside ``table`` and named after it: ``kind`` is one of :data:`SIDECAR_SUFFIXES`
        (``meta``: ``scores_<as_of>.meta.json``; ``profiles`` and ``k_curve``: segmentation side tables)."""
        return Path(table).with_suffix(SIDECAR_SUFFIXES[kind])

    @staticmethod
    def meta_candidates(scores: Path | str) -> list[Path]:
        """Where the ``.meta.json`` of a scores file may be: ``scores.meta.json``, then ``scores.parquet.meta.json``
        (a sidecar named after the full file name, as other tools write it)."""
        scores = Path(scores)
        return [ProjectPaths.sidecar(scores), scores.with_name(scores.name + SIDECAR_SUFFIXES["meta"])]

    @staticmethod
    def contacts_for(scores: Path | str) -> Path:
        """Default contact list of ``custml campaign`` for a scores file: ``contacts_<as_of>.csv`` beside it."""
        scores = Path(scores)
        return scores.with_name(f"contacts_{scores.stem.removeprefix('scores_')}.csv")

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
    def parameters(self) -> Path:
        """The project parameters file: one section of settings per step (:func:`load_settings`)."""
        return self.root / PARAMETERS_FILE

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


def experiment_dirs(paths: ProjectPaths | None = None) -> list[Path]:
    """Folders searched for experiment configs, in order: each folder of ``$CUSTML_EXPERIMENTS_DIR``
    (``os.pathsep``-separated), then the project's ``experiments/`` (:attr:`ProjectPaths.experiments`).

    The setting lets notebooks and tests run with ``CUSTML_HOME`` in a temporary folder read the committed
    configs of a checkout (``tests/conftest.py`` sets it); nothing is looked for outside these folders.
    """
    paths = paths or get_paths()
    env = os.environ.get(ENV_EXPERIMENTS_DIR, "")
    dirs = [Path(p).expanduser().resolve() for p in env.split(os.pathsep) if p.strip()]
    return list(dict.fromkeys([*dirs, paths.experiments]))


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


def _problem(error: Mapping[str, Any], section: str | None) -> str:
    loc = ".".join(str(part) for part in (section, *error["loc"]) if part is not None and part != "")
    return f"{loc}: {error['msg']}" if loc else str(error["msg"])


def validate_params(raw: Any, model: type[P], source: Path | str, section: str | None = None) -> P:
    """Validate ``raw`` into ``model``; a one-line :class:`ConfigError` names ``source``, the section and the key.

    Examples
    --------
    >>> validate_params({"warn": 0.1, "drfit": 1}, DriftThresholds, "p.yaml", "score")
    Traceback (most recent call last):
    ...
    custml.errors.ConfigError: p.yaml: score.drfit: Extra inputs are not permitted
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(e, section) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_params(path: Path | str, model: type[P], section: str | None = None) -> P:
    """Load typed parameters from one YAML file (optionally one top-level ``section`` of it).

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or does not match ``model`` (the message names the field).
    """
    return validate_params(_section(path, section), model, path, section)


def _section(path: Path | str, section: str | None) -> JSONObject:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    part = raw if section is None else (raw.get(section) or {})
    if not isinstance(part, dict):
        raise ConfigError(f"{path}: {section}: expected a mapping of settings, got {type(part).__name__}")
    return part


#: Top-level keys that mark a sectioned file (a step's section, or an experiment config's fields).
SECTION_KEYS = frozenset(
    ("generate", "clean", "features", "segment", "train", "uplift", "backtest", "score", "campaign")
    + ("report", "monitor", "demo", "kind", "world", "data")
)


def _experiment_section(path: Path | str, section: str) -> JSONObject:
    """An experiment file's ``section``; a file without section keys holds one step's settings at the top."""
    raw = _section(path, None)
    if section in raw or SECTION_KEYS & set(raw):
        return _section(path, section)
    return raw


def _merge(base: JSONObject, layer: Mapping[str, object]) -> JSONObject:
    merged = dict(base)
    for key, value in layer.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, dict):
            merged[key] = _merge(below, value)
        else:
            merged[key] = cast("JSONValue", value)  # YAML or command-line values, validated by the model
    return merged


def load_settings(
    model: type[P],
    section: str,
    *,
    paths: ProjectPaths | None = None,
    experiment: Path | str | None = None,
    overrides: Mapping[str, object] | None = None,
) -> P:
    """The settings of one step: ``model``'s defaults < the project parameters file's ``section`` < the
    experiment file's ``section`` < ``overrides`` (command-line values). Nested settings merge key by key.
    An experiment file without any section key (:data:`SECTION_KEYS`) is the step's settings themselves.

    A missing project parameters file is no layer; a missing experiment file is an error. Errors are one line
    naming the file (or ``command line``), the section and the key.
    """
    paths = paths or get_paths()
    layers: list[tuple[str, Mapping[str, object]]] = []
    if paths.parameters.is_file():
        layers.append((str(paths.parameters), _section(paths.parameters, section)))
    if experiment is not None:
        layers.append((str(experiment), _experiment_section(experiment, section)))
    if overrides:
        layers.append(("command line", overrides))
    merged: JSONObject = {}
    for _, layer in layers:
        merged = _merge(merged, layer)
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else ""
        source = next((name for name, layer in reversed(layers) if key in layer), "defaults")
        problems = "; ".join(_problem(e, section) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def parse_overrides(
    items: Iterable[str], section: str | None = None, *, others: Collection[str] | None = None
) -> dict[str, JSONObject]:
    """``section.key=value`` strings (``--set``) as nested mappings by section; values are read as YAML.

    ``section``: the command's own section (a key without a known section is one of its keys); ``others``: the
    further sections the command reads. When ``others`` is given (``()`` for none), a section the command does
    not read is an error rather than silently ignored.

    Examples
    --------
    >>> parse_overrides(["score.chunk_size=5000", "train.lightgbm.num_leaves=15"])
    {'score': {'chunk_size': 5000}, 'train': {'lightgbm': {'num_leaves': 15}}}
    >>> parse_overrides(["chunk_size=10", "train.seed=1"], section="backtest", others=["train"])
    {'backtest': {'chunk_size': 10}, 'train': {'seed': 1}}
    >>> parse_overrides(["trian.seed=1"], others=["train", "uplift"])
    Traceback (most recent call last):
    ...
    custml.errors.ConfigError: --set 'trian.seed=1': no section 'trian' here (this command reads train, uplift)
    """
    known = [*([section] if section is not None else []), *(others or [])]
    result: dict[str, JSONObject] = {}
    for item in items:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if section is not None and parts[0] not in known:
            parts = [section, *parts]
        if not sep or len(parts) < 2 or not all(parts):
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        if others is not None and parts[0] not in known:
            raise ConfigError(
                f"--set {item!r}: no section {parts[0]!r} here (this command reads {', '.join(known)})"
            )
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        node: JSONObject = result.setdefault(parts[0], {})
        for part in parts[1:-1]:
            below = node.setdefault(part, {})
            if not isinstance(below, dict):
                raise ConfigError(f"--set {item!r}: {part} is a value, not a section")
            node = below
        node[parts[-1]] = value
    return result


class DriftThresholds(Settings):
    """The one definition of drift (scoring and monitoring): PSI bands and the test's significance level.

    Here, with the settings, so that the command line can state the rule without importing the stages;
    :func:`custml.scoring.drift.drift_verdict` applies it.

    PSI at or above ``warn`` is a warning, at or above ``drift`` is drift; a feature is *drifted* when its PSI
    reaches ``drift`` and its test rejects at ``alpha``.

    Examples
    --------
    >>> DriftThresholds().rule()
    'PSI >= 0.25 and its test (KS or chi-square) rejecting at 1%'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn: float = Field(0.1, gt=0)
    drift: float = Field(0.25, gt=0)
    alpha: float = Field(0.01, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> DriftThresholds:
        if self.drift <= self.warn:
            raise ValueError("drift threshold must be larger than the warn threshold")
        return self

    def status(self, psi: float) -> str:
        """The PSI band: ``ok``, ``warn`` or ``drift``."""
        return "drift" if psi >= self.drift else "warn" if psi >= self.warn else "ok"

    def rule(self) -> str:
        """When a feature counts as drifted, in words (CLI help, messages)."""
        return f"PSI >= {self.drift:g} and its test (KS or chi-square) rejecting at {self.alpha:.0%}"
