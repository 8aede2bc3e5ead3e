"""Rule-based segmentation: RFM scores and segments, value/activity tiers, lifecycle stages and tags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from custml.config import load_params
from custml.errors import ConfigError, SchemaError
from custml.segment import (
    DEFAULT_RFM_SEGMENTS,
    LIFECYCLE_STAGES,
    ActivityParams,
    LifecycleParams,
    RfmParams,
    RfmSegmentRule,
    SegmentParams,
    TagCondition,
    TagRule,
    ValueTierParams,
    activity_tiers,
    assign_segments,
    cadence_ratio,
    customer_tags,
    lifecycle_stages,
    rfm_grid_frame,
    rfm_scores,
    rfm_segments,
    segment_rules_frame,
    value_tiers,
)
from custml.segment.rules import quintile_scores
from custml.segment.segmentation import SegmentationRunParams

ALL_SEGMENTS = {r.segment for r in DEFAULT_RFM_SEGMENTS} | {"Prospect"}


def frame(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], **cols})


# ---------------------------------------------------------------------------------------------- RFM scores


def test_quintile_scores_distinct_ties_and_missing() -> None:
    assert quintile_scores(pd.Series([5.0, 1, 4, 2, 3])).tolist() == [5, 1, 4, 2, 3]
    assert quintile_scores(pd.Series(range(10), dtype=float)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # ties always share a score
    s = quintile_scores(pd.Series([1.0, 1, 1, 1, 2, 3]))
    assert s.iloc[:4].nunique() == 1
    low = quintile_scores(pd.Series([10.0, np.nan, 20]), higher_is_better=False)
    assert low.iloc[0] > low.iloc[2]
    assert pd.isna(low.iloc[1])


def test_rfm_scores_prospects_are_missing_and_do_not_shift_quantiles() -> None:
    buyers = frame(
        recency_days=[1.0, 10, 50, 100, 300],
        frequency_orders=[9, 5, 3, 2, 1],
        monetary_total=[900.0, 500, 300, 200, 100],
    )
    with_prospect = pd.concat(
        [
            buyers,
            pd.DataFrame(
                {
                    "customer_id": ["p"],
                    "recency_days": [None],
                    "frequency_orders": [None],
                    "monetary_total": [None],
                }
            ),
        ],
        ignore_index=True,
    )
    a = rfm_scores(buyers)
    b = rfm_scores(with_prospect)
    assert a["rfm_score"].tolist() == ["555", "444", "333", "222", "111"]
    pd.testing.assert_frame_equal(a, b.iloc[:5])
    assert b["rfm_score"].iloc[5] is None
    assert b[["r_score", "f_score", "m_score"]].iloc[5].isna().all()


def test_rfm_scores_zero_orders_is_a_prospect() -> None:
    f = frame(recency_days=[10.0, 10], frequency_orders=[0, 1], monetary_total=[0.0, 10])
    assert rfm_scores(f)["rfm_score"].iloc[0] is None


@pytest.mark.parametrize(
    ("recency", "expected_r"),
    [(0.0, 5), (30.0, 5), (31.0, 4), (90.0, 4), (91.0, 3), (365.0, 2), (366.0, 1)],
)
def test_fixed_recency_edges_boundaries(recency: float, expected_r: int) -> None:
    f = frame(recency_days=[recency], frequency_orders=[1], monetary_total=[50.0])
    assert rfm_scores(f, RfmParams(method="fixed"))["r_score"].iloc[0] == expected_r


@pytest.mark.parametrize(("freq", "expected_f"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (10, 5), (50, 5)])
def test_fixed_frequency_edges_boundaries(freq: int, expected_f: int) -> None:
    f = frame(recency_days=[10.0], frequency_orders=[freq], monetary_total=[50.0])
    assert rfm_scores(f, RfmParams(method="fixed"))["f_score"].iloc[0] == expected_f


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "Champions"),
        (5, 4, 3, "Champions"),  # FM = 3.5 rounds up to 4
        (5, 3, 2, "Potential loyalist"),  # FM = 2.5 -> 3
        (5, 1, 1, "New"),
        (4, 1, 1, "Promising"),
        (4, 5, 4, "Loyal"),
        (3, 3, 3, "Need attention"),
        (3, 1, 2, "About to sleep"),
        (2, 3, 4, "At risk"),
        (1, 5, 5, "Cannot lose"),
        (2, 1, 2, "Hibernating"),
        (1, 1, 1, "Lost"),
        (1, 2, 2, "Lost"),
    ],
)
def test_rfm_segment_grid(r: int, f: int, m: int, segment: str) -> None:
    scores = pd.DataFrame({"r_score": [r], "f_score": [f], "m_score": [m]}, dtype="Int8")
    assert rfm_segments(scores).iloc[0] == segment


def test_default_grid_covers_all_cells_once() -> None:
    grid = rfm_grid_frame()
    assert grid.shape == (5, 5)
    assert set(grid.to_numpy().ravel()) == {r.segment for r in DEFAULT_RFM_SEGMENTS}
    assert len(DEFAULT_RFM_SEGMENTS) == 11


def test_mapping_with_overlap_or_gap_is_rejected() -> None:
    rules = list(DEFAULT_RFM_SEGMENTS)
    with pytest.raises(ValidationError, match="claimed by both"):
        RfmParams(segments=(*rules, RfmSegmentRule(segment="Extra", r=(5, 5), fm=(5, 5))))
    with pytest.raises(ValidationError, match="R=1, FM=1"):
        RfmParams(segments=tuple(r for r in rules if r.segment != "Lost"))
    with pytest.raises(ValidationError, match="1 <= low"):
        RfmSegmentRule(segment="Bad", r=(0, 5), fm=(1, 5))


def test_custom_mapping_from_yaml(tmp_path) -> None:
    path = tmp_path / "seg.yaml"
    path.write_text(
        "rfm:\n  segments:\n"
        "    - {segment: Best, r: [4, 5], fm: [1, 5]}\n"
        "    - {segment: Rest, r: [1, 3], fm: [1, 5]}\n"
        "value:\n  method: absolute\n  high_min_value: 500\n  medium_min_value: 100\n",
        encoding="utf-8",
    )
    params = load_params(path, SegmentParams)
    f = frame(
        recency_days=[1.0, 50, 400],
        frequency_orders=[3, 2, 1],
        monetary_total=[600.0, 150, 20],
        revenue_365d=[500.0, 100, 99.99],
    )
    out = assign_segments(f, params)
    assert out["rfm_segment"].tolist() == ["Best", "Rest", "Rest"]
    assert out["value_tier"].tolist() == ["high", "medium", "low"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("rfm:\n  segments:\n    - {segment: Only, r: [1, 3], fm: [1, 5]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="without a segment"):
        load_params(bad, SegmentParams)


def test_params_survive_a_json_round_trip() -> None:
    params = SegmentationRunParams()
    again = SegmentationRunParams.model_validate(params.model_dump(mode="json"))
    assert again == params


# ---------------------------------------------------------------------------------------------- value tiers


def test_value_tiers_quantile_boundaries() -> None:
    values = [np.nan, -5.0, 0.0, *range(10, 101, 10)]  # 10 positive values
    f = pd.DataFrame({"revenue_365d": values})
    tiers = value_tiers(f).tolist()
    assert tiers[:3] == ["low", "low", "low"]
    assert tiers[3:] == ["low"] * 5 + ["medium"] * 3 + ["high"] * 2
    # a value equal to the high threshold (90) is high; ties share the tier
    tied = pd.DataFrame({"revenue_365d": [*range(10, 101, 10), 90.0]})
    assert value_tiers(tied).iloc[-1] == "high"


def test_value_tiers_share_method_is_pareto() -> None:
    f = pd.DataFrame({"revenue_365d": [600.0, 200, 100, 50, 50, 0]})
    # shares before each: 0, .6, .8, .9, .95 -> high only the first (< .5), medium up to < .8
    assert value_tiers(f, ValueTierParams(method="share")).tolist() == [
        "high",
        "medium",
        "low",
        "low",
        "low",
        "low",
    ]


def test_value_tiers_absolute_boundaries() -> None:
    f = pd.DataFrame({"revenue_365d": [1000.0, 999.99, 250, 249.99, None]})
    assert value_tiers(f, ValueTierParams(method="absolute")).tolist() == [
        "high",
        "medium",
        "medium",
        "low",
        "low",
    ]


def test_value_tier_params_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        ValueTierParams(high_top_fraction=0.5, medium_top_fraction=0.3)


# ---------------------------------------------------------------------------------------------- activity


def test_activity_tiers_against_own_cadence_at_thresholds() -> None:
    f = frame(
        recency_days=[30.0, 30.01, 60.0, 60.01, 30.0],
        frequency_orders=[3, 3, 3, 3, 3],
        monetary_total=[1.0] * 5,
        gap_mean_days=[20.0, 20, 20, 20, 10],
    )
    assert activity_tiers(f).tolist() == ["active", "normal", "normal", "dormant", "normal"]


def test_one_order_customers_use_population_cadence() -> None:
    f = frame(
        recency_days=[10.0, 10, 10, 100, 151],
        frequency_orders=[2, 2, 4, 1, 1],
        monetary_total=[1.0] * 5,
        gap_mean_days=[50.0, 100, 200, np.nan, np.nan],
    )
    ratio = cadence_ratio(f)
    # population cadence = median of repeat customers' gaps = 100 days
    assert ratio.iloc[3] == pytest.approx(1.0)
    assert activity_tiers(f).tolist()[3:] == ["active", "normal"]


def test_cadence_floor_and_missing_gap_column() -> None:
    f = frame(recency_days=[14.0], frequency_orders=[5], monetary_total=[1.0], gap_mean_days=[0.5])
    assert cadence_ratio(f).iloc[0] == pytest.approx(2.0)  # gap floored at 7 days
    g = frame(recency_days=[90.0, np.nan], frequency_orders=[5, np.nan], monetary_total=[1.0, np.nan])
    assert cadence_ratio(g).iloc[0] == pytest.approx(1.0)  # default cadence 90 days
    assert activity_tiers(g).tolist() == ["active", "no orders"]


def test_activity_params_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        ActivityParams(active_max_ratio=3, normal_max_ratio=2)


# ---------------------------------------------------------------------------------------------- lifecycle


def _life(**kw: list) -> list[str]:
    base = {"monetary_total": [1.0] * len(kw["recency_days"])}
    return lifecycle_stages(frame(**base, **kw)).tolist()


def test_lifecycle_new_boundaries() -> None:
    stages = _life(
        recency_days=[5.0, 5, 5, 5],
        frequency_orders=[1, 2, 3, 2],
        tenure_days=[90.0, 90, 60, 91],
        gap_mean_days=[np.nan, 40, 20, 40],
    )
    assert stages == ["new", "new", "active", "active"]


def test_lifecycle_churned_boundaries() -> None:
    stages = _life(
        recency_days=[365.0, 366, 181, 180, 181],
        frequency_orders=[10, 10, 10, 10, 10],
        tenure_days=[900.0] * 5,
        gap_mean_days=[100.0, 100, 30, 20, 31],
    )
    # 365 days with cadence 100 -> ratio 3.65: at risk; 366 -> churned by recency;
    # 181 / 30 = 6.03 > 6 and recency > 180 -> churned; 180 / 20 = 9 but recency not > 180 -> at risk;
    # 181 / 31 = 5.8 <= 6 -> at risk
    assert stages == ["at risk", "churned", "churned", "at risk", "at risk"]


def test_lifecycle_loyal_and_active_boundaries() -> None:
    stages = _life(
        recency_days=[10.0, 10, 10],
        frequency_orders=[5, 4, 5],
        tenure_days=[365.0, 700, 364],
        gap_mean_days=[60.0, 60, 60],
    )
    assert stages == ["loyal", "active", "active"]


def test_lifecycle_without_tenure_column() -> None:
    f = frame(recency_days=[10.0], frequency_orders=[6], monetary_total=[1.0], gap_mean_days=[30.0])
    assert lifecycle_stages(f).tolist() == ["loyal"]
    assert lifecycle_stages(f, LifecycleParams(loyal_min_orders=7)).tolist() == ["active"]


# ---------------------------------------------------------------------------------------------- tags


def test_tags_rules_missing_values_and_absent_columns() -> None:
    f = pd.DataFrame(
        {
            "frequency_orders": [1, 3, np.nan],
            "complaints_365d": [np.nan, 2, 5],
            "lifecycle_stage": ["new", "active", "prospect"],
        }
    )
    tags = customer_tags(f).tolist()
    assert tags == ["new;one-time", "returning;complainer", "complainer"]
    rules = (
        TagRule(tag="big", when=(TagCondition(column="x", op=">", value=1),)),
        TagRule(tag="mid", when=(TagCondition(column="lifecycle_stage", op="in", value=["active", "new"]),)),
    )
    assert customer_tags(f, rules).tolist() == ["mid", "mid", ""]


def test_tag_rule_validation() -> None:
    with pytest.raises(ValidationError):
        TagRule(tag="a;b", when=(TagCondition(column="x", op=">", value=1),))
    with pytest.raises(ValidationError):
        TagCondition(column="x", op="in", value=1)


# ---------------------------------------------------------------------------------------------- assign_segments


def test_assign_segments_columns_order_and_labels() -> None:
    f = frame(
        recency_days=[3.0, 400, 60, None],
        frequency_orders=[6, 1, 2, None],
        monetary_total=[900.0, 30, 200, None],
        revenue_365d=[500.0, 0, 200, None],
        tenure_days=[700.0, 500, 80, None],
        gap_mean_days=[40.0, None, 30, None],
        discount_share_365d=[0.1, None, 0.8, None],
        orders_365d=[4, 0, 2, None],
    )
    f.index = [10, 20, 30, 40]
    out = assign_segments(f)
    assert list(out.columns) == [
        "customer_id",
        "rfm_score",
        "r_score",
        "f_score",
        "m_score",
        "rfm_segment",
        "value_tier",
        "activity_tier",
        "lifecycle_stage",
        "tags",
    ]
    assert out["customer_id"].tolist() == ["c0", "c1", "c2", "c3"]
    assert out["rfm_segment"].tolist() == ["Champions", "Lost", "Need attention", "Prospect"]
    assert out["lifecycle_stage"].tolist() == ["loyal", "churned", "new", "prospect"]
    assert out["activity_tier"].tolist() == ["active", "dormant", "normal", "no orders"]
    assert out["tags"].tolist() == ["returning;VIP", "one-time", "new;returning;discount-driven", ""]


def test_assign_segments_schema_errors() -> None:
    f = frame(recency_days=[1.0], frequency_orders=[1], monetary_total=[1.0], revenue_365d=[1.0])
    with pytest.raises(SchemaError, match="'monetary_total'"):
        assign_segments(f.drop(columns="monetary_total"))
    with pytest.raises(SchemaError, match="'revenue_365d'"):
        assign_segments(f.drop(columns="revenue_365d"))
    dup = pd.concat([f, f], ignore_index=True)
    with pytest.raises(SchemaError, match="duplicated"):
        assign_segments(dup)
    with pytest.raises(SchemaError, match="must be numeric"):
        assign_segments(f.assign(recency_days=["x"]))


def test_segment_rules_frame_documents_every_label() -> None:
    doc = segment_rules_frame()
    assert set(doc.loc[doc["kind"] == "rfm_segment", "label"]) == ALL_SEGMENTS
    assert set(doc.loc[doc["kind"] == "lifecycle_stage", "label"]) == set(LIFECYCLE_STAGES)
    assert doc["rule"].str.len().min() > 0


# ---------------------------------------------------------------------------------------------- properties

_num = st.one_of(st.none(), st.floats(min_value=0, max_value=2000, allow_nan=False))


@st.composite
def feature_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=30))
    col = lambda: draw(st.lists(_num, min_size=n, max_size=n))  # noqa: E731
    freq = draw(st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": pd.array(col(), dtype="Float64"),
            "frequency_orders": pd.array(freq, dtype="Int64"),
            "monetary_total": pd.array(col(), dtype="Float64"),
            "revenue_365d": pd.array(col(), dtype="Float64"),
            "tenure_days": pd.array(col(), dtype="Float64"),
            "gap_mean_days": pd.array(col(), dtype="Float64"),
            "complaints_365d": pd.array(col(), dtype="Float64"),
        }
    )


@given(
    feature_frames(),
    st.sampled_from(["quantile", "fixed"]),
    st.sampled_from(["quantile", "share", "absolute"]),
)
def test_every_customer_gets_exactly_one_label_of_each_kind(
    f: pd.DataFrame, rfm_method: str, value_method: str
) -> None:
    params = SegmentParams(rfm=RfmParams(method=rfm_method), value=ValueTierParams(method=value_method))
    out = assign_segments(f, params)
    assert len(out) == len(f)
    assert out["customer_id"].tolist() == f["customer_id"].tolist()
    for col in ("rfm_segment", "value_tier", "activity_tier", "lifecycle_stage", "tags"):
        assert out[col].notna().all(), col
    assert set(out["rfm_segment"]) <= ALL_SEGMENTS
    assert set(out["value_tier"]) <= {"high", "medium", "low"}
    assert set(out["activity_tier"]) <= {"active", "normal", "dormant", "no orders"}
    assert set(out["lifecycle_stage"]) <= set(LIFECYCLE_STAGES)
    prospect = out["lifecycle_stage"] == "prospect"
    assert (out.loc[prospect, "rfm_segment"] == "Prospect").all()
    assert (out.loc[prospect, "activity_tier"] == "no orders").all()
    assert out.loc[~prospect, "rfm_score"].str.fullmatch(r"[1-5]{3}").all()
    assert out.loc[prospect, "rfm_score"].isna().all()
