"""Drift of inputs and of the score distribution against the training reference stored with the model.

Every column gets the population stability index of :mod:`custml.scoring.drift` (the effect size: ``ok`` below
0.1, ``warn`` to 0.25, ``drift`` above) and a test suited to its type, which says whether the shift is larger
than sampling noise:

- numeric: the two-sample **Kolmogorov-Smirnov** statistic ``D = max |F_train(x) - F_now(x)|``, evaluated at the
  reference's percentile edges (``fine`` bins; decile edges for older references). Both distribution functions
  are exact at those points, so ``D`` is a lower bound of the full statistic and the asymptotic p-value (with
  ``n_eff = n_train n_now / (n_train + n_now)``) is conservative;
- categorical: **chi-square** test of homogeneity of the 2 x K table of category counts (reference counts =
  shares x reference rows; unseen categories and missing values are categories of their own).

A column counts as *drifted* only when its PSI reaches the drift threshold **and** the test rejects at
``alpha``: with a million rows any test rejects trivial shifts, and with a few hundred a large PSI can be noise.

The score reference (:func:`score_reference`) describes the calibrated churn probabilities of the training
run's test population in the same format; :mod:`custml.pipeline` stores it beside the feature reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from custml.errors import SchemaError
from custml.scoring.drift import (
    DriftThresholds,
    _category_counts,
    _numeric_counts,
    _numeric_values,
    drift_reference,
    population_stability_index,
)

__all__ = ["DRIFT_COLUMNS", "distribution_drift", "score_reference"]

#: Columns of :func:`distribution_drift`'s table.
DRIFT_COLUMNS = ("feature", "kind", "psi", "status", "test", "statistic", "p_value", "drifted")


def score_reference(probabilities: Sequence[float] | np.ndarray, n_rows_name: str = "probability") -> dict:
    """Reference of a score distribution (bins and shares, as :func:`custml.scoring.drift.drift_reference`).

    Examples
    --------
    >>> ref = score_reference([0.1, 0.2, 0.3, 0.4] * 25)
    >>> ref["kind"], ref["n_rows"]
    ('numeric', 100)
    """
    p = np.asarray(probabilities, dtype=float)
    if len(p) == 0:
        raise SchemaError("predictions", n_rows_name, "is empty: no score reference can be built")
    spec = drift_reference(pd.DataFrame({n_rows_name: p}))["features"][n_rows_name]
    return {**spec, "n_rows": len(p)}


def _status(psi: float, thresholds: DriftThresholds) -> str:
    return "drift" if psi >= thresholds.drift else "warn" if psi >= thresholds.warn else "ok"


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


def _one(spec: Mapping[str, Any], values: pd.Series | None, n_ref: int) -> dict[str, Any]:
    if values is None:
        return {"kind": spec["kind"], "psi": float("inf"), "test": None, "statistic": np.nan, "p_value": 0.0}
    if spec["kind"] == "categorical":
        counts = _category_counts(values, list(spec["categories"]))
        psi = population_stability_index(spec["shares"], counts)
        statistic, p_value = _chi2(np.asarray(spec["shares"]), counts, n_ref)
        return {"kind": "categorical", "psi": psi, "test": "chi2", "statistic": statistic, "p_value": p_value}
    x = _numeric_values(values)
    psi = population_stability_index(
        spec["shares"], _numeric_counts(x, np.asarray(spec["edges"], dtype=float))
    )
    fine = spec.get("fine") or {"edges": spec["edges"], "shares": spec["shares"]}
    counts = _numeric_counts(x, np.asarray(fine["edges"], dtype=float))
    statistic, p_value = _ks(np.asarray(fine["shares"]), counts, n_ref)
    return {"kind": "numeric", "psi": psi, "test": "ks", "statistic": statistic, "p_value": p_value}


def distribution_drift(
    reference: Mapping[str, Mapping[str, Any]],
    frame: pd.DataFrame,
    *,
    n_reference: int,
    thresholds: DriftThresholds | None = None,
    alpha: float = 0.01,
) -> pd.DataFrame:
    """PSI, a type-suited test and a drifted flag for each column described in ``reference``, worst first.

    Parameters
    ----------
    reference : mapping
        ``{column: spec}``: the ``features`` of a drift reference, or ``{"churn_probability": score_reference}``.
    frame : pandas.DataFrame
        The population now (extra columns are ignored; a reference column missing from it has PSI inf and is
        drifted, as the model would see it all-missing).
    n_reference : int
        Rows the reference was built from (the reference's ``n_rows``), for the tests.
    thresholds : DriftThresholds, optional
    alpha : float
        Significance level of the tests.

    Returns
    -------
    pandas.DataFrame
        :data:`DRIFT_COLUMNS`, sorted by PSI descending then name.

    Examples
    --------
    >>> import pandas as pd
    >>> from custml.scoring.drift import drift_reference
    >>> ref = drift_reference(pd.DataFrame({"x": range(1000), "c": ["a", "b"] * 500}))
    >>> now = pd.DataFrame({"x": range(500, 1500), "c": ["a", "b"] * 500})
    >>> distribution_drift(ref["features"], now, n_reference=1000)[["feature", "status", "drifted"]]
      feature status  drifted
    0       x  drift     True
    1       c     ok    False
    """
    thresholds = thresholds or DriftThresholds()
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if n_reference <= 0:
        raise ValueError(f"n_reference must be positive, got {n_reference}")
    rows = []
    for name, spec in reference.items():
        if spec.get("kind") not in {"numeric", "categorical"}:
            raise SchemaError("drift_reference", name, f"unknown kind {spec.get('kind')!r}")
        row = _one(spec, frame[name] if name in frame.columns else None, n_reference)
        row["feature"] = name
        row["status"] = _status(row["psi"], thresholds)
        row["drifted"] = bool(row["status"] == "drift" and row["p_value"] < alpha)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    out["drifted"] = out["drifted"].astype(bool)
    return out.sort_values(["psi", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)
