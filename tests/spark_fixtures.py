"""Session-scoped local Spark for tests (imported by the Spark test modules; the lead may move it to conftest)."""

from __future__ import annotations

import pytest
from conftest import skip_or_fail


def test_spark_jars() -> tuple[str, ...]:
    """Jars every test Spark session carries (Splink's similarity functions), whichever test creates it first:
    a session is created once per process and later requests reuse it."""
    from custml.quality.dedup import splink_spark_jar

    return (splink_spark_jar(),)


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
        session = spark_session(
            "custml-tests", master="local[2]", shuffle_partitions=2, jars=test_spark_jars()
        )
    except SparkUnavailableError as exc:
        skip_or_fail(f"Spark unavailable: {exc}")
    yield session
