"""Numbers over time: short-data cut-off plans, the rolling-origin backtest, and bit-identical re-runs.

The 13-month export is written here in the shape real invoice exports have (one row per line, latin-1,
month-first dates, 'C' cancellations, lines without a customer), with a pre-Christmas peak.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scoring_project import project_env

from custml.cli import main
from custml.errors import ConfigError, SchemaError
from custml.models.backtest import backtest_cutoffs, backtest_plans, rolling_backtest
from custml.models.params import TrainParams
from custml.models.split import CutoffPlan, minimum_history_days, plan_cutoffs, split_by_plan
from custml.privacy import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE
from custml.testing import synthetic_training_table

MAPPING = """\
orders:
  file: invoices.csv
  encoding: latin-1
  timestamp_format: "%m/%d/%Y %H:%M"
  currency: GBP
  line_items: true
  order_key: Invoice
  refund_prefix: C
  columns:
    customer_id: Customer ID
    order_ts: InvoiceDate
    n_items: Quantity
    net_amount: Quantity * Price
    category: StockCode
"""
LIGHT = "train:\n  n_estimators: 80\n  early_stopping_rounds: 15\n  shap_sample: 100\n"


def write_invoice_export(folder: Path, n_customers: int = 700, months: int = 13, seed: int = 0) -> Path:
    """A seasonal invoice-line export of ``months`` months from 2009-12-01 (latin-1, month-first dates)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2009-12-01")
    days = (start + pd.DateOffset(months=months) - start).days
    day_index = pd.date_range(start, periods=days, freq="D")
    season = 1.0 + 0.7 * np.exp(-(((day_index.dayofyear.to_numpy() - 320) / 30.0) ** 2))
    rows = []
    invoice = 500_000
    for cid in range(12_000, 12_000 + n_customers):
        rate = rng.gamma(1.2, 10.0) / 365.0  # orders per day
        first = rng.integers(0, days - 30)
        life = rng.exponential(400.0)
        for d in range(first, min(days, first + int(life))):
            if rng.random() < rate * season[d]:
                invoice += 1
                ts = day_index[d] + pd.Timedelta(minutes=int(rng.integers(480, 1080)))
                for _ in range(int(rng.integers(1, 4))):
                    rows.append(
                        (
                            str(invoice),
                            f"S{rng.integers(100, 140)}",
                            "GIFT ÉTOILE",
                            int(rng.integers(1, 12)),
                            f"{ts.month}/{ts.day}/{ts.year} {ts.hour}:{ts.minute:02d}",
                            f"{rng.uniform(0.5, 9.0):.2f}",
                            f"{cid}.0",
                            "United Kingdom",
                        )
                    )
    frame = pd.DataFrame(
        rows,
        columns=[
            "Invoice",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "Price",
            "Customer ID",
            "Country",
        ],
    )
    # a cancellation and a few lines without a customer, as real exports have
    cancel = frame.iloc[[5]].assign(Invoice=lambda f: "C" + f["Invoice"], Quantity=lambda f: -f["Quantity"])
    keyless = frame.iloc[10:14].assign(**{"Customer ID": ""})
    frame = pd.concat([frame, cancel, keyless], ignore_index=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "invoices.csv").write_bytes(frame.to_csv(index=False).encode("latin-1"))
    return folder


# --- short-data plans ---------------------------------------------------------------------------------


def test_short_data_plan_keeps_three_training_cutoffs_by_overlapping_validation_labels() -> None:
    plan = plan_cutoffs(
        "2010-09-09",
        90,
        n_train_cutoffs=12,
        n_validation_cutoffs=3,
        data_start="2009-12-01",
        min_history_days=90,
    )
    assert len(plan.validation) == 1 and len(plan.train) == 3
    assert plan.train_gap_days == 30
    assert plan.validation[0] - plan.train[-1] == pd.Timedelta(days=30)
    # the test cut-off stays purged: no validation label reaches into the test window
    assert plan.test - plan.validation[-1] >= pd.Timedelta(days=90)
    assert "overlapping the validation window" in plan.note and "\n" not in plan.note
    # with enough data nothing is relaxed
    long = plan_cutoffs(
        "2010-09-09",
        90,
        n_train_cutoffs=12,
        n_validation_cutoffs=3,
        data_start="2007-01-01",
        min_history_days=90,
    )
    assert long.note == "" and long.train_gap_days == 90 and len(long.train) == 12


def test_too_short_data_names_the_minimum_history() -> None:
    assert minimum_history_days(90, 90) == 300
    with pytest.raises(ConfigError, match="at least 300 days from its first order"):
        plan_cutoffs("2010-06-01", 90, data_start="2009-12-01", min_history_days=90)


