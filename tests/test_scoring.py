"""Scoring: the action table, drift (PSI), expected value and score_customers on tiny hand-built frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from custml.config import load_params
from custml.contracts import ModelVersionInfo, QualityBlock, ScoreMeta
from custml.errors import SchemaError
from custml.scoring import (
    DEFAULT_ACTION_TABLE,
    DRIFT_COLUMNS,
    NO_ACTION,
    SCORE_COLUMNS,
    ActionTable,
    DriftThresholds,
    ScoreParams,
    ScoringModel,
    action_table_frame,
    assign_actions,
    drift_reference,
    drift_verdict,
    expected_value_12m,
    feature_drift,
    match_action_rules,
    model_drift,
    population_stability_index,
    score_customers,
    scores_meta,
    training_drift_reference,
)

# ------------------------------------------------------------------------------------------------
# Action table
# ------------------------------------------------------------------------------------------------


def _frame(**cols: list) -> pd.DataFrame:
    base = {
        "churn_probability": 0.1,
        "repurchase_probability": 0.5,
        "value_tier": "low",
        "activity_tier": "active",
        "lifecycle_stage": "active",
    }
    n = max(len(v) for v in cols.values())
    data = {k: cols.get(k, [v] * n) for k, v in base.items()}
    return pd.DataFrame(data)


def test_default_action_table_examples_from_the_issue() -> None:
    frame = _frame(
        value_tier=["high", "medium", "low", "low", "high", "low", "low", "medium"],
        churn_probability=[0.8, 0.7, 0.3, 0.9, 0.1, 0.1, 0.1, 0.3],
        repurchase_probability=[0.5, 0.5, 0.1, 0.5, 0.5, 0.5, 0.5, 0.5],
        activity_tier=["active", "normal", "active", "dormant", "active", "active", "active", "dormant"],
        lifecycle_stage=["active", "loyal", "new", "at risk", "loyal", "active", "churned", "at risk"],
    )
    assert assign_actions(frame).tolist() == [
        "personal outreach",
        "retention offer",
        "onboarding offer",
        "low-cost reactivation",
        "loyalty reward",
        NO_ACTION,
        "low-cost reactivation",
        "win-back offer",
    ]


def test_first_matching_rule_wins_and_missing_values_never_match() -> None:
    # High value, high risk and dormant: outreach comes before win-back in the table.
    frame = _frame(
        value_tier=["high", "high", None],
        churn_probability=[0.9, np.nan, 0.9],
        activity_tier=["dormant", "active", "dormant"],
    )
    idx = match_action_rules(frame)
    assert idx[0] == 0
    # A missing churn probability satisfies no threshold; a missing value tier matches no tier rule.
    assert assign_actions(frame).tolist()[1:] == [NO_ACTION, NO_ACTION]


def test_every_row_gets_exactly_one_action_from_the_table() -> None:
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame(
        {
            "churn_probability": rng.uniform(size=n),
            "repurchase_probability": rng.uniform(size=n),
            "value_tier": rng.choice(["high", "medium", "low"], n),
            "activity_tier": rng.choice(["active", "normal", "dormant", "no orders"], n),
            "lifecycle_stage": rng.choice(["prospect", "new", "active", "loyal", "at risk", "churned"], n),
        }
    )
    actions = assign_actions(frame)
    assert actions.notna().all() and len(actions) == n
    assert set(actions) <= set(DEFAULT_ACTION_TABLE.actions)


def test_action_table_missing_column_names_it() -> None:
    frame = _frame(value_tier=["high"]).drop(columns="churn_probability")
    with pytest.raises(SchemaError, match="churn_probability"):
        assign_actions(frame)


def test_action_table_loads_from_yaml_and_rejects_bad_rules(tmp_path) -> None:
    path = tmp_path / "actions.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "action": "call",
                        "when": [{"column": "churn_probability", "op": ">", "value": 0.5}],
                        "explain": "churn",
                    }
                ],
                "default": "nothing",
            }
        )
    )
    table = load_params(path, ActionTable)
    assert assign_actions(_frame(churn_probability=[0.9, 0.2]), table).tolist() == ["call", "nothing"]
    assert action_table_frame(table)["action"].tolist() == ["call", "nothing"]
    with pytest.raises(ValidationError, match="need a list"):
        ActionTable.model_validate(
            {"rules": [{"action": "x", "when": [{"column": "a", "op": "in", "value": 1}]}]}
        )


def test_action_table_frame_documents_every_rule() -> None:
    doc = action_table_frame()
    assert len(doc) == len(DEFAULT_ACTION_TABLE.rules) + 1
    assert doc.iloc[-1]["action"] == NO_ACTION
    assert "churn_probability >= 0.5" in doc.iloc[0]["when"]


# ------------------------------------------------------------------------------------------------
# Drift
# ------------------------------------------------------------------------------------------------


def test_psi_known_value_and_symmetry_of_zero() -> None:
    assert population_stability_index([0.25] * 4, [0.25] * 4) == pytest.approx(0.0)
    # (0.9-0.5) ln(0.9/0.5) + (0.1-0.5) ln(0.1/0.5)
    assert population_stability_index([1, 1], [9, 1]) == pytest.approx(0.4 * np.log(1.8) + 0.4 * np.log(5))
    with pytest.raises(ValueError):
        population_stability_index([0.5, 0.5], [1.0])


def _training_sample(n: int = 5000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": rng.exponential(60, n),
            "orders_30d": rng.poisson(0.3, n).astype(float),  # mostly zero: ties collapse the bins
            "region": pd.Categorical(rng.choice(["north", "south", "east"], n)),
            "label": rng.integers(0, 2, n),
        }
    )


def test_drift_reference_is_json_and_same_population_is_ok() -> None:
    train = _training_sample()
    ref = drift_reference(train)
    assert set(ref["features"]) == {"recency_days", "orders_30d", "region"}
    ref = json.loads(json.dumps(ref))  # stored as JSON beside the model
    assert len(ref["features"]["orders_30d"]["edges"]) < 9  # ties collapsed
    same = _training_sample(seed=2)
    table = feature_drift(ref, same)
    assert table.columns.tolist() == list(DRIFT_COLUMNS)
    assert (table["status"] == "ok").all() and not table["drifted"].any()


def test_shifted_input_triggers_drift_and_warn() -> None:
    ref = drift_reference(_training_sample())
    shifted = _training_sample(seed=3)
    shifted["recency_days"] = shifted["recency_days"] * 3  # customers much less recent
    shifted.loc[: len(shifted) // 6, "region"] = None  # a sixth of the region values go missing
    table = feature_drift(ref, shifted).set_index("feature")
    assert table.loc["recency_days", "status"] == "drift"
    assert table.loc["region", "status"] in {"warn", "drift"}
    assert table.loc["orders_30d", "status"] == "ok"
    assert table["psi"].is_monotonic_decreasing  # worst first


def test_missing_feature_and_new_category_drift() -> None:
    ref = drift_reference(_training_sample())
    scored = _training_sample(seed=4).drop(columns="orders_30d")
    scored["region"] = "west"  # never seen in training
    table = feature_drift(ref, scored).set_index("feature")
    assert np.isinf(table.loc["orders_30d", "psi"]) and table.loc["orders_30d", "status"] == "drift"
    assert table.loc["region", "status"] == "drift"


def test_drift_thresholds_are_validated_and_used() -> None:
    with pytest.raises(ValidationError):
        DriftThresholds(warn=0.3, drift=0.2)
    ref = drift_reference(_training_sample())
    shifted = _training_sample(seed=5)
    shifted["recency_days"] = shifted["recency_days"] * 1.3
    psi = feature_drift(ref, shifted).set_index("feature").loc["recency_days", "psi"]
    strict = feature_drift(ref, shifted, DriftThresholds(warn=psi / 2, drift=psi * 0.9))
    assert strict.set_index("feature").loc["recency_days", "status"] == "drift"


def test_verdict_needs_psi_and_the_test_and_says_why() -> None:
    ref = drift_reference(_training_sample())
    same = drift_verdict(ref, _training_sample(seed=2))
    assert same.verdict == "ok" and same.drifted.empty
    assert same.reason.startswith("none of 3 features drifted (PSI >= 0.25 and its test")
    moved = _training_sample(seed=3)
    moved["recency_days"] *= 3
    result = drift_verdict(ref, moved)
    row = result.table.set_index("feature").loc["recency_days"]
    assert row["status"] == "drift" and row["test"] == "ks" and row["p_value"] < 1e-6 and row["drifted"]
    assert result.verdict == "drift" and "recency_days (PSI" in result.reason
    assert result.to_meta()["drifted"] == 1 and result.to_meta()["thresholds"]["alpha"] == 0.01
    # A large PSI on a handful of rows is noise: in the drift band, but not drifted, and no alarm.
    few = drift_verdict(ref, moved.head(8))
    assert few.table.set_index("feature").loc["recency_days", "status"] == "drift"
    assert few.verdict == "ok"
    # Thresholds are data: a stricter alpha on the same rows, or a wider band, changes the verdict.
    assert drift_verdict(ref, moved, thresholds=DriftThresholds(warn=5, drift=10)).verdict == "ok"
    with pytest.raises(SchemaError, match="n_rows"):
        drift_verdict({**ref, "n_rows": 0}, moved)


def _cohort(cutoff: str, start: str, n: int, seed: int) -> pd.DataFrame:
    """Customers whose first order falls uniformly between ``start`` and ``cutoff``: tenure grows with time."""
    rng = np.random.default_rng(seed)
    history = (pd.Timestamp(cutoff) - pd.Timestamp(start)).days
    tenure = rng.uniform(0, history, n)
    return pd.DataFrame({"tenure_days": tenure, "orders_90d": rng.poisson(1.0, n).astype(float)})


def test_time_features_are_compared_relative_to_history() -> None:
    start, trained, scored = "2024-01-01", "2025-01-01", "2025-07-01"
    ref = training_drift_reference(_cohort(trained, start, 5000, 1), cutoff=trained, data_start=start)
    assert (
        ref["features"]["tenure_days"]["align"] == "history" and "align" not in ref["features"]["orders_90d"]
    )
    now = _cohort(scored, start, 5000, 2)  # the same business, six months older: tenure up by half
    result = drift_verdict(ref, now, as_of=scored, data_start=start)
    row = result.table.set_index("feature").loc["tenure_days"]
    assert row["compared"] == "relative to history" and row["status"] == "ok" and result.verdict == "ok"
    assert "days since 2024-01-01" in row["note"]
    # Compared as raw days (a reference without alignment), the same rows drift by construction.
    raw = drift_verdict(drift_reference(_cohort(trained, start, 5000, 1)), now)
    assert raw.table.set_index("feature").loc["tenure_days", "drifted"] and raw.verdict == "drift"
    # A real change of the cohort mix (a quarter of the customers brand new) still drifts after alignment.
    surge = now.copy()
    surge.loc[: len(surge) // 4, "tenure_days"] = 5.0
    assert drift_verdict(ref, surge, as_of=scored).verdict == "drift"  # data start from the reference
    # Without an as-of date there is nothing to align on: left out, with the reason, never an alarm.
    blind = drift_verdict(ref, now).table.set_index("feature").loc["tenure_days"]
    assert blind["status"] == "left out" and not blind["drifted"] and "align" in blind["note"]
    assert np.isnan(blind["psi"])


def test_old_reference_leaves_time_features_out_and_scoring_and_models_share_one_verdict() -> None:
    train = _cohort("2025-01-01", "2024-01-01", 4000, 3).assign(recency_days=50.0)
    old = {**drift_reference(train), "version": 1}  # written before alignment: raw days
    table = drift_verdict(old, _cohort("2025-07-01", "2024-01-01", 4000, 4)).table.set_index("feature")
    assert (
        table.loc["tenure_days", "status"] == "left out" and "no history" in table.loc["tenure_days", "note"]
    )
    assert table.loc["recency_days", "drifted"]  # missing from the rows: the model would see it empty
    both = model_drift(
        {"churn": old, "repurchase": None},
        _cohort("2025-07-01", "2024-01-01", 4000, 4).assign(recency_days=50.0, orders_365d=1.0),
        {"churn": ["tenure_days", "orders_90d"]},
    )
    assert both.table.columns[0] == "model" and set(both.table["feature"]) == {"tenure_days", "orders_90d"}
    assert both.verdict == "ok" and "1 left out" in both.reason


def test_drift_reference_rejects_empty_and_unknown_format() -> None:
    with pytest.raises(SchemaError, match="empty"):
        drift_reference(pd.DataFrame({"x": []}))
    with pytest.raises(SchemaError, match="format"):
        feature_drift({"version": 99}, pd.DataFrame({"x": [1.0]}))


# ------------------------------------------------------------------------------------------------
# Expected value
# ------------------------------------------------------------------------------------------------


def _btyd_features(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    big_t = rng.integers(30, 700, n).astype(float)
    lam = rng.gamma(0.5, 1 / 40.0, n)
    x = np.minimum(rng.poisson(lam * big_t), 40).astype(float)
    t_x = np.where(x > 0, np.floor(big_t * rng.beta(np.maximum(x, 1), 1.0)), 0.0)
    m = np.where(x > 0, rng.gamma(5.0, 10.0, n), np.nan)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "btyd_frequency": x,
            "btyd_recency_days": t_x,
            "btyd_T_days": big_t,
            "btyd_monetary": m,
        }
    )
    # Two prospects with no order at all.
    frame.loc[[0, 1], ["btyd_frequency", "btyd_recency_days", "btyd_T_days", "btyd_monetary"]] = np.nan
    return frame


def test_expected_value_is_positive_for_buyers_zero_for_prospects_and_grows_with_frequency() -> None:
    feats = _btyd_features()
    clv = expected_value_12m(feats)
    assert clv["customer_id"].tolist() == feats["customer_id"].tolist()
    v = clv["expected_value_12m"].to_numpy()
    assert v[0] == 0 and v[1] == 0
    assert (v >= 0).all() and np.isfinite(v).all()
    buyers = feats.iloc[2:]
    recent = buyers["btyd_recency_days"] >= buyers["btyd_T_days"] - 30
    heavy = recent & (buyers["btyd_frequency"] >= 5)
    light = recent & (buyers["btyd_frequency"] == 1)
    assert v[2:][heavy.to_numpy()].mean() > v[2:][light.to_numpy()].mean()


def test_expected_value_needs_repeat_buyers_and_columns() -> None:
    feats = _btyd_features(50)
    feats["btyd_frequency"] = 0.0
    with pytest.raises(SchemaError, match="repeat purchase"):
        expected_value_12m(feats)
    with pytest.raises(SchemaError, match="btyd_monetary"):
        expected_value_12m(_btyd_features(50).drop(columns="btyd_monetary"))


# ------------------------------------------------------------------------------------------------
# score_customers
# ------------------------------------------------------------------------------------------------


class _Recorder:
    """A fake model: probability = one feature column; records which customers it was asked to explain."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.explained: list[tuple[str, str]] = []

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.column].to_numpy(dtype=float)

    def explain(self, frame: pd.DataFrame, direction: str, top_k: int) -> pd.DataFrame:
        self.explained += [(cid, direction) for cid in frame["customer_id"]]
        return pd.DataFrame(
            {f"reason_{k + 1}": [f"{self.column} {direction} {k + 1}"] * len(frame) for k in range(top_k)},
            index=frame.index,
        )


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # id: (p_churn, p_rep, value, activity, lifecycle, expected value) -> intended action
    people = {
        "e": (0.9, 0.3, "high", "normal", "active", 50.0),  # personal outreach
        "a": (0.8, 0.3, "medium", "normal", "active", 10.0),  # retention offer
        "d": (0.1, 0.5, "low", "dormant", "at risk", 20.0),  # low-cost reactivation
        "b": (0.2, 0.6, "low", "active", "active", 5.0),  # no action
        "c": (0.1, 0.1, "low", "active", "new", 0.0),  # onboarding offer
        "f": (0.05, 0.7, "high", "active", "loyal", 100.0),  # loyalty reward
    }
    ids = list(people)
    col = {
        k: [people[i][j] for i in ids]
        for j, k in enumerate(["p_churn", "p_rep", "value", "act", "life", "ev"])
    }
    feats = pd.DataFrame({"customer_id": ids, "p_churn": col["p_churn"], "p_rep": col["p_rep"]})
    seg = pd.DataFrame(
        {
            "customer_id": ids,
            "rfm_segment": ["At risk"] * len(ids),
            "value_tier": col["value"],
            "activity_tier": col["act"],
            "lifecycle_stage": pd.Categorical(col["life"]),
        }
    ).iloc[::-1]
    clv = pd.DataFrame({"customer_id": ids, "expected_value_12m": col["ev"]}).sample(frac=1, random_state=0)
    clusters = pd.DataFrame(
        {"customer_id": ids, "cluster_name": ["big spenders"] * 3 + ["bargain hunters"] * 3}
    )
    return feats, seg, clv, clusters


