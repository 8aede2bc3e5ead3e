"""Feature drift: one verdict, shared by scoring and monitoring, of the scored rows against the training reference.

**The reference** is built once, at training time, from the rows of the run's latest cut-off (the test cut-off,
on which the model's promised metrics were measured: :func:`training_drift_reference`) and stored with the model
as JSON: for a numeric feature the inner edges of its deciles (ties collapse, so a feature that is mostly zero
gets fewer bins) and the share of rows in each bin, plus ``fine``, the same on percentile edges (up to 100 bins)
for the test; for a categorical feature the share of each category. Missing values are a bin of their own, so
a feature that starts arriving empty drifts too. Why the latest cut-off and not every training cut-off pooled:
pooled rows mix seasons and ages of the data that one scoring date never matches (measured in the logbook,
issue 27).

**Time.** Features that grow with the age of the data by construction (``tenure_days``, ``days_since_signup``,
``btyd_T_days``: :func:`custml.features.catalogue.time_growing_features`) are compared *relative to the days of
history at their cut-off*: ``value / (cutoff - data_start)``, i.e. where in the data's history the customer's
first order or sign-up falls (the cohort mix). Their raw days would drift by construction with every day
between training and scoring. Without a data start (or with a reference written before alignment existed) they
are left out, and the table says why.

**The verdict** (:func:`drift_verdict`): per feature the population stability index

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

(both shares floored at ``1e-4``) with its band (``ok`` below 0.1, ``warn`` to 0.25, ``drift`` above: the
usual reading) and a test suited to its type, which says whether the shift is larger than sampling noise: the
two-sample Kolmogorov-Smirnov statistic at the reference's percentile edges for a numeric feature (a lower
bound of the full statistic, so its p-value is conservative), chi-square of the 2 x K table of category counts
for a categorical one. A feature is **drifted** when its PSI reaches the drift threshold **and** its test
rejects at ``alpha``: with a million rows any test rejects trivial shifts, and with a few hundred a large PSI
can be noise. The run's verdict is ``drift`` when any feature drifted, else ``ok``. The thresholds are data
(:class:`DriftThresholds`); ``custml score --fail-on-drift``, the scores' sidecar, the report's "consider
retraining" line and ``custml monitor`` all read this one verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from custml.config import DriftThresholds
from custml.contracts import DriftThresholdValues, DriftVerdict
from custml.errors import SchemaError
from custml.types import JSONObject, JSONValue

__all__ = [
    "DRIFT_COLUMNS",
    "DRIFT_SAMPLE_ROWS",
    "DRIFT_STATUSES",
    "DriftResult",
    "DriftThresholds",
    "FeatureDrift",
    "drift_reference",
    "drift_verdict",
    "feature_drift",
    "feature_is_drifted",
    "model_drift",
    "population_stability_index",
    "reference_specs",
    "training_drift_reference",
    "training_drift_sample",
]

#: PSI bands of a compared feature, and the status of a feature left out of the comparison.
DRIFT_STATUSES = ("ok", "warn", "drift", "left out")
#: Columns of a drift table (:attr:`DriftResult.table`; scoring adds ``model`` first).
DRIFT_COLUMNS = (
    "feature",
    "kind",
    "psi",
    "status",
    "test",
    "statistic",
    "p_value",
    "drifted",
    "compared",
    "note",
)
_FLOOR = 1e-4
#: Training rows kept for the drift reference (a seeded sample above this).
DRIFT_SAMPLE_ROWS = 200_000
_REFERENCE_VERSION = 2
_READABLE_VERSIONS = (1, 2)
_ALIGN_HISTORY = "history"


def population_stability_index(expected: ArrayLike, actual: ArrayLike) -> float:
    """PSI between two distributions over the same bins (shares, or counts: each is normalised).

    Examples
    --------
    >>> round(population_stability_index([0.5, 0.5], [0.5, 0.5]), 6)
    0.0
    >>> round(population_stability_index([0.5, 0.5], [0.9, 0.1]), 3)
    0.879
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape or e.ndim != 1 or len(e) == 0:
        raise ValueError(f"expected and actual must be 1-d and the same length, got {e.shape} and {a.shape}")
    e = np.maximum(e / max(e.sum(), 1e-300), _FLOOR)
    a = np.maximum(a / max(a.sum(), 1e-300), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _is_categorical(s: pd.Series) -> bool:
    t = pd.api.types
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or t.is_object_dtype(s.dtype)
        or t.is_string_dtype(s.dtype)
        or t.is_bool_dtype(s.dtype)
    )


