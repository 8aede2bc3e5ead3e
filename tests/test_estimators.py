"""Public scikit-learn estimators: check_estimator, sklearn tooling, the snapshot path (estimator, workflow, CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import custml.models
from custml import tracking
from custml.errors import SchemaError
from custml.models import (
    CustomerClassifier,
    cross_validate_snapshot,
    prepare_snapshot,
)
from custml.segment.cluster import CustomerClusterer
from custml.testing import synthetic_snapshot_table

# ---------------------------------------------------------------------------------------------- check_estimator


# check_estimator over every exported estimator: tests/test_candidates.py (parametrize_with_checks).


def test_customer_clusterer_on_arrays_and_on_customer_tables() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (50, 3)), rng.normal(6, 1, (50, 3))])
    cc = CustomerClusterer(n_clusters=2, random_state=0).fit(X)
    assert cc.n_features_in_ == 3 and list(cc.feature_names_in_) == ["x0", "x1", "x2"]
    assert sorted(np.bincount(cc.labels_).tolist()) == [50, 50]
    np.testing.assert_array_equal(cc.predict(X), cc.labels_)
    with pytest.raises(ValueError, match="X has 4 features, but CustomerClusterer is expecting 3"):
        cc.predict(np.hstack([X, X[:, :1]]))
    # A table keeps the customer contract: it must carry the clustering features, named.
    with pytest.raises(SchemaError, match="none of the default clustering features"):
        CustomerClusterer(n_clusters=2).fit(pd.DataFrame(X, columns=["a", "b", "c"]))


def test_customer_clusterer_raises_not_fitted_before_fit() -> None:
    X = pd.DataFrame({"recency_days": [1.0, 2.0, 30.0], "frequency_orders": [5.0, 4.0, 1.0]})
    clusterer = CustomerClusterer()
    for method in (clusterer.predict_proba, clusterer.transform, clusterer.preprocess, clusterer.predict):
        with pytest.raises(NotFittedError):
            method(X)


def test_models_package_re_exports_its_public_api() -> None:
    assert "CustomerClassifier" in custml.models.__all__ and "train_model" in custml.models.__all__
    for name in custml.models.__all__:
        assert getattr(custml.models, name) is not None


# ---------------------------------------------------------------------------------------------- sklearn tooling


@pytest.fixture(scope="module")
def snapshot() -> pd.DataFrame:
    return synthetic_snapshot_table(3000, seed=5)


def _xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    return prepare_snapshot(frame, "churned", "customer_id")


def test_classifier_handles_categoricals_and_missing_values(snapshot: pd.DataFrame) -> None:
    X, y = _xy(snapshot)
    assert X["payment"].isna().any() and X["days_since_login"].isna().any()
    clf = CustomerClassifier(random_state=1).fit(X, y)
    assert set(clf.categorical_levels_) == {"plan", "region", "payment", "discount"}
    assert clf.champion_ in ("lightgbm", "logistic", "stack") and clf.calibrator_ is not None
    assert clf.booster_.best_iteration < clf.n_estimators  # early stopping happened on the internal split
    p = clf.predict_proba(X.head(50))
    assert p.shape == (50, 2) and np.allclose(p.sum(axis=1), 1.0)
    # Unseen level, strings instead of a category, and a column of all-missing: still scores.
    odd = X.head(5).assign(plan=["gold", "basic", None, "premium", "basic"], days_since_login=np.nan)
    assert np.isfinite(clf.predict_proba(odd)).all()
    with pytest.raises(SchemaError, match="date/time"):
        CustomerClassifier().fit(X.assign(signup=pd.Timestamp("2025-01-01")), y)


def test_classifier_works_in_cross_val_score_pipeline_and_grid_search(snapshot: pd.DataFrame) -> None:
    X, y = _xy(snapshot.head(1500))
    scores = cross_val_score(CustomerClassifier(n_estimators=200), X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,) and scores.min() > 0.7
    pipe = Pipeline(
        [
            ("drop_region", FunctionTransformer(lambda f: f.drop(columns=["region"]))),
            ("clf", CustomerClassifier(n_estimators=200)),
        ]
    )
    assert pipe.fit(X, y).predict_proba(X.head(3)).shape == (3, 2)
    grid = GridSearchCV(
        CustomerClassifier(n_estimators=200), {"num_leaves": [7, 31]}, cv=3, scoring="roc_auc"
    ).fit(X, y)
    assert grid.best_params_["num_leaves"] in (7, 31) and grid.best_score_ > 0.7


def test_snapshot_model_reaches_the_logistic_baseline(snapshot: pd.DataFrame) -> None:
    X, y = _xy(snapshot)
    cv = cross_validate_snapshot(X, y, n_splits=5)
    means = cv.groupby("scorer")[["roc_auc", "pr_auc", "ece"]].mean()
    assert set(cv["fold"]) == set(range(5))
    assert means.loc["model", "roc_auc"] >= means.loc["logistic", "roc_auc"]
    assert means.loc["model", "ece"] < 0.06


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: f.drop(columns=["churned"]), "'churned' is missing"),
        (
            lambda f: f.assign(churned=f["churned"].astype(float).where(f.index > 2)),
            "missing labels \\(3 rows\\)",
        ),
        (lambda f: f.assign(churned=np.where(f.index < 4, "maybe", f["churned"])), "must be 0/1"),
        (lambda f: f.assign(customer_id="same"), "duplicate ids"),
        (lambda f: f.assign(churned=0), "single class"),
    ],
)
def test_prepare_snapshot_rejects_bad_tables(snapshot: pd.DataFrame, change, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        prepare_snapshot(change(snapshot.head(100).copy()), "churned", "customer_id")


def test_prepare_snapshot_reads_yes_no_labels_and_drops_the_id() -> None:
    X, y = prepare_snapshot(
        pd.DataFrame({"cid": ["a", "b", "c"], "fee": [1.0, 2.0, 3.0], "left": ["Yes", "no", "TRUE"]}),
        "left",
        "cid",
    )
    assert list(X.columns) == ["fee"] and y.tolist() == [1, 0, 1]


# ---------------------------------------------------------------------------------------------- snapshot CLI


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTML_HOME", str(tmp_path))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
        tracking.configure()
        yield tmp_path
    tracking.configure()


@pytest.mark.slow  # end to end: CLI, MLflow run, registry
def test_cli_trains_a_snapshot_table_registers_and_gates(
    project: Path, snapshot: pd.DataFrame, capsys
) -> None:
    from custml.cli import main

    path = project / "subscriptions.csv"
    snapshot.head(2000).to_csv(path, index=False)
    args = ["train", "churn", "--table", str(path), "--label", "churned", "--id", "customer_id"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "logistic" in out and "custml-churn-snapshot v1: promoted to champion" in out
    info = tracking.get_model_version_info("models:/custml-churn-snapshot@champion")
    assert str(info.version) == "1"
    from mlflow import MlflowClient

    logged = MlflowClient().get_run(info.run_id).data.metrics
    assert logged["n_folds"] == 5 and logged["roc_auc"] >= logged["logistic.roc_auc"]  # reaches the baseline
    model = tracking.load_model("models:/custml-churn-snapshot@champion")
    rows = snapshot.head(10).drop(columns=["customer_id", "churned"])
    p = np.asarray(model.predict(rows), dtype=float)
    assert p.shape == (10,) and ((p > 0) & (p < 1)).all()
    # The same table again: compared with the champion on the same data, not promoted without a gain.
    assert main(args) == 0
    assert "v2: kept as challenger" in capsys.readouterr().out
    # Bad input: one line, exit 2.
    assert main(["train", "churn", "--table", str(path), "--label", "nope"]) == 2
    err = capsys.readouterr().err
    assert "'nope' is missing" in err and "Traceback" not in err
    assert main(["train", "churn", "--table", str(path)]) == 2
