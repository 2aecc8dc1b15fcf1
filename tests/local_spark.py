"""The local Spark session of the tests and the benches: two cores, UTC, no UI, Arrow."""

from __future__ import annotations

from typing import Any


def local_spark(app: str, *, partitions: int, memory: str) -> Any:
    """A session on ``local[2]`` with `partitions` shuffle partitions and `memory` for the
    driver, the session time zone UTC, the UI off and Arrow transfers on; logs errors only."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.driver.memory", memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
