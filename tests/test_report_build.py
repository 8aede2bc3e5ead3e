"""Report content: KPIs, tables, movement and plain-word findings computed from a scores table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.errors import DataFileError, SchemaError
from custml.report import ReportParams, build_report_data, compute_kpis, sample_previous_scores, sample_scores
from custml.report.format import Category, Count, Message, Money, Percent
from custml.report.scores_table import SCORES_REQUIRED_COLUMNS


def tiny_scores() -> pd.DataFrame:
    """Five customers whose figures are easy to check by hand."""
    return pd.DataFrame(
        {
            "customer_id": ["a1", "b2", "c3", "d4", "e5"],
            "as_of": pd.Timestamp("2025-10-01"),
            "churn_probability": [0.1, 0.6, 0.8, 0.3, 0.9],
            "expected_value_12m": [1000.0, 500.0, 200.0, 100.0, 0.0],
            "revenue_at_risk": [100.0, 300.0, 160.0, 30.0, 0.0],
            "rfm_segment": ["Champions", "At risk", "At risk", None, "Lost"],
            "value_tier": ["high", "high", "medium", "low", "low"],
            "activity_tier": ["active", "dormant", "dormant", "normal", "dormant"],
            "lifecycle_stage": ["loyal", "at risk", "at risk", "prospect", "churned"],
            "recommended_action": [
                "loyalty reward",
                "personal outreach",
                "low-cost reactivation",
                None,
                "no action",
            ],
            "reason_1": ["Bought 3 times", "No purchase for 200 days", "2 complaints", None, None],
        }
    )


def tiny_meta() -> dict:
    """The sidecar of :func:`tiny_scores` as ``custml score`` writes it (a :class:`custml.contracts.ScoreMeta`)."""
    return {
        "schema_version": 1,
        "as_of": "2025-10-01T00:00:00",
        "scored_at": "2025-10-02T06:00:00",
        "currency": "EUR",
        "rows_in": 9,
        "rows_scored": 5,
        "rows_quarantined": 4,
        "quality": {
            "rows_in": 120,
            "rows_kept": 114,
            "rows_quarantined": 6,
            "quarantined_by_table": {"orders": 4, "customers": 2},
            "quarantined_by_reason": {"future_timestamp": 1, "malformed_timestamp": 5},
            "duplicates_merged": 3,
        },
        "models": {
            "churn": {
                "name": "custml-churn",
                "version": "4",
                "metrics": {"roc_auc": 0.83, "lift_top10": 3.2, "capture_top10": 0.32, "base_rate": 0.25},
                "calibration": [
                    {"mean_predicted": 0.1, "observed_rate": 0.12, "n": 80},
                    {"mean_predicted": 0.5, "observed_rate": 0.40, "n": 20},
                ],
                "top_drivers": [
                    {
                        "feature": "orders_90d",
                        "description": "Orders in the last 90 days",
                        "mean_abs_shap": 0.1,
                    },
                    {
                        "feature": "recency_days",
                        "description": "Days since the last purchase",
                        "mean_abs_shap": 0.3,
                    },
                ],
            }
        },
        "drift": [{"feature": "recency_days", "psi": 0.3, "status": "drift", "drifted": True}],
    }


def test_kpis_match_hand_computation() -> None:
    k = compute_kpis(tiny_scores(), high_risk_threshold=0.5)
    assert k.n_customers == 5
    assert k.n_active == 3  # prospect and churned are not active
    assert k.n_high_risk == 3  # 0.6, 0.8, 0.9
    assert k.churn_rate == pytest.approx((0.1 + 0.6 + 0.8) / 3)
    assert k.revenue_at_risk == pytest.approx(590.0)
    assert k.expected_value_12m == pytest.approx(1800.0)
    assert k.high_risk_value_12m == pytest.approx(700.0)


def test_segment_table_orders_known_segments_and_keeps_missing_ones() -> None:
    data = build_report_data(tiny_scores(), tiny_meta())
    seg = data.segments.set_index("segment")
    assert list(seg.index) == ["Champions", "At risk", "Lost", "(none)"]
    assert seg.loc["At risk", "customers"] == 2
    assert seg.loc["At risk", "churn_risk"] == pytest.approx(0.7)
    assert seg.loc["At risk", "high_risk"] == 2
    assert seg.loc["At risk", "revenue_at_risk"] == pytest.approx(460.0)
    assert seg["share_customers"].sum() == pytest.approx(1.0)
    assert seg.loc["At risk", "share_revenue_at_risk"] == pytest.approx(460 / 590)
    assert list(data.lifecycle["stage"]) == ["prospect", "loyal", "at risk", "churned"]


def test_actions_sorted_by_value_with_no_action_last_and_top_customers_are_high_value_at_risk() -> None:
    data = build_report_data(tiny_scores(), tiny_meta())
    assert list(data.actions["action"]) == [
        "personal outreach",
        "low-cost reactivation",
        "loyalty reward",
        "no action",
    ]
    # the null action counts as "no action"
    assert int(data.actions.set_index("action").loc["no action", "customers"]) == 2
    assert list(data.top_customers["customer_id"]) == ["b2"]  # high value and risk >= 0.5
    assert list(data.top_customers.columns)[:3] == ["customer_id", "rfm_segment", "churn_probability"]


def test_value_risk_matrix_and_histogram_count_every_customer() -> None:
    data = build_report_data(tiny_scores(), tiny_meta())
    assert int(data.value_risk.to_numpy().sum()) == 5
    assert data.value_risk.loc["high", "risk_high"] == 1
    assert data.value_risk.loc["low", "risk_medium"] == 1
    assert int(data.risk_histogram["customers"].sum()) == 5


def test_model_quality_and_sentences_come_from_meta() -> None:
    data = build_report_data(tiny_scores(), tiny_meta())
    churn = data.churn_model
    assert churn is not None and churn.version == "4"
    # weighted mean |pred - obs| = (80 * 0.02 + 20 * 0.10) / 100
    assert churn.calibration_gap == pytest.approx(0.036)
    assert list(churn.top_drivers["feature"]) == ["recency_days", "orders_90d"]
    assert churn.top_drivers["share"].tolist() == pytest.approx([0.75, 0.25])
    keys = [m.key for m in data.model_messages]
    assert keys[:4] == ["msg_lift", "msg_lift_ceiling", "msg_calibration_ok", "msg_auc_strong"]
    lift = data.model_messages[0]
    assert lift.params["capture"] == Percent(0.32)
    # with a 25% churn rate a perfect top 10% holds at most 40% of the churners
    assert data.model_messages[1].params["max"] == Percent(0.4)
    assert data.driver_messages[0].key == "msg_top_driver"
    assert data.repurchase_model is None
    assert data.as_of == pd.Timestamp("2025-10-01")


def test_data_quality_section() -> None:
    dq = build_report_data(tiny_scores(), tiny_meta()).data_quality
    assert (dq.rows_in, dq.rows_quarantined, dq.duplicates_merged) == (120, 6, 3)
    assert list(dq.by_reason["reason"]) == ["malformed_timestamp", "future_timestamp"]
    assert dq.by_table["rows"].sum() == 6
    assert len(dq.not_scored) == 0


def test_data_quality_prefers_all_table_counts_and_explains_unscored_customers() -> None:
    """As ``custml score`` writes it: top-level counts are customer records, ``quality`` counts every table."""
    meta = tiny_meta()
    meta.update(rows_not_scored={"merged_duplicates": 3, "quarantined_by_quality": 1})
    meta["quality"].update(rows_in=5000, rows_kept=4994, rows_quarantined=6)
    meta["drift"] = [
        {"feature": "recency_days", "psi": 0.1, "status": "ok", "drifted": False, "model": "churn"},
        {"feature": "recency_days", "psi": 0.3, "status": "drift", "drifted": True, "model": "repurchase"},
        {"feature": "tickets_90d", "psi": None, "status": "ok", "drifted": False, "model": "churn"},
    ]
    dq = build_report_data(tiny_scores(), meta).data_quality
    assert (dq.rows_in, dq.rows_quarantined) == (5000, 6)
    assert dq.not_scored.to_dict("records") == [
        {"reason": "merged_duplicates", "rows": 3},
        {"reason": "quarantined_by_quality", "rows": 1},
    ]
    assert dq.drift["feature"].tolist() == ["recency_days", "tickets_90d"]
    assert dq.drift.loc[0, "psi"] == 0.3 and dq.drift.loc[0, "status"] == "drift"


def test_consider_retraining_follows_the_scoring_runs_drift_verdict() -> None:
    """The sidecar's ``drifted`` flags (PSI and its test) decide, not the PSI band; a sidecar without them is
    older than the shared verdict and is refused in one line, not guessed from its band."""
    meta = tiny_meta()
    meta["drift"] = [
        {"feature": "recency_days", "psi": 0.3, "status": "drift", "drifted": False, "model": "churn"},
        {"feature": "tenure_days", "psi": None, "status": "left out", "drifted": False, "model": "churn"},
        {"feature": "orders_90d", "psi": 0.02, "status": "ok", "drifted": False, "model": "churn"},
    ]
    keys = {m.key: m for m in build_report_data(tiny_scores(), meta).quality_messages}
    assert "msg_drift" not in keys and keys["msg_no_drift"].params["n"].value == 2  # the left-out one is not
    meta["drift"][0]["drifted"] = True
    keys = {m.key for m in build_report_data(tiny_scores(), meta).quality_messages}
    assert "msg_drift" in keys and "msg_no_drift" not in keys
    del meta["drift"][1]["drifted"]
    with pytest.raises(DataFileError, match=r"not a valid scores meta: drift\.1\.drifted: Field required"):
        build_report_data(tiny_scores(), meta)


def test_highlights_name_the_segment_with_most_revenue_at_risk() -> None:
    data = build_report_data(tiny_scores(), tiny_meta())
    top = next(m for m in data.highlights if m.key == "msg_top_risk_segment")
    assert top.params["segment"] == Category("At risk")
    assert top.params["value"] == Money(460.0)
    keys = [m.key for m in data.highlights]
    assert keys == [
        "msg_active_high_risk",
        "msg_lapsed_high_risk",
        "msg_top_risk_segment",
        "msg_high_value_at_risk",
        "msg_actions",
        "msg_first_action",
    ]
    hv = data.highlights[3]
    assert hv.params["n"] == Count(1) and hv.params["value"] == Money(
        300.0
    )  # only b2 is high value and >= 50%
    first = data.highlights[-1]
    assert first.params["action"] == Category("personal outreach") and first.params["value"] == Money(300.0)


def test_headline_counts_active_customers_at_risk_and_the_lapsed_apart() -> None:
    from custml.report.i18n import t

    # high risk (>= 50 %): b2, c3 (lifecycle "at risk": still customers) and e5 (lifecycle "churned": lapsed)
    data = build_report_data(tiny_scores(), tiny_meta())
    head, lapsed = data.highlights[0], data.highlights[1]
    assert head.key == "msg_active_high_risk" and lapsed.key == "msg_lapsed_high_risk"
    assert head.params["n"] == Count(2) and head.params["value"] == Money(700.0)
    assert head.params["share"] == Percent(2 / 3)  # of the 3 active customers (a1, b2, c3)
    assert lapsed.params["n"] == Count(1)
    assert (data.kpis.n_high_risk, data.kpis.n_active_high_risk, data.kpis.n_lapsed_high_risk) == (3, 2, 1)
    # with P(still a customer), c3 (0.2) has most likely gone too: one active at risk, two lapsed
    alive = tiny_scores().assign(p_alive=[0.9, 0.8, 0.2, np.nan, 0.7])
    data = build_report_data(alive, tiny_meta())
    assert data.highlights[0].params["n"] == Count(1) and data.highlights[0].params["value"] == Money(500.0)
    assert data.highlights[1].params["n"] == Count(2)
    assert data.who_to_save is None or data.who_to_save.n_active_at_risk == 1
    # the definition is stated in plain words in both languages
    assert "Active means still a customer" in t("msg_active_high_risk", "en", n="1", share="1", threshold="50%",
                                                value="1")  # fmt: skip
    assert "活跃指仍是客户" in t("msg_active_high_risk", "zh", n="1", share="1", threshold="50%", value="1")


def test_missing_meta_sections_are_left_out_not_errors() -> None:
    data = build_report_data(tiny_scores(), None)
    assert data.churn_model is None
    assert data.model_messages == (Message("msg_no_model_meta"),)
    assert data.data_quality.rows_quarantined is None
    assert data.currency == "EUR"
    assert data.as_of == pd.Timestamp("2025-10-01")  # falls back to the scores' as_of column


@pytest.mark.parametrize("column", SCORES_REQUIRED_COLUMNS)
def test_missing_required_column_names_table_and_column(column: str) -> None:
    with pytest.raises(SchemaError, match=f"scores: column '{column}'"):
        build_report_data(tiny_scores().drop(columns=column), tiny_meta())


def test_bad_values_are_rejected_with_row_counts() -> None:
    bad = tiny_scores()
    bad.loc[[0, 1], "churn_probability"] = [1.5, -0.1]
    with pytest.raises(SchemaError, match=r"churn_probability.*outside \[0, 1\] \(2 rows\)"):
        build_report_data(bad, {})
    dup = tiny_scores()
    dup.loc[1, "customer_id"] = "a1"
    with pytest.raises(SchemaError, match=r"customer_id.*\(1 rows\)"):
        build_report_data(dup, {})
    with pytest.raises(SchemaError, match="table is empty"):
        build_report_data(tiny_scores().iloc[:0], {})


def test_movement_counts_new_gone_and_segment_moves() -> None:
    cur = tiny_scores()
    prev = tiny_scores().iloc[[0, 1, 2, 3]].copy()
    prev.loc[1, "rfm_segment"] = "Loyal"  # b2 moved Loyal -> At risk
    prev.loc[2, "rfm_segment"] = "Loyal"  # c3 moved Loyal -> At risk
    extra = tiny_scores().iloc[[0]].assign(customer_id="zz", rfm_segment="Champions")
    prev = pd.concat([prev, extra], ignore_index=True)
    prev["churn_probability"] = prev["churn_probability"] / 2
    prev["as_of"] = pd.Timestamp("2025-09-01")
    data = build_report_data(cur, tiny_meta(), prev)
    mv = data.movement
    assert mv is not None
    assert (mv.n_new, mv.n_gone, mv.n_stayed, mv.n_moved) == (1, 1, 4, 2)
    assert mv.transitions.iloc[0][["from_segment", "to_segment", "customers"]].tolist() == [
        "Loyal",
        "At risk",
        2,
    ]
    change = mv.segment_change.set_index("segment")["change"]
    assert (
        change["At risk"] == 2 and change["Loyal"] == -2 and change["Lost"] == 1 and change["Champions"] == -1
    )
    assert mv.previous_as_of == pd.Timestamp("2025-09-01")
    assert [m.key for m in data.movement_messages][:3] == [
        "msg_move_churn",
        "msg_move_risk",
        "msg_move_customers",
    ]


def test_params_change_threshold_and_list_length() -> None:
    scores, meta = sample_scores(400, seed=2)
    strict = build_report_data(scores, meta, params=ReportParams(high_risk_threshold=0.8, top_customers=3))
    loose = build_report_data(scores, meta)
    assert strict.kpis.n_high_risk < loose.kpis.n_high_risk
    assert len(strict.top_customers) <= 3
    assert (strict.top_customers["churn_probability"] >= 0.8).all()


def test_sample_scores_follow_the_contract_and_are_reproducible() -> None:
    scores, meta = sample_scores(500, seed=7)
    again, _ = sample_scores(500, seed=7)
    pd.testing.assert_frame_equal(scores, again)
    expected = {
        "customer_id", "as_of", "churn_probability", "repurchase_probability", "expected_value_12m",
        "revenue_at_risk", "rfm_segment", "value_tier", "activity_tier", "lifecycle_stage", "cluster_name",
        "reason_1", "reason_2", "reason_3", "recommended_action", "churn_model_name", "churn_model_version",
        "repurchase_model_name", "repurchase_model_version", "scored_at",
    }  # fmt: skip
    assert set(scores.columns) == expected
    assert scores["customer_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    np.testing.assert_allclose(
        scores["revenue_at_risk"], scores["churn_probability"] * scores["expected_value_12m"], atol=0.01
    )
    assert set(meta["models"]) == {"churn", "repurchase"}
    assert meta["quality"]["rows_quarantined"] == sum(meta["quality"]["quarantined_by_table"].values())
    assert meta["rows_in"] - meta["rows_scored"] == sum(meta["rows_not_scored"].values())
    prev = sample_previous_scores(scores, seed=1)
    assert prev["customer_id"].is_unique and (prev["as_of"] < scores["as_of"].iloc[0]).all()


def test_rows_after_the_as_of_date_are_reported_apart_from_quarantine() -> None:
    from custml.report import render_html

    meta = tiny_meta()
    assert build_report_data(tiny_scores(), meta).data_quality.after_as_of is None
    assert "after the scoring date" not in render_html(
        build_report_data(tiny_scores(), meta), "en", sections={"quality"}
    )
    meta["quality"] = {**meta["quality"], "rows_after_as_of": {"customers": 2, "orders": 5}}
    data = build_report_data(tiny_scores(), meta)
    assert data.data_quality.after_as_of == 7 and data.data_quality.rows_quarantined == 6
    assert "Rows dated after the scoring date" in render_html(data, "en", sections={"quality"})
    assert "评分日之后的行" in render_html(data, "zh", sections={"quality"})


def test_every_section_has_its_words_in_both_languages_and_no_key_twice() -> None:
    """Each section owns its words; gathered, they are the report's labels, and a clash is an error."""
    from custml.report.i18n import LABELS, SHARED_WORDS, gather_words
    from custml.report.sections import ROOMS

    for room in ROOMS:
        assert set(room.words["en"]) == set(room.words["zh"]), room.name
    total = len(SHARED_WORDS["en"]) + sum(len(room.words["en"]) for room in ROOMS)
    assert len(LABELS["en"]) == total  # no key is defined in two places
    with pytest.raises(ValueError, match="'title' .* defined twice"):
        gather_words([SHARED_WORDS, {"en": {"title": "Other"}, "zh": {"title": "别的"}}])


