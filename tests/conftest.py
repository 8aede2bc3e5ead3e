"""Shared test set-up: headless matplotlib, a deterministic hypothesis profile, and the external-tool policy.

Tests that need Java/Spark, Chromium or an mlflow server call :func:`skip_or_fail`: locally they skip when the
tool is missing; in CI (``CUSTML_REQUIRE_EXTERNAL=1``, set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "custml", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=40
)
settings.load_profile("custml")


def skip_or_fail(reason: str) -> None:
    """Skip the current test, or fail it when external tools are required (CI)."""
    from custml.config import require_external_tools

    if require_external_tools():
        pytest.fail(f"required external tool unavailable in CI: {reason}")
    pytest.skip(reason)
