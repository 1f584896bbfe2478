"""A local Apache Spark session for the tests that read a lake, or the reason there is none."""

from __future__ import annotations

import shutil

import pytest


def local_spark():
    """SparkSession on `local[2]` (UTC, no UI, bound to 127.0.0.1). Skips, saying why, only
    where Spark cannot be had: pyspark missing (the tierwatch[spark] extra) or no Java."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install 'tierwatch[spark]')"
    )
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17; .ci/run installs it from Debian")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("tierwatch-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        # the tests' lakes are small, so compiling each plan's Java (whole-stage codegen)
        # costs more than it saves: off, the results are the same and the tests twice as fast
        .config("spark.sql.codegen.wholeStage", "false")
        .getOrCreate()
    )
