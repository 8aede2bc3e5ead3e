"""Step ``monitor``: earlier scores checked against the orders known now -> ``data/monitoring`` (+ MLflow runs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custml.config import ProjectPaths
from custml.contracts import ModelMetrics, ModelVersionInfo, ScoreMeta
from custml.errors import CustmlError, DataFileError
from custml.io import read_table, write_table
from custml.pipeline._wiring import (
    Progress,
    as_day,
    configure_tracking,
    default_as_of,
    find_scores_meta,
    project_paths,
    tell,
    timed,
)
from custml.pipeline.clean import read_clean, run_clean
from custml.pipeline.features import run_features
from custml.types import JSONObject

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.monitoring import HealthThresholds, MonitoringTables, OrderEvents, ScoresSnapshot
    from custml.monitoring.files import ScoresFileInfo
    from custml.pipeline.settings import MonitorSettings

__all__ = ["MonitorRun", "run_monitor"]

logger = logging.getLogger(__name__)


@dataclass
class MonitorRun:
    """What :func:`run_monitor` produced: the result, the files it read and wrote, the MLflow runs."""

    result: Any  # custml.monitoring.MonitoringTables
    scores_files: list[Path]
    written: dict[str, Path]
    run_ids: dict[str, str]
    now: pd.Timestamp
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _ScoresFile:
    """One scores file as read: its table, sidecar, model identity, and what its model promised."""

    path: Path
    frame: pd.DataFrame
    meta: ScoreMeta | None
    info: ScoresFileInfo
    promised: ModelMetrics
    reference: JSONObject | None  # the training run's drift reference, read by custml.scoring.drift


def _scores_files(scores: Path) -> list[Path]:
    if scores.is_file():
        return [scores]
    if not scores.is_dir():
        raise DataFileError(f"scores: no such file or folder: {scores}")
    files = ProjectPaths.scores_files_in(scores) or ProjectPaths.tables_in(scores)
    if not files:
        raise DataFileError(f"scores: no scores_*.parquet file in {scores}")
    return files


def _promised(name: str, version: str, churn: ModelVersionInfo | None) -> tuple[ModelMetrics, str | None]:
    """Test metrics and run id of a model version from the registry, else from the scores' sidecar."""
    from custml import tracking

    try:
        info = tracking.get_model_version_info(f"models:/{name}/{version}")
        return info.metrics, info.run_id
    except CustmlError as exc:
        logger.info(
            "model %s v%s not in the registry (%s): promised metrics from the sidecar", name, version, exc
        )
    return (churn.metrics, churn.run_id) if churn is not None else (ModelMetrics(), None)


def _model_record(info: ScoresFileInfo, paths: ProjectPaths) -> tuple[ModelMetrics, JSONObject | None]:
    """What a churn model version promised (test metrics) and its training drift reference."""
    from custml import tracking

    name, version = info.model_name, info.model_version
    promised, run_id = _promised(name, version, info.churn)
    if not run_id:
        return promised, None
    uri = f"models:/{name}/{version}"
    return promised, tracking.load_drift_reference(run_id, uri, paths.drift_references)


def _monitor_tables(
    data: Path | str | None,
    now: Any,
    root: Path | str | None,
    allow_demo_key: bool,
    say: Progress | None,
) -> Mapping[str, pd.DataFrame]:
    """The clean tables to monitor against: ``data`` cleaned as of ``now``, else the project's interim tables."""
    if data is None:
        return read_clean(root)
    data_dir = Path(data)
    now_ts = as_day(now) if now is not None else default_as_of(data_dir)
    tell(say, f"cleaning the tables of {data_dir} as of {now_ts.date()}")
    return run_clean(data_dir, as_of=now_ts, root=root, allow_demo_key=allow_demo_key, write=False).tables


def _read_scores_files(files: list[Path], now_ts: pd.Timestamp, paths: ProjectPaths) -> list[_ScoresFile]:
    """Every scores file dated before ``now_ts`` with its sidecar and its model's promise and reference."""
    from custml.monitoring.files import MONITOR_COLUMNS, scores_file_info

    models: dict[tuple[str, str], tuple[ModelMetrics, JSONObject | None]] = {}
    read: list[_ScoresFile] = []
    for path in files:
        frame = read_table(path, f"scores {path.name}", columns=MONITOR_COLUMNS)
        meta_path = find_scores_meta(path)
        meta = ScoreMeta.read_json(meta_path) if meta_path is not None else None
        info = scores_file_info(frame, meta, path.name)
        if info.as_of >= now_ts:
            logger.info("%s: as of %s, not before %s: skipped", path.name, info.as_of.date(), now_ts.date())
            continue
        key = (info.model_name, info.model_version)
        if key not in models:
            models[key] = _model_record(info, paths)
        promised, reference = models[key]
        read.append(_ScoresFile(path, frame, meta, info, promised, reference))
    return read


