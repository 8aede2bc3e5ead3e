"""custml.contracts: the versioned records between stages round-trip, refuse another version in one line, and
match what today's writers produce."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from quality_world import AS_OF, KEY, raw_world

from custml.contracts import (
    ChurnOutlook,
    Contract,
    DriftRow,
    GateDecision,
    ModelVersionInfo,
    MonitoringResult,
    QualityBlock,
    QualityReport,
    ScoreMeta,
    SegmentationBundle,
    UpliftSummary,
)
from custml.errors import DataFileError


def _score_meta() -> ScoreMeta:
    return ScoreMeta(
        as_of="2025-10-01T00:00:00",
        scored_at="2025-10-02T08:00:00",
        rows_in=3,
        rows_scored=2,
        rows_quarantined=1,
        quality=QualityBlock(
            quarantined_by_table={"customers": 1},
            quarantined_by_reason={"future_timestamp": 1},
            duplicates_merged=0,
            rows_in=10,
            rows_kept=9,
            rows_quarantined=1,
        ),
        models={
            "churn": ModelVersionInfo(
                name="custml-churn",
                version="3",
                run_id="abc",
                metrics={"roc_auc": 0.8, "test_cutoff": "2025-07-01"},
                calibration=[{"mean_predicted": 0.2, "observed_rate": 0.25, "n": 40}],
                top_drivers=[{"feature": "recency_days", "description": "Days.", "mean_abs_shap": 0.3}],
                gate=GateDecision(metric="roc_auc", margin=0.002, promoted=True, reasons=["no champion yet"]),
                horizon_days=90,
            )
        },
        drift=[DriftRow(feature="recency_days", psi=None, status="drift", model="churn", drifted=True)],
        churn_outlook=ChurnOutlook(
            population=2, expected_rate=0.3, horizon_days=90, history_days=400, short_history=False
        ),
        uplift=UpliftSummary(status="disabled"),
    )


RECORDS: list[Contract] = [
    _score_meta(),
    GateDecision(
        metric="brier",
        margin=0.0,
        challenger_score=0.14,
        champion_version="2",
        champion_score=0.15,
        promoted=False,
        reasons=["brier 0.1400 does not beat champion v2", "a note"],
    ),  # fmt: skip
    SegmentationBundle(
        as_of="2025-10-01T00:00:00", cluster_names={0: "Loyal", 3: "Bargain"}, params={"k": 4}
    ),
    MonitoringResult(
        verdict="watch", reasons=["score PSI 0.12"], now="2025-12-01T00:00:00", thresholds={"a": 1}
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip_through_text_and_file(record: Contract, tmp_path: Path) -> None:
    cls = type(record)
    assert cls.read_json(record.to_json()) == record
    path = record.write_json(tmp_path / "sub" / "record.json")
    assert cls.read_json(path) == record and cls.read_json(str(path)) == record
    assert json.loads(path.read_text())["schema_version"] == cls.expected_version() == 1


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_another_version_is_a_one_line_error_naming_file_and_versions(
    record: Contract, tmp_path: Path
) -> None:
    raw = json.loads(record.to_json())
    path = tmp_path / "old.json"
    path.write_text(json.dumps({**raw, "schema_version": 0}))
    with pytest.raises(DataFileError) as err:
        type(record).read_json(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "schema version 0, expected 1" in message and type(record).kind in message
    del raw["schema_version"]  # a file from before the contracts: no fallback either
    path.write_text(json.dumps(raw))
    with pytest.raises(DataFileError, match="schema version None, expected 1"):
        type(record).read_json(path)


def test_broken_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read the scores meta"):
        ScoreMeta.read_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataFileError, match="bad.json: the scores meta is not valid JSON"):
        ScoreMeta.read_json(bad)
    raw = json.loads(_score_meta().to_json())
    raw["models"]["churn"]["horizon_days"] = "ninety"
    raw["surprise"] = 1
    bad.write_text(json.dumps(raw))
    with pytest.raises(DataFileError) as err:
        ScoreMeta.read_json(bad)
    assert "not a valid scores meta: models.churn.horizon_days" in str(err.value)
    assert "(and 1 more)" in str(err.value) and "\n" not in str(err.value)


def test_unknown_keys_are_refused_in_nested_parts() -> None:
    with pytest.raises(ValueError, match="extra"):
        DriftRow.model_validate({"feature": "x", "psi": 0.1, "status": "ok", "colour": "red"})


def test_gate_decision_tags_round_trip_and_refuse_another_version() -> None:
    d = GateDecision(metric="roc_auc", margin=0.002, challenger_score=0.81, promoted=True,
                     reasons=["no champion yet", "note; with a semicolon"])  # fmt: skip
    tags = d.as_tags()
    assert tags["gate.promoted"] == "True" and tags["gate.reason"] == d.reason
    assert tags["gate.champion_score"] == "None"
    assert GateDecision.from_tags({**tags, "other": "x"}, "models:/m/1") == d
    assert GateDecision.from_tags({"custml.task": "churn"}, "models:/m/1") is None
    with pytest.raises(
        DataFileError, match="models:/m/1: gate decision tags of schema version None, expected 1"
    ):
        GateDecision.from_tags({"gate.promoted": "True", "gate.reason": "old"}, "models:/m/1")


def test_json_text_is_named_in_the_error_by_its_holder() -> None:
    with pytest.raises(
        DataFileError, match=r"^models/segmentation\.joblib: segmentation bundle of schema version 2"
    ):
        SegmentationBundle.read_json('{"schema_version": 2}', name="models/segmentation.joblib")


def test_segmentation_bundle_keys_are_cluster_labels() -> None:
    b = SegmentationBundle.read_json(
        '{"schema_version": 1, "as_of": "2025-01-01", "cluster_names": {"2": "x"}}'
    )
    assert b.cluster_names == {2: "x"} and b.params == {}


def test_the_quality_stage_writes_the_contract(tmp_path: Path) -> None:
    from custml.quality import clean_tables

    report = clean_tables(raw_world(), AS_OF, KEY).report
    assert isinstance(report, QualityReport) and report.mode == "raw" and report.dedup is not None
    orders = report.tables["orders"]
    assert orders.rows_in == orders.rows_kept + orders.rows_quarantined
    assert (
        orders.net_amount_in is not None
        and report.reconciliation["orders"].net_amount_after_merge is not None
    )
    assert QualityReport.read_json(report.write_json(tmp_path / "quality_report.json")) == report
    again = clean_tables(clean_tables(raw_world(), AS_OF, KEY).tables, AS_OF, KEY).report
    assert again.mode == "already_clean" and again.dedup is None and again.duplicates_merged == 0


def test_the_scoring_writes_the_contract(tmp_path: Path) -> None:
    from custml.scoring.accounting import scores_meta

    scores = pd.DataFrame({"customer_id": ["a", "b"]})
    drift = pd.DataFrame(
        {"feature": ["x"], "psi": [float("inf")], "status": ["drift"], "model": ["churn"], "drifted": [True]}
    )
    example = _score_meta()
    meta = scores_meta(
        scores,
        as_of="2025-10-01",
        scored_at="2025-10-02",
        rows_in=3,
        rows_quarantined=1,
        quality=example.quality,
        models=example.models,
        drift=drift,
        extra={"churn_outlook": example.churn_outlook, "uplift": {"status": "disabled"}},
    )
    assert (
        meta.drift[0].psi is None
        and meta.rows_scored == 2
        and meta.uplift == UpliftSummary(status="disabled")
    )
    assert ScoreMeta.read_json(meta.write_json(tmp_path / "scores.meta.json")) == meta


def test_the_monitoring_verdict_is_the_contract(tmp_path: Path) -> None:
    from custml.monitoring import HealthThresholds
    from custml.monitoring.files import verdict_record
    from custml.monitoring.health import MonitoringTables

    empty = pd.DataFrame()
    result = MonitoringTables(empty, empty, empty, "retrain", ("AUC dropped",), HealthThresholds())
    verdict = verdict_record(result, pd.Timestamp("2025-12-01"), HealthThresholds())
    assert isinstance(verdict, MonitoringResult) and verdict.thresholds["auc_drop_watch"] == 0.02
    assert MonitoringResult.read_json(verdict.write_json(tmp_path / "verdict.json")) == verdict
