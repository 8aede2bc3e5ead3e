"""Step ``monitor``: earlier scores checked against the orders known now -> ``data/monitoring`` (+ MLflow runs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custml.errors import CustmlError, DataFileError
from custml.io import read_json, read_table, write_json, write_table
from custml.pipeline._wiring import (
    Progress,
    as_day,
    configure_tracking,
    default_as_of,
    project_paths,
    tell,
    timed,
)
from custml.pipeline.clean import read_clean, run_clean
from custml.pipeline.features import run_features

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MonitorRun", "run_monitor"]

logger = logging.getLogger(__name__)


@dataclass
class MonitorRun:
    """What :func:`run_monitor` produced: the result, the files it read and wrote, the MLflow runs."""

    result: Any  # custml.monitoring.MonitoringResult
    scores_files: list[Path]
    written: dict[str, Path]
    run_ids: dict[str, str]
    now: pd.Timestamp
    timings: dict[str, float] = field(default_factory=dict)


# What monitoring reads of a scores file (other columns, e.g. of newer scoring versions, are not read).
_MONITOR_COLUMNS = (
    "customer_id",
    "as_of",
    "churn_probability",
    "churn_model_name",
    "churn_model_version",
    "rfm_segment",
    "value_tier",
    "activity_tier",
    "lifecycle_stage",
    "cluster_name",
    "recommended_action",
)


def _scores_files(scores: Path) -> list[Path]:
    if scores.is_file():
        return [scores]
    if not scores.is_dir():
        raise DataFileError(f"scores: no such file or folder: {scores}")
    files = sorted(scores.glob("scores_*.parquet")) or sorted(scores.glob("*.parquet"))
    if not files:
        raise DataFileError(f"scores: no scores_*.parquet file in {scores}")
    return files


def _first(frame: pd.DataFrame, column: str) -> Any:
    if column not in frame.columns or len(frame) == 0:
        return None
    values = frame[column].dropna()
    return values.iloc[0] if len(values) else None


def _promised(name: str, version: str, churn_meta: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Test metrics and run id of a model version from the registry, else from the scores' sidecar."""
    from custml import tracking

    try:
        info = tracking.get_model_version_info(f"models:/{name}/{version}")
        return dict(info.get("metrics") or {}), info.get("run_id")
    except CustmlError as exc:
        logger.info(
            "model %s v%s not in the registry (%s): promised metrics from the sidecar", name, version, exc
        )
    return dict(churn_meta.get("metrics") or {}), churn_meta.get("run_id")


def _meta_input_drift(meta: Mapping[str, Any]) -> pd.DataFrame | None:
    """PSI-only input drift of the churn model from a scores sidecar (no test: no counts are kept there)."""
    rows = [r for r in meta.get("drift") or [] if r.get("model", "churn") == "churn"]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    psi = pd.to_numeric(frame["psi"], errors="coerce").fillna(float("inf"))
    return pd.DataFrame(
        {
            "feature": frame["feature"].astype(str),
            "kind": None,
            "psi": psi,
            "status": frame["status"].astype(str),
            "test": "none (scores sidecar)",
            "statistic": np.nan,
            "p_value": np.nan,
            "drifted": (frame["status"] == "drift").to_numpy(),
        }
    )