def _numeric_values(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin: ``len(edges) + 1`` value bins (a value on an edge goes up), then the missing bin."""
    missing = np.isnan(values)
    bins = np.searchsorted(edges, values[~missing], side="right")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
    return np.append(counts, float(missing.sum()))


def _category_counts(s: pd.Series, categories: list[str]) -> np.ndarray:
    """Counts per known category, then one bin for unseen categories, then the missing bin."""
    present = s.dropna().astype(str)
    vc = present.value_counts()
    known = np.array([float(vc.get(c, 0)) for c in categories])
    other = float(len(present) - known.sum())
    return np.concatenate([known, [other, float(s.isna().sum())]])


def drift_reference(
    features: pd.DataFrame, columns: Sequence[str] | None = None, *, n_bins: int = 10
) -> JSONObject:
    """The reference of every feature: bins and the share of rows in each (JSON-ready), compared as they are.

    Training stores :func:`training_drift_reference` (latest cut-off, time features aligned); this is its
    building block, and a plain reference for any other table.

    Parameters
    ----------
    features : pandas.DataFrame
        The reference rows (features only, or with id/label columns listed out of ``columns``).
    columns : sequence of str, optional
        Features to cover (default: every column except ``customer_id``, ``cutoff`` and ``label``).
    n_bins : int
        Number of quantile bins of a numeric feature before ties collapse.

    Returns
    -------
    dict
        ``{"version", "n_rows", "features": {name: {"kind", "edges" | "categories", "shares"}}}``.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = drift_reference(pd.DataFrame({"x": range(100)}), n_bins=4)
    >>> ref["features"]["x"]["edges"]
    [24.75, 49.5, 74.25]
    """
    return _reference(len(features), reference_specs(features, columns, n_bins))


def _reference(n_rows: int, specs: Mapping[str, JSONObject]) -> JSONObject:
    features: dict[str, JSONValue] = dict(specs)
    return {"version": _REFERENCE_VERSION, "n_rows": n_rows, "features": features}


def reference_specs(
    features: pd.DataFrame, columns: Sequence[str] | None = None, n_bins: int = 10
) -> dict[str, JSONObject]:
    """The ``features`` part of :func:`drift_reference`: bins and shares of each of ``columns`` (default:
    every column except ``customer_id``, ``cutoff`` and ``label``; datetime columns skipped).

    Examples
    --------
    >>> reference_specs(pd.DataFrame({"c": ["a", "b", "b", None]}))["c"]
    {'kind': 'categorical', 'categories': ['a', 'b'], 'shares': [0.25, 0.5, 0.0, 0.25]}
    """
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    if len(features) == 0:
        raise SchemaError("features", None, "training sample is empty: no drift reference can be built")
    if columns is None:
        columns = [c for c in features.columns if c not in {"customer_id", "cutoff", "label"}]
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise SchemaError("features", missing[0], f"is missing from the training sample (all: {missing})")
    out: dict[str, JSONObject] = {}
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]
    for name in columns:
        s = features[name]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        if _is_categorical(s):
            categories = sorted(s.dropna().astype(str).unique().tolist())
            counts = _category_counts(s, categories)
            out[name] = {
                "kind": "categorical",
                "categories": categories,
                "shares": (counts / counts.sum()).tolist(),
            }
            continue
        values = _numeric_values(s)
        finite = values[np.isfinite(values)]
        edges = np.unique(np.quantile(finite, qs)) if len(finite) else np.array([], dtype=float)
        counts = _numeric_counts(values, edges)
        fine_qs = np.linspace(0, 1, 101)[1:-1]
        fine_edges = np.unique(np.quantile(finite, fine_qs)) if len(finite) else np.array([], dtype=float)
        fine_counts = _numeric_counts(values, fine_edges)
        out[name] = {
            "kind": "numeric",
            "edges": edges.tolist(),
            "shares": (counts / counts.sum()).tolist(),
            "fine": {"edges": fine_edges.tolist(), "shares": (fine_counts / fine_counts.sum()).tolist()},
        }
    return out


def _time_features() -> tuple[str, ...]:
    from custml.features.catalogue import time_growing_features

    return time_growing_features()


def _history_days(cutoff: Any, data_start: Any) -> float:
    """Days of history at ``cutoff``: from the first day of the data (``data_start``, its day) to the cut-off."""
    return float((pd.Timestamp(cutoff) - pd.Timestamp(data_start).normalize()) / pd.Timedelta(days=1))


def training_drift_reference(
    rows: pd.DataFrame,
    *,
    cutoff: Any,
    data_start: Any,
    columns: Sequence[str] | None = None,
    seed: int = 0,
    max_rows: int = DRIFT_SAMPLE_ROWS,
    time_features: Sequence[str] | None = None,
) -> JSONObject:
    """The drift reference a training run stores: its latest cut-off's rows, time features relative to history.

    Parameters
    ----------
    rows : pandas.DataFrame
        The feature rows of one cut-off (the run's test cut-off: the population its metrics were measured on).
    cutoff : date-like
        That cut-off.
    data_start : date-like
        The first day of the data (the first order): a time feature is stored as ``days / (cutoff -
        data_start)``.
    columns : sequence of str, optional
        Features to describe (default: :func:`training_drift_sample`'s model-input columns; columns absent from
        ``rows`` are skipped, e.g. season features the model derives from the cut-off).
    seed, max_rows : int
        A seeded sample of ``max_rows`` rows above that size.
    time_features : sequence of str, optional
        Default: the catalogue's (:func:`custml.features.catalogue.time_growing_features`).

    Returns
    -------
    dict
        :func:`drift_reference`'s dict with ``cutoffs``, ``data_start`` and ``align: "history"`` on each time
        feature.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"tenure_days": [10.0, 50.0, 90.0], "orders_30d": [0.0, 1.0, 2.0]})
    >>> ref = training_drift_reference(rows, cutoff="2025-04-11", data_start="2025-01-01")
    >>> ref["features"]["tenure_days"]["align"], ref["cutoffs"], ref["data_start"]
    ('history', ['2025-04-11'], '2025-01-01')
    >>> round(ref["features"]["tenure_days"]["edges"][-1], 2)  # 90 days of 100 days of history, and below
    0.82
    """
    history = _history_days(cutoff, data_start)
    if history <= 0:
        raise SchemaError(
            "drift_reference", "cutoff", f"cut-off {cutoff} is not after the data start {data_start}"
        )
    sample = training_drift_sample(rows, seed, max_rows)
    cols = [c for c in (columns if columns is not None else sample.columns) if c in sample.columns]
    aligned = set(time_features if time_features is not None else _time_features()) & set(cols)
    frame = sample[cols].assign(
        **{name: pd.to_numeric(sample[name], errors="coerce") / history for name in sorted(aligned)}
    )
    specs = reference_specs(frame, cols, 10)
    for name in aligned & set(specs):
        specs[name]["align"] = _ALIGN_HISTORY
    return {
        **_reference(len(frame), specs),
        "cutoffs": [pd.Timestamp(cutoff).date().isoformat()],
        "data_start": pd.Timestamp(data_start).date().isoformat(),
    }


def _ks(ref_shares: np.ndarray, counts: np.ndarray, n_ref: int) -> tuple[float, float]:
    """KS statistic over the value bins (missing bin excluded) and its asymptotic p-value."""
    ref = np.asarray(ref_shares, dtype=float)[:-1]
    act = np.asarray(counts, dtype=float)[:-1]
    n_act = act.sum()
    if ref.sum() <= 0 or n_act <= 0:
        return float("nan"), float("nan")
    d = float(np.max(np.abs(np.cumsum(ref / ref.sum()) - np.cumsum(act / n_act))))
    n_eff = n_ref * n_act / (n_ref + n_act)
    return d, float(stats.kstwobign.sf(np.sqrt(n_eff) * d))


def _chi2(ref_shares: np.ndarray, counts: np.ndarray, n_ref: int) -> tuple[float, float]:
    ref = np.asarray(ref_shares, dtype=float) * n_ref
    act = np.asarray(counts, dtype=float)
    keep = (ref + act) > 0
    if keep.sum() < 2 or act.sum() == 0:
        return 0.0, 1.0
    table = np.vstack([ref[keep], act[keep]])
    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return float(statistic), float(p_value)


@dataclass(frozen=True)
class _Test:
    """PSI and the type-suited test of one feature against its reference."""

    kind: str
    psi: float
    test: str | None
    statistic: float
    p_value: float


def _compare(spec: Mapping[str, Any], values: pd.Series, n_ref: int) -> _Test:
    """PSI and the type-suited test of one feature's values against its reference ``spec``."""
    if spec["kind"] == "categorical":
        counts = _category_counts(values, list(spec["categories"]))
        statistic, p_value = _chi2(np.asarray(spec["shares"]), counts, n_ref)
        return _Test(
            "categorical", population_stability_index(spec["shares"], counts), "chi2", statistic, p_value
        )
    x = _numeric_values(values)
    psi = population_stability_index(
        spec["shares"], _numeric_counts(x, np.asarray(spec["edges"], dtype=float))
    )
    fine = spec.get("fine") or {"edges": spec["edges"], "shares": spec["shares"]}
    counts = _numeric_counts(x, np.asarray(fine["edges"], dtype=float))
    statistic, p_value = _ks(np.asarray(fine["shares"]), counts, n_ref)
    return _Test("numeric", psi, "ks", statistic, p_value)


