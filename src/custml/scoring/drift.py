"""Feature drift: population stability index (PSI) of each feature against the model's training reference.

The reference is built once, at training time, from the training sample (:func:`drift_reference`) and stored
with the model as JSON: for a numeric feature the inner edges of its deciles (ties collapse, so a feature
that is mostly zero gets fewer bins) and the share of training rows in each bin; for a categorical feature the
share of each category. Missing values are a bin of their own, so a feature that starts arriving empty
drifts too. A numeric feature also keeps ``fine``: the same description on percentile edges (up to 100 bins),
from which :mod:`custml.monitoring` reads the training distribution function for its Kolmogorov-Smirnov test
(references written before ``fine`` existed still work: the decile bins are used instead). At scoring time :func:`feature_drift` puts the scored rows in the same bins and computes

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

with both shares floored at ``1e-4`` so that an empty bin gives a large but finite value. The usual reading
(and our default thresholds): below 0.1 no shift (``ok``), 0.1 to 0.25 a moderate shift (``warn``), 0.25 or
more a shift that needs a look before the scores are trusted (``drift``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, model_validator

from custml.errors import SchemaError

__all__ = [
    "DRIFT_SAMPLE_ROWS",
    "DRIFT_STATUSES",
    "DriftThresholds",
    "drift_reference",
    "feature_drift",
    "model_drift_table",
    "population_stability_index",
    "training_drift_sample",
]

DRIFT_STATUSES = ("ok", "warn", "drift")
_FLOOR = 1e-4
#: Training rows kept for the drift reference (a seeded sample above this).
DRIFT_SAMPLE_ROWS = 200_000
_REFERENCE_VERSION = 1


class DriftThresholds(BaseModel):
    """PSI at or above ``warn`` is a warning, at or above ``drift`` is drift."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn: float = Field(0.1, gt=0)
    drift: float = Field(0.25, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> DriftThresholds:
        if self.drift <= self.warn:
            raise ValueError("drift threshold must be larger than the warn threshold")
        return self


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
) -> dict[str, Any]:
    """The training reference of every feature: bins and the share of training rows in each (JSON-ready).

    Parameters
    ----------
    features : pandas.DataFrame
        The training sample (features only, or with id/label columns listed out of ``columns``).
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
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    if len(features) == 0:
        raise SchemaError("features", None, "training sample is empty: no drift reference can be built")
    if columns is None:
        columns = [c for c in features.columns if c not in {"customer_id", "cutoff", "label"}]
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise SchemaError("features", missing[0], f"is missing from the training sample (all: {missing})")
    out: dict[str, Any] = {}
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
        else:
            values = _numeric_values(s)
            finite = values[np.isfinite(values)]
            edges = np.unique(np.quantile(finite, qs)) if len(finite) else np.array([], dtype=float)
            counts = _numeric_counts(values, edges)
            fine_edges = (
                np.unique(np.quantile(finite, np.linspace(0, 1, 101)[1:-1]))
                if len(finite)
                else np.array([], dtype=float)
            )
            fine_counts = _numeric_counts(values, fine_edges)
            out[name] = {
                "kind": "numeric",
                "edges": edges.tolist(),
                "shares": (counts / counts.sum()).tolist(),
                "fine": {"edges": fine_edges.tolist(), "shares": (fine_counts / fine_counts.sum()).tolist()},
            }
    return {"version": _REFERENCE_VERSION, "n_rows": len(features), "features": out}


def feature_drift(
    reference: dict[str, Any],
    features: pd.DataFrame,
    thresholds: DriftThresholds | None = None,
) -> pd.DataFrame:
    """PSI of each reference feature in ``features``, with its status, worst first.

    A reference feature missing from ``features`` is reported with ``psi`` = inf and status ``drift`` (the
    model would see it as all-missing).

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``psi``, ``status`` (``ok``/``warn``/``drift``), sorted by ``psi`` descending then
        feature name.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = drift_reference(pd.DataFrame({"x": range(1000)}))
    >>> feature_drift(ref, pd.DataFrame({"x": range(1000)}))["status"].tolist()
    ['ok']
    >>> feature_drift(ref, pd.DataFrame({"x": range(500, 1500)}))["status"].tolist()
    ['drift']
    """
    thresholds = thresholds or DriftThresholds()
    if reference.get("version") != _REFERENCE_VERSION or "features" not in reference:
        raise SchemaError(
            "drift_reference", None, f"unknown drift reference format (version {reference.get('version')!r})"
        )
    rows = []
    for name, spec in reference["features"].items():
        if name not in features.columns:
            psi = float("inf")
        elif spec["kind"] == "categorical":
            psi = population_stability_index(
                spec["shares"], _category_counts(features[name], list(spec["categories"]))
            )
        else:
            counts = _numeric_counts(_numeric_values(features[name]), np.asarray(spec["edges"], dtype=float))
            psi = population_stability_index(spec["shares"], counts)
        status = "drift" if psi >= thresholds.drift else "warn" if psi >= thresholds.warn else "ok"
        rows.append({"feature": name, "psi": psi, "status": status})
    frame = pd.DataFrame(rows, columns=["feature", "psi", "status"])
    return frame.sort_values(["psi", "feature"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


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


def model_drift_table(
    references: Mapping[str, dict[str, Any] | None],
    features: pd.DataFrame,
    input_columns: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """PSI of each model's input features, on the population that model was trained on, worst first.

    Comparing like with like matters: the churn model is trained on active customers only
    (:func:`custml.features.labels.model_population`), so the scored population as a whole (churned customers
    included) would always look drifted.

    Parameters
    ----------
    references : mapping of str to dict or None
        The training reference of each task (``churn``, ``repurchase``); ``None`` skips the task.
    features : pandas.DataFrame
        The scored feature table.
    input_columns : mapping of str to sequence of str
        Each task's model input columns: only these features are compared.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``feature``, ``psi``, ``status`` and the :func:`feature_drift` columns; empty with the first
        four columns when no task has a reference.
    """
    from custml.features.labels import model_population

    parts = []
    for task, reference in references.items():
        if reference is None:
            continue
        columns = set(input_columns[task])
        ref = {**reference, "features": {k: v for k, v in reference["features"].items() if k in columns}}
        table = feature_drift(ref, model_population(features, task))
        table.insert(0, "model", task)
        parts.append(table)
    if not parts:
        return pd.DataFrame({"model": [], "feature": [], "psi": [], "status": []})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(
        ["psi", "model", "feature"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