def run_monitor(
    scores: Path | str | None = None,
    data: Path | str | None = None,
    *,
    now: Any = None,
    root: Path | str | None = None,
    thresholds: Any = None,
    input_drift: bool = True,
    log: bool = True,
    write: bool = True,
    out: Path | str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    allow_demo_key: bool = False,
    say: Progress | None = None,
) -> MonitorRun:
    """Monitor every scores file of a folder against the orders known now (``custml monitor``).

    Steps: read the scores files (``scores_*.parquet``) and their sidecars; clean the data folder's tables with
    the quality stage (the pseudonyms then match the scores; ``tables`` skips this) and keep the orders before
    ``now`` (default: the day after the data ends); for each churn model version, read what it promised (test
    metrics logged in MLflow) and its training reference (feature and score distributions); for each file
    dated before ``now``, the input drift at its as-of date (features rebuilt from the tables with
    ``input_drift``, else the PSI its sidecar recorded at scoring time); then
    :func:`custml.monitoring.monitor_scores`. Writes ``health``, ``groups`` and ``drift`` tables and
    ``verdict.json`` to ``out`` (default ``data/monitoring``) and logs the health history to MLflow against
    each model version (:func:`custml.tracking.log_monitoring_run`).
    """
    from custml import tracking
    from custml.features.labels import model_population
    from custml.monitoring import (
        HealthThresholds,
        OrderEvents,
        ScoresSnapshot,
        distribution_drift,
        monitor_scores,
    )

    paths = project_paths(root)
    timings: dict[str, float] = {}
    th = thresholds or HealthThresholds()
    files = _scores_files(Path(scores) if scores is not None else paths.scores)
    with timed(timings, "data_s"):
        if tables is None:
            if data is not None:
                data_dir = Path(data)
                now_ts = as_day(now) if now is not None else default_as_of(data_dir)
                tell(say, f"cleaning the tables of {data_dir} as of {now_ts.date()}")
                tables = run_clean(
                    data_dir, as_of=now_ts, root=root, allow_demo_key=allow_demo_key, write=False
                ).tables
            else:
                tables = read_clean(root)
        orders = tables["orders"]
        events = OrderEvents.from_orders(orders, end=as_day(now) if now is not None else None)
    now_ts = events.end
    tell(say, f"{len(files)} scores files; orders known until {now_ts.date()}")
    configure_tracking(paths)  # promised metrics and references come from the registry
    snapshots = []
    models: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any] | None]] = {}
    with timed(timings, "read_s"):
        for path in files:
            frame = read_table(path, f"scores {path.name}", columns=_MONITOR_COLUMNS)
            meta_path = path.with_suffix(".meta.json")
            meta = read_json(meta_path) if meta_path.is_file() else {}
            as_of_value = meta.get("as_of") or _first(frame, "as_of")
            if as_of_value is None:
                raise DataFileError(f"scores {path.name}: no as_of column and no .meta.json sidecar")
            as_of = as_day(as_of_value)
            if as_of >= now_ts:
                logger.info("%s: as of %s, not before %s: skipped", path.name, as_of.date(), now_ts.date())
                continue
            churn_meta = (meta.get("models") or {}).get("churn") or {}
            name = str(_first(frame, "churn_model_name") or churn_meta.get("name") or "unknown")
            version = str(_first(frame, "churn_model_version") or churn_meta.get("version") or "")
            if (name, version) not in models:
                promised, run_id = _promised(name, version, churn_meta)
                reference = (
                    tracking.load_drift_reference(run_id, f"models:/{name}/{version}", paths.drift_references)
                    if run_id
                    else None
                )
                models[(name, version)] = (promised, reference)
            promised, reference = models[(name, version)]
            snapshots.append(
                (
                    path,
                    frame,
                    meta,
                    as_of,
                    name,
                    version,
                    int(churn_meta.get("horizon_days") or 90),
                    promised,
                    reference,
                )
            )
    with timed(timings, "input_drift_s"):
        prepared = []
        for path, frame, meta, as_of, name, version, horizon, promised, reference in snapshots:
            drift = None
            if input_drift and reference is not None and reference.get("features"):
                tell(say, f"input drift as of {as_of.date()}")
                features = run_features(as_of, root=root, tables=tables, write=False)
                drift = distribution_drift(
                    reference["features"],
                    model_population(features, "churn"),
                    n_reference=int(reference.get("n_rows") or 1),
                    thresholds=th.drift,
                    alpha=th.alpha,
                )
            elif meta:
                drift = _meta_input_drift(meta)
            prepared.append(
                ScoresSnapshot(
                    scores=frame,
                    as_of=as_of,
                    model_name=name,
                    model_version=version,
                    horizon_days=horizon,
                    promised=promised,
                    score_reference=(reference or {}).get("score"),
                    input_drift=drift,
                    source=path.name,
                )
            )
    with timed(timings, "monitor_s"):
        result = monitor_scores(prepared, events, th)
    written: dict[str, Path] = {}
    if write:
        folder = Path(out) if out is not None else paths.monitoring
        with timed(timings, "write_s"):
            written["health"] = write_table(result.health, folder / "health.parquet", csv_copy=True)
            written["groups"] = write_table(result.groups, folder / "groups.parquet")
            written["drift"] = write_table(_plain_drift(result.drift), folder / "drift.parquet")
            written["verdict"] = write_json(
                {
                    "verdict": result.verdict,
                    "reasons": list(result.reasons),
                    "now": now_ts.isoformat(),
                    "thresholds": th.model_dump(mode="json"),
                },
                folder / "verdict.json",
            )
    run_ids: dict[str, str] = {}
    if log:
        with timed(timings, "log_s"):
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
    return MonitorRun(result, files, written, run_ids, now_ts, timings)


def _plain_drift(drift: pd.DataFrame) -> pd.DataFrame:
    """The drift table with plain column types for parquet (PSI inf kept, objects as strings)."""
    out = drift.copy()
    for col in ("feature", "kind", "status", "test", "source"):
        if col in out.columns:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    for col in ("psi", "statistic", "p_value"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out