def feature_is_drifted(psi: float, p_value: float, thresholds: DriftThresholds) -> bool:
    """The one rule of a drifted feature: its PSI in the ``drift`` band **and** its test rejecting at ``alpha``.

    Examples
    --------
    >>> th = DriftThresholds()
    >>> feature_is_drifted(0.3, 0.001, th), feature_is_drifted(0.3, 0.2, th), feature_is_drifted(0.2, 0.0, th)
    (True, False, False)
    """
    return bool(thresholds.status(psi) == "drift" and p_value < thresholds.alpha)


@dataclass(frozen=True)
class FeatureDrift:
    """One row of a drift table (:data:`DRIFT_COLUMNS`): how one feature was compared and its verdict."""

    feature: str
    kind: str
    psi: float = float("nan")
    status: str = "left out"
    test: str | None = None
    statistic: float = float("nan")
    p_value: float = float("nan")
    drifted: bool = False
    compared: str = "left out"
    note: str = ""

    @classmethod
    def left_out(cls, feature: str, kind: str, note: str) -> FeatureDrift:
        """A feature not compared, and why."""
        return cls(feature, kind, note=note)

    @classmethod
    def judged(
        cls, feature: str, test: _Test, thresholds: DriftThresholds, compared: str = "as is", note: str = ""
    ) -> FeatureDrift:
        """A compared feature with its PSI band and the verdict of :func:`feature_is_drifted`."""
        return cls(
            feature, test.kind, test.psi, thresholds.status(test.psi), test.test, test.statistic, test.p_value,
            feature_is_drifted(test.psi, test.p_value, thresholds), compared, note,
        )  # fmt: skip


