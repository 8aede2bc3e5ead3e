"""One drift verdict: scoring, monitoring and the report all say what custml.scoring.drift.drift_verdict says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.contracts import DriftVerdict
from custml.monitoring.drift import distribution_drift, score_reference
from custml.scoring.drift import DriftThresholds, drift_reference, drift_verdict, feature_is_drifted


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {"x": rng.normal(0, 1, 2000), "c": rng.choice(["a", "b", "c"], 2000), "y": rng.random(2000)}
    )
    now = pd.DataFrame({"x": rng.normal(0.8, 1, 600), "c": rng.choice(["a", "b", "c"], 600, p=[0.6, 0.2, 0.2]),
                        "y": rng.random(600)})  # fmt: skip
    return ref, now


def test_monitorings_table_is_the_scoring_verdict() -> None:
    ref_rows, now = _frames()
    reference = drift_reference(ref_rows)
    th = DriftThresholds(alpha=0.05)
    scoring = drift_verdict(reference, now, thresholds=th).table
    monitoring = distribution_drift(reference["features"], now, n_reference=len(ref_rows), thresholds=th)
    pd.testing.assert_frame_equal(scoring, monitoring)
    # every row's verdict is the one rule
    for row in scoring.itertuples():
        assert row.drifted == feature_is_drifted(row.psi, row.p_value, th)
    assert set(scoring.loc[scoring["drifted"], "feature"]) == {"x", "c"}


def test_the_score_reference_is_a_feature_reference_of_the_probabilities() -> None:
    p = np.linspace(0.01, 0.99, 500)
    ref = score_reference(p)
    assert ref["n_rows"] == 500 and ref["kind"] == "numeric"
    assert (
        ref["edges"] == drift_reference(pd.DataFrame({"probability": p}))["features"]["probability"]["edges"]
    )


def test_the_sidecars_verdict_is_the_contracts_record() -> None:
    ref_rows, now = _frames()
    result = drift_verdict(drift_reference(ref_rows), now)
    record = DriftVerdict.model_validate(result.to_meta())
    assert record == result.record()
    assert (record.verdict, record.drifted, record.compared) == ("drift", len(result.drifted), 3)
    assert record.rule == DriftThresholds().rule()


@pytest.mark.parametrize(
    ("psi", "p_value", "drifted"), [(0.3, 0.0, True), (0.3, 0.5, False), (0.24, 0.0, False)]
)
def test_a_feature_drifts_when_its_psi_is_large_and_its_test_rejects(
    psi: float, p_value: float, drifted: bool
) -> None:
    assert feature_is_drifted(psi, p_value, DriftThresholds()) is drifted
