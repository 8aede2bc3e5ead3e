"""Point-in-time features on DuckDB: reference values, edge cases, leakage, catalogue, CDNOW, labels, training sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import skip_or_fail
from features_reference import reference_features
from hypothesis import given, settings
from hypothesis import strategies as st

from custml.errors import SchemaError
from custml.features import (
    FEATURE_CATALOGUE,
    FeatureParams,
    HorizonError,
    available_features,
    build_features,
    build_training_set,
    catalogue_markdown,
    churn_labels,
    feature_catalogue_frame,
    feature_sql,
    get_feature,
    join_oracle,
    reason_text,
    repurchase_labels,
    rolling_cutoffs,
    split_by_cutoff,
)

CUTOFF = pd.Timestamp("2025-10-01")
CDNOW = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow"
ROOT = Path(__file__).resolve().parents[1]


def _orders(rows: list[tuple]) -> pd.DataFrame:
    """Orders from (customer, ts, net, is_refund, n_items, category, channel) tuples; gross = net + 10% discount."""
    df = pd.DataFrame(
        rows, columns=["customer_id", "order_ts", "net_amount", "is_refund", "n_items", "category", "channel"]
    )
    df.insert(0, "order_id", [f"o{i}" for i in range(len(df))])
    df["order_ts"] = pd.to_datetime(df["order_ts"])
    df["discount_amount"] = np.where(df["is_refund"], 0.0, df["net_amount"] * 0.25)
    df["gross_amount"] = df["net_amount"] + df["discount_amount"]
    return df


@pytest.fixture
def world() -> dict[str, pd.DataFrame]:
    """Hand-built tables covering the edge cases the catalogue documents."""
    orders = _orders(
        [
            # one: a single order
            ("one", "2025-09-20 10:00", 40.0, False, 2, "books", "web"),
            # regular: three purchase days, two orders on one day, a refund, one order exactly at cutoff - 30 days
            ("regular", "2025-05-01 09:00", 20.0, False, 1, "books", "web"),
            ("regular", "2025-07-15 18:30", 30.0, False, 3, "music", "app"),
            ("regular", "2025-07-15 20:00", 10.0, False, 1, "music", "app"),
            ("regular", "2025-08-01 12:00", -30.0, True, 3, None, "app"),
            ("regular", "2025-09-01 00:00", 50.0, False, 2, "books", "store"),
            # orders at and after the cutoff instant are invisible
            ("regular", "2025-10-01 00:00", 999.0, False, 9, "toys", "web"),
            ("late", "2025-10-01 00:00", 5.0, False, 1, "toys", "web"),
            ("late", "2025-12-01 00:00", 5.0, False, 1, "toys", "web"),
            # old: only purchases more than a year ago (windows empty, slope over 12 periods of zeros)
            ("old", "2023-02-01 08:00", 100.0, False, 1, "garden", "marketplace"),
            ("old", "2024-01-10 08:00", 60.0, False, 1, "garden", "marketplace"),
        ]
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["one", "regular", "old", "prospect", "future"],
            "signup_date": pd.to_datetime(
                ["2025-09-01", "2025-01-01", "2023-01-01", "2025-06-01", "2025-11-01"]
            ),
            "age_band": ["25-34", "35-44", None, "<25", "65+"],
            "region": ["north", "south", "north", "east", "west"],
            "acquisition_channel": ["organic", "social", "referral", "paid_search", "organic"],
            "loyalty_member": [True, False, None, False, True],
        }
    )
    interactions = pd.DataFrame(
        {
            "interaction_id": [f"i{k}" for k in range(9)],
            "customer_id": ["regular"] * 6 + ["prospect", "one", "regular"],
            "ts": pd.to_datetime(
                [
                    "2025-08-10 10:00",  # complaint resolved before the cutoff
                    "2025-09-25 10:00",  # complaint resolved after the cutoff: open at the cutoff
                    "2025-06-01 10:00",  # survey 2
                    "2025-09-02 10:00",  # survey 4 (latest)
                    "2025-09-15 10:00",  # e-mail sent
                    "2025-09-16 10:00",  # e-mail opened
                    "2025-09-30 23:00",  # prospect: unresolved complaint
                    "2025-09-29 10:00",  # one: app session
                    "2025-10-02 10:00",  # after the cutoff: invisible
                ]
            ),
            "kind": [
                "complaint",
                "complaint",
                "survey",
                "survey",
                "email_sent",
                "email_open",
                "complaint",
                "app_session",
                "complaint",
            ],
            "score": [None, None, 2.0, 4.0, None, None, None, None, None],
            "resolved": [True, True, None, None, None, None, False, None, False],
            "resolution_hours": [48.0, 240.0, None, None, None, None, None, None, None],
        }
    )
    return {"orders": orders, "customers": customers, "interactions": interactions}


def _compare_with_reference(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    cols = [c for c in ref.columns if c != "customer_id"]
    missing = [c for c in cols if c not in got.columns]
    assert not missing, missing
    left = got[["customer_id", *cols]].reset_index(drop=True)
    right = ref[["customer_id", *cols]].reset_index(drop=True).astype({c: "float64" for c in cols})
    left["customer_id"] = left["customer_id"].astype(object)
    right["customer_id"] = right["customer_id"].astype(object)
    pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Reference values and edge cases
# ---------------------------------------------------------------------------------------------------------


def test_engine_matches_pandas_reference_on_edge_cases(world) -> None:
    got = build_features(world, CUTOFF)
    ref = reference_features(world["orders"], CUTOFF, world["customers"], world["interactions"])
    _compare_with_reference(got, ref)


def test_edge_case_values(world) -> None:
    f = build_features(world, CUTOFF).set_index("customer_id")
    # population: customers signed up before the cutoff; 'future' signs up after it, 'late' only orders at/after it
    assert list(f.index) == ["old", "one", "prospect", "regular"]
    one, reg, old, prospect = f.loc["one"], f.loc["regular"], f.loc["old"], f.loc["prospect"]
    # a customer with one order
    assert one["frequency_orders"] == 1 and one["frequency_days"] == 1
    assert np.isnan(one["gap_mean_days"]) and np.isnan(one["overdue_ratio"])
    assert one["btyd_frequency"] == 0 and one["btyd_recency_days"] == 0 and one["btyd_monetary"] == 0
    assert one["btyd_T_days"] == 10  # first purchase day 2025-09-20, last observed day 2025-09-30
    assert np.isnan(one["monthly_spend_slope"])  # a single 30-day period
    assert one["app_sessions_30d"] == 1
    # the order at the cutoff instant is ignored; the one exactly 30 days before is inside the 30-day window
    assert reg["frequency_orders"] == 4 and reg["orders_30d"] == 1 and reg["recency_days"] == 30
    # refunds lower revenue and count as refunds, but are not orders
    assert reg["monetary_total"] == 20 + 30 + 10 - 30 + 50
    assert reg["refunds_90d"] == 1 and reg["refunds_30d"] == 0 and reg["revenue_90d"] == 60
    # two orders on one day: one purchase day
    assert reg["frequency_days"] == 3 and reg["btyd_frequency"] == 2
    assert reg["btyd_monetary"] == pytest.approx((40 + 50) / 2)
    # complaint resolved 10 days after it was opened, i.e. after the cutoff: still open at the cutoff
    assert reg["open_complaints"] == 1 and reg["resolution_hours_mean"] == 48
    assert reg["satisfaction_last"] == 4 and reg["satisfaction_mean"] == 3
    assert reg["email_open_rate_90d"] == 1.0 and np.isnan(one["email_open_rate_90d"])
    assert reg["share_channel_web"] == pytest.approx(0.25)
    # a customer without orders: zero counts and sums, null recency and ratios, profile present
    assert (
        prospect["frequency_orders"] == 0 and prospect["revenue_365d"] == 0 and prospect["n_categories"] == 0
    )
    assert np.isnan(prospect["recency_days"]) and np.isnan(prospect["btyd_frequency"])
    assert prospect["open_complaints"] == 1 and prospect["age_band"] == "<25"
    # nothing in the windows for a customer whose last order is > 1 year old; spend slope over 12 periods of 0
    assert old["orders_365d"] == 0 and old["monthly_spend_slope"] == 0
    assert pd.isna(old["age_band"]) and pd.isna(old["loyalty_member"])
    assert reg["loyalty_member"] == "no" and one["loyalty_member"] == "yes"


def test_output_columns_types_and_order(world) -> None:
    f = build_features(world, CUTOFF)
    names = [s.name for s in FEATURE_CATALOGUE]
    assert list(f.columns) == ["customer_id", "cutoff", *names]
    assert (f["cutoff"] == CUTOFF).all() and f["cutoff"].dtype == "datetime64[ns]"
    for spec in FEATURE_CATALOGUE:
        if spec.dtype == "categorical":
            assert isinstance(f[spec.name].dtype, pd.CategoricalDtype), spec.name
        else:
            assert f[spec.name].dtype == "float64", spec.name
    assert f["customer_id"].is_unique and f["customer_id"].is_monotonic_increasing


def test_orders_only_gives_missing_groups_not_errors(world) -> None:
    orders = world["orders"][["order_id", "customer_id", "order_ts", "net_amount"]]
    f = build_features({"orders": orders}, CUTOFF)
    assert "frequency_orders" in f and "btyd_T_days" in f and "monthly_spend_slope" in f
    for absent in (
        "items_30d",
        "refunds_30d",
        "n_categories",
        "share_channel_web",
        "open_complaints",
        "age_band",
    ):
        assert absent not in f.columns
    # without a customers table: one row per customer with an order before the cutoff
    assert list(f["customer_id"]) == ["old", "one", "regular"]
    # interactions without optional columns: counts yes, satisfaction and open complaints no
    inter = world["interactions"][["interaction_id", "customer_id", "ts", "kind"]]
    g = build_features({"orders": orders, "interactions": inter}, CUTOFF)
    assert "complaints_365d" in g and "satisfaction_last" not in g and "open_complaints" not in g


def test_parquet_paths_and_arrow_give_the_same_frame(world, tmp_path) -> None:
    import pyarrow as pa

    paths = {}
    for name, df in world.items():
        paths[name] = tmp_path / f"{name}.parquet"
        df.to_parquet(paths[name], index=False)
    from_frames = build_features(world, CUTOFF)
    from_paths = build_features(paths, CUTOFF, params=FeatureParams(duckdb_threads=1))
    from_arrow = build_features({k: pa.Table.from_pandas(v) for k, v in world.items()}, CUTOFF)
    pd.testing.assert_frame_equal(from_frames, from_paths)
    pd.testing.assert_frame_equal(from_frames, from_arrow)


def test_time_zone_aware_timestamps_are_read_as_utc(world) -> None:
    aware = dict(world)
    shifted = world["orders"]["order_ts"].dt.tz_localize("UTC").dt.tz_convert("Asia/Shanghai")
    aware["orders"] = world["orders"].assign(order_ts=shifted)
    pd.testing.assert_frame_equal(build_features(world, CUTOFF), build_features(aware, CUTOFF))


def test_inputs_are_not_modified(world) -> None:
    before = {k: v.copy() for k, v in world.items()}
    build_features(world, CUTOFF)
    for name, df in world.items():
        pd.testing.assert_frame_equal(df, before[name])


def test_feature_subset_and_timezone_aware_cutoff(world) -> None:
    f = build_features(world, "2025-10-01T02:00:00+02:00", params=FeatureParams(features=("recency_days",)))
    assert list(f.columns) == ["customer_id", "cutoff", "recency_days"]
    assert f["cutoff"].iloc[0] == CUTOFF


def test_errors_name_table_and_column(world) -> None:
    with pytest.raises(SchemaError, match="orders"):
        build_features({"customers": world["customers"]}, CUTOFF)
    with pytest.raises(SchemaError, match="'order_ts'"):
        build_features({"orders": world["orders"].drop(columns="order_ts")}, CUTOFF)
    text = world["orders"].assign(order_ts=world["orders"]["order_ts"].astype(str))
    with pytest.raises(SchemaError, match="order_ts.*timestamps"):
        build_features({"orders": text}, CUTOFF)
    with pytest.raises(SchemaError, match="interactions: column 'kind'"):
        build_features(
            {"orders": world["orders"], "interactions": world["interactions"].drop(columns="kind")}, CUTOFF
        )
    with pytest.raises(ValueError, match="engine"):
        build_features(world, CUTOFF, engine="pandas")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown features"):
        build_features(world, CUTOFF, params=FeatureParams(features=("nope",)))


# ---------------------------------------------------------------------------------------------------------
# Property tests: random data vs the reference, and no leakage from the future
# ---------------------------------------------------------------------------------------------------------

_IDS = ["a", "b", "c", "d"]
# Offsets in seconds before the cutoff, with the instants that matter: the cutoff itself, window edges, midnight.
_EDGES = [0, 1, 86_400, 30 * 86_400, 90 * 86_400, 120 * 86_400, 360 * 86_400, 365 * 86_400]


@st.composite
def _order_rows(draw, *, after: bool) -> list[tuple]:
    n = draw(st.integers(0 if after else 1, 10))
    rows = []
    for _ in range(n):
        secs = draw(st.one_of(st.sampled_from(_EDGES), st.integers(0, 800 * 86_400)))
        ts = CUTOFF + pd.Timedelta(seconds=secs) if after else CUTOFF - pd.Timedelta(seconds=secs)
        if not after and ts >= CUTOFF:
            ts = CUTOFF - pd.Timedelta(seconds=1)
        refund = draw(st.booleans()) and draw(st.booleans())
        amount = draw(st.integers(1, 400)) / 4  # quarters: every sum is exact in binary
        rows.append(
            (
                draw(st.sampled_from(_IDS)),
                ts,
                -amount if refund else amount,
                refund,
                draw(st.integers(1, 4)),
                draw(st.sampled_from(["books", "music", None])),
                draw(st.sampled_from(["web", "app", "store"])),
            )
        )
    return rows


@st.composite
def _interaction_rows(draw, *, after: bool) -> pd.DataFrame:
    n = draw(st.integers(0, 8))
    kinds = ["support_ticket", "complaint", "survey", "email_sent", "email_open", "app_session"]
    rows = []
    for k in range(n):
        secs = draw(st.one_of(st.sampled_from(_EDGES), st.integers(1, 400 * 86_400)))
        ts = CUTOFF + pd.Timedelta(seconds=secs) if after else CUTOFF - pd.Timedelta(seconds=max(secs, 1))
        kind = draw(st.sampled_from(kinds))
        resolved = (
            draw(st.sampled_from([True, False, None])) if kind in ("support_ticket", "complaint") else None
        )
        hours = float(draw(st.integers(0, 2000))) if resolved else None
        score = float(draw(st.integers(1, 5))) if kind == "survey" else None
        rows.append(
            (f"{'x' if after else 'i'}{k}", draw(st.sampled_from(_IDS)), ts, kind, score, resolved, hours)
        )
    df = pd.DataFrame(
        rows, columns=["interaction_id", "customer_id", "ts", "kind", "score", "resolved", "resolution_hours"]
    )
    df["ts"] = pd.to_datetime(df["ts"])
    df["resolved"] = df["resolved"].astype("boolean")
    df["score"] = df["score"].astype("float64")
    df["resolution_hours"] = df["resolution_hours"].astype("float64")
    return df


def _tables(order_rows: list[tuple], interactions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": _IDS,
            "signup_date": [CUTOFF - pd.Timedelta(days=900)] * 3 + [CUTOFF - pd.Timedelta(days=10)],
            "region": ["n", "s", "e", "w"],
        }
    )
    return {"orders": _orders(order_rows), "customers": customers, "interactions": interactions}


@settings(max_examples=25)
@given(rows=_order_rows(after=False), inter=_interaction_rows(after=False))
def test_random_data_matches_reference(rows, inter) -> None:
    tables = _tables(rows, inter)
    got = build_features(tables, CUTOFF)
    ref = reference_features(tables["orders"], CUTOFF, tables["customers"], tables["interactions"])
    _compare_with_reference(got, ref)


@settings(max_examples=25)
@given(
    rows=_order_rows(after=False),
    inter=_interaction_rows(after=False),
    later_rows=_order_rows(after=True),
    later_inter=_interaction_rows(after=True),
)
def test_events_at_or_after_the_cutoff_never_change_any_feature(rows, inter, later_rows, later_inter) -> None:
    before = _tables(rows, inter)
    after = _tables(rows + later_rows, pd.concat([inter, later_inter], ignore_index=True))
    # and a customer record created after the cutoff
    after["customers"] = pd.concat(
        [after["customers"], pd.DataFrame({"customer_id": ["z"], "signup_date": [CUTOFF], "region": ["n"]})],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(
        build_features(before, CUTOFF), build_features(after, CUTOFF), check_exact=True
    )


# ---------------------------------------------------------------------------------------------------------
# Catalogue and SQL
# ---------------------------------------------------------------------------------------------------------


CONTRACT_NAMES = [
    "recency_days",
    "frequency_orders",
    "frequency_days",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "days_since_signup",
    "revenue_30d_vs_prev90d",
    "monthly_spend_slope",
    "gap_mean_days",
    "gap_std_days",
    "overdue_ratio",
    "n_categories",
    "category_entropy",
    "top_category_share",
    "share_channel_web",
    "share_channel_app",
    "share_channel_store",
    "share_channel_marketplace",
    "tickets_90d",
    "tickets_365d",
    "complaints_90d",
    "complaints_365d",
    "days_since_last_ticket",
    "days_since_last_complaint",
    "open_complaints",
    "resolution_hours_mean",
    "satisfaction_last",
    "satisfaction_mean",
    "email_open_rate_90d",
    "email_click_rate_90d",
    "app_sessions_30d",
    "app_sessions_90d",
    "age_band",
    "region",
    "acquisition_channel",
    "loyalty_member",
    "btyd_frequency",
    "btyd_recency_days",
    "btyd_T_days",
    "btyd_monetary",
] + [
    f"{k}_{w}d"
    for k in ("orders", "revenue", "items", "discount_share", "refunds")
    for w in (30, 90, 180, 365)
]


def test_catalogue_has_every_contract_feature_with_description_and_reasons() -> None:
    names = [s.name for s in FEATURE_CATALOGUE]
    assert set(CONTRACT_NAMES) <= set(names)
    assert len(names) == len(set(names)) >= 60
    for spec in FEATURE_CATALOGUE:
        assert spec.description and "\n" not in spec.description
        assert spec.dtype in ("numeric", "categorical")
        sample = "north" if spec.dtype == "categorical" else 2.5
        assert reason_text(spec.name, sample, "high") and reason_text(spec.name, sample, "low")
    assert reason_text("overdue_ratio", 2.345) == "no order for 2.3x the usual gap"
    assert reason_text("open_complaints", 2.0) == "2 unresolved complaints"
    assert reason_text("recency_days", None).endswith("unknown")
    assert get_feature("revenue_90d").window_days == 90
    with pytest.raises(KeyError):
        get_feature("nope")
    frame = feature_catalogue_frame()
    assert list(frame["name"]) == names


def test_docs_are_generated_from_the_catalogue() -> None:
    doc = ROOT / "docs" / "features.md"
    assert doc.read_text(encoding="utf-8") == catalogue_markdown(), "regenerate docs/features.md"


def test_spark_sql_is_the_transpiled_duckdb_sql() -> None:
    cols = {
        "orders": ["customer_id", "order_ts", "net_amount", "category"],
        "interactions": ["customer_id", "ts", "kind"],
    }
    duck = feature_sql(cols, CUTOFF)
    spark = feature_sql(cols, CUTOFF, dialect="spark")
    assert "arg_min" not in duck  # no satisfaction without a score column
    assert "TIMESTAMP_NTZ" in spark and "FILTER(WHERE" in spark
    assert [s.name for s in available_features(cols)] == [
        s for s in (x.name for x in FEATURE_CATALOGUE) if s in duck
    ]
    with pytest.raises(ValueError, match="dialect"):
        feature_sql(cols, CUTOFF, dialect="oracle")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# CDNOW: any transactions mapped to the contract
# ---------------------------------------------------------------------------------------------------------


def _cdnow(name: str, columns: list[str], header: bool) -> pd.DataFrame:
    path = CDNOW / name
    if not path.is_file():
        skip_or_fail(f"CDNOW data not found at {path}")
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=0 if header else None,
        names=None if header else columns,
        dtype={"customer_id": str, "date": str},
    )
    raw.columns = columns
    return pd.DataFrame(
        {
            "order_id": [str(i) for i in range(len(raw))],
            "customer_id": raw["customer_id"].astype(str),
            "order_ts": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            "n_items": raw["number_of_cds"].astype("int64"),
            "net_amount": raw["dollar_value"].astype(float),
        }
    )


def test_cdnow_master_orders_only() -> None:
    orders = _cdnow("CDNOW_master.txt", ["customer_id", "date", "number_of_cds", "dollar_value"], header=True)
    f = build_features({"orders": orders}, "1998-07-01")
    assert len(f) == 23_570  # the whole cohort, all history before the end of June 1998
    assert f["monetary_total"].sum() == pytest.approx(orders["net_amount"].sum())
    assert f["frequency_orders"].sum() == len(orders)
    assert "items_90d" in f and "open_complaints" not in f and "age_band" not in f
    assert f["btyd_T_days"].max() <= 545 and (f["btyd_recency_days"] <= f["btyd_T_days"]).all()


def test_cdnow_sample_btyd_inputs_match_the_published_summary() -> None:
    orders = _cdnow(
        "CDNOW_sample.txt",
        ["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"],
        header=False,
    )
    # The published summary (calibration ending 1997-09-30, weeks) is keyed by the sample id.
    sample_ids = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str).iloc[:, :2]
    to_sample = dict(zip(sample_ids[0], sample_ids[1].astype(int), strict=False))
    published = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").set_index("ID")
    f = build_features({"orders": orders}, "1997-10-01")
    f.index = f["customer_id"].map(to_sample)
    f = f.loc[published.index]
    np.testing.assert_array_equal(f["btyd_frequency"], published["x"])
    np.testing.assert_allclose(f["btyd_recency_days"] / 7, published["t_x"], atol=0.006)
    np.testing.assert_allclose(f["btyd_T_days"] / 7, published["T"], atol=0.006)
    np.testing.assert_allclose(f["btyd_monetary"], published["zbar"], atol=0.006)
    # and the package's own BTYD summary agrees exactly
    from custml.models.btyd import rfm_summary

    rfm = rfm_summary(orders, "customer_id", "order_ts", "net_amount", observation_end="1997-09-30", freq="D")
    g = build_features({"orders": orders}, "1997-10-01").set_index("customer_id").loc[rfm.index]
    np.testing.assert_allclose(g["btyd_frequency"], rfm["frequency"])
    np.testing.assert_allclose(g["btyd_recency_days"], rfm["recency"])
    np.testing.assert_allclose(g["btyd_T_days"], rfm["T"])
    np.testing.assert_allclose(g["btyd_monetary"], rfm["monetary_value"], rtol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Labels and training sets
# ---------------------------------------------------------------------------------------------------------


def _label_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["stay", "stay", "churn", "dormant", "refund_only", "refund_only", "new"],
            "order_ts": pd.to_datetime(
                [
                    "2025-06-01",
                    "2025-12-29",
                    "2025-09-30 23:59",
                    "2024-01-01",
                    "2025-05-01",
                    "2025-11-01",
                    "2025-10-01 00:00",
                ],
                format="ISO8601",
            ),
            "is_refund": [False, False, False, False, False, True, False],
        }
    )


def test_churn_labels_horizon_and_activity() -> None:
    lab = churn_labels(_label_orders(), CUTOFF, horizon_days=90, active_days=365)
    assert list(lab.columns) == ["customer_id", "cutoff", "churned"]
    # dormant (last order > 365 days ago) and new (first order at the cutoff) are not in the population
    assert dict(zip(lab["customer_id"], lab["churned"], strict=True)) == {
        "churn": True,
        "refund_only": True,  # a refund is not an order
        "stay": False,  # ordered on day 89 of the horizon
    }
    shorter = churn_labels(_label_orders(), CUTOFF, horizon_days=60)
    assert shorter.set_index("customer_id").loc["stay", "churned"]


def test_repurchase_labels() -> None:
    lab = repurchase_labels(_label_orders(), CUTOFF, horizon_days=30)
    assert dict(zip(lab["customer_id"], lab["repurchased"], strict=True)) == {
        "churn": False,
        "dormant": False,
        "refund_only": False,
        "stay": False,
    }
    lab90 = repurchase_labels(_label_orders(), CUTOFF, horizon_days=90)
    assert lab90.set_index("customer_id").loc["stay", "repurchased"]
    with pytest.raises(SchemaError, match="order_ts"):
        repurchase_labels(_label_orders().drop(columns="order_ts"), CUTOFF)


def test_rolling_cutoffs_never_cross_the_data_end() -> None:
    cuts = rolling_cutoffs("2025-12-31 23:59:59", 6, step_days=30, horizon_days=90)
    assert len(cuts) == 6 and cuts == sorted(cuts)
    assert cuts[-1] == pd.Timestamp("2025-10-02")
    assert all(c + pd.Timedelta(days=90) <= pd.Timestamp("2025-12-31 23:59:59") for c in cuts)
    assert all(c == c.normalize() for c in cuts)
    assert (cuts[1] - cuts[0]).days == 30


def test_training_set_stacks_cutoffs_and_refuses_censored_labels(world) -> None:
    tables = {"orders": world["orders"], "customers": world["customers"]}
    cuts = [pd.Timestamp("2025-08-01"), pd.Timestamp("2025-09-01")]
    ts = build_training_set(tables, cuts, "repurchase", horizon_days=30, data_end="2025-12-31")
    assert set(ts["cutoff"]) == set(cuts) and "label" in ts and ts["label"].dtype == "int64"
    assert isinstance(ts["region"].dtype, pd.CategoricalDtype)
    aug = ts[ts["cutoff"] == cuts[0]].set_index("customer_id")
    assert list(aug.index) == ["old", "regular"]  # customers with an order before 2025-08-01
    # 2025-08-01 brings only a refund and 2025-09-01 is past the 30 days: no repurchase
    assert aug.loc["regular", "label"] == 0
    sep = ts[ts["cutoff"] == cuts[1]].set_index("customer_id")
    assert "one" not in sep.index  # first order after that cutoff: not in the repurchase population
    assert sep.loc["regular", "label"] == 1  # ordered at 2025-09-01 00:00, the first instant of the horizon
    churn = build_training_set(tables, cuts, "churn", data_end="2025-12-31")
    assert set(churn["label"].unique()) <= {0, 1}
    with pytest.raises(HorizonError, match="after the end of the data"):
        build_training_set(tables, [pd.Timestamp("2025-11-01")], "churn", data_end="2025-12-31")
    with pytest.raises(ValueError, match="task"):
        build_training_set(tables, cuts, "upsell")  # type: ignore[arg-type]


def test_split_by_cutoff_trains_on_earlier_cutoffs() -> None:
    ts = pd.DataFrame(
        {
            "cutoff": pd.to_datetime(["2025-06-01", "2025-07-01", "2025-08-01", "2025-09-01"]),
            "label": [0, 1, 0, 1],
        }
    )
    train, test = split_by_cutoff(ts)
    assert train["cutoff"].max() < test["cutoff"].min() and len(test) == 1
    purged, _ = split_by_cutoff(ts, horizon_days=60)
    assert list(purged["cutoff"].dt.strftime("%m")) == ["06", "07"]
    with pytest.raises(ValueError):
        split_by_cutoff(ts.iloc[:1])


def test_join_oracle_maps_raw_ids_to_pseudonyms() -> None:
    training = pd.DataFrame(
        {"customer_id": ["p1", "p2", "p3"], "cutoff": pd.to_datetime(["2025-10-01"] * 3), "label": [1, 0, 1]}
    )
    oracle = pd.DataFrame(
        {
            "customer_id": ["r1", "r1b", "r2"],
            "person_id": ["P1", "P1", "P2"],
            "p_no_purchase_90d": [0.7, 0.7, 0.2],
        }
    )
    id_map = pd.DataFrame({"raw_customer_id": ["r1", "r1b", "r2"], "customer_id": ["p1", "p1", "p2"]})
    out = join_oracle(training, oracle, id_map)
    assert list(out["p_no_purchase_90d"].fillna(-1)) == [0.7, 0.2, -1]
    assert "person_id" not in out
    with pytest.raises(SchemaError):
        join_oracle(training, oracle.drop(columns="p_no_purchase_90d"))


# ---------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------


def test_cli_writes_the_feature_table(world, tmp_path) -> None:
    from custml.cli import main

    data = tmp_path / "clean"
    data.mkdir()
    for name, df in world.items():
        df.to_parquet(data / f"{name}.parquet", index=False)
    out = tmp_path / "features.parquet"
    assert main(["features", "--data", str(data), "--cutoff", "2025-10-01", "--out", str(out)]) == 0
    written = pd.read_parquet(out)
    assert len(written) == 4 and written.shape[1] == 2 + len(FEATURE_CATALOGUE)
    assert main(["features", "--data", str(tmp_path / "missing"), "--cutoff", "2025-10-01"]) == 2


def test_each_family_module_holds_the_features_of_its_group_in_catalogue_order() -> None:
    from custml.features.catalogue import FEATURE_GROUPS
    from custml.features.families import FAMILIES

    assert list(FAMILIES) == list(FEATURE_GROUPS)
    for group, specs in FAMILIES.items():
        assert specs and {s.group for s in specs} == {group}
    assert [s.name for specs in FAMILIES.values() for s in specs] == [s.name for s in FEATURE_CATALOGUE]
