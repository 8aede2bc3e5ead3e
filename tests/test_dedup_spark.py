"""Splink on Spark (local) clusters customer records as Splink on DuckDB does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import skip_or_fail
from spark_fixtures import spark  # noqa: F401  (fixture)

from custml.quality import pairwise_precision_recall
from custml.quality.dedup import find_duplicates, spark_backend, splink_spark_jar
from custml.quality.pipeline import QualityParams, _normalise_customers
from custml.quality.validate import validate_table
from custml.schema import CUSTOMERS
from custml.synth import DirtParams, WorldParams, generate_world

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def splink_spark(spark):  # noqa: F811  (the fixture)
    """The tests' local Spark session (``spark_fixtures``), which carries Splink's similarity jar."""
    jar = splink_spark_jar()
    if jar not in spark.conf.get("spark.jars", ""):
        skip_or_fail("the Spark session of this process was created without Splink's jar")
    return spark


def test_spark_clusters_agree_with_duckdb(splink_spark, tmp_path: Path) -> None:
    world = generate_world(WorldParams(n_customers=800, seed=6, dirty=0.02, dirt=DirtParams.preset("heavy")))
    kept = validate_table(CUSTOMERS, world.tables["customers"], pd.Timestamp(world.manifest["end"])).kept
    customers = _normalise_customers(kept, QualityParams())[0]
    duck = find_duplicates(customers)
    work = tmp_path / "private" / "dedup_work"
    on_spark = find_duplicates(customers, db_api=spark_backend(splink_spark, work))
    assert on_spark.stats["backend"] == "SparkAPI"
    as_truth = pd.DataFrame({"customer_id": duck.clusters.index, "person_id": duck.clusters.to_numpy()})
    agreement = pairwise_precision_recall(on_spark.clusters, as_truth)
    assert agreement["true_pairs"] >= 60
    assert agreement["precision"] >= 0.999 and agreement["recall"] >= 0.999, agreement
    assert (work / "spark_checkpoints").is_dir()  # Splink's Spark tables live in the private work folder
