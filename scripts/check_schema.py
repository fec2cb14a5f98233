#!/usr/bin/env python3
"""Validate claimex output against the JSON Schemas in docs/schema (needs the jsonschema package).

usage: check_schema.py FILE...

Which schema a file needs comes from its name: claims*.jsonl (claim), documents*.jsonl
(document), manifest*.json (manifest), *.stream.jsonl (a streaming run's --emit both lines,
tagged {"claim": …} or {"document": …}), *.errors.jsonl (its stderr: {"error": …} lines).
Prints one line per file and exits 1 if any line does not validate, naming the file and line.
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent.parent / "docs" / "schema"


def validators():
    schemas = {p.name.split(".")[0]: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.schema.json")}
    registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values()])
    out = {}
    for name, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        out[name] = Draft202012Validator(schema, registry=registry)
    return out


def records(path):
    """(line number, schema name, value) of every record in the file."""
    name = path.name
    if name.startswith("manifest") and name.endswith(".json"):
        yield 1, "manifest", json.loads(path.read_text())
        return
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        value = json.loads(line)
        if name.endswith(".stream.jsonl") or name.endswith(".errors.jsonl"):
            (tag, inner), = value.items()
            yield n, tag, inner
        elif name.startswith("claims"):
            yield n, "claim", value
        elif name.startswith("documents"):
            yield n, "document", value
        else:
            raise SystemExit(f"{path}: cannot tell which schema it needs from its name")


def main(paths):
    check = validators()
    bad = 0
    for p in map(pathlib.Path, paths):
        count = 0
        for n, schema, value in records(p):
            count += 1
            for e in check[schema].iter_errors(value):
                bad += 1
                print(f"{p}:{n}: {schema}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
        print(f"{p}: {count} records checked")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