def _models() -> tuple[_Recorder, _Recorder, ScoringModel, ScoringModel]:
    rc, rr = _Recorder("p_churn"), _Recorder("p_rep")
    return (
        rc,
        rr,
        ScoringModel("custml-churn", "3", rc.predict, rc.explain),
        ScoringModel("custml-repurchase", "7", rr.predict, rr.explain),
    )


def test_score_customers_contract_columns_values_and_actions() -> None:
    feats, seg, clv, clusters = _inputs()
    rc, rr, churn, rep = _models()
    out = score_customers(
        feats, churn, rep, seg, clv, clusters, as_of="2025-10-01", scored_at="2025-10-02 08:00:00"
    )
    assert tuple(out.columns) == SCORE_COLUMNS
    assert out["customer_id"].tolist() == ["a", "b", "c", "d", "e", "f"]
    row = out.set_index("customer_id")
    assert row.loc["e", "churn_probability"] == 0.9
    assert row.loc["e", "revenue_at_risk"] == pytest.approx(0.9 * 50.0)
    assert row.loc["e", "recommended_action"] == "personal outreach"
    assert row.loc["a", "recommended_action"] == "retention offer"
    assert row.loc["c", "recommended_action"] == "onboarding offer"
    assert row.loc["b", "recommended_action"] == NO_ACTION
    assert row.loc["d", "recommended_action"] == "low-cost reactivation"
    assert row.loc["f", "recommended_action"] == "loyalty reward"
    assert row.loc["e", "cluster_name"] == "big spenders"
    assert (
        row.loc["a", "churn_model_version"] == "3"
        and row.loc["a", "repurchase_model_name"] == "custml-repurchase"
    )
    assert out["as_of"].iloc[0] == pd.Timestamp("2025-10-01")
    assert out["lifecycle_stage"].map(type).eq(str).all()  # categoricals flattened to plain strings
    # Reasons: only actioned customers whose rule asks for them, from the right model and direction.
    assert rc.explained == [("e", "up")]  # the retention offer (a) is a standard automated action
    assert rr.explained == [("c", "down")]
    assert row.loc["e", "reason_1"] == "p_churn up 1" and row.loc["c", "reason_3"] == "p_rep down 3"
    assert row.loc[["a", "b", "d", "f"], "reason_1"].isna().all()


