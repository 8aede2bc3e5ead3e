"""Package functions the notebooks use: CDNOW loaders, BTYD holdout checks, synth/quality figures, masking."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from conftest import skip_or_fail

from custml import datasets
from custml.errors import DataFileError, SchemaError
from custml.models.btyd import BetaGeoFitter, rfm_summary
from custml.models.btyd_eval import (
    cumulative_repeat_purchases,
    holdout_by_frequency,
    plot_cumulative_repeat_purchases,
    plot_holdout_by_frequency,
)
from custml.privacy import _build_needles as build_needles
from custml.privacy import scan_text
from custml.quality.masking import mask_email, mask_frame, mask_name, mask_phone
from custml.quality.plots import (
    label_pairs,
    plot_match_probabilities,
    plot_quarantine_by_reason,
    quarantine_counts,
)
from custml.synth.plots import dirt_summary, order_counts, plot_order_counts

# --------------------------------------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------------------------------------

SAMPLE_TEXT = (
    " 00004 0001 19970101  2   29.33\n 00004 0001 19970118  2   29.73\n 00018 0002 19970101  1   10.00\n"
)
MASTER_TEXT = (
    " customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n 00001 19970101  2   5.00\n"
)


def test_parse_cdnow_sample_and_master_give_contract_orders() -> None:
    s = datasets.parse_cdnow_transactions(SAMPLE_TEXT, "sample")
    assert s["customer_id"].tolist() == ["1", "1", "2"]
    assert s["order_id"].is_unique
    assert s["order_ts"].tolist() == list(pd.to_datetime(["1997-01-01", "1997-01-18", "1997-01-01"]))
    assert s["net_amount"].tolist() == [29.33, 29.73, 10.0]
    assert not s["is_refund"].any()
    m = datasets.parse_cdnow_transactions(MASTER_TEXT, "master")
    assert m["customer_id"].tolist() == ["1", "1"]
    assert m["order_id"].tolist() == ["1-0", "1-1"]
    assert m["n_items"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="kind"):
        datasets.parse_cdnow_transactions(SAMPLE_TEXT, "other")  # type: ignore[arg-type]


def test_cdnow_dir_honours_the_environment_and_fails_with_the_places_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "shared" / "data" / "cdnow"
    folder.mkdir(parents=True)
    (folder / "CDNOW_sample.txt").write_text(SAMPLE_TEXT)
    monkeypatch.setenv(datasets.ENV_SHARED_DIR, str(tmp_path / "shared"))
    assert datasets.cdnow_dir() == folder
    assert len(datasets.load_cdnow_transactions("sample")) == 3
    # nothing anywhere: a DataFileError naming the folders tried
    monkeypatch.setenv(datasets.ENV_SHARED_DIR, str(tmp_path / "nowhere"))
    monkeypatch.setattr(datasets, "_candidates", lambda name="cdnow": [tmp_path / "nowhere"])
    with pytest.raises(DataFileError, match="nowhere"):
        datasets.cdnow_dir()


def test_real_cdnow_sample_loads_as_published_when_available() -> None:
    try:
        datasets.cdnow_dir()
    except DataFileError:
        skip_or_fail("CDNOW data not available on this machine")
    tx = datasets.load_cdnow_transactions("sample")
    assert tx["customer_id"].nunique() == 2357
    assert len(tx) == 6919
    summary = datasets.load_cdnow_summary()
    assert list(summary.columns) == ["ID", "x", "t_x", "T", "zbar"]
    assert list(datasets.load_cdnow_summary(with_transactions=False).columns) == [
        "ID",
        "frequency",
        "recency",
        "T",
    ]


# --------------------------------------------------------------------------------------------------------
# BTYD holdout checks
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_transactions() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for c in range(200):
        first = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 60)))
        n = int(rng.poisson(2))
        days = sorted({0, *rng.integers(1, 500, size=n).tolist()})
        rows += [(f"c{c}", first + pd.Timedelta(days=d), 10.0 + d % 7) for d in days]
    return pd.DataFrame(rows, columns=["customer_id", "order_ts", "net_amount"])


def test_holdout_by_frequency_pools_the_tail_and_sums_to_the_totals(tiny_transactions: pd.DataFrame) -> None:
    s = rfm_summary(
        tiny_transactions, "customer_id", "order_ts", "net_amount",
        observation_end="2021-06-30", calibration_end="2020-09-30",
    )  # fmt: skip
    bg = BetaGeoFitter(penalizer_coef=0.01).fit(s["frequency"], s["recency"], s["T"])
    table = holdout_by_frequency(bg, s, max_frequency=2)
    assert table.index.tolist() == ["0", "1", "2+"]
    assert table["customers"].sum() == len(s)
    assert table["actual_total"].sum() == s["frequency_holdout"].sum()
    expected = bg.conditional_expected_number_of_purchases_up_to_time(
        s["duration_holdout"], s["frequency"], s["recency"], s["T"]
    )
    assert table["predicted_total"].sum() == pytest.approx(np.sum(expected))
    ax = plot_holdout_by_frequency(table).axes[0]
    actual, predicted = ax.get_lines()
    np.testing.assert_allclose(actual.get_ydata(), table["actual"])
    np.testing.assert_allclose(predicted.get_ydata(), table["predicted"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2+"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", "predicted"]
    with pytest.raises(SchemaError, match="frequency_holdout"):
        holdout_by_frequency(bg, s.drop(columns="frequency_holdout"))


def test_cumulative_repeat_purchases_counts_repeat_days_only(tiny_transactions: pd.DataFrame) -> None:
    s = rfm_summary(tiny_transactions, "customer_id", "order_ts", None, observation_end="2021-06-30")
    # a small penalty: this tiny homogeneous cohort would otherwise push the BG/NBD parameters to infinity
    bg = BetaGeoFitter(penalizer_coef=0.01).fit(s["frequency"], s["recency"], s["T"])
    table = cumulative_repeat_purchases(tiny_transactions, bg, start="2020-01-01", end="2021-06-30")
    days = tiny_transactions.assign(day=tiny_transactions["order_ts"].dt.normalize()).drop_duplicates(
        ["customer_id", "day"]
    )
    repeats = len(days) - days["customer_id"].nunique()
    assert table["actual"].iloc[-1] == repeats
    assert table["actual"].is_monotonic_increasing and table["expected"].is_monotonic_increasing
    assert table["expected"].iloc[0] >= 0
    ax = plot_cumulative_repeat_purchases(table, calibration_end="2020-09-30").axes[0]
    actual, expected, calibration_line = ax.get_lines()
    np.testing.assert_allclose(actual.get_ydata(), table["actual"])
    np.testing.assert_allclose(expected.get_ydata(), table["expected"])
    assert calibration_line.get_label() == "end of calibration"
    assert ax.get_ylabel() == "cumulative repeat purchases"
    with pytest.raises(SchemaError, match="order_ts"):
        cumulative_repeat_purchases(tiny_transactions.drop(columns="order_ts"), bg)


# --------------------------------------------------------------------------------------------------------
# synth and quality figures
# --------------------------------------------------------------------------------------------------------


def test_order_counts_fill_gaps_skip_refunds_and_parse_text() -> None:
    orders = pd.DataFrame(
        {
            "order_ts": ["2024-01-01 10:00:00", "2024-01-03T02:00:00+08:00", "n/a", "2024-01-03 09:00:00"],
            "is_refund": [False, False, False, True],
        }
    )
    counts = order_counts(orders, "D")
    # the +08:00 value is 2024-01-02 18:00 UTC; "n/a" is dropped, the refund is left out
    assert counts.to_dict() == {pd.Timestamp("2024-01-01"): 1, pd.Timestamp("2024-01-02"): 1}
    ax = plot_order_counts(counts, marks={"2024-01-02": "peak"}).axes[0]
    line, mark = ax.get_lines()
    assert line.get_ydata().tolist() == [1, 1]
    assert [t.get_text() for t in ax.texts] == ["peak"] and ax.get_ylabel() == "orders"
    with pytest.raises(SchemaError, match="order_ts"):
        order_counts(orders.drop(columns="order_ts"))


def test_dirt_summary_counts_each_anomaly() -> None:
    orders = pd.DataFrame(
        {
            "order_id": ["a", "a", "b", "c", "d"],
            "order_ts": [
                "2024-01-01 10:00:00",
                "2024-01-01 10:00:00",
                "2099-01-01 00:00:00",
                "",
                "2024-02-01T01:00:00+08:00",
            ],
            "net_amount": [5.0, 5.0, -3.0, 1.0, -2.0],
            "is_refund": [False, False, False, False, True],
        }
    )
    customers = pd.DataFrame({"email": ["ok@x.org", "bad@", None], "phone": [None, "1", "2"]})
    got = dirt_summary(orders, customers, "2025-12-31 23:59:59").set_index("anomaly")["rows"].to_dict()
    assert got["repeated order row"] == 1
    assert got["future timestamp"] == 1
    assert got["unparseable timestamp"] == 1
    assert got["timestamp with zone offset"] == 1
    assert got["negative amount (not a refund)"] == 1
    assert got["invalid e-mail"] == 1
    assert got["missing phone"] == 1


def test_quarantine_counts_and_plot() -> None:
    from custml.contracts import QualityReport

    def table(n: int, reasons: dict[str, int]) -> dict[str, object]:
        q = sum(reasons.values())
        return {"rows_in": n, "rows_kept": n - q, "rows_quarantined": q, "rows_out": n - q,
                "quarantined_by_reason": reasons}  # fmt: skip

    tables = {
        "orders": table(10, {"future_timestamp": 3, "exact_duplicate_row": 2}),
        "interactions": table(4, {"future_timestamp": 1}),
    }
    report = QualityReport.model_validate(
        {"as_of": "2025-01-01", "mode": "raw", "rows_in": 14, "rows_kept": 8, "rows_quarantined": 6,
         "quarantined_by_table": {"orders": 5, "interactions": 1},
         "quarantined_by_reason": {"future_timestamp": 4, "exact_duplicate_row": 2}, "tables": tables}
    )  # fmt: skip
    counts = quarantine_counts(report)
    assert counts.loc["future_timestamp"].tolist() == [3, 1]
    assert counts.loc["exact_duplicate_row", "interactions"] == 0
    ax = plot_quarantine_by_reason(report).axes[0]
    # one bar per reason and table (2 x 2), stacked; the totals written beside the bars
    assert len(ax.patches) == 4
    assert sorted(t.get_text().strip() for t in ax.texts) == ["2", "4"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["orders", "interactions"]
    with pytest.raises(SchemaError, match="tables"):
        quarantine_counts(report.model_copy(update={"tables": {}}))


def test_label_pairs_and_match_plot() -> None:
    pairs = pd.DataFrame(
        {
            "id_a": ["a", "a", "c"],
            "id_b": ["b", "c", "d"],
            "weight": [12.0, -3.0, 1.0],
            "probability": [1, 0, 0.5],
        }
    )
    truth = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "person_id": ["P1", "P1", "P2", "P3"]})
    same = label_pairs(pairs, truth)
    assert same.tolist() == [True, False, False]
    ax = plot_match_probabilities(pairs, same, threshold=0.9).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["different persons (2)", "same person (1)"]
    assert legend[2].startswith("threshold p=0.9")
    assert ax.get_xlabel() == "match weight (log2 odds)"
    with pytest.raises(SchemaError, match="id_b"):
        label_pairs(pairs.drop(columns="id_b"), truth)


# --------------------------------------------------------------------------------------------------------
# masking
# --------------------------------------------------------------------------------------------------------


def test_masked_values_are_not_found_by_the_pii_scanner() -> None:
    raw = pd.DataFrame(
        {
            "name": ["Anna Smith", "王小明"],
            "email": ["anna.smith+shop@example.org", "xiaoming@qq.com"],
            "phone": ["+1 415-555-0112", "+8613812345678"],
            "birth_date": pd.to_datetime(["1980-02-03", "1990-06-01"]),
            "address": ["1 Main Street", "北京市"],
        }
    )
    masked = mask_frame(raw)
    assert "address" not in masked
    assert masked["birth_date"].tolist() == [1980, 1990]
    assert masked["name"].tolist() == ["A. S.", "王•••"]
    assert masked["email"].tolist() == ["a•••@example.org", "x•••@qq.com"]
    assert masked["phone"].tolist() == ["•••12", "•••78"]
    needles = build_needles(raw)
    assert sum(scan_text(raw.to_string(), needles).values()) > 0  # the positive control
    assert sum(scan_text(masked.to_string(), needles).values()) == 0
    assert mask_email(None) is None and mask_phone(float("nan")) is None and mask_name(pd.NA) is None
    assert mask_email("not-an-email") == "n•••"
    assert raw["name"].tolist() == ["Anna Smith", "王小明"]  # input untouched


@pytest.mark.parametrize("name", ["01-synthetic-world", "02-data-quality", "06-repurchase-and-clv"])
def test_committed_notebook_outputs_carry_no_email_or_phone(name: str) -> None:
    """Examples in notebooks are masked: no e-mail address or phone number pattern in the committed file."""
    from custml.privacy import scan_for_pii

    path = Path(__file__).resolve().parents[1] / "notebooks" / f"{name}.ipynb"
    assert path.is_file(), f"{path.name} is missing: the notebooks are committed"
    result = scan_for_pii(path, None)
    assert not result.found, result.summary()
