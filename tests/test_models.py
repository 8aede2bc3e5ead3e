"""Churn/repurchase modelling: split, metrics, calibration, hybrid BTYD features, training floors, leakage."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from custml.errors import ConfigError, SchemaError
from custml.models.baselines import BGNBDBaseline
from custml.models.candidates import LogisticCandidate
from custml.models.card import model_card
from custml.models.champion import choose_champion
from custml.models.gbm import ProbabilityCalibrator
from custml.models.hybrid import BTYDFeatures
from custml.models.metrics import (
    binary_metrics,
    calibration_table,
    expected_calibration_error,
    lift_at,
    lift_table,
)
from custml.models.params import TrainParams
from custml.models.predictor import infer_feature_columns, prepare_features
from custml.models.split import plan_cutoffs, time_split
from custml.models.train import table_digest, train_model
from custml.testing import synthetic_training_table


@pytest.fixture(scope="module")
def churn_table() -> pd.DataFrame:
    return synthetic_training_table(2500, task="churn", seed=3)


@pytest.fixture(scope="module")
def churn_result(churn_table: pd.DataFrame):
    return train_model(churn_table, "churn")


# ---------------------------------------------------------------------------------------------- split


def _stack(cutoffs: list[str], n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {"cutoff": pd.to_datetime(np.repeat(cutoffs, n)), "label": np.tile([0, 1], len(cutoffs) * n // 2)}
    )


def test_time_split_purges_label_overlap() -> None:
    df = _stack(["2025-01-01", "2025-02-01", "2025-04-01", "2025-05-01", "2025-07-01"])
    s = time_split(df, horizon_days=60, purge=True)
    assert s.test_cutoff == pd.Timestamp("2025-07-01")
    assert s.validation_cutoff == pd.Timestamp("2025-05-01")  # 2025-05-01 + 60 d <= 2025-07-01
    assert s.train_cutoffs == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]
    assert s.dropped_cutoffs == [pd.Timestamp("2025-04-01")]  # its window reaches past the validation cut-off
    assert not set(s.train_idx) & set(s.validation_idx)
    assert not set(s.validation_idx) & set(s.test_idx)


def test_time_split_without_purge_uses_every_cutoff() -> None:
    df = _stack(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"])
    s = time_split(df, horizon_days=90, purge=False)
    assert (len(s.train_idx), len(s.validation_idx), len(s.test_idx)) == (8, 4, 4)
    assert s.dropped_cutoffs == []


def test_time_split_failures() -> None:
    with pytest.raises(SchemaError, match="at least 3 distinct cut-offs"):
        time_split(_stack(["2025-01-01", "2025-02-01"]), 30)
    with pytest.raises(SchemaError, match="cutoff"):
        time_split(pd.DataFrame({"label": [0, 1]}), 30)
    with pytest.raises(SchemaError, match="label window"):
        time_split(_stack(["2025-01-01", "2025-01-15", "2025-02-01"]), 90, purge=True)


def test_time_split_pools_validation_cutoffs_and_purges_before_the_earliest() -> None:
    df = _stack(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-07-01"])
    s = time_split(df, horizon_days=60, purge=True, n_validation_cutoffs=2)
    assert s.validation_cutoffs == [pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-01")]
    assert s.validation_cutoff == pd.Timestamp("2025-05-01")
    # Training labels must end by the EARLIEST validation cut-off: 2025-02-01 + 60 d > 2025-04-01.
    assert s.train_cutoffs == [pd.Timestamp("2025-01-01")]
    assert s.dropped_cutoffs == [pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01")]
    assert (len(s.train_idx), len(s.validation_idx), len(s.test_idx)) == (4, 8, 4)
    assert s.describe()["validation_cutoffs"] == ["2025-04-01", "2025-05-01"]
    with pytest.raises(SchemaError, match="no training cut-off"):
        time_split(df, horizon_days=60, purge=True, n_validation_cutoffs=4)
    with pytest.raises(SchemaError, match="needs 3 cut-off"):  # only two end a 150-day window by July
        time_split(df, horizon_days=150, purge=True, n_validation_cutoffs=3)


@pytest.mark.parametrize("n_validation", [1, 3])
def test_plan_cutoffs_feeds_time_split_without_drops(n_validation: int) -> None:
    plan = plan_cutoffs(
        "2025-10-01", horizon_days=30, n_train_cutoffs=3, step_days=30, n_validation_cutoffs=n_validation
    )
    assert plan.roles == ["train"] * 3 + ["validation"] * n_validation + ["test"]
    df = _stack([c.isoformat() for c in plan.all])
    s = time_split(df, 30, n_validation_cutoffs=n_validation)
    assert (
        s.dropped_cutoffs == [] and s.train_cutoffs == plan.train and s.validation_cutoffs == plan.validation
    )


def test_plan_cutoffs_shrinks_to_the_history_and_says_so() -> None:
    full = plan_cutoffs("1998-04-01", 90, n_train_cutoffs=12, step_days=30)
    assert full.train[0] < pd.Timestamp("1997-01-01")  # the unchecked plan reaches before the data
    plan = plan_cutoffs(
        "1998-04-01", 90, n_train_cutoffs=12, step_days=30, data_start="1997-01-01", min_history_days=90
    )
    assert min(plan.all) >= pd.Timestamp("1997-04-01")
    assert plan.train == [c for c in full.train if c >= pd.Timestamp("1997-04-01")] and len(plan.train) == 7
    assert plan.validation == full.validation and plan.test == full.test
    assert "7 of 12 training cut-offs" in plan.note and "1997-04-01" in plan.note
    roomy = plan_cutoffs("2025-10-01", 30, n_train_cutoffs=2, data_start="2020-01-01", min_history_days=365)
    assert roomy.note == "" and roomy.all == plan_cutoffs("2025-10-01", 30, n_train_cutoffs=2).all
    # Validation cut-offs shrink too, before the plan gives up.
    some = plan_cutoffs(
        "2025-10-01", 30, 2, n_validation_cutoffs=3, data_start="2025-06-10", min_history_days=0
    )
    assert [c.isoformat()[:10] for c in some.all] == ["2025-07-03", "2025-08-02", "2025-09-01", "2025-10-01"]
    assert "2 of 3 validation cut-offs and 1 of 2 training cut-offs" in some.note


def test_impossible_cutoff_plan_is_one_line_error_naming_the_dates() -> None:
    # CDNOW's 39-week holdout: a purged validation cut-off would fall before the first purchase.
    with pytest.raises(ConfigError) as err:
        plan_cutoffs("1997-09-30", 273, data_start="1997-01-01", min_history_days=30)
    msg = str(err.value)
    assert "\n" not in msg and "1997-01-01" in msg and "1997-01-31" in msg and "1996-12-31" in msg
    # short data: training labels may overlap the validation window before the plan gives up
    relaxed = plan_cutoffs("1998-01-01", 90, data_start="1997-06-15", min_history_days=30)
    assert relaxed.train_gap_days == 30 and relaxed.train[-1] == pd.Timestamp("1997-09-03")
    with pytest.raises(ConfigError, match="latest training cut-off would be 1997-09-03.*at least 240 days"):
        plan_cutoffs("1998-01-01", 90, data_start="1997-09-01", min_history_days=30)
    with pytest.raises(ConfigError, match="test cut-off 1997-02-01 is before"):
        plan_cutoffs("1997-02-01", 30, data_start="1997-01-01", min_history_days=60)
    assert (
        len(TrainParams(task="churn", n_train_cutoffs=12).cutoff_plan("2025-10-01", "2025-01-01").train) < 12
    )


# ---------------------------------------------------------------------------------------------- metrics


def test_metrics_on_hand_built_predictions() -> None:
    y = [0, 0, 0, 1, 1, 1, 0, 1, 0, 0]
    p = [0.1, 0.2, 0.3, 0.9, 0.8, 0.7, 0.4, 0.35, 0.05, 0.15]
    m = binary_metrics(y, p, n_bins=2, top_fraction=0.2)
    # Ranks: positives 0.9, 0.8, 0.7 top; 0.35 is below 0.4 (one of 24 pairs misordered).
    assert m["roc_auc"] == pytest.approx(23 / 24)
    assert m["base_rate"] == pytest.approx(0.4)
    assert m["lift_top10"] == pytest.approx(2.5)  # top 2 both positive: 1.0 / 0.4
    assert m["capture_top10"] == pytest.approx(0.5)
    assert m["brier"] == pytest.approx(np.mean((np.array(p) - np.array(y)) ** 2))


def test_ece_zero_when_calibrated_and_large_when_not() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.005
    assert expected_calibration_error(y, p**3) > 0.1
    assert expected_calibration_error(y, p, strategy="uniform") < 0.005


def test_calibration_table_equal_mass_bins() -> None:
    table = calibration_table(np.r_[np.zeros(50), np.ones(50)], np.linspace(0, 1, 100), n_bins=4)
    assert list(table["n"]) == [25, 25, 25, 25]
    assert list(table["observed_rate"]) == [0, 0, 1, 1]


def test_lift_helpers() -> None:
    assert lift_at([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], 0.25) == (4.0, 1.0)
    t = lift_table([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], n_groups=2)
    assert t["capture"].iloc[-1] == 1.0 and t["lift"].iloc[-1] == 1.0


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 1], [0.2, np.nan], "missing"),
        ([0, 2], [0.2, 0.3], "0 or 1"),
        ([0, 1], [0.2, 1.3], r"\[0, 1\]"),
        ([0], [0.1, 0.2], "differ"),
    ],
)
def test_metrics_reject_bad_input(y, p, match) -> None:
    with pytest.raises(SchemaError, match=match):
        binary_metrics(y, p)


# ---------------------------------------------------------------------------------------------- calibration


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibrator_fixes_distorted_probabilities(method: str) -> None:
    rng = np.random.default_rng(1)
    true = rng.uniform(0.01, 0.99, 20_000)
    y = (rng.uniform(size=true.size) < true).astype(int)
    raw = true**0.3  # systematically too high, same ranking
    cal = ProbabilityCalibrator(method).fit(raw[:10_000, None], y[:10_000])
    fixed = cal.predict(raw[10_000:, None])
    assert expected_calibration_error(y[10_000:], raw[10_000:]) > 0.15
    assert expected_calibration_error(y[10_000:], fixed) < 0.03
    assert np.all(np.diff(cal.predict(np.sort(raw)[:, None])) >= -1e-12)


def test_calibrator_needs_two_classes() -> None:
    with pytest.raises(SchemaError, match="single class"):
        ProbabilityCalibrator().fit([[0.2], [0.3]], [1, 1])


# ---------------------------------------------------------------------------------------------- features


def test_infer_and_prepare_features_handle_categoricals_and_missing_columns() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "cutoff": pd.to_datetime(["2025-01-01"] * 3),
            "recency_days": [1, 2, 3],
            "region": pd.Categorical(["north", "south", None]),
            "oracle_probability": [0.1, 0.2, 0.3],
            "label": [0, 1, 0],
        }
    )
    numeric, categorical = infer_feature_columns(df)
    assert numeric == ["recency_days"] and categorical == ["region"]
    X = prepare_features(
        df.drop(columns=["recency_days"]).assign(region=["south", "mars", None]),
        ["recency_days"],
        {"region": ["north", "south"]},
    )
    assert X["recency_days"].isna().all()
    assert list(X["region"].astype(object).fillna("NA")) == ["south", "NA", "NA"]  # unseen level -> missing
    assert list(X["region"].cat.categories) == ["north", "south"]


def test_btyd_features_transformer(churn_table: pd.DataFrame) -> None:
    tr = churn_table.iloc[:3000]
    btyd = BTYDFeatures(horizon_days=90).fit(tr)
    out = btyd.transform(tr.iloc[:200].assign(btyd_frequency=lambda d: d["btyd_frequency"].mask(d.index < 5)))
    new = out[["btyd_p_alive", "btyd_expected_purchases", "btyd_p_purchase", "btyd_expected_value_12m"]]
    assert new.iloc[:5].isna().all().all()  # missing inputs -> missing outputs, not an error
    valid = new.iloc[5:]
    assert valid["btyd_p_alive"].between(0, 1).all() and valid["btyd_p_purchase"].between(0, 1).all()
    assert (valid["btyd_expected_value_12m"] >= 0).all()
    # More recent buyers (same frequency and age) are more likely alive.
    probe = pd.DataFrame(
        {
            "btyd_frequency": [5, 5],
            "btyd_recency_days": [300, 30],
            "btyd_T_days": [310, 310],
            "btyd_monetary": [20, 20],
        }
    )
    alive = btyd.transform(probe)["btyd_p_alive"].to_numpy()
    assert alive[0] > alive[1]
    assert list(btyd.get_feature_names_out()[-4:]) == list(new.columns)
    with pytest.raises(SchemaError, match="btyd_T_days"):
        BTYDFeatures().fit(tr.drop(columns=["btyd_T_days"]))


def test_baselines_fit_and_predict(churn_table: pd.DataFrame) -> None:
    y = churn_table["label"].to_numpy()
    numeric = ("recency_days", "frequency_orders", "monetary_total", "tenure_days")
    logit = LogisticCandidate(numeric, ("region",) if "region" in churn_table else ()).fit(churn_table, y)
    p = logit.predict_proba(churn_table)[:, 1]
    assert binary_metrics(y, p)["roc_auc"] > 0.75
    bg = BGNBDBaseline("churn", 90).fit(churn_table, y)
    q = bg.predict_proba(churn_table)
    assert q.shape == (len(churn_table), 2) and np.allclose(q.sum(axis=1), 1)
    assert binary_metrics(y, q[:, 1])["roc_auc"] > 0.75
    # A column the logistic reads but the rows lack is all-missing (imputed), not an error.
    assert LogisticCandidate(numeric).fit(churn_table.drop(columns=["recency_days"]), y).predict_proba(
        churn_table
    ).shape == (len(churn_table), 2)


# ---------------------------------------------------------------------------------------------- training


def test_train_churn_meets_floors(churn_result) -> None:
    m = churn_result.metrics
    # Floors that catch a broken pipeline (the synthetic task is easy enough for these margins).
    assert m["model"]["roc_auc"] > 0.85
    assert m["model"]["roc_auc"] >= m["logistic"]["roc_auc"] - 0.002
    assert m["model"]["roc_auc"] >= m["bgnbd"]["roc_auc"] - 0.01
    assert m["model"]["ece"] < 0.06
    assert 0.9 < m["model"]["oracle_auc_ratio"] <= 1.01
    assert set(m) == {"model", "lightgbm", "logistic", "bgnbd", "pareto_nbd", "stack", "oracle"}
    # Never below the best single candidate (the rule of the champion choice).
    assert m["model"]["auc_gap_to_best_single"] >= -0.002
    assert churn_result.data_description["champion"] in ("lightgbm", "logistic", "stack")
    d = churn_result.data_description
    assert d["test_cutoff"] == "2025-10-01" and d["dropped_cutoffs"] == []
    assert "btyd_p_alive" in churn_result.model.feature_names
    assert not any(c in churn_result.test_features for c in ("customer_id", "label", "oracle_probability"))
    assert len(churn_result.calibration) == churn_result.params.ece_bins
    assert churn_result.drivers["mean_abs_shap"].is_monotonic_decreasing


def test_train_repurchase_beats_baselines() -> None:
    result = train_model(synthetic_training_table(2500, task="repurchase", seed=4), "repurchase")
    m = result.metrics
    assert result.params.horizon == 30
    assert m["model"]["roc_auc"] > 0.8
    assert m["model"]["roc_auc"] >= m["logistic"]["roc_auc"]  # the logistic may itself be the champion
    assert m["model"]["ece"] < 0.06


def test_predictions_match_between_result_and_model(churn_result, churn_table: pd.DataFrame) -> None:
    test_rows = churn_table[churn_table["cutoff"] == churn_table["cutoff"].max()]
    p = churn_result.model.predict_proba(test_rows)
    np.testing.assert_allclose(p, churn_result.test_predictions["model"].to_numpy())
    # Strings instead of categories, a missing optional column: still scores.
    loose = test_rows.drop(columns=["complaints_90d"]).assign(region=test_rows["region"].astype(str))
    q = churn_result.model.predict_proba(loose)
    assert q.shape == p.shape and np.all((q >= 0) & (q <= 1))


def test_test_cutoff_labels_never_reach_training_or_calibration(
    churn_table: pd.DataFrame, churn_result
) -> None:
    """Flipping every test-cut-off label changes the evaluation but not a single fitted number."""
    test_mask = churn_table["cutoff"] == churn_table["cutoff"].max()
    flipped = churn_table.assign(label=np.where(test_mask, 1 - churn_table["label"], churn_table["label"]))
    # (the explanations' sample size is the only setting that differs from the defaults of churn_result)
    params = TrainParams(task="churn", shap_sample=100)
    a = churn_result
    b = train_model(flipped, params=params)
    assert a.model.booster.best_iteration == b.model.booster.best_iteration
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
    np.testing.assert_array_equal(a.test_predictions["model"], b.test_predictions["model"])
    assert a.metrics["model"]["roc_auc"] == pytest.approx(1 - b.metrics["model"]["roc_auc"])
    # Control: the labels of every pooled validation cut-off (the earliest included) DO drive early stopping
    # and calibration, so the check above can fail.
    val_cuts = pd.to_datetime(a.data_description["validation_cutoffs"])
    assert len(val_cuts) == params.n_validation > 1
    for val_cut in (val_cuts[0], val_cuts[-1]):
        val_mask = churn_table["cutoff"] == val_cut
        c = train_model(
            churn_table.assign(label=np.where(val_mask, 1 - churn_table["label"], churn_table["label"])),
            params=params,
        )
        assert not np.array_equal(a.test_predictions["model"], c.test_predictions["model"])


def test_train_model_failures(churn_table: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="label"):
        train_model(churn_table.drop(columns=["label"]), "churn")
    with pytest.raises(SchemaError, match="0 or 1"):
        train_model(churn_table.assign(label=2), "churn")
    with pytest.raises(ConfigError, match="disagrees"):
        train_model(churn_table, "repurchase", TrainParams(task="churn"))
    one_class = churn_table.assign(
        label=np.where(churn_table["cutoff"] == churn_table["cutoff"].max(), 1, churn_table["label"])
    )
    with pytest.raises(SchemaError, match="single class in the test"):
        train_model(one_class, "churn")


def test_train_without_btyd_columns_still_trains(churn_table: pd.DataFrame) -> None:
    slim = churn_table.drop(columns=[c for c in churn_table.columns if c.startswith("btyd_")])
    result = train_model(slim, params=TrainParams(task="churn", shap_sample=100))
    assert "bgnbd" not in result.metrics and not result.data_description["btyd_features"]
    assert result.metrics["model"]["roc_auc"] > 0.8


def test_table_digest_changes_with_content() -> None:
    a = pd.DataFrame({"x": [1.0, 2.0]})
    assert table_digest(a) == table_digest(a.copy())
    assert table_digest(a) != table_digest(a.assign(x=[1.0, 2.5]))


def test_params_defaults_and_flat() -> None:
    assert TrainParams(task="repurchase").horizon == 30
    flat = TrainParams().flat()
    assert flat["lightgbm.learning_rate"] == 0.05 and flat["gate.metric"] == "roc_auc"
    with pytest.raises(ValueError):
        TrainParams(calibration="magic")


def test_model_card_mentions_split_and_metrics(churn_result) -> None:
    card = model_card(churn_result, "custml-churn", "abc123")
    assert card.startswith("# Model card: custml-churn")
    assert "2025-10-01" in card and "| roc_auc |" in card and "oracle" in card
    assert (
        f"Shipped candidate: **{churn_result.data_description['champion']}**" in card
        and "pareto_nbd 0." in card
    )


def test_class_imbalance_policy_reweights_only_rare_classes() -> None:
    from custml.models.gbm import fit_booster

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"x": rng.normal(size=4000)})
    y = (rng.uniform(size=4000) < 0.02 + 0.03 * (X["x"] > 1)).astype(int).to_numpy()  # ~2.5 % positives
    means = {}
    for policy in ("auto", "balanced", "none"):
        params = TrainParams(class_imbalance=policy, n_estimators=30, early_stopping_rounds=30)
        booster = fit_booster(X[:3000], y[:3000], X[3000:], y[3000:], params, [])
        means[policy] = booster.predict(X).mean()
    assert means["auto"] == pytest.approx(means["balanced"])  # rare positives: auto re-weights
    assert means["balanced"] > 0.3 > 0.1 > means["none"]  # weighting moves raw scores towards 0.5


def test_season_features_read_the_cutoff(churn_result, churn_table: pd.DataFrame) -> None:
    assert churn_result.model.season_feature and "cutoff_season_sin" in churn_result.model.feature_names
    assert "cutoff" in churn_result.model.input_columns
    rows = churn_table[churn_table["cutoff"] == churn_table["cutoff"].max()].head(50)
    X = churn_result.model.prepare(rows)
    angle = 2 * np.pi * 274 / 365.25  # 2025-10-01 is day 274
    assert np.allclose(X["cutoff_season_sin"], np.sin(angle)) and np.allclose(
        X["cutoff_season_cos"], np.cos(angle)
    )
    assert churn_result.model.prepare(rows.drop(columns=["cutoff"]))["cutoff_season_sin"].isna().all()


def test_experiment_config_loads_and_task_comes_from_the_command(tmp_path) -> None:
    from pathlib import Path

    from custml.cli.train import load_train_params

    default = Path(__file__).resolve().parents[1] / "experiments" / "churn-lgbm-baseline.yaml"
    assert load_train_params("churn", default) == TrainParams(task="churn", btyd_features=False, seed=42)
    cfg = tmp_path / "rep.yaml"
    cfg.write_text("lightgbm:\n  num_leaves: 15\n")
    params = load_train_params("repurchase", cfg)
    assert params.task == "repurchase" and params.horizon == 30 and params.lightgbm.num_leaves == 15
    with pytest.raises(ConfigError, match="command asks for 'repurchase'"):
        load_train_params("repurchase", default)
    cfg.write_text("lightgbm:\n  num_leafs: 15\n")
    with pytest.raises(ConfigError, match="num_leafs"):
        load_train_params("churn", cfg)


def test_optuna_search_uses_validation_only(churn_table: pd.DataFrame) -> None:
    pytest.importorskip("optuna")
    params = TrainParams.model_validate({"task": "churn", "tune": {"n_trials": 2}, "shap_sample": 50})
    result = train_model(churn_table, params=params)
    assert len(result.tuning_trials) == 2 and all("val_roc_auc" in t for t in result.tuning_trials)


def test_optuna_missing_is_a_config_error(churn_table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ImportError
    with pytest.raises(ConfigError, match="optuna"):
        train_model(
            churn_table, params=TrainParams.model_validate({"task": "churn", "tune": {"n_trials": 1}})
        )


def test_calibrated_probabilities_are_never_certain() -> None:
    raw = np.r_[np.linspace(0, 0.1, 50), np.linspace(0.9, 1, 50)]
    y = np.r_[np.zeros(50), np.ones(50)]
    p = ProbabilityCalibrator("isotonic").fit(raw[:, None], y).predict(raw[:, None])
    # the floor, less the score's own tie-break (at most 5e-7)
    assert p.min() == pytest.approx(1e-3, abs=1e-6) and p.max() == pytest.approx(1 - 1e-3, abs=1e-6)


# ---------------------------------------------------------------------------------------------- champion


def test_choose_champion_ships_a_baseline_that_wins_on_validation() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    scores = pd.DataFrame(
        {
            "lightgbm": rng.random(600),  # a booster that learnt nothing
            "logistic": np.clip(0.5 * y + 0.5 * rng.random(600), 0, 1),
            "bgnbd": np.clip(0.2 * y + 0.8 * rng.random(600), 0, 1),
        }
    )
    choice = choose_champion(scores, y, allowed=["lightgbm", "logistic", "bgnbd"])
    assert choice.champion == "logistic" and choice.stacker is None
    assert (
        choice.validation_auc["logistic"] > choice.validation_auc["bgnbd"] > choice.validation_auc["lightgbm"]
    )
    stacked = choose_champion(scores, y)
    assert stacked.champion in ("logistic", "stack") and "stack" in stacked.validation_scores
    assert stacked.validation_auc["stack"] >= stacked.validation_auc["logistic"] - 0.01
    # The stack wins a tie it is part of: it combines the tied scorers.
    if stacked.validation_auc["stack"] >= stacked.validation_auc["logistic"] - 0.0005:
        assert stacked.champion == "stack"
    # A near tie without the stack goes to the first in registry order: the booster.
    tied = scores.assign(lightgbm=scores["logistic"] + rng.normal(0, 1e-3, 600))
    near = choose_champion(tied, y, allowed=["lightgbm", "logistic"], tolerance=0.01)
    assert (
        near.champion == "lightgbm"
        and abs(near.validation_auc["lightgbm"] - near.validation_auc["logistic"]) < 0.01
    )
    # Within one standard error of the paired difference (bootstrap of the validation rows) is a tie too.
    noisy = choose_champion(tied, y, allowed=["lightgbm", "logistic"], tolerance=0.0)
    assert noisy.champion == "lightgbm"
    strict = choose_champion(tied, y, allowed=["lightgbm", "logistic"], tolerance=0.0, n_boot=0)
    assert strict.champion == max(("lightgbm", "logistic"), key=strict.validation_auc.get)
    with pytest.raises(ConfigError, match="unknown candidate"):
        choose_champion(scores.rename(columns={"bgnbd": "xgboost"}), y)


def test_baseline_champion_is_calibrated_and_scores_like_the_result(churn_table: pd.DataFrame) -> None:
    params = TrainParams(task="churn", candidates=["logistic"])
    result = train_model(churn_table, "churn", params)
    assert result.data_description["champion"] == "logistic"
    assert set(result.data_description["candidates_validation_roc_auc"]) >= {
        "lightgbm",
        "logistic",
        "bgnbd",
    }
    test_rows = churn_table[churn_table["cutoff"] == churn_table["cutoff"].max()]
    np.testing.assert_allclose(result.model.predict_proba(test_rows), result.test_predictions["model"])
    m = result.metrics
    # The shipped logistic is the printed one, recalibrated on the validation cut-offs (isotonic: ties only).
    assert abs(m["model"]["roc_auc"] - m["logistic"]["roc_auc"]) < 0.01
    assert {"recency_days", "frequency_orders"} <= set(result.model.input_columns)
    restored = pickle.loads(pickle.dumps(result.model))
    np.testing.assert_allclose(restored.predict_proba(test_rows), result.test_predictions["model"])


def test_paired_bootstrap_and_compare_scorers_on_hand_built_predictions() -> None:
    from custml.models.compare import compare_scorers, paired_bootstrap_auc

    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 800)
    good = y + rng.normal(0, 0.7, 800)
    preds = pd.DataFrame({"label": y, "model": 1 / (1 + np.exp(-good)), "noise": rng.random(800)})
    same = paired_bootstrap_auc(y, preds["model"], preds["model"], n_boot=30)
    assert same["diff"] == 0.0 and same["lo"] == 0.0 and same["hi"] == 0.0
    table = compare_scorers(preds, n_boot=50).set_index("scorer")
    assert table.loc["noise", "auc_diff_lo"] > 0.2 and table.loc["model", "auc_diff"] == 0.0
    with pytest.raises(SchemaError, match="single class"):
        paired_bootstrap_auc(np.zeros(10), np.ones(10), np.ones(10))
    with pytest.raises(SchemaError, match="'model' is missing"):
        compare_scorers(preds.drop(columns=["model"]))
