"""The scores' sidecar meta as the report reads it: one accessor, :func:`read_meta`, from the JSON the scorer
wrote to typed pieces (counts, model quality, drift, campaign, outlook). No section reads the meta itself.

The meta's parts are optional (a report of bare scores leaves their sections out) but a part that is present
must be complete: a drift row without the scoring run's ``drifted`` verdict is a sidecar older than the shared
verdict, and is refused with a one-line error rather than guessed from its PSI band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custml.errors import SchemaError
from custml.report.scores_table import timestamp

__all__ = [
    "DRIFT_TABLE_COLUMNS",
    "ChurnOutlook",
    "ModelMeta",
    "QualityMeta",
    "ReportMeta",
    "SourceLines",
    "UpliftMeta",
    "read_meta",
]

_TABLE = "scores meta"
#: Columns of :attr:`ReportMeta.drift`.
DRIFT_TABLE_COLUMNS = ("feature", "psi", "status", "drifted")
JSONMap = Mapping[str, object]


def _map(value: object) -> JSONMap:
    return value if isinstance(value, Mapping) else {}


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]  # JSON numbers


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]  # JSON numbers


def _counts(value: object) -> dict[str, int]:
    return {str(k): int(v) for k, v in _map(value).items() if v is not None}  # type: ignore[call-overload]


@dataclass(frozen=True)
class ModelMeta:
    """One model as the scorer described it: name, version, horizon, test metrics, calibration and drivers."""

    name: str
    version: str
    horizon_days: int | None
    metrics: Mapping[str, float]
    test_cutoff: pd.Timestamp | None
    calibration: pd.DataFrame  # mean_predicted, observed_rate, n (as written)
    top_drivers: pd.DataFrame  # feature, description, mean_abs_shap (as written)

    @classmethod
    def read(cls, raw: object) -> ModelMeta | None:
        """The model's part of ``meta["models"]``, or None when absent."""
        m = _map(raw)
        if not m:
            return None
        raw_metrics = _map(m.get("metrics"))
        metrics = {
            str(k): float(v)
            for k, v in raw_metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)
        }
        return cls(
            name=str(m.get("name", "")),
            version=str(m.get("version", "")),
            horizon_days=_int(m.get("horizon_days") or None),
            metrics=metrics,
            test_cutoff=timestamp(raw_metrics.get("test_cutoff")),
            calibration=pd.DataFrame(m.get("calibration") or [], columns=["mean_predicted", "observed_rate", "n"]),
            top_drivers=pd.DataFrame(m.get("top_drivers") or [], columns=["feature", "description", "mean_abs_shap"]),
        )  # fmt: skip


@dataclass(frozen=True)
class SourceLines:
    """The orders' source in its own units (:func:`custml.sources.line_items.source_accounting`): ``lines`` of
    a line-item export (with the figures of its lines), else ``rows`` (only the rows the filter left out)."""

    unit: str
    lines_in: int
    without_customer: int | None
    net_amount_in: float
    net_amount_without_customer: float
    exact_duplicates: int | None
    net_amount_exact_duplicates: float
    duplicates_dropped: bool
    excluded_by_filter: int

    @classmethod
    def read(cls, raw: object) -> SourceLines | None:
        """The orders' source accounting, or None without one."""
        s = _map(raw)
        if not s:
            return None
        return cls(
            unit=str(s.get("unit", "rows")),
            lines_in=int(s.get("in", 0)),  # type: ignore[call-overload]
            without_customer=_int(s.get("without_customer")),
            net_amount_in=float(s.get("net_amount_in", 0.0)),  # type: ignore[arg-type]
            net_amount_without_customer=float(s.get("net_amount_without_customer", 0.0)),  # type: ignore[arg-type]
            exact_duplicates=_int(s.get("exact_duplicates")),
            net_amount_exact_duplicates=float(s.get("net_amount_exact_duplicates", 0.0)),  # type: ignore[arg-type]
            duplicates_dropped=str(s.get("exact_duplicates_policy", "")).startswith("dropped"),
            excluded_by_filter=int(s.get("excluded_by_filter") or 0),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class QualityMeta:
    """Rows in and quarantined (all input tables when the quality stage counted them, else customer records),
    duplicates merged, rows dated after the as-of date, and the export's own lines."""

    rows_in: int | None = None
    rows_quarantined: int | None = None
    duplicates_merged: int | None = None
    by_table: Mapping[str, int] = field(default_factory=dict)
    by_reason: Mapping[str, int] = field(default_factory=dict)
    after_as_of: int | None = None
    source: SourceLines | None = None


@dataclass(frozen=True)
class UpliftMeta:
    """The campaign's uplift model as scoring used it (``meta["uplift"]``)."""

    status: str = ""
    offer_cost: float | None = None
    margin: float | None = None
    budget: float | None = None
    average_uplift: float | None = None
    n_treated: int = 0
    outcome_window_days: int | None = None
    horizon_days: int | None = None


@dataclass(frozen=True)
class ChurnOutlook:
    """The headline churn rate as scoring computed it (``meta["churn_outlook"]``) and its season a year earlier."""

    expected_rate: float
    population: int
    short_history: bool
    last_year_rate: float | None = None
    last_year_cutoff: str | None = None

    @classmethod
    def read(cls, raw: object) -> ChurnOutlook | None:
        """The outlook of a scores sidecar, or ``None`` when scoring wrote none (or had no active customer)."""
        o = _map(raw)
        if o.get("expected_rate") is None:
            return None
        last = _map(o.get("same_season_last_year"))
        return cls(
            expected_rate=float(o["expected_rate"]),  # type: ignore[arg-type]
            population=int(o.get("population", 0)),  # type: ignore[call-overload]
            short_history=bool(o.get("short_history", False)),
            last_year_rate=_float(last.get("realised_rate")),
            last_year_cutoff=str(last["cutoff"]) if "cutoff" in last else None,
        )


@dataclass(frozen=True)
class ReportMeta:
    """Everything the report takes from the scores' sidecar."""

    as_of: pd.Timestamp | None = None
    scored_at: pd.Timestamp | None = None
    currency: str | None = None
    rows_scored: int | None = None
    rows_not_scored: Mapping[str, int] = field(default_factory=dict)
    quality: QualityMeta = field(default_factory=QualityMeta)
    churn: ModelMeta | None = None
    repurchase: ModelMeta | None = None
    #: One row per drift-table row of the scoring run (:data:`DRIFT_TABLE_COLUMNS`; a feature may repeat, once
    #: per model); ``drifted`` is the run's verdict (:func:`custml.scoring.drift.drift_verdict`).
    drift: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(DRIFT_TABLE_COLUMNS)))
    uplift: UpliftMeta = field(default_factory=UpliftMeta)
    outlook: ChurnOutlook | None = None


