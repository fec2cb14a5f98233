#!/usr/bin/env python3
"""Validate the claim-classifier training sentences (stdlib only).

Checks every *.jsonl file in this folder (or the files given on the command
line), one JSON object per line:

  {"id": "...", "text": "...", "types": ["stance", "threat"],
   "polarity": "oppose", "categories": ["military_conflict"],
   "source": "...", "voice": "wire"}

  - required fields present, with the right JSON types; unknown fields warn
  - id: non-empty string, unique across all files
  - text: non-empty, no leading/trailing whitespace, no newline
  - types: list, subset of {stance, proposal, threat}, no repeats
  - polarity: "support"/"oppose" iff "stance" in types, else null
  - categories: non-empty iff "threat" in types, values from the spec list,
    no repeats; empty list otherwise
  - source, voice: non-empty strings
  - no duplicate texts across all files (compared after collapsing whitespace
    and case)
  - no sentence occurs in the held-out evaluation articles (the seeds in
    samples/articles and the fixtures in tests/fixtures/{reuters,written}/articles,
    all *.txt, relative to the repository root): the normalised text must not
    be a substring of any normalised article, and no article sentence may
    equal it

It also checks the article corpus (corpus/, see corpus/README.md):
  - every label line against its article (corpus/tools/locate.py --check: fields, modality,
    sentence and spans found, HTML through its visible text), sources present and none
    excluded by shared/data/check_source.py;
  - every article has a split in corpus/splits.json, and no source address is used twice;
  - no gold sentence of a dev or test article occurs in a train article, and no gold sentence
    of a train article occurs in a held-out fixture article;
  - the training sentence files above do not contain a sentence of a dev or test article.

Prints per-file counts per type, polarity and category. Exit status 1 when
any error was found (warnings do not fail).

Usage:
  python3 validate.py                 # all *.jsonl next to this script
  python3 validate.py FILE.jsonl ...  # just these
  python3 validate.py --articles DIR...  # other held-out folders
"""
import argparse
import collections
import glob
import json
import os
import re
import sys

TYPES = ("stance", "proposal", "threat")
POLARITIES = ("support", "oppose")
CATEGORIES = ("terrorism", "extremism", "cybercrime", "information_security",
              "drug_trafficking", "illegal_migration", "organized_crime",
              "military_conflict", "economic_coercion", "other")
REQUIRED = {"id": str, "text": str, "types": list, "polarity": (str, type(None)),
            "categories": list, "source": str, "voice": str}

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CORPUS = os.path.join(ROOT, "corpus")
DEFAULT_ARTICLES = [os.path.join(ROOT, "samples", "articles"),
                    os.path.join(ROOT, "tests", "fixtures", "reuters", "articles"),
                    os.path.join(ROOT, "tests", "fixtures", "written", "articles")]


def norm(s):
    s = s.replace("\u2019", "'").replace("\u2018", "'")
    s = s.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", s).strip().lower()


def load_articles(folder):
    arts = {}
    for p in sorted(glob.glob(os.path.join(folder, "*.txt"))):
        with open(p, encoding="utf-8") as f:
            arts[p] = norm(f.read())
    return arts


