"""custml.notebook.setup: the one set-up call the numbered notebooks make."""

from __future__ import annotations

import os
import warnings

import pandas as pd

from custml.notebook import QUIET_WARNINGS, setup


def test_setup_sets_options_quietens_mlflow_and_creates_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL", raising=False)
    options = ("display.precision", 6, "display.max_columns", 5, "display.width", 80)
    with pd.option_context(*options), warnings.catch_warnings():
        paths = setup(precision=2, max_columns=40, width=None, root=tmp_path)
        assert pd.get_option("display.precision") == 2
        assert pd.get_option("display.max_columns") == 40
        assert pd.get_option("display.width") == 80  # None leaves the option alone
        ignored = {f[1].pattern for f in warnings.filters if f[0] == "ignore" and f[1] is not None}
        assert set(QUIET_WARNINGS) <= ignored
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "ERROR"
    assert paths.root == tmp_path.resolve()
    assert paths.processed.is_dir() and paths.reports.is_dir()


def test_setup_keeps_a_users_mlflow_level(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "DEBUG")
    # options restored afterwards: doctests elsewhere print frames at pandas' default precision
    with pd.option_context("display.precision", 6, "display.max_columns", 20), warnings.catch_warnings():
        setup(root=tmp_path)
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "DEBUG"