def test_score_customers_same_result_whatever_chunking_and_input_order() -> None:
    feats, seg, clv, clusters = _inputs()
    kw = {"as_of": "2025-10-01", "scored_at": "2025-10-02"}
    a = score_customers(feats, *_models()[2:], seg, clv, clusters, **kw)
    b = score_customers(
        feats.sample(frac=1, random_state=1),
        *_models()[2:],
        seg,
        clv,
        clusters,
        params=ScoreParams(chunk_size=1),
        **kw,
    )
    pd.testing.assert_frame_equal(a, b)


def test_reason_policies_all_none_and_cap() -> None:
    feats, seg, clv, clusters = _inputs()
    kw = {"as_of": "2025-10-01", "scored_at": "2025-10-02"}
    rc, rr, churn, rep = _models()
    out = score_customers(feats, churn, rep, seg, clv, params=ScoreParams(reasons="all"), **kw)
    assert out["reason_1"].notna().all() and len(rc.explained) == 5 and len(rr.explained) == 1
    out = score_customers(feats, *_models()[2:], seg, clv, params=ScoreParams(reasons="none"), **kw)
    assert out["reason_1"].isna().all()
    rc, rr, churn, rep = _models()
    out = score_customers(feats, churn, rep, seg, clv, params=ScoreParams(max_explained=1), **kw)
    # Highest revenue at risk among the two that want reasons (e: 0.9 * 50, c: 0.1 * 0).
    assert rc.explained == [("e", "up")] and rr.explained == []
    assert out["reason_1"].notna().sum() == 1
    assert out["cluster_name"].isna().all()


