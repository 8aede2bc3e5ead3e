"""Real data (CDNOW sample, 2,357 customers): no printed baseline beats the shipped model beyond noise.

The default ``run_train`` path on the sample's orders. On churn BG/NBD is the worst candidate on every
validation cut-off (about 0.03 ROC AUC below the best) yet the best on the test cut-off: through the CLI (with
the customers table) the shipped stack is 0.0015 below it (paired 95 % interval [-0.015, +0.009]); from the
orders alone the shipped logistic RFM is 0.014 below it ([-0.031, +0.001]). Neither can be fixed without choosing
on the test set, so the honest rule tested here is "no baseline significantly better", not "never below" (see
experiments/LOGBOOK.md, champion section).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import skip_or_fail

from custml import pipeline as workflows
from custml.errors import DataFileError
from custml.models.candidates import baseline_names
from custml.models.params import TrainParams


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    from custml.datasets import load_cdnow_transactions

    try:
        return load_cdnow_transactions("sample")
    except DataFileError as exc:
        skip_or_fail(f"CDNOW data not available: {exc}")
        raise


@pytest.mark.slow
@pytest.mark.parametrize("task", ["churn", "repurchase"])
def test_cdnow_sample_no_printed_baseline_beats_the_shipped_model(orders: pd.DataFrame, task: str) -> None:
    outcome = workflows.run_train(
        task, tables={"orders": orders}, params=TrainParams(task=task), record=workflows.RunRecord(log=False)
    )
    result = outcome.result
    m = result.metrics["model"]
    assert result.data_description["test_cutoff"] == ("1998-04-01" if task == "churn" else "1998-05-31")
    for b in baseline_names():
        lo, hi, diff = m[f"auc_diff_lo_vs_{b}"], m[f"auc_diff_hi_vs_{b}"], m[f"auc_gain_vs_{b}"]
        assert lo <= diff + 1e-12 and diff <= hi + 1e-12, (b, lo, diff, hi)
        assert hi >= 0, (
            f"{task}: {b} beats the shipped model beyond noise: {diff:+.4f} [{lo:+.4f}, {hi:+.4f}]"
        )
    assert m["baseline_beats_model"] == 0.0 and result.data_description["baselines_beating_model"] == []