def load_locate():
    """corpus/tools/locate.py as a module: one reading of labels and articles for both tools."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("locate", os.path.join(CORPUS, "tools", "locate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def corpus_articles():
    """{id: (split, normalised visible text, [normalised gold sentences])} of the corpus."""
    locate = load_locate()
    splits_path = os.path.join(CORPUS, "splits.json")
    splits = json.load(open(splits_path, encoding="utf-8")) if os.path.exists(splits_path) else {}
    out = {}
    for doc, path in locate.article_paths(CORPUS).items():
        label_path = os.path.join(CORPUS, "labels", doc + ".jsonl")
        gold = []
        if os.path.exists(label_path):
            gold = [norm(json.loads(l)["sentence"]) for l in open(label_path, encoding="utf-8") if l.strip()]
        out[doc] = (splits.get(doc), norm(locate.Article(path).text), gold)
    return out


def check_corpus(errors, warnings):
    """The corpus's own checks (see the module docstring). Returns its articles."""
    locate = load_locate()
    saved = sys.argv
    sys.argv = ["locate.py", "--check"]
    try:
        if locate.main() != 0:
            errors.append("corpus: labels or sources fail corpus/tools/locate.py --check (its errors above)")
    finally:
        sys.argv = saved
    arts = corpus_articles()
    for doc, (split, _, _) in sorted(arts.items()):
        if split not in ("train", "dev", "test"):
            errors.append("corpus: article %s has no split in corpus/splits.json (run corpus/tools/split.py)" % doc)
    urls = {}
    for p in sorted(glob.glob(os.path.join(CORPUS, "sources", "*.jsonl"))):
        for line in open(p, encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                u = re.sub(r"^[a-z]+://(www\.)?", "", r["url"].strip().lower()).rstrip("/")
                if u in urls:
                    errors.append("corpus: %s and %s come from the same source %s" % (urls[u], r["id"], r["url"]))
                urls[u] = r["id"]
    train_texts = [t for s, t, _ in arts.values() if s == "train"]
    fixtures = {}
    for folder in DEFAULT_ARTICLES:
        fixtures.update(load_articles(folder))
    for doc, (split, _, gold) in sorted(arts.items()):
        for g in gold:
            if len(g.split()) < 6:
                continue  # short headlines and quotes recur by chance
            if split in ("dev", "test") and any(g in t for t in train_texts):
                errors.append("corpus: a gold sentence of %s article %s occurs in a train article: %r" % (split, doc, g[:80]))
            if split == "train" and any(g in t for t in fixtures.values()):
                errors.append("corpus: a gold sentence of train article %s occurs in a fixture article: %r" % (doc, g[:80]))
    return arts



def check_members(errors, where, name, values, allowed):
    """A list field whose items come from a closed set, each at most once."""
    bad = [x for x in values if x not in allowed]
    if bad:
        errors.append("%s: unknown %s %s" % (where, name, bad))
    if len(set(map(str, values))) != len(values):
        errors.append("%s: repeated %s %s" % (where, name, values))

def check_record(rec, where, errors, warnings):
    for k, t in REQUIRED.items():
        if k not in rec:
            errors.append("%s: missing field %r" % (where, k))
        elif not isinstance(rec[k], t):
            errors.append("%s: field %r has type %s" % (where, k, type(rec[k]).__name__))
    extra = set(rec) - set(REQUIRED)
    if extra:
        warnings.append("%s: extra fields %s" % (where, sorted(extra)))
    if errors and errors[-1].startswith(where):
        return False
    if not rec["id"].strip():
        errors.append("%s: empty id" % where)
    t = rec["text"]
    if not t.strip():
        errors.append("%s: empty text" % where)
    if t != t.strip() or "\n" in t:
        errors.append("%s: text has leading/trailing whitespace or a newline" % where)
    types = rec["types"]
    check_members(errors, where, "types", types, TYPES)
    pol = rec["polarity"]
    if "stance" in types:
        if pol not in POLARITIES:
            errors.append("%s: stance needs polarity support/oppose, got %r" % (where, pol))
    elif pol is not None:
        errors.append("%s: polarity %r without stance (must be null)" % (where, pol))
    cats = rec["categories"]
    check_members(errors, where, "categories", cats, CATEGORIES)
    if "threat" in types and not cats:
        errors.append("%s: threat without categories" % where)
    if "threat" not in types and cats:
        errors.append("%s: categories %s without threat" % (where, cats))
    if not rec["source"].strip():
        errors.append("%s: empty source" % where)
    if not rec["voice"].strip():
        errors.append("%s: empty voice" % where)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--articles", nargs="+", default=DEFAULT_ARTICLES,
                    help="folders of held-out evaluation articles (*.txt)")
    args = ap.parse_args()

    files = args.files or sorted(glob.glob(os.path.join(HERE, "*.jsonl")))
    if not files:
        print("no *.jsonl files found")
        return 1
    errors, warnings = [], []
    corpus = check_corpus(errors, warnings)
    arts = {"corpus/" + doc: text for doc, (split, text, _) in corpus.items() if split in ("dev", "test")}
    for folder in args.articles:
        found = load_articles(folder)
        if not found:
            print("WARNING: no held-out articles found in %s; its leak check is skipped" % folder)
        arts.update(found)
    art_sents = set()
    for a in arts.values():
        for s in re.split(r"(?<=[.!?])\s+", a):
            if s:
                art_sents.add(s)

    ids, texts = {}, {}
    total = 0
    for path in files:
        name = os.path.basename(path)
        c = collections.Counter()
        n = 0
        with open(path, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                where = "%s:%d" % (name, ln)
                if not line.strip():
                    warnings.append("%s: blank line" % where)
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    errors.append("%s: bad JSON (%s)" % (where, e))
                    continue
                if not isinstance(rec, dict):
                    errors.append("%s: not a JSON object" % where)
                    continue
                if not check_record(rec, where, errors, warnings):
                    continue
                n += 1
                rid = rec["id"]
                if rid in ids:
                    errors.append("%s: duplicate id %r (first at %s)" % (where, rid, ids[rid]))
                else:
                    ids[rid] = where
                key = norm(rec["text"])
                if key in texts:
                    errors.append("%s: duplicate text (first at %s)" % (where, texts[key]))
                else:
                    texts[key] = where
                if key in art_sents or any(key in a for a in arts.values()):
                    errors.append("%s: text occurs in a held-out evaluation article" % where)
                if not rec["types"]:
                    c["none"] += 1
                for t in rec["types"]:
                    c[t] += 1
                if rec["polarity"]:
                    c["polarity:" + rec["polarity"]] += 1
                for cat in rec["categories"]:
                    c["category:" + cat] += 1
                c["voice:" + rec["voice"]] += 1
        total += n
        print("== %s: %d sentences" % (name, n))
        for k in ("none",) + TYPES:
            print("   %-10s %5d  (%.0f%%)" % (k, c[k], 100.0 * c[k] / n if n else 0))
        for k in sorted(x for x in c if ":" in x):
            print("   %-32s %5d" % (k, c[k]))

    print("== total: %d sentences in %d file(s)" % (total, len(files)))
    for w in warnings[:50]:
        print("WARNING " + w)
    if len(warnings) > 50:
        print("WARNING ... %d more" % (len(warnings) - 50))
    for e in errors[:200]:
        print("ERROR " + e)
    if len(errors) > 200:
        print("ERROR ... %d more" % (len(errors) - 200))
    print("OK" if not errors else "%d error(s)" % len(errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