def test_split_by_plan_uses_the_plans_roles_and_fails_on_a_missing_cutoff() -> None:
    plan = CutoffPlan(
        train=[pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-31")],
        validation=[pd.Timestamp("2025-03-02")],
        test=pd.Timestamp("2025-05-31"),
    )
    frame = pd.DataFrame(
        {"cutoff": pd.to_datetime(["2025-01-01", "2025-01-31", "2025-03-02", "2025-05-31"] * 2)}
    )
    split = split_by_plan(frame, plan)
    assert sorted(split.train_idx) == [0, 1, 4, 5] and sorted(split.test_idx) == [3, 7]
    with pytest.raises(
        SchemaError, match=r"training_set: column 'cutoff' has no rows at the test cut-off\(s\) 2025-05-31"
    ):
        split_by_plan(frame.iloc[:3], plan)


# --- the rolling-origin backtest, pure ----------------------------------------------------------------


def test_backtest_plans_share_one_grid_and_skip_origins_that_do_not_fit() -> None:
    params = TrainParams(task="churn", n_train_cutoffs=3)
    plans = backtest_plans(params, "2025-12-30", months=4)
    assert [p.test for p in plans] == sorted(p.test for p in plans)
    grid = backtest_cutoffs(plans)
    steps = {(b - a).days for a, b in zip(grid, grid[1:], strict=False)}
    assert steps == {30}  # one stacked table serves every origin
    fitted = backtest_plans(params, "2025-12-30", months=24, data_start="2024-06-01")
    assert 0 < len(fitted) < 24
    with pytest.raises(ConfigError):
        backtest_plans(params, "2025-12-30", months=0)


def test_rolling_backtest_tabulates_every_scorer_per_month() -> None:
    params = TrainParams(
        task="churn", n_train_cutoffs=2, n_estimators=60, early_stopping_rounds=10, shap_sample=50
    )
    table = synthetic_training_table(1500, task="churn", n_train_cutoffs=6, seed=1, n_validation_cutoffs=1)
    # two origins a quarter apart whose cut-offs the simulated table holds
    plans = [params.cutoff_plan("2025-07-03"), params.cutoff_plan("2025-10-01")]
    result = rolling_backtest(table, plans, params)
    assert set(result.table["test_cutoff"]) == {p.test for p in plans}
    assert {"model", "lightgbm", "logistic"} <= set(result.table["scorer"])
    model = result.scorer("model")
    assert model["ece"].between(0, 1).all() and model["roc_auc"].between(0.5, 1).all()
    # realised rate is the label mean of each test cut-off
    for plan in plans:
        labels = table.loc[pd.to_datetime(table["cutoff"]) == plan.test, "label"]
        assert model.loc[plan.test, "realised_rate"] == pytest.approx(labels.mean())
    assert result.summary["months"] == 2 and result.summary["ece_worst"] >= result.summary["ece_mean"]
    assert len(result.runs) == 2


# --- a 13-month export: trains with defaults, backtests, and re-runs bit for bit ------------------------


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, "e" * 32)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)
    folder = write_invoice_export(tmp_path / "export")
    (tmp_path / "retail.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "light.yaml").write_text(LIGHT, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_13_month_export_trains_with_defaults_and_backtests(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    mapping = str(tmp_path / "retail.yaml")
    with project_env(root):
        assert main(["clean", "--data", str(export), "--mapping", mapping]) == 0
        # no option about cut-offs or purging: the plan shrinks and says so in one line
        assert main(["train", "churn", "--no-register", "--no-uplift"]) == 0
        out = capsys.readouterr().out
        assert "the cut-off plan was shrunk to fit the data" in out
        code = main(
            [
                "backtest",
                "churn",
                "--data",
                str(export),
                "--mapping",
                mapping,
                "--months",
                "2",
                "--config",
                str(tmp_path / "light.yaml"),
            ]
        )
        assert code == 0
        table = pd.read_csv(root / "reports" / "backtest_churn.csv")
        assert table["test_cutoff"].nunique() == 2
        assert {"model", "logistic", "bgnbd", "pareto_nbd"} <= set(table["scorer"])
        assert (root / "reports" / "backtest_churn.png").stat().st_size > 5_000
    captured = capsys.readouterr()
    assert "ece per test month" in captured.out and "Traceback" not in captured.err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_same_data_and_config_give_the_same_model_and_scores_bit_for_bit(
    export: Path, tmp_path: Path
) -> None:
    mapping = str(tmp_path / "retail.yaml")
    digests = []
    for run in ("a", "b"):
        root = tmp_path / run
        with project_env(root):
            assert main(["clean", "--data", str(export), "--mapping", mapping]) == 0
            for task in ("churn", "repurchase"):
                assert main(["train", task, "--no-uplift", "--config", str(tmp_path / "light.yaml")]) == 0
            scores = root / "scores.parquet"
            # The latest versions, promoted or not: on this small export the gate may refuse one (a printed
            # baseline beyond noise), and reproducibility is the point here.
            args = ["score", "--data", str(export), "--mapping", mapping, "--quiet", "--out", str(scores),
                    "--churn-model", "models:/custml-churn@challenger",
                    "--repurchase-model", "models:/custml-repurchase@challenger"]  # fmt: skip
            assert main([*args, "--scored-at", "2011-01-01"]) == 0
            meta = json.loads(scores.with_suffix(".meta.json").read_text(encoding="utf-8"))
            digests.append((_digest(scores), meta["models"]))
    assert digests[0][0] == digests[1][0]
    # the models agree too, but for what MLflow makes unique per run (ids, times)
    differing = {
        (task, k)
        for task, info in digests[0][1].items()
        for k, v in info.items()
        if digests[1][1][task].get(k) != v
    }
    assert differing <= {
        (t, k) for t in ("churn", "repurchase") for k in ("run_id", "trained_at", "created_at")
    }, differing


# --- review: the outlook's population, the champion rule, plan guards -----------------------------------


def test_outlook_population_is_the_churn_labels_and_needs_a_years_history() -> None:
    from custml.scoring.outlook import churn_outlook

    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", None],
            "order_ts": pd.to_datetime(["2025-06-01", "2025-07-01", "2024-09-30", "2025-08-01"]),
            "is_refund": [False, True, False, False],
        }
    )
    scores = pd.DataFrame({"customer_id": ["a", "b", "c"], "churn_probability": [0.1, 0.9, 0.5]})
    out = churn_outlook(scores, orders, "2025-10-01", 90)
    # b's only order is a refund and c's is a day older than a year: neither is in the churn label's population
    assert out.population == 1 and out.expected_rate == pytest.approx(0.1)
    # 366 days of history: no year-earlier population worth a rate, and the history is called short
    assert out.same_season_last_year is None and out.short_history
    # with two years of history (a refund among them) the year-earlier rate is the churn label's
    longer = pd.concat(
        [
            orders,
            pd.DataFrame(
                {
                    "customer_id": ["d", "d"],
                    "order_ts": pd.to_datetime(["2023-09-01", "2024-09-15"]),
                    "is_refund": [False, True],
                }
            ),
        ],
        ignore_index=True,
    )
    out = churn_outlook(scores, longer, "2025-10-01", 90)
    last = out.same_season_last_year
    assert last is not None and last.population == 1 and last.realised_rate == 1.0 and not out.short_history


