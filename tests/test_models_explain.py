"""Reason codes in plain words, global drivers and plots of the churn/repurchase models."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from custml.models import plots
from custml.models.explain import (
    UNACTIONABLE_FEATURES,
    format_reason,
    plot_shap_bar,
    plot_shap_beeswarm,
    reason_codes,
    top_drivers,
)
from custml.models.params import TrainParams
from custml.models.train import train_model
from custml.testing import synthetic_training_table


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    reason_high: str
    reason_low: str


@pytest.fixture(scope="module")
def result():
    return train_model(
        synthetic_training_table(2000, seed=7), params=TrainParams(task="churn", shap_sample=300)
    )


def test_reason_codes_follow_contribution_signs(result) -> None:
    X = result.test_features.head(50)
    up = reason_codes(result.model, X, with_details=True)
    down = reason_codes(result.model, X, direction="down", with_details=True)
    assert list(up.columns[:3]) == ["reason_1", "reason_2", "reason_3"]
    assert up.index.equals(X.index)
    contrib_up = up[["contribution_1", "contribution_2", "contribution_3"]].to_numpy(dtype=float)
    contrib_down = down[["contribution_1", "contribution_2", "contribution_3"]].to_numpy(dtype=float)
    assert np.all(np.nan_to_num(contrib_up, nan=1.0) > 0)
    assert np.all(np.nan_to_num(contrib_down, nan=-1.0) < 0)
    # Ordered by strength: first reason is the strongest driver.
    assert np.all(np.nan_to_num(contrib_up[:, 0]) >= np.nan_to_num(contrib_up[:, 1]))
    # Every reason with a feature has text; without one it is null.
    assert (up["reason_1"].notna() == up["feature_1"].notna()).all()


def test_reason_codes_use_catalogue_wording(result) -> None:
    X = result.test_features.head(30)
    catalogue = [
        Spec(f, f"desc of {f}", f"HIGH {f} {{value}}", f"LOW {f} {{value}}")
        for f in result.model.feature_names
    ]
    reasons = reason_codes(result.model, X, catalogue=catalogue, with_details=True)
    for text, feature in zip(reasons["reason_1"], reasons["feature_1"], strict=True):
        if feature is None:
            continue
        assert text.startswith(("HIGH ", "LOW ", "no data: desc of"))
        assert feature in text


def test_reason_codes_default_catalogue_gives_plain_words(result) -> None:
    reasons = reason_codes(result.model, result.test_features.head(20), direction="both")
    texts = reasons.stack().tolist()
    assert texts and all(t.endswith(("(raises)", "(lowers)")) for t in texts)
    assert not any("_" in t.split(" (")[0] and " is " not in t and ": " not in t for t in texts)


def test_format_reason() -> None:
    assert (
        format_reason("no order for {value}x the usual gap", 3.214, "overdue_ratio", True)
        == "no order for 3.2x the usual gap"
    )
    assert (
        format_reason("{value} unresolved complaints", 2.0, "open_complaints", True)
        == "2 unresolved complaints"
    )
    assert format_reason("{value:.0%} discounted", 0.456, "d", True) == "46% discounted"
    assert format_reason(None, 12.34, "x", False) == "x is low (12)"


def test_top_drivers_and_shap_plots(result) -> None:
    X = result.test_features.head(200)
    drivers = top_drivers(result.model, X, n=5)
    assert list(drivers.columns) == ["feature", "description", "mean_abs_shap"] and len(drivers) == 5
    assert set(drivers["feature"]) <= set(result.model.feature_names)
    # Both plots rank the same drivers as top_drivers: the four strongest by name, the rest summed in one row.
    n_other = len(result.model.feature_names) - 4
    bar = plot_shap_bar(result.model, X, max_display=5).axes[0]
    assert len(bar.patches) == 5 and bar.get_title() == "churn: mean |SHAP|"
    labels = [t.get_text() for t in bar.get_yticklabels()][:5]
    assert labels == [*drivers["feature"].head(4), f"Sum of {n_other} other features"]
    swarm = plot_shap_beeswarm(result.model, X, max_display=5).axes[0]
    labels = [t.get_text() for t in swarm.get_yticklabels()]
    assert labels[::-1] == [*drivers["feature"].head(4), f"Sum of {n_other} other features"]
    assert swarm.get_title() == "churn: SHAP values (log-odds)"
    plt.close("all")


def test_evaluation_plots_return_figures(result) -> None:
    preds = result.test_predictions
    scores = {"model": preds["model"], "logistic": preds["logistic"]}
    for fn in (plots.plot_roc, plots.plot_pr, plots.plot_calibration, plots.plot_lift):
        fig = fn(preds["label"], scores)
        assert len(fig.axes[0].get_lines()) >= 2
        plt.close(fig)
    fig, ax = plt.subplots()
    assert plots.plot_roc(preds["label"], scores, ax=ax) is fig
    plt.close(fig)


def test_reason_codes_on_frame_with_missing_values(result) -> None:
    X = result.test_features.head(10).copy()
    X["gap_mean_days"] = np.nan
    X["region"] = pd.Series([None] * 10, dtype=object)
    reasons = reason_codes(result.model, X, direction="both", with_details=True, exclude=())
    assert reasons.shape == (10, 9)
    for i in (1, 2, 3):
        missing = reasons[f"feature_{i}"].isin(["gap_mean_days", "region"])
        assert reasons.loc[missing, f"reason_{i}"].str.startswith("no data: ").all()


def test_reason_codes_leave_out_unactionable_features(result) -> None:
    """Region and acquisition channel drive this table's labels, but are never given as reasons by default."""
    X = result.test_features.head(300)
    everything = reason_codes(result.model, X, direction="both", with_details=True, exclude=())
    cited = set(everything[["feature_1", "feature_2", "feature_3"]].stack())
    assert cited & UNACTIONABLE_FEATURES, "control: without the exclusion a profile feature is cited"
    default = reason_codes(result.model, X, direction="both", with_details=True)
    assert not set(default[["feature_1", "feature_2", "feature_3"]].stack()) & UNACTIONABLE_FEATURES
    assert default["reason_1"].notna().all()  # the next actionable driver takes the place
    nothing = reason_codes(result.model, X, with_details=True, exclude=set(result.model.feature_names))
    assert nothing["reason_1"].isna().all()