@dataclass(frozen=True)
class DriftResult:
    """The drift verdict: the per-feature table, ``ok`` or ``drift``, and why.

    ``table`` has :data:`DRIFT_COLUMNS` (and ``model`` first when several models were checked), worst PSI
    first; ``drifted`` marks the features that count (PSI >= ``thresholds.drift`` and the test rejecting at
    ``thresholds.alpha``); ``compared`` says how (``as is``, ``relative to history``, ``left out``) and
    ``note`` why, where there is something to say.
    """

    table: pd.DataFrame
    verdict: str
    reason: str
    thresholds: DriftThresholds

    @property
    def drifted(self) -> pd.DataFrame:
        """The rows that count as drifted."""
        return self.table[self.table["drifted"]] if len(self.table) else self.table

    @property
    def n_compared(self) -> int:
        """Features compared (not left out)."""
        return int((self.table["status"] != "left out").sum()) if len(self.table) else 0

    def record(self) -> DriftVerdict:
        """The verdict as the scores' sidecar records it (:class:`custml.contracts.DriftVerdict`)."""
        left_out = self.table[self.table["status"] == "left out"] if len(self.table) else self.table
        return DriftVerdict(
            verdict=self.verdict,
            reason=self.reason,
            drifted=len(self.drifted),
            compared=self.n_compared,
            left_out=len(left_out),
            rule=self.thresholds.rule(),
            thresholds=DriftThresholdValues.model_validate(self.thresholds.model_dump(mode="json")),
        )

    def to_meta(self) -> JSONObject:
        """:meth:`record` as JSON, for the scores' sidecar (``meta["drift_verdict"]``)."""
        return self.record().model_dump(mode="json")


def _empty_table(with_model: bool = False) -> pd.DataFrame:
    cols = (["model"] if with_model else []) + list(DRIFT_COLUMNS)
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    for c in ("psi", "statistic", "p_value"):
        out[c] = out[c].astype(float)
    out["drifted"] = out["drifted"].astype(bool)
    return out