def test_a_year_of_training_cutoffs_ships_the_booster_and_says_why() -> None:
    from custml.models.train import train_model

    params = TrainParams(
        task="churn", n_train_cutoffs=12, n_validation_cutoffs=1, n_estimators=40, shap_sample=20
    )
    table = synthetic_training_table(1200, task="churn", n_train_cutoffs=12, seed=3, n_validation_cutoffs=1)
    result = train_model(table, params=params)
    assert result.data_description["champion"] == "lightgbm"
    assert result.data_description["champion_rule"] == "seasonal"
    # calibrated on the training year's out-of-fold scores, its level moved to the validation base rate
    assert result.data_description["calibration"].startswith("season")
    calibrator = result.model.calibrator
    assert calibrator.method == "platt" and calibrator.level_ != 0.0
    pooled = pd.to_datetime(result.data_description["validation_cutoffs"])
    validation = table[pd.to_datetime(table["cutoff"]).isin(pooled)]
    assert result.model.predict_proba(validation).mean() == pytest.approx(
        validation["label"].mean(), abs=2e-3
    )
    short = train_model(table[table["cutoff"] >= sorted(table["cutoff"].unique())[8]], params=params)
    assert short.data_description["champion_rule"] == "validation_roc_auc"
    assert short.data_description["calibration"] == "isotonic on the validation cut-offs"
    off = train_model(table, params=params.model_copy(update={"season_calibration": False}))
    assert off.data_description["calibration"] == "isotonic on the validation cut-offs"


def test_split_by_plan_refuses_roles_out_of_order() -> None:
    plan = CutoffPlan(
        train=[pd.Timestamp("2025-03-01")],
        validation=[pd.Timestamp("2025-02-01")],
        test=pd.Timestamp("2025-05-01"),
    )
    frame = pd.DataFrame({"cutoff": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-05-01"])})
    with pytest.raises(ConfigError, match="roles out of order"):
        split_by_plan(frame, plan)


def test_backtest_cli_failure_paths_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with project_env(tmp_path):
        assert main(["backtest", "uplift"]) == 2
        assert main(["backtest", "churn", "--mapping", str(tmp_path / "m.yaml")]) == 2
    err = capsys.readouterr().err
    assert "task must be churn or repurchase" in err and "--mapping needs --data" in err
    assert "Traceback" not in err
