"""Session-scoped local Spark for tests (imported by the Spark test modules; the lead may move it to conftest)."""

from __future__ import annotations

import pytest
from conftest import skip_or_fail


@pytest.fixture(scope="session")
def spark():
    """A local[2] Spark session from :func:`custml.features.spark_session`; skips (or fails in CI) without Java."""
    try:
        from custml.features import SparkUnavailableError, spark_session
    except ImportError as exc:  # pragma: no cover
        skip_or_fail(f"custml.features unavailable: {exc}")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        skip_or_fail("pyspark is not installed (pip install 'custml[spark]')")
    try:
        session = spark_session("custml-tests", master="local[2]", shuffle_partitions=2)
    except SparkUnavailableError as exc:
        skip_or_fail(f"Spark unavailable: {exc}")
    yield session
