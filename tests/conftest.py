"""Shared test set-up: headless matplotlib, a deterministic hypothesis profile, and the external-tool policy.

Tests that need Java/Spark, Chromium or an mlflow server call :func:`skip_or_fail`: locally they skip when the
tool is missing; in CI (``CUSTML_REQUIRE_EXTERNAL=1``, set by ``.ci/run``) they fail instead.
``$CUSTML_SHARED_DIR`` defaults to ``shared/`` beside the checkout when it exists (where CDNOW lives).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "custml", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=40
)
settings.load_profile("custml")

# Public reference data (CDNOW) sits in shared/ beside the checkout, locally and in CI. Tests that move
# CUSTML_HOME to a temporary folder (and notebooks they execute) find it through this setting.
_SHARED = Path(__file__).resolve().parents[2] / "shared"
if _SHARED.is_dir():
    os.environ.setdefault("CUSTML_SHARED_DIR", str(_SHARED))
# Likewise the committed experiment configs of this checkout (custml.config.experiment_dirs).
os.environ.setdefault("CUSTML_EXPERIMENTS_DIR", str(Path(__file__).resolve().parents[1] / "experiments"))


def skip_or_fail(reason: str) -> None:
    """Skip the current test, or fail it when external tools are required (CI)."""
    from custml.config import require_external_tools

    if require_external_tools():
        pytest.fail(f"required external tool unavailable in CI: {reason}")
    pytest.skip(reason)
