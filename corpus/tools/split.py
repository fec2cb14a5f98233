#!/usr/bin/env python3
"""Train / dev / test splits of the corpus, by article, stratified by topic and outlet (stdlib only).

usage: split.py                 assign new articles, keep every earlier assignment, write splits.json
       split.py --list SPLIT    print the article paths of a split (for claimex eval)
       split.py --gold SPLIT    print the gold lines of a split (JSONL, for claimex eval --gold)
       split.py --summary       counts per split, topic and outlet kind

corpus/splits.json maps every article id to "train", "dev" or "test". An article once assigned
never moves (a test article must never become training data). New articles are taken in a fixed
order (by topic, then outlet kind, then a hash of the id) and each goes to the split furthest
below its share within its topic, then overall, so each topic and outlet kind is spread over all
three (a quarter of the articles is test, so that the test split stays large as the corpus grows).
"""
import argparse
import collections
import glob
import hashlib
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.dirname(HERE)
ROOT = os.path.dirname(CORPUS)
SPLITS = os.path.join(CORPUS, "splits.json")
SHARES = {"train": 0.65, "dev": 0.10, "test": 0.25}


def sources():
    out = {}
    for p in sorted(glob.glob(os.path.join(CORPUS, "sources", "*.jsonl"))):
        for line in open(p, encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                out[r["id"]] = r
    return out


def articles():
    out = {}
    for p in sorted(glob.glob(os.path.join(CORPUS, "articles", "*"))):
        doc, ext = os.path.splitext(os.path.basename(p))
        if ext in (".txt", ".html"):
            out[doc] = os.path.relpath(p, ROOT)
    return out


def load_splits():
    if not os.path.exists(SPLITS):
        return {}
    with open(SPLITS, encoding="utf-8") as f:
        return json.load(f)


def assign(ids, meta, splits):
    splits = dict(splits)
    new = [i for i in ids if i not in splits]
    key = lambda i: (meta[i]["topic"], meta[i]["outlet_kind"], hashlib.sha256(i.encode()).hexdigest())
    by_topic = collections.defaultdict(collections.Counter)
    total = collections.Counter()
    for i, s in splits.items():
        if i in meta:
            by_topic[meta[i]["topic"]][s] += 1
            total[s] += 1
    for i in sorted(new, key=key):
        topic = by_topic[meta[i]["topic"]]
        n_topic, n_all = sum(topic.values()) + 1, sum(total.values()) + 1
        choice = max(SHARES, key=lambda s: (SHARES[s] * n_topic - topic[s], SHARES[s] * n_all - total[s]))
        splits[i] = choice
        topic[choice] += 1
        total[choice] += 1
    return splits


def main():
    # Tables are often piped into head.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--list", choices=SHARES)
    g.add_argument("--gold", choices=SHARES)
    g.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    arts, meta, splits = articles(), sources(), load_splits()
    if args.list or args.gold:
        ids = [i for i, s in sorted(splits.items()) if s == (args.list or args.gold) and i in arts]
        for i in ids:
            if args.list:
                print(arts[i])
            else:
                with open(os.path.join(CORPUS, "labels", i + ".jsonl"), encoding="utf-8") as f:
                    sys.stdout.write(f.read())
        return 0
    if args.summary:
        rows = collections.Counter(splits[i] for i in arts if i in splits)
        print("articles per split:", dict(rows))
        for field in ("topic", "outlet_kind"):
            table = collections.defaultdict(collections.Counter)
            for i in arts:
                if i in splits and i in meta:
                    table[meta[i][field]][splits[i]] += 1
            print(f"\n| {field} | train | dev | test |\n|---|---|---|---|")
            for k in sorted(table):
                print(f"| {k} | {table[k]['train']} | {table[k]['dev']} | {table[k]['test']} |")
        return 0
    missing = [i for i in arts if i not in meta]
    if missing:
        print("articles without a source line (run locate.py):", missing)
        return 1
    gone = [i for i in splits if i not in arts]
    if gone:
        print("warning: assigned articles no longer in articles/:", gone)
    updated = assign(sorted(arts), meta, splits)
    with open(SPLITS + ".tmp", "w", encoding="utf-8") as f:
        json.dump(dict(sorted(updated.items())), f, indent=0)
        f.write("\n")
    os.replace(SPLITS + ".tmp", SPLITS)
    print(f"{len(updated) - len(splits)} new articles assigned;", dict(collections.Counter(updated.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