def test_a_meta_of_another_schema_version_is_refused_in_one_line() -> None:
    """No fallback for older sidecars: the contract's version check speaks, in one line."""
    from custml.errors import DataFileError

    with pytest.raises(DataFileError, match=r"scores meta of schema version 0, expected 1") as err:
        build_report_data(tiny_scores(), {**tiny_meta(), "schema_version": 0})
    assert "\n" not in str(err.value)
    broken = tiny_meta()
    del broken["quality"]["rows_kept"]
    with pytest.raises(DataFileError, match=r"not a valid scores meta: quality\.rows_kept"):
        build_report_data(tiny_scores(), broken)


def test_each_section_speaks_only_its_own_words_and_the_shells() -> None:
    """A room owns its words: its template and its module use its own labels and the shared ones only."""
    import inspect
    import re
    from importlib import import_module
    from importlib.resources import files

    from custml.report.i18n import SHARED_WORDS
    from custml.report.sections import ROOMS

    templates = files("custml") / "templates"
    for room in ROOMS:
        own = set(room.words["en"]) | set(SHARED_WORDS["en"])
        template = (templates / room.template).read_text(encoding="utf-8")
        source = inspect.getsource(import_module(f"custml.report.sections.{room.name}"))
        used = set(re.findall(r"L\('(\w+)'", template)) | set(re.findall(r"\bt\(\s*\"(\w+)\"", source))
        used |= set(re.findall(r"Message\(\s*\"(\w+)\"", source)) | set(
            re.findall(r"\"((?:col|dq)_\w+)\"", source)
        )
        assert used, room.name
        assert used <= own, (room.name, sorted(used - own))


def test_the_meta_may_be_the_contract_itself_or_its_json() -> None:
    from custml.contracts import ScoreMeta
    from custml.report import render_html

    scores, meta = sample_scores(150, seed=4)
    typed = ScoreMeta.model_validate(meta)
    assert render_html(build_report_data(scores, typed)) == render_html(build_report_data(scores, meta))
