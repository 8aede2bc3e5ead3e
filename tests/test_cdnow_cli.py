"""The whole CLI path on real data custml did not generate: the raw CDNOW text file and one mapping file.

`custml clean` reads ``CDNOW_sample.txt`` (whitespace-separated, no header, no order id, no customers table)
through ``docs/mappings/cdnow-sample.yaml``; then ``features``, ``train churn``, ``train repurchase``, ``score``
(which re-reads and re-cleans the raw file through the same mapping) and ``report`` run as a user would run them.
Training uses lighter settings (fewer trees and cut-offs) to keep the test short; the data path is the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import skip_or_fail
from scoring_project import project_env

from custml.cli import main
from custml.errors import DataFileError
from custml.privacy import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE

MAPPING = Path(__file__).resolve().parents[1] / "docs" / "mappings" / "cdnow-sample.yaml"
LIGHT_TRAIN = (
    "train:\n  n_estimators: 120\n  early_stopping_rounds: 20\n  shap_sample: 200\n  n_train_cutoffs: 4\n"
)


@pytest.fixture(scope="module")
def cdnow() -> Path:
    from custml.datasets import cdnow_dir

    try:
        return cdnow_dir()
    except DataFileError as exc:
        skip_or_fail(str(exc))
        raise


@pytest.mark.slow
def test_clean_features_train_score_report_on_raw_cdnow(
    cdnow: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, "c" * 32)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)
    root = tmp_path / "project"
    (tmp_path / "light.yaml").write_text(LIGHT_TRAIN, encoding="utf-8")
    interim = root / "data" / "interim"
    with project_env(root):
        assert main(["clean", "--data", str(cdnow), "--mapping", str(MAPPING), "--out", str(interim)]) == 0
        report = json.loads((interim / "quality_report.json").read_text(encoding="utf-8"))
        assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
        assert (
            report["tables"]["orders"]["rows_in"] == 6919 and report["tables"]["customers"]["rows_in"] == 2357
        )
        # the sample's published total, to the cent: nothing lost on the way
        assert report["tables"]["orders"]["net_amount_kept"] == round(
            pd.read_csv(cdnow / "CDNOW_sample.txt", sep=r"\s+", header=None)[4].sum(), 2
        )
        # no manifest: the as-of date is the day after the last order (1998-06-30), as the later steps take it
        assert report["as_of"].startswith("1998-07-01")
        assert main(["features", "--data", str(interim), "--cutoff", "1998-01-01"]) == 0
        assert (root / "data" / "processed" / "features_1998-01-01.parquet").is_file()  # run_features' name
        for task in ("churn", "repurchase"):
            assert (
                main(["train", task, "--data", str(interim), "--config", str(tmp_path / "light.yaml")]) == 0
            )
        scores = tmp_path / "scores.parquet"
        args = ["score", "--data", str(cdnow), "--mapping", str(MAPPING), "--quiet", "--out", str(scores)]
        assert main(args) == 0
        meta = json.loads(scores.with_suffix(".meta.json").read_text(encoding="utf-8"))
        assert meta["rows_in"] == 2357 and meta["currency"] == "USD"
        assert meta["rows_scored"] + sum(meta["rows_not_scored"].values()) == meta["rows_in"]
        assert meta["rows_not_scored"]["quarantined_by_quality"] == 0
        # scored in the middle of the acquisition quarter: later first purchases are not yet customers
        early = tmp_path / "early.parquet"
        assert main([*args[:-1], str(early), "--as-of", "1997-02-15"]) == 0
        early_meta = json.loads(early.with_suffix(".meta.json").read_text(encoding="utf-8"))
        assert early_meta["rows_not_scored"]["not_yet_a_customer"] > 1000
        assert early_meta["rows_not_scored"]["quarantined_by_quality"] == 0
        quality = early_meta["quality"]
        assert quality["customers_not_yet"] == early_meta["rows_not_scored"]["not_yet_a_customer"]
        assert quality["quarantined_by_table"]["customers"] == 0
        assert quality["rows_quarantined"] == sum(quality["quarantined_by_table"].values())
        # the orders placed after the as-of date are not quality losses either: counted apart
        assert quality["orders_after_as_of"] > 1000
        assert quality["quarantined_by_reason"].get("future_timestamp", 0) == 0
        html = tmp_path / "report.html"
        assert main(["report", "--scores", str(scores), "--out", str(html)]) == 0
        assert html.stat().st_size > 10_000
        # the report of the early run names the reason in words, not as a quality loss
        assert main(["report", "--scores", str(early), "--out", str(tmp_path / "early.html")]) == 0
        assert "Not yet a customer on the scoring date" in (tmp_path / "early.html").read_text(
            encoding="utf-8"
        )
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["master", "sample"])
def test_inferred_mapping_matches_the_worked_one(cdnow: Path, kind: str) -> None:
    from custml.sources import infer_mapping, load_mapping

    proposed = infer_mapping(cdnow / f"CDNOW_{kind}.txt")["orders"]
    worked = load_mapping(MAPPING.with_name(f"cdnow-{kind}.yaml")).orders
    assert proposed["delimiter"] == worked.delimiter == "whitespace"
    assert proposed["timestamp_format"] == worked.timestamp_format == "%Y%m%d"
    names = proposed.get("names") or []
    rename = dict(zip(names, worked.names or [], strict=True))
    assert {k: rename.get(v, v) for k, v in proposed["columns"].items()} == worked.columns
