"""What monitoring needs from a scores file and its sidecar, and the plain tables it writes (pure functions).

:func:`custml.pipeline.run_monitor` reads the files and the registry; these functions turn what it read into
the inputs of :func:`custml.monitoring.monitor_scores` and its result into plain records:

- :func:`scores_file_info`: the as-of date and the churn model (name, version, horizon) of one scores file,
  from its columns, else its ``.meta.json`` sidecar (:class:`custml.contracts.ScoreMeta`);
- :func:`sidecar_input_drift`: the input drift the sidecar recorded at scoring time;
- :func:`drift_for_parquet` and :func:`verdict_record`: the drift table and the verdict
  (:class:`custml.contracts.MonitoringResult`) as written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custml.contracts import ModelVersionInfo, MonitoringResult, ScoreMeta
from custml.errors import DataFileError
from custml.monitoring.health import GROUP_COLUMNS, HealthThresholds, MonitoringTables

__all__ = [
    "MONITOR_COLUMNS",
    "ScoresFileInfo",
    "drift_for_parquet",
    "first_value",
    "scores_file_info",
    "sidecar_input_drift",
    "verdict_record",
]

# What monitoring reads of a scores file (other columns, e.g. of newer scoring versions, are not read).
MONITOR_COLUMNS = (
    "customer_id",
    "as_of",
    "churn_probability",
    "churn_model_name",
    "churn_model_version",
    *GROUP_COLUMNS,
)

# Label horizon assumed for scores whose sidecar does not record one (the churn model's default).
DEFAULT_HORIZON_DAYS = 90


@dataclass(frozen=True)
class ScoresFileInfo:
    """Which model made a scores file, and as of when.

    ``churn`` is the sidecar's ``models["churn"]`` entry (``None`` without a sidecar): the registry lookups of
    the wiring fall back to its ``metrics`` and ``run_id``.
    """

    as_of: pd.Timestamp
    model_name: str
    model_version: str
    horizon_days: int
    churn: ModelVersionInfo | None = None


def first_value(frame: pd.DataFrame, column: str) -> Any:
    """The first non-missing value of ``column``, or ``None`` when the column is absent or all missing.

    >>> first_value(pd.DataFrame({"a": [None, 2, 3]}), "a")
    np.float64(2.0)
    >>> first_value(pd.DataFrame({"a": [1]}), "b") is None
    True
    """
    if column not in frame.columns or len(frame) == 0:
        return None
    values = frame[column].dropna()
    return values.iloc[0] if len(values) else None


def scores_file_info(frame: pd.DataFrame, meta: ScoreMeta | None, source: str) -> ScoresFileInfo:
    """The as-of date and churn model of one scores table (its sidecar ``meta`` first for the date, the
    table's columns first for the model).

    Raises
    ------
    DataFileError
        If neither the table's ``as_of`` column nor the sidecar gives a date (the message names ``source``).
    """
    as_of_value = meta.as_of if meta is not None else first_value(frame, "as_of")
    if as_of_value is None:
        raise DataFileError(f"scores {source}: no as_of column and no .meta.json sidecar")
    as_of = pd.Timestamp(as_of_value)
    if as_of.tzinfo is not None:
        as_of = as_of.tz_convert("UTC").tz_localize(None)
    churn = meta.models.get("churn") if meta is not None else None
    return ScoresFileInfo(
        as_of=as_of,
        model_name=str(first_value(frame, "churn_model_name") or (churn.name if churn else "unknown")),
        model_version=str(first_value(frame, "churn_model_version") or (churn.version if churn else "")),
        horizon_days=int((churn.horizon_days if churn else None) or DEFAULT_HORIZON_DAYS),
        churn=churn,
    )


def sidecar_input_drift(meta: ScoreMeta) -> pd.DataFrame | None:
    """The churn model's input drift as the scores sidecar recorded it at scoring time (the scoring run's
    verdict per feature). Returns ``None`` when the sidecar records no churn drift rows."""
    rows = [r for r in meta.drift if (r.model or "churn") == "churn"]
    if not rows:
        return None
    frame = pd.DataFrame([r.model_dump() for r in rows])
    status = frame["status"].astype(str)
    left_out = (status == "left out").to_numpy()
    # A missing PSI is a feature missing from the scored rows (inf, as JSON cannot say it), unless left out.
    psi = pd.to_numeric(frame["psi"], errors="coerce").fillna(float("inf")).mask(left_out)
    return pd.DataFrame(
        {
            "feature": frame["feature"].astype(str),
            "kind": frame["kind"],
            "psi": psi,
            "status": status,
            "test": "none (scores sidecar)",
            "statistic": np.nan,
            "p_value": pd.to_numeric(frame["p_value"], errors="coerce"),
            "drifted": frame["drifted"].astype(bool).to_numpy(),  # the scoring run's verdict per feature
            "compared": frame["compared"].fillna("as is"),
            "note": frame["note"].fillna(""),
        }
    )


def drift_for_parquet(drift: pd.DataFrame) -> pd.DataFrame:
    """The drift table with plain column types for parquet (PSI inf kept, objects as strings); a copy."""
    out = drift.copy()
    for col in ("feature", "kind", "status", "test", "source"):
        if col in out.columns:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    for col in ("psi", "statistic", "p_value"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def verdict_record(
    result: MonitoringTables, now: pd.Timestamp, thresholds: HealthThresholds
) -> MonitoringResult:
    """The overall verdict as written to ``verdict.json``: verdict, reasons, "now" and the thresholds used."""
    return MonitoringResult.model_validate(
        {
            "verdict": result.verdict,
            "reasons": list(result.reasons),
            "now": now.isoformat(),
            "thresholds": thresholds.model_dump(mode="json"),
        }
    )
