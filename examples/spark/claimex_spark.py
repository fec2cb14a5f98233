#!/usr/bin/env python3
"""claimex over a dataset of articles with Apache Spark: one claimex process per partition.

usage: spark-submit [--archives claimex-bundle.tar.gz#claimex] claimex_spark.py
           --input ARTICLES (JSONL or Parquet: id, text, optional url, title, published)
           --output DIR     (writes DIR/claims, DIR/documents, DIR/errors as Parquet)
           [--claimex PATH] (default: ./claimex/bin/claimex from --archives, else claimex on PATH)

Each partition's rows go, as JSONL, to one `claimex run --emit both -` (the streaming worker:
models loaded once per process, output in input order, a failed document is an error record and
not a failed task). claimex runs with CLAIMEX_THREADS = spark.task.cpus, so tasks side by side do
not oversubscribe the cores. The Parquet schemas are made from docs/schema (JSON Schema), so the
columns are the JSONL fields, nested as they are there. See README "Scaling out".
"""
import argparse
import json
import os
import shutil
import subprocess
import threading

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema")
INPUT_FIELDS = ("id", "text", "url", "title", "published")


def load_schemas():
    schemas = {}
    for name in ("claim", "document", "error"):
        with open(os.path.join(SCHEMA_DIR, f"{name}.schema.json"), encoding="utf-8") as f:
            schemas[name] = json.load(f)
    return schemas


def spark_type(node, schemas, home):
    """The Spark SQL type of a JSON Schema node (the subset docs/schema uses)."""
    from pyspark.sql import types as T

    if "$ref" in node:
        ref = node["$ref"]
        target, _, pointer = ref.partition("#")
        doc = home if not target else schemas[target.split(".")[0]]
        for part in filter(None, pointer.split("/")):
            doc = doc[part]
        return spark_type(doc, schemas, home if not target else schemas[target.split(".")[0]])
    if "oneOf" in node:  # null or one thing
        (inner,) = [o for o in node["oneOf"] if o.get("type") != "null"]
        return spark_type(inner, schemas, home)
    if "enum" in node:
        kinds = {type(v) for v in node["enum"] if v is not None}
        return T.StringType() if kinds == {str} else T.LongType()
    kind = node.get("type")
    if isinstance(kind, list):
        (kind,) = [k for k in kind if k != "null"]
    if kind == "object":
        fields = [T.StructField(k, spark_type(v, schemas, home), True) for k, v in node.get("properties", {}).items()]
        return T.StructType(fields)
    if kind == "array":
        return T.ArrayType(spark_type(node["items"], schemas, home), True)
    return {"string": T.StringType(), "integer": T.LongType(), "number": T.DoubleType(), "boolean": T.BooleanType()}[kind]


def claimex_partition(rows, claimex, threads, home):
    """Runs one claimex over a partition's articles; yields (kind, JSON line) for each output line."""
    # Spark's plain-tar unpacker can drop the executable bit of an --archives bundle.
    if not os.access(claimex, os.X_OK) and os.path.exists(claimex):
        os.chmod(claimex, 0o755)
    # The process gets only what it needs: PySpark's own pipe() would give it an empty environment.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CLAIMEX_THREADS": str(threads), "LANG": "C.UTF-8"}
    if home:
        env["CLAIMEX_HOME"] = home
    proc = subprocess.Popen([claimex, "run", "--emit", "both", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    errors = []

    def feed():
        try:
            for row in rows:
                record = {k: row[k] for k in INPUT_FIELDS if k in row and row[k] is not None}
                proc.stdin.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
        finally:
            proc.stdin.close()

    def drain_stderr():
        errors.extend(proc.stderr.read().decode(errors="replace").splitlines())

    threads_ = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain_stderr, daemon=True)]
    for t in threads_:
        t.start()
    for line in proc.stdout:
        tagged = json.loads(line)
        (kind, value), = tagged.items()
        yield kind, json.dumps(value, ensure_ascii=False)
    for t in threads_:
        t.join()
    if proc.wait() != 0:
        raise RuntimeError(f"claimex exited with {proc.returncode}: " + "\n".join(errors[-20:]))
    for line in errors:
        if line.startswith('{"error"'):
            yield "error", json.dumps(json.loads(line)["error"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--claimex", help="path of the claimex binary on the executors")
    ap.add_argument("--home", help="CLAIMEX_HOME on the executors (an install's share/claimex); "
                                   "default: the bundle's or the binary's own")
    ap.add_argument("--partitions", type=int, help="at least this many partitions (default: spark.default.parallelism)")
    args = ap.parse_args()

    from pyspark import StorageLevel
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("claimex").getOrCreate()
    sc = spark.sparkContext
    claimex = args.claimex or ("./claimex/bin/claimex" if os.path.isdir("claimex") else shutil.which("claimex") or "claimex")
    threads = int(sc.getConf().get("spark.task.cpus", "1"))
    reader = spark.read.parquet if args.input.endswith(".parquet") or os.path.isdir(args.input) else spark.read.json
    articles = reader(args.input)
    missing = {"id", "text"} - set(articles.columns)
    if missing:
        raise SystemExit(f"{args.input}: no column {sorted(missing)}")
    # Each partition is one claimex process (about 2 s to load the models): enough of them to
    # keep every task slot busy, no more unless asked.
    partitions = args.partitions or sc.defaultParallelism
    if articles.rdd.getNumPartitions() < partitions:
        # By id, so that a rerun groups the same documents together (and gives the same bytes).
        articles = articles.repartition(partitions, "id")
    home = args.home
    lines = articles.rdd.mapPartitions(lambda rows: claimex_partition(rows, claimex, threads, home))
    # Three outputs come from one pass: keep it, so claimex runs once per partition.
    lines.persist(StorageLevel.MEMORY_AND_DISK)
    schemas = load_schemas()
    for kind, folder in (("claim", "claims"), ("document", "documents"), ("error", "errors")):
        schema = spark_type(schemas[kind], schemas, schemas[kind])
        rows = lines.filter(lambda kv, kind=kind: kv[0] == kind).map(lambda kv: kv[1])
        spark.read.json(rows, schema=schema).write.mode("overwrite").parquet(os.path.join(args.output, folder))
    counts = dict(lines.map(lambda kv: (kv[0], 1)).reduceByKey(lambda a, b: a + b).collect())
    print(json.dumps({"claims": counts.get("claim", 0), "documents": counts.get("document", 0), "errors": counts.get("error", 0)}))
    spark.stop()


if __name__ == "__main__":
    main()
