#!/usr/bin/env python3
"""The Spark job, tested: claimex_spark.py in local[2] over a few hundred articles gives the claims
of a single `claimex run` over the same articles (as sets of lines, probabilities within 0.0001:
documents batched with other neighbours can round the other way in the fourth decimal), and a
failed document becomes an error row, not a failed job. Prints both runs' times.

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


PROBABILITIES = ("confidence", "score")


def canonical(value, probabilities):
    """A JSON value with null fields dropped (Parquet keeps nulls, JSON writers may not) and its
    probabilities moved out into `probabilities`."""
    if isinstance(value, dict):
        out = {}
        for k, v in sorted(value.items()):
            if k in PROBABILITIES:
                probabilities.append(v)
            elif v is not None:
                out[k] = canonical(v, probabilities)
        return out
    if isinstance(value, list):
        return [canonical(v, probabilities) for v in value]
    return value


def claims_of(lines):
    """{claim without probabilities: its probabilities} for a claims.jsonl's lines."""
    out = {}
    for line in lines:
        if line.strip():
            probabilities = []
            key = json.dumps(canonical(json.loads(line), probabilities), sort_keys=True)
            out[key] = probabilities
    return out


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
        want = claims_of(f)

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
    got = claims_of(spark.read.parquet(os.path.join(work, "spark", "claims")).toJSON().collect())
    errors = spark.read.parquet(os.path.join(work, "spark", "errors")).collect()
    documents = spark.read.parquet(os.path.join(work, "spark", "documents")).count()
    spark.stop()

    failures = []
    if set(got) != set(want):
        only_spark, only_single = set(got) - set(want), set(want) - set(got)
        failures.append(f"claims differ: {len(only_spark)} only from Spark, {len(only_single)} only from the single run")
        for line in sorted(only_spark)[:3] + sorted(only_single)[:3]:
            print("  ", line[:600])
    else:
        worst = max((abs(a - b) for k in want for a, b in zip(want[k], got[k])), default=0.0)
        if worst > 1.5e-4:
            failures.append(f"probabilities differ by up to {worst}")
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
