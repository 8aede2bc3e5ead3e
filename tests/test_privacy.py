"""Pseudonyms, key loading and the PII scanner."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pandas as pd
import pytest

from custml.cli import main
from custml.config import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE, get_paths
from custml.errors import DataFileError, MissingSecretError
from custml.privacy import load_pseudonym_key, parse_key, pseudonymise, pseudonymise_one, scan_for_pii

KEY = b"0123456789abcdef0123"


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_PSEUDONYM_KEY, raising=False)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)


def test_pseudonyms_are_keyed_stable_and_16_hex() -> None:
    ids = pd.Series(["C1", "C2", None, "C1"])
    a = pseudonymise(ids, KEY)
    assert a.iloc[0] == a.iloc[3] != a.iloc[1]
    assert pd.isna(a.iloc[2])
    assert a.dropna().str.fullmatch(r"[0-9a-f]{16}").all()
    assert a.tolist() == pseudonymise(ids, KEY).tolist()  # same key, same pseudonym every run
    assert pseudonymise(ids, b"another-key-of-16b").iloc[0] != a.iloc[0]
    # HMAC-SHA256, not a plain hash of the id
    import hashlib
    import hmac

    assert a.iloc[0] == hmac.new(KEY, b"C1", hashlib.sha256).hexdigest()[:16]
    assert pseudonymise_one("C1", KEY) == a.iloc[0]


def test_pseudonymise_needs_a_key() -> None:
    with pytest.raises(MissingSecretError):
        pseudonymise(pd.Series(["a"]), b"")


def test_parse_key_hex_text_and_too_short() -> None:
    assert parse_key("00ff" * 8, "env") == bytes.fromhex("00ff" * 8)
    assert parse_key("a long enough passphrase", "env") == b"a long enough passphrase"
    with pytest.raises(MissingSecretError, match="too short"):
        parse_key("short", "env")
    with pytest.raises(MissingSecretError, match="empty"):
        parse_key("  \n", "env")


def test_key_from_env_and_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = get_paths(tmp_path)
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, "ab" * 16)
    assert load_pseudonym_key(paths, allow_demo_key=False) == bytes.fromhex("ab" * 16)
    monkeypatch.delenv(ENV_PSEUDONYM_KEY)
    key_file = tmp_path / "outside" / "custml.key"
    key_file.parent.mkdir()
    key_file.write_text("cd" * 16 + "\n")
    monkeypatch.setenv(ENV_PSEUDONYM_KEY_FILE, str(key_file))
    assert load_pseudonym_key(paths, allow_demo_key=False) == bytes.fromhex("cd" * 16)
    monkeypatch.setenv(ENV_PSEUDONYM_KEY_FILE, str(tmp_path / "missing.key"))
    with pytest.raises(MissingSecretError, match="cannot read the pseudonymisation key file"):
        load_pseudonym_key(paths, allow_demo_key=True)


def test_missing_key_is_a_clear_error_outside_demo(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretError, match=r"CUSTML_PSEUDONYM_KEY.*--allow-demo-key"):
        load_pseudonym_key(get_paths(tmp_path), allow_demo_key=False)
    assert not (get_paths(tmp_path).private / "pseudonym.key").exists()


def test_demo_key_is_created_once_private_and_announced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = get_paths(tmp_path)
    with caplog.at_level(logging.WARNING, logger="custml.privacy"):
        k1 = load_pseudonym_key(paths, allow_demo_key=True)
    assert "created a local demo pseudonymisation key" in caplog.text
    key_file = paths.private / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_pseudonym_key(paths, allow_demo_key=True) == k1 and len(k1) == 32


# ---- scanner ----------------------------------------------------------------------------------------------------
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["c1", "c2", "c3"],
        "name": ["Anna Smith", "王伟", "Bo"],
        "email": ["anna.smith@gmail.com", "wangwei88@qq.com", None],
        "phone": ["(415) 555-2671", "138 0013 8000", None],
        "country": ["US", "CN", "US"],
    }
)


def test_scan_finds_known_values_in_every_file_kind(tmp_path: Path) -> None:
    pd.DataFrame({"customer_id": ["x"], "who": ["ANNA SMITH"]}).to_parquet(tmp_path / "features.parquet")
    (tmp_path / "scores.csv").write_text("customer_id,contact\nx,+14155552671\n")
    (tmp_path / "meta.json").write_text(json.dumps({"top": "王伟"}))  # stored as \\u escapes
    (tmp_path / "report.html").write_text("<td>Mail: <b>Anna.Smith@gmail.com</b></td>")
    (tmp_path / "notes.txt").write_text("call 13800138000 tomorrow")
    result = scan_for_pii(tmp_path, CUSTOMERS)
    assert result.found
    assert result.counts == {"email": 1, "phone": 2, "name": 2, "generic_email": 0, "generic_phone": 0}
    assert set(result.findings["file"].map(lambda f: Path(f).name)) == {
        "features.parquet",
        "scores.csv",
        "meta.json",
        "report.html",
        "notes.txt",
    }


def test_scan_generic_patterns_and_clean_files(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    pd.DataFrame(
        {
            "customer_id": ["a8c5d1f5a7c2f6e0"],
            "as_of": pd.to_datetime(["2025-10-01 12:30:00"]),
            "x": [4155552671.5],
        }
    ).to_parquet(clean / "scores.parquet")
    (clean / "report.html").write_text("<p>Bo and Anna bought 1234567 items on 2025-10-01 14:22:10</p>")
    assert not scan_for_pii(clean, CUSTOMERS).found  # single first names, numbers, dates are not flagged
    (clean / "leak.txt").write_text("someone@else.org or (212) 555-0100")
    result = scan_for_pii(clean, CUSTOMERS)
    assert result.counts["generic_email"] == 1 and result.counts["generic_phone"] == 1
    assert not scan_for_pii(clean, CUSTOMERS, generic=False).found
    with pytest.raises(DataFileError, match="path not found"):
        scan_for_pii(tmp_path / "nope", CUSTOMERS)


def test_scan_applies_generic_patterns_to_text_not_to_images_or_pickles(tmp_path: Path) -> None:
    chance = b"\x89PNG\r\n\x1a\n\x00IDATq8@k2.zb\x00 212 555 0100 \x00"  # pattern-like runs of binary bytes
    for name in ("shap_beeswarm.png", "python_model.pkl"):
        (tmp_path / name).write_bytes(chance)
    assert not scan_for_pii(tmp_path, CUSTOMERS).found
    (tmp_path / "plot.png").write_bytes(chance + b"Anna.Smith@gmail.com")  # a known e-mail is still found
    assert scan_for_pii(tmp_path, CUSTOMERS).counts["email"] == 1
    (tmp_path / "notes.txt").write_bytes(chance)  # the same bytes in a text file are flagged
    counts = scan_for_pii(tmp_path, CUSTOMERS).counts
    assert counts["generic_email"] == 1 and counts["generic_phone"] == 1


def test_privacy_scan_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cust = tmp_path / "customers.parquet"
    CUSTOMERS.to_parquet(cust)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "ok.txt").write_text("nothing personal here")
    assert main(["privacy", "scan", str(folder), "--customers", str(cust)]) == 0
    (folder / "leak.csv").write_text("name\nAnna Smith\n")
    assert main(["privacy", "scan", str(folder), "--customers", str(cust)]) == 1
    out = capsys.readouterr().out
    assert "1 personal-data findings in 1 of 2 files (name=1)" in " ".join(out.split())
