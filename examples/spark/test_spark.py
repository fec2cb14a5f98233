#!/usr/bin/env python3
"""The Spark job, tested: claimex_spark.py in local[2] over a few hundred articles gives the claims
of a single `claimex run` over the same articles (as sets of lines), and a failed document
becomes an error row, not a failed job. Prints both runs' times.

usage: test_spark.py [N]   (run from the repository root after `make build` and `make setup`)
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "target", "release", "claimex")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def articles(n):
    """n real articles (the corpus's plain-text ones, then the samples), and one that fails."""
    paths = sorted(glob.glob(os.path.join(ROOT, "corpus", "articles", "*.txt")))
    paths += sorted(glob.glob(os.path.join(ROOT, "samples", "articles", "*.txt")))
    out = []
    for p in paths[:n]:
        with open(p, encoding="utf-8") as f:
            out.append({"id": os.path.splitext(os.path.basename(p))[0], "text": f.read()})
    out.append({"id": "empty-article", "text": ""})
    return out


def canonical(value):
    """A JSON value with null fields dropped (Parquet keeps nulls, JSON writers may not)."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def lines_as_set(lines):
    return sorted(json.dumps(canonical(json.loads(l)), sort_keys=True) for l in lines if l.strip())


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    work = tempfile.mkdtemp(prefix="claimex-spark-test-")
    data = os.path.join(work, "articles.jsonl")
    with open(data, "w", encoding="utf-8") as f:
        for a in articles(n):
            f.write(json.dumps(a, ensure_ascii=False) + "\n")

    t = time.time()
    single = subprocess.run([BIN, "run", "--quiet", "--threads", "2", "--out", os.path.join(work, "single"), data],
                            cwd=ROOT, capture_output=True, text=True)
    single_s = time.time() - t
    assert single.returncode == 1, single.stderr  # the empty article fails
    with open(os.path.join(work, "single", "claims.jsonl"), encoding="utf-8") as f:
        want = lines_as_set(f)

    env = dict(os.environ, PYSPARK_PYTHON=os.path.join(VENV_BIN, "python"), PYSPARK_DRIVER_PYTHON=os.path.join(VENV_BIN, "python"))
    t = time.time()
    job = subprocess.run([os.path.join(VENV_BIN, "spark-submit"), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                          "--conf", "spark.default.parallelism=2",
                          os.path.join(ROOT, "examples", "spark", "claimex_spark.py"), "--input", data,
                          "--output", os.path.join(work, "spark"), "--claimex", BIN, "--home", ROOT],
                         cwd=work, capture_output=True, text=True, env=env)
    spark_s = time.time() - t
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-5000:]
    counts = json.loads(job.stdout.strip().splitlines()[-1])

    from pyspark.sql import SparkSession
    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    got = lines_as_set(spark.read.parquet(os.path.join(work, "spark", "claims")).toJSON().collect())
    errors = spark.read.parquet(os.path.join(work, "spark", "errors")).collect()
    documents = spark.read.parquet(os.path.join(work, "spark", "documents")).count()
    spark.stop()

    failures = []
    if got != want:
        only_spark, only_single = set(got) - set(want), set(want) - set(got)
        failures.append(f"claims differ: {len(only_spark)} only from Spark, {len(only_single)} only from the single run")
    if [e["doc"] for e in errors] != ["empty-article"]:
        failures.append(f"errors: {[e.asDict() for e in errors]}")
    if documents != n or counts["documents"] != n:
        failures.append(f"documents: {documents} in Parquet, {counts} counted, {n} expected")
    print(f"spark local[2]: {spark_s:.1f} s; single claimex run (2 threads): {single_s:.1f} s; "
          f"{n} articles, {len(want)} claims")
    for f in failures:
        print("FAILED:", f)
    print(f"spark: {3 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