def _sorted(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    return table.sort_values(
        ["psi", *keys], ascending=[False] + [True] * len(keys), kind="stable", na_position="last"
    ).reset_index(drop=True)


def _label(row: Any) -> str:
    model = f"{row.model}: " if "model" in row._fields else ""
    psi = "missing" if not np.isfinite(row.psi) else f"PSI {row.psi:.2f}"
    return f"{model}{row.feature} ({psi})"


def _verdict_of(table: pd.DataFrame, thresholds: DriftThresholds) -> tuple[str, str]:
    drifted = table[table["drifted"]] if len(table) else table
    left_out = int((table["status"] == "left out").sum()) if len(table) else 0
    compared = len(table) - left_out
    what = "model features" if "model" in table.columns else "features"
    aside = f"; {left_out} left out (see the table)" if left_out else ""
    if len(drifted):
        names = ", ".join(_label(r) for r in drifted.head(5).itertuples(index=False))
        more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
        return "drift", (
            f"{len(drifted)} of {compared} {what} drifted ({thresholds.rule()}): {names}{more}{aside}"
        )
    if compared == 0:
        return "ok", f"no feature compared{aside}"
    top = table[table["status"] != "left out"].iloc[0]
    largest = f"; largest PSI {top['psi']:.2f} ({top['feature']})" if np.isfinite(top["psi"]) else ""
    return "ok", f"none of {compared} {what} drifted ({thresholds.rule()}){largest}{aside}"


def _feature_drift(
    name: str,
    spec: Mapping[str, Any],
    current: pd.DataFrame,
    *,
    n_ref: int,
    history: float,
    start: Any,
    legacy: bool,
    thresholds: DriftThresholds,
) -> FeatureDrift:
    """One feature of :func:`drift_verdict`: left out (and why), missing, or compared (as is or aligned)."""
    kind = spec.get("kind")
    if kind not in {"numeric", "categorical"}:
        raise SchemaError("drift_reference", name, f"unknown kind {kind!r}")
    aligned = spec.get("align") == _ALIGN_HISTORY
    if legacy:
        return FeatureDrift.left_out(name, kind, "grows with time; this reference has no history to align on")
    if aligned and not history > 0:
        return FeatureDrift.left_out(name, kind, "grows with time; no as-of date and data start to align on")
    if name not in current.columns:
        # the model would see it all-missing: drifted whatever its test
        missing = _Test(kind, float("inf"), None, np.nan, 0.0)
        return FeatureDrift.judged(name, missing, thresholds, note="missing from the rows")
    if not aligned:
        return FeatureDrift.judged(name, _compare(spec, current[name], n_ref), thresholds)
    values = pd.to_numeric(current[name], errors="coerce") / history
    note = f"days / {history:.0f} days since {pd.Timestamp(start).date()}"
    return FeatureDrift.judged(name, _compare(spec, values, n_ref), thresholds, "relative to history", note)


def drift_verdict(
    reference: Mapping[str, Any],
    current: pd.DataFrame,
    *,
    as_of: Any = None,
    data_start: Any = None,
    thresholds: DriftThresholds | None = None,
) -> DriftResult:
    """The drift verdict of ``current`` against a reference: per-feature PSI and test, drifted or not, and why.

    Pure: the one definition :func:`custml.pipeline.run_score` (``--fail-on-drift``, the sidecar, the report)
    and :func:`custml.pipeline.run_monitor` share.

    Parameters
    ----------
    reference : mapping
        A drift reference (:func:`training_drift_reference` or :func:`drift_reference`): ``version``, ``n_rows``
        (the rows it describes, for the tests) and ``features``; optional ``data_start``.
    current : pandas.DataFrame
        The rows now (extra columns are ignored). A reference feature missing from it has PSI inf and is
        drifted: the model would see it all-missing.
    as_of : date-like, optional
        The date ``current`` describes; needed to compare time features relative to history.
    data_start : date-like, optional
        The first day of ``current``'s data (default: the reference's ``data_start``).
    thresholds : DriftThresholds, optional

    Examples
    --------
    >>> import pandas as pd
    >>> ref = drift_reference(pd.DataFrame({"x": range(1000), "c": ["a", "b"] * 500}))
    >>> now = pd.DataFrame({"x": range(500, 1500), "c": ["a", "b"] * 500})
    >>> result = drift_verdict(ref, now)
    >>> result.verdict, result.table[["feature", "status", "drifted"]].values.tolist()
    ('drift', [['x', 'drift', True], ['c', 'ok', False]])
    """
    th = thresholds or DriftThresholds()
    version = reference.get("version")
    if version not in _READABLE_VERSIONS or not isinstance(reference.get("features"), Mapping):
        raise SchemaError("drift_reference", None, f"unknown drift reference format (version {version!r})")
    n_ref = int(reference.get("n_rows") or 0)
    if n_ref <= 0:
        raise SchemaError("drift_reference", "n_rows", f"must be positive, got {reference.get('n_rows')!r}")
    start = data_start if data_start is not None else reference.get("data_start")
    history = _history_days(as_of, start) if as_of is not None and start is not None else float("nan")
    legacy_time = set(_time_features()) if version == 1 else set()
    rows = [
        _feature_drift(name, spec, current, n_ref=n_ref, history=history, start=start, legacy=name in legacy_time,
                       thresholds=th)
        for name, spec in reference["features"].items()
    ]  # fmt: skip
    table = pd.DataFrame([asdict(r) for r in rows], columns=list(DRIFT_COLUMNS)) if rows else _empty_table()
    table["drifted"] = table["drifted"].astype(bool)
    table = _sorted(table, ["feature"])
    verdict, reason = _verdict_of(table, th)
    return DriftResult(table, verdict, reason, th)


def feature_drift(
    reference: Mapping[str, Any],
    features: pd.DataFrame,
    thresholds: DriftThresholds | None = None,
) -> pd.DataFrame:
    """The table of :func:`drift_verdict` (no as-of date: time features with ``align`` are left out).

    Examples
    --------
    >>> import pandas as pd
    >>> ref = drift_reference(pd.DataFrame({"x": range(1000)}))
    >>> feature_drift(ref, pd.DataFrame({"x": range(1000)}))["status"].tolist()
    ['ok']
    >>> feature_drift(ref, pd.DataFrame({"x": range(500, 1500)}))["status"].tolist()
    ['drift']
    """
    return drift_verdict(reference, features, thresholds=thresholds).table


def training_drift_sample(
    training: pd.DataFrame, seed: int, max_rows: int = DRIFT_SAMPLE_ROWS
) -> pd.DataFrame:
    """The model-input columns of a training table (no ids, labels, cut-offs or oracle columns), as the rows
    :func:`drift_reference` describes: all of them, or a sample of ``max_rows`` seeded by ``seed``."""
    from custml.models.predictor import NON_FEATURE_COLUMNS

    cols = [c for c in training.columns if c not in NON_FEATURE_COLUMNS and not str(c).startswith("oracle")]
    frame = training[cols]
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    return frame


def model_drift(
    references: Mapping[str, Mapping[str, Any] | None],
    features: pd.DataFrame,
    input_columns: Mapping[str, Sequence[str]],
    *,
    as_of: Any = None,
    data_start: Any = None,
    thresholds: DriftThresholds | None = None,
) -> DriftResult:
    """One verdict over each model's input features, each on the population that model was trained on.

    Comparing like with like matters: the churn model is trained on active customers only
    (:func:`custml.features.labels.model_population`), so the scored population as a whole (churned customers
    included) would always look drifted. The verdict is ``drift`` when any model has a drifted feature.

    Parameters
    ----------
    references : mapping of str to dict or None
        The training reference of each task (``churn``, ``repurchase``); ``None`` skips the task.
    features : pandas.DataFrame
        The scored feature table.
    input_columns : mapping of str to sequence of str
        Each task's model input columns: only these features are compared.
    as_of, data_start, thresholds
        As :func:`drift_verdict`.

    Returns
    -------
    DriftResult
        Its table has ``model`` first, then :data:`DRIFT_COLUMNS`; empty when no task has a reference.
    """
    from custml.features.labels import model_population

    th = thresholds or DriftThresholds()
    parts = []
    for task, reference in references.items():
        if reference is None:
            continue
        columns = set(input_columns[task])
        ref = {**reference, "features": {k: v for k, v in reference["features"].items() if k in columns}}
        result = drift_verdict(
            ref, model_population(features, task), as_of=as_of, data_start=data_start, thresholds=th
        )
        parts.append(result.table.assign(model=task)[["model", *DRIFT_COLUMNS]])
    if not parts:
        return DriftResult(_empty_table(with_model=True), "ok", "no drift reference: drift not measured", th)
    table = _sorted(pd.concat(parts, ignore_index=True), ["model", "feature"])
    verdict, reason = _verdict_of(table, th)
    return DriftResult(table, verdict, reason, th)