def test_precomputed_probabilities_bypass_predict() -> None:
    feats, seg, clv, _ = _inputs()

    def boom(_: pd.DataFrame) -> np.ndarray:
        raise AssertionError("predict must not be called")

    model = ScoringModel("m", "1", boom)
    probs = pd.DataFrame(
        {"customer_id": feats["customer_id"], "churn_probability": 0.5, "repurchase_probability": 0.5}
    )
    out = score_customers(
        feats, model, model, seg, clv, probabilities=probs, as_of="2025-10-01", scored_at="2025-10-02"
    )
    assert (out["churn_probability"] == 0.5).all()


def test_score_customers_failure_paths_name_the_table() -> None:
    feats, seg, clv, clusters = _inputs()
    churn, rep = _models()[2:]
    kw = {"as_of": "2025-10-01", "scored_at": "2025-10-02"}
    with pytest.raises(SchemaError, match=r"segments: column 'customer_id' has no row .*\(1 rows\)"):
        score_customers(feats, churn, rep, seg.iloc[1:], clv, **kw)
    with pytest.raises(SchemaError, match="features: column 'customer_id' has duplicated"):
        score_customers(pd.concat([feats, feats.iloc[:1]]), churn, rep, seg, clv, **kw)
    with pytest.raises(SchemaError, match="empty"):
        score_customers(feats.iloc[:0], churn, rep, seg, clv, **kw)
    with pytest.raises(SchemaError, match="clv: column 'expected_value_12m'"):
        score_customers(feats, churn, rep, seg, clv.drop(columns="expected_value_12m"), **kw)