def _quality(meta: JSONMap) -> QualityMeta:
    q = _map(meta.get("quality"))
    after = sum(_counts(q.get("rows_after_as_of")).values())
    return QualityMeta(
        rows_in=_int(q.get("rows_in", meta.get("rows_in"))),
        rows_quarantined=_int(q.get("rows_quarantined", meta.get("rows_quarantined"))),
        duplicates_merged=_int(q.get("duplicates_merged")),
        by_table=_counts(q.get("quarantined_by_table")),
        by_reason=_counts(q.get("quarantined_by_reason")),
        after_as_of=after or None,
        source=SourceLines.read(_map(q.get("source_accounting")).get("orders")),
    )


def _drift(rows: object) -> pd.DataFrame:
    rows = rows if isinstance(rows, list) else []
    for i, row in enumerate(rows):
        if "drifted" not in _map(row):
            raise SchemaError(
                _TABLE,
                f"drift[{i}].drifted",
                "is missing: the sidecar predates the shared drift verdict; score again",
            )
    frame = pd.DataFrame(rows).reindex(columns=list(DRIFT_TABLE_COLUMNS))
    frame["psi"] = pd.to_numeric(frame["psi"], errors="coerce")
    frame["drifted"] = frame["drifted"].astype(bool)
    return frame


def _uplift(raw: object) -> UpliftMeta:
    u = _map(raw)
    return UpliftMeta(
        status=str(u.get("status", "")),
        offer_cost=_float(u.get("offer_cost")),
        margin=_float(u.get("margin")),
        budget=_float(u.get("budget")),
        average_uplift=_float(u.get("average_uplift")),
        n_treated=int(u.get("n_treated") or 0),  # type: ignore[call-overload]
        outcome_window_days=_int(u.get("outcome_window_days")),
        horizon_days=_int(u.get("horizon_days")),
    )


def read_meta(meta: JSONMap | None) -> ReportMeta:
    """The report's typed view of a scores sidecar (``custml score``'s ``.meta.json``); ``None``: no meta.

    Raises
    ------
    SchemaError
        If a drift row lacks the scoring run's ``drifted`` verdict (a sidecar older than the shared verdict).

    Examples
    --------
    >>> m = read_meta({"as_of": "2025-10-01", "currency": "usd", "models": {"churn": {"name": "c", "version": 3}}})
    >>> m.as_of, m.currency, m.churn.version, m.repurchase
    (Timestamp('2025-10-01 00:00:00'), 'usd', '3', None)
    """
    m = _map(meta)
    models = _map(m.get("models"))
    currency = m.get("currency")
    return ReportMeta(
        as_of=timestamp(m.get("as_of")),
        scored_at=timestamp(m.get("scored_at")),
        currency=str(currency) if currency else None,
        rows_scored=_int(m.get("rows_scored")),
        rows_not_scored={k: v for k, v in _counts(m.get("rows_not_scored")).items() if v},
        quality=_quality(m),
        churn=ModelMeta.read(models.get("churn")),
        repurchase=ModelMeta.read(models.get("repurchase")),
        drift=_drift(m.get("drift")),
        uplift=_uplift(m.get("uplift")),
        outlook=ChurnOutlook.read(m.get("churn_outlook")),
    )
