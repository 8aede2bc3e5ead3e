"""Paths/settings, YAML parameters and table I/O."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from pydantic import BaseModel

from custml.config import ProjectPaths, find_project_root, get_paths, load_params, tracking_uri
from custml.errors import ConfigError, DataFileError
from custml.io import read_json, read_table, read_tables, write_json, write_table


class _Params(BaseModel):
    horizon_days: int = 90
    name: str


def test_project_root_from_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    assert find_project_root() == tmp_path.resolve()
    paths = get_paths().ensure()
    assert paths.raw == tmp_path / "data" / "raw" and paths.raw.is_dir()


def test_layout_file_names_are_the_documented_ones(tmp_path) -> None:
    """Users and scripts rely on these names: moving them into ProjectPaths must not change one."""
    paths = get_paths(tmp_path)
    root = paths.root
    assert paths.features_table("2025-01-01") == root / "data/processed/features_2025-01-01.parquet"
    assert paths.segments_table("2025-01-01") == root / "data/processed/segments_2025-01-01.parquet"
    assert paths.scores_for("2025-01-01") == root / "data/scores/scores_2025-01-01.parquet"
    assert paths.segmentation == root / "models/segmentation.joblib"
    assert paths.report_for("2025-01-01") == root / "reports/report_2025-01-01.html"
    assert paths.id_map == ProjectPaths.id_map_in(paths.private) == root / "data/private/id_map.parquet"
    folder = tmp_path / "out"
    names = {
        ProjectPaths.table_in(folder, "orders"): "orders.parquet",
        ProjectPaths.quarantine_in(folder): "quarantine.parquet",
        ProjectPaths.quality_report_in(folder): "quality_report.json",
        ProjectPaths.golden_customers_in(folder): "customers_golden.parquet",
        ProjectPaths.dedup_pairs_in(folder): "dedup_pairs.parquet",
        ProjectPaths.verdict_in(folder): "verdict.json",
        ProjectPaths.manifest_in(folder): "manifest.json",
        ProjectPaths.drift_reference_in(folder, "abc"): "abc.json",
    }
    assert all(path == folder / name for path, name in names.items())
    scores = folder / "scores_2025-01-01.parquet"
    assert ProjectPaths.sidecar(scores) == folder / "scores_2025-01-01.meta.json"
    assert ProjectPaths.sidecar(folder / "seg.parquet", "profiles") == folder / "seg.profiles.csv"
    assert ProjectPaths.sidecar(folder / "seg.parquet", "k_curve") == folder / "seg.k_curve.csv"
    assert ProjectPaths.contacts_for(scores) == folder / "contacts_2025-01-01.csv"
    assert ProjectPaths.truth_table_in(folder, "customers") == folder / "truth/customers.parquet"
    folder.mkdir()
    for name in ("scores_2025-02-01.parquet", "scores_2025-01-01.parquet", "other.parquet", "x.csv"):
        (folder / name).write_bytes(b"")
    assert [p.name for p in ProjectPaths.scores_files_in(folder)] == [
        "scores_2025-01-01.parquet",
        "scores_2025-02-01.parquet",
    ]
    assert [p.name for p in ProjectPaths.tables_in(folder)][0] == "other.parquet"


def test_tracking_uri_defaults_to_sqlite_and_respects_env(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(get_paths(tmp_path)) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert tracking_uri() == "http://127.0.0.1:5999"


def test_load_params_typed_and_errors_name_the_field(tmp_path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("train:\n  name: churn\n  horizon_days: 30\n")
    assert load_params(p, _Params, section="train") == _Params(name="churn", horizon_days=30)
    p.write_text("train:\n  name: churn\n  horizon_days: soon\n")
    with pytest.raises(ConfigError, match="horizon_days"):
        load_params(p, _Params, section="train")
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "missing.yaml", _Params)


def test_write_table_is_deterministic_and_round_trips(tmp_path) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "t": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    p1, p2 = write_table(df, tmp_path / "one.parquet"), write_table(df, tmp_path / "two.parquet")
    assert hashlib.sha256(p1.read_bytes()).digest() == hashlib.sha256(p2.read_bytes()).digest()
    pd.testing.assert_frame_equal(read_table(p1), df, check_dtype=False)
    assert not list(tmp_path.glob(".*.tmp"))
    assert p1.stat().st_mode & 0o644 == 0o644, "outputs are readable like any file, not mkstemp's 0600"


def test_atomic_write_keeps_previous_file_when_writer_fails(tmp_path) -> None:
    path = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    before = path.read_bytes()

    bad = pd.DataFrame({"a": [object()]})  # pyarrow cannot convert an arbitrary object
    with pytest.raises(Exception):  # noqa: B017 - any conversion error
        write_table(bad, path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_read_table_errors_name_the_table(tmp_path) -> None:
    with pytest.raises(DataFileError, match="orders: file not found"):
        read_table(tmp_path / "orders.parquet", "orders")
    (tmp_path / "orders.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(DataFileError, match="orders: cannot read parquet"):
        read_table(tmp_path / "orders.parquet", "orders")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="empty"):
        read_table(tmp_path / "empty.csv")


def test_read_csv_sniffs_delimiter(tmp_path) -> None:
    (tmp_path / "orders.csv").write_text("order_id;customer_id;net_amount\no1;a;1.5\no2;b;2\n")
    df = read_table(tmp_path / "orders.csv")
    assert list(df.columns) == ["order_id", "customer_id", "net_amount"] and df["net_amount"].sum() == 3.5


def test_read_tables_required_and_optional(tmp_path) -> None:
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "orders.parquet")
    tables = read_tables(tmp_path, required=["orders"], optional=["interactions"])
    assert list(tables) == ["orders"]
    with pytest.raises(DataFileError, match="customers: no customers.parquet"):
        read_tables(tmp_path, required=["customers"])


def test_json_round_trip_and_error(tmp_path) -> None:
    write_json({"b": 1, "a": "x"}, tmp_path / "m.json")
    assert read_json(tmp_path / "m.json") == {"a": "x", "b": 1}
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DataFileError, match="not valid JSON"):
        read_json(tmp_path / "bad.json")


def test_cli_config_errors_are_one_line_not_tracebacks(tmp_path, capsys) -> None:
    # Both commands that take a YAML config go through custml.config's reader: bad YAML is a ConfigError (exit 2).
    from custml.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("segment: [unclosed\n")
    features = tmp_path / "features.parquet"
    write_table(pd.DataFrame({"customer_id": ["a"]}), features)
    assert (
        main(
            [
                "segment",
                "--features",
                str(features),
                "--out",
                str(tmp_path / "s.parquet"),
                "--config",
                str(bad),
            ]
        )
        == 2
    )
    assert main(["train", "churn", "--data", str(tmp_path), "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("not valid YAML") == 2 and "Traceback" not in err


def test_the_latest_scores_are_the_dated_file_with_the_latest_as_of(tmp_path) -> None:
    """``custml report`` and ``custml campaign`` read the latest scores by default: the dated file ``custml score``
    wrote last by as-of date, never a file named otherwise; ``scores.parquet`` (missing) before any scoring."""
    from custml.pipeline.catalogue import Catalogue

    paths = ProjectPaths(tmp_path)
    assert paths.scores_table == tmp_path / "data/scores/scores.parquet"
    paths.scores.mkdir(parents=True)
    for name in ("scores_2025-01-01.parquet", "scores_2025-03-01.parquet", "scores_shifted.parquet"):
        (paths.scores / name).write_bytes(b"")
    assert paths.scores_table.name == "scores_2025-03-01.parquet"
    (paths.scores / "scores_2025-03-01T120000.parquet").write_bytes(b"")  # a scoring run with a time of day
    assert paths.scores_table.name == "scores_2025-03-01T120000.parquet"
    assert Catalogue(paths).location("scores") == paths.scores_table
