#!/usr/bin/env python3
"""Add the gazetteer's canonical name to gold actor alternatives.

    python3 corpus/tools/alternatives.py           # add what is missing, report the count
    python3 corpus/tools/alternatives.py --check   # exit 1 if any label lacks one

The guideline names a person as the article first spells them ("Aleksandr Lukashenko",
"Recep Tayyip Erdogan"); claimex writes the canonical name data/gazetteer.toml gives
("Alexander Lukashenko", "Recep Tayyip Erdoğan"), and `claimex eval` compares names as strings
(spec: case-insensitive equality). When a gold actor or alternative is a name or alias the
gazetteer lists, its canonical name is another name of the same actor: this adds it to
`actor_alternatives`, for every split alike. Stdlib only (Python 3.11+ for tomllib).
"""
import argparse
import glob
import json
import os
import re
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.dirname(HERE)
ROOT = os.path.dirname(CORPUS)


def key(name):
    return " ".join(re.findall(r"\w+", name.lower()))


def canonical_names():
    """Every gazetteer name and alias (by key) → the canonical name."""
    with open(os.path.join(ROOT, "data", "gazetteer.toml"), "rb") as f:
        g = tomllib.load(f)
    out = {}
    for section in ("country", "organization", "person"):
        for entry in g.get(section, []):
            for n in [entry["name"], *entry.get("aliases", [])]:
                out.setdefault(key(n), entry["name"])
    return out


def missing(claim, names):
    """Canonical names of the claim's actor that its alternatives lack."""
    if not claim.get("actor"):
        return []
    have = {key(n) for n in [claim["actor"], *claim.get("actor_alternatives", [])]}
    add = []
    for n in [claim["actor"], *claim.get("actor_alternatives", [])]:
        c = names.get(key(n))
        if c and key(c) not in have:
            have.add(key(c))
            add.append(c)
    return add


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a label lacks a canonical name")
    args = ap.parse_args()
    names = canonical_names()
    lacking = 0
    for path in sorted(glob.glob(os.path.join(CORPUS, "labels", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            if not line.strip():
                out.append(line)
                continue
            claim = json.loads(line)
            add = missing(claim, names)
            if add:
                lacking += 1
                if args.check:
                    print(f"{os.path.relpath(path, ROOT)}: {claim['actor']!r} lacks {add}")
                claim["actor_alternatives"] = [*claim.get("actor_alternatives", []), *add]
                line = json.dumps(claim, ensure_ascii=False)
            out.append(line)
        if not args.check and out != lines:
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(out) + "\n")
    verb = "lack" if args.check else "got"
    print(f"{lacking} gold claims {verb} the gazetteer's canonical name", file=sys.stderr)
    return 1 if args.check and lacking else 0


if __name__ == "__main__":
    sys.exit(main())