def _snapshot(
    file: _ScoresFile,
    *,
    tables: Mapping[str, pd.DataFrame],
    root: Path | str | None,
    th: HealthThresholds,
    input_drift: bool,
    say: Progress | None,
) -> ScoresSnapshot:
    """One file as :func:`custml.monitoring.monitor_scores` takes it, with its input drift at its as-of date."""
    from custml.features.labels import model_population
    from custml.monitoring import ScoresSnapshot
    from custml.monitoring.files import sidecar_input_drift
    from custml.pipeline.score import data_start_of
    from custml.scoring.drift import drift_verdict

    info, reference = file.info, file.reference
    drift = None
    if input_drift and reference is not None and reference.get("features"):
        tell(say, f"input drift as of {info.as_of.date()}")
        features = run_features(info.as_of, root=root, tables=tables, write=False)
        # The verdict scoring gives (custml.scoring.drift), on the churn model's population at this date.
        drift = drift_verdict(
            {**reference, "n_rows": int(float(str(reference.get("n_rows") or 1)))},
            model_population(features, "churn"),
            as_of=info.as_of,
            data_start=data_start_of(tables),
            thresholds=th.drift,
        ).table
    elif file.meta is not None:
        drift = sidecar_input_drift(file.meta)
    return ScoresSnapshot(
        scores=file.frame,
        as_of=info.as_of,
        model_name=info.model_name,
        model_version=info.model_version,
        horizon_days=info.horizon_days,
        promised=file.promised,
        score_reference=score if isinstance(score := (reference or {}).get("score"), dict) else None,
        input_drift=drift,
        source=file.path.name,
    )


def _write_monitoring(
    result: MonitoringTables, folder: Path, now_ts: pd.Timestamp, th: HealthThresholds
) -> dict[str, Path]:
    """The health (with a CSV copy), groups and drift tables and the verdict, written to ``folder``."""
    from custml.monitoring.files import drift_for_parquet, verdict_record

    return {
        "health": write_table(result.health, ProjectPaths.table_in(folder, "health"), csv_copy=True),
        "groups": write_table(result.groups, ProjectPaths.table_in(folder, "groups")),
        "drift": write_table(drift_for_parquet(result.drift), ProjectPaths.table_in(folder, "drift")),
        "verdict": verdict_record(result, now_ts, th).write_json(ProjectPaths.verdict_in(folder)),
    }


def _log_monitoring(result: MonitoringTables) -> dict[str, str]:
    """One MLflow monitoring run per churn model version (its health rows, groups and drift); run ids by model."""
    from custml import tracking

    run_ids: dict[str, str] = {}
    for (name, version), part in result.health.groupby(["model_name", "model_version"], sort=False):
        dates = set(part["as_of"])
        run_ids[f"{name}/{version}"] = tracking.log_monitoring_run(
            str(name),
            str(version),
            part,
            verdict=result.verdict,
            reasons=result.reasons,
            tables={
                "monitoring/groups.csv": result.groups[result.groups["as_of"].isin(dates)],
                "monitoring/drift.csv": result.drift[result.drift["as_of"].isin(dates)],
            },
        )
    return run_ids


def run_monitor(
    settings: MonitorSettings | None = None,
    *,
    root: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    say: Progress | None = None,
) -> MonitorRun:
    """Monitor every scores file of a folder against the orders known now (``custml monitor``).

    Steps: read the scores files (``scores_*.parquet``) and their sidecars; clean the data folder's tables with
    the quality stage (the pseudonyms then match the scores; ``tables`` skips this) and keep the orders before
    ``now`` (default: the day after the data ends); for each churn model version, read what it promised (test
    metrics logged in MLflow) and its training reference (feature and score distributions); for each file
    dated before ``now``, the input drift at its as-of date (features rebuilt from the tables with
    ``settings.input_drift``, else the PSI its sidecar recorded at scoring time); then
    :func:`custml.monitoring.monitor_scores`. Writes ``health``, ``groups`` and ``drift`` tables and
    ``verdict.json`` to ``settings.out`` (default ``data/monitoring``) and logs the health history to MLflow against
    each model version (:func:`custml.tracking.log_monitoring_run`).
    """
    from custml.config import load_params
    from custml.monitoring import HealthThresholds, monitor_scores
    from custml.pipeline.settings import MonitorSettings

    s = settings or MonitorSettings()
    paths = project_paths(root)
    timings: dict[str, float] = {}
    th = load_params(s.thresholds, HealthThresholds) if s.thresholds is not None else HealthThresholds()
    files = _scores_files(Path(s.scores) if s.scores is not None else paths.scores)
    with timed(timings, "data_s"):
        if tables is None:
            tables = _monitor_tables(s.data, s.now, root, s.allow_demo_key, say)
        events = _order_events(tables, s.now)
    now_ts = events.end
    tell(say, f"{len(files)} scores files; orders known until {now_ts.date()}")
    configure_tracking(paths)  # promised metrics and references come from the registry
    with timed(timings, "read_s"):
        read = _read_scores_files(files, now_ts, paths)
    with timed(timings, "input_drift_s"):
        snapshots = [
            _snapshot(f, tables=tables, root=root, th=th, input_drift=s.input_drift, say=say) for f in read
        ]
    with timed(timings, "monitor_s"):
        result = monitor_scores(snapshots, events, th)
    written: dict[str, Path] = {}
    if s.write:
        with timed(timings, "write_s"):
            written = _write_monitoring(
                result, Path(s.out) if s.out is not None else paths.monitoring, now_ts, th
            )
    run_ids: dict[str, str] = {}
    if s.log:
        with timed(timings, "log_s"):
            run_ids = _log_monitoring(result)
    return MonitorRun(result, files, written, run_ids, now_ts, timings)


def _order_events(tables: Mapping[str, pd.DataFrame], now: Any) -> OrderEvents:
    """The orders known at ``now`` (default: all of them; "now" is then the day after the last order)."""
    from custml.monitoring import OrderEvents

    return OrderEvents.from_orders(tables["orders"], end=as_day(now) if now is not None else None)
