"""``custml generate`` wiring: files, manifest, parameters from YAML, errors."""

from __future__ import annotations

import json

import pandas as pd

from custml.cli import main


def test_generate_writes_tables_truth_and_manifest(tmp_path, capsys):
    out = tmp_path / "world"
    code = main(
        [
            "generate",
            "--customers",
            "400",
            "--seed",
            "9",
            "--locale",
            "zh_CN",
            "--dirty",
            "0.1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    for name in ("customers", "orders", "interactions", "campaigns"):
        assert (out / f"{name}.parquet").is_file()
    for name in ("customers", "duplicates", "oracle_reference"):
        assert (out / "truth" / f"{name}.parquet").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 9 and manifest["locale"] == "zh_CN" and manifest["dirty"] == 0.1
    assert manifest["row_counts"]["orders"] == len(pd.read_parquet(out / "orders.parquet"))
    assert manifest["generator_version"].startswith("custml.synth/")
    assert manifest["reference_cutoff"] == "2025-10-01 00:00:00"
    assert "orders" in capsys.readouterr().out


def test_generate_rejects_an_unknown_locale(tmp_path, capsys):
    code = main(["generate", "--customers", "10", "--locale", "fr_FR", "--out", str(tmp_path)])
    assert code == 2
    assert "locale" in capsys.readouterr().err


def test_generate_reads_params_from_yaml(tmp_path):
    cfg = tmp_path / "world.yaml"
    cfg.write_text("seasonality: 0.0\npromotions: false\n", encoding="utf-8")
    out = tmp_path / "w"
    assert main(["generate", "-n", "200", "--params", str(cfg), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["promotions"] is False
    assert manifest["parameters"]["n_customers"] == 200


def test_python_dash_m_custml_cli_runs_the_command() -> None:
    """``python -m custml.cli`` is the ``custml`` command (for an interpreter without the console script)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "custml.cli", "generate", "--help"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "Usage: custml generate" in " ".join(run.stdout.split())
