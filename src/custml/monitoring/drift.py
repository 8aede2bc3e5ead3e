"""Drift of inputs and of the score distribution against the training reference stored with the model.

The definition is :func:`custml.scoring.drift.drift_verdict`, the one scoring uses too: per column the
population stability index (``ok`` below 0.1, ``warn`` to 0.25, ``drift`` above) and a test suited to its type
(Kolmogorov-Smirnov at the reference's percentile edges for a numeric column, chi-square of the category counts
for a categorical one); a column is *drifted* when its PSI reaches the drift threshold **and** the test rejects
at ``alpha`` (:class:`custml.scoring.drift.DriftThresholds`). Features that grow with time are compared
relative to the days of history at their date (see :mod:`custml.scoring.drift`).

The score reference (:func:`score_reference`) describes the calibrated churn probabilities of the training
run's test population in the same format; :mod:`custml.pipeline` stores it beside the feature reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custml.errors import SchemaError
from custml.scoring.drift import DRIFT_COLUMNS, DriftThresholds, drift_verdict, reference_specs
from custml.types import JSONObject

__all__ = ["DRIFT_COLUMNS", "distribution_drift", "score_reference"]


def score_reference(
    probabilities: Sequence[float] | np.ndarray, n_rows_name: str = "probability"
) -> JSONObject:
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
    spec = reference_specs(pd.DataFrame({n_rows_name: p}))[n_rows_name]
    return {**spec, "n_rows": len(p)}


def distribution_drift(
    reference: Mapping[str, Mapping[str, Any]],
    frame: pd.DataFrame,
    *,
    n_reference: int,
    thresholds: DriftThresholds | None = None,
    alpha: float | None = None,
    as_of: Any = None,
    data_start: Any = None,
) -> pd.DataFrame:
    """The table of :func:`custml.scoring.drift.drift_verdict` for the columns of ``reference``, worst first.

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
    alpha : float, optional
        Significance level of the tests (default: ``thresholds.alpha``).
    as_of, data_start : date-like, optional
        As :func:`custml.scoring.drift.drift_verdict` (to compare time features relative to history).

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
    th = thresholds or DriftThresholds()
    if alpha is not None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        th = th.model_copy(update={"alpha": alpha})
    if n_reference <= 0:
        raise ValueError(f"n_reference must be positive, got {n_reference}")
    reference_dict = {"version": 2, "n_rows": n_reference, "features": dict(reference)}
    return drift_verdict(reference_dict, frame, as_of=as_of, data_start=data_start, thresholds=th).table