def test_scores_meta_has_contract_keys_and_json_safe_drift() -> None:
    feats, seg, clv, _ = _inputs()
    out = score_customers(feats, *_models()[2:], seg, clv, as_of="2025-10-01", scored_at="2025-10-02")
    drift = pd.DataFrame(
        {"feature": ["x", "y"], "psi": [np.inf, 0.01], "status": ["drift", "ok"], "drifted": [True, False]}
    )
    meta = scores_meta(
        out,
        as_of="2025-10-01",
        scored_at="2025-10-02",
        rows_in=8,
        rows_quarantined=2,
        quality=QualityBlock(
            quarantined_by_table={},
            quarantined_by_reason={},
            duplicates_merged=0,
            rows_in=8,
            rows_kept=8,
            rows_quarantined=0,
        ),  # fmt: skip
        models={"churn": ModelVersionInfo(name="custml-churn", version="3")},
        drift=drift,
        extra={"engine": "spark", "rows_not_scored": {"no_features_at_as_of": 2}},
    )
    assert isinstance(meta, ScoreMeta) and meta.engine == "spark"
    assert meta.rows_in == meta.rows_scored + meta.rows_quarantined
    assert meta.drift[0].feature == "x" and meta.drift[0].psi is None and meta.drift[0].status == "drift"
    json.loads(meta.to_json())  # JSON-safe: inf became null
    assert ScoreMeta.read_json(meta.to_json()) == meta
    with pytest.raises(ValueError, match="colour"):
        scores_meta(
            out, as_of="2025-10-01", scored_at="2025-10-02", rows_in=8, rows_quarantined=2,
            quality=meta.quality, models={}, drift=None, extra={"colour": "red"},
        )  # fmt: skip


def test_expected_value_scales_with_the_currency() -> None:
    feats = _btyd_features()
    scaled = feats.assign(btyd_monetary=feats["btyd_monetary"] * 8)
    base = expected_value_12m(feats)["expected_value_12m"].to_numpy()
    np.testing.assert_allclose(
        expected_value_12m(scaled)["expected_value_12m"].to_numpy(), base * 8, rtol=1e-4
    )


def test_docs_list_every_action_of_the_default_table() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "scoring.md").read_text(encoding="utf-8")
    for i, row in action_table_frame().iterrows():
        assert f"| {i + 1} | {row['action']} |" in doc, row["action"]


def test_expected_value_fit_on_a_sample_is_reproducible_and_close() -> None:
    from custml.scoring import ClvParams

    feats = _btyd_features()
    full = expected_value_12m(feats, ClvParams(fit_sample_size=None))["expected_value_12m"]
    a = expected_value_12m(feats, ClvParams(fit_sample_size=800))["expected_value_12m"]
    b = expected_value_12m(feats, ClvParams(fit_sample_size=800))["expected_value_12m"]
    pd.testing.assert_series_equal(a, b)
    assert a.sum() == pytest.approx(full.sum(), rel=0.15)
