#!/usr/bin/env python3
"""The corpus in figures, as markdown tables (stdlib only).

usage: stats.py [--documents documents.jsonl]

Articles per outlet kind, topic and split; formats and boilerplate; outlets; claims per type and
modality, polarity and threat category, per split. With --documents (claimex's documents.jsonl of
a run over corpus/articles) also sentences, and the share of sentences with no claim.
"""
import argparse
import collections
import json
import os
import re
import signal

import split  # corpus/tools/split.py: one reading of sources and splits

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.dirname(HERE)
TYPES = ("stance", "proposal", "threat")
MODALITIES = ("asserted", "negated", "hedged", "conditional")


def table(title, header, rows):
    print(f"\n| {title} | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 1) + "|")
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents")
    args = ap.parse_args()
    sources, splits = split.sources(), split.load_splits()
    labels = {}
    for doc in sources:
        with open(os.path.join(CORPUS, "labels", doc + ".jsonl"), encoding="utf-8") as f:
            labels[doc] = [json.loads(l) for l in f if l.strip()]
    split_names = ("train", "dev", "test")
    n = len(sources)
    # "Reuters (via The Star)" and "Reuters" are one outlet.
    outlets = {re.split(r" \(| via ", s["outlet"])[0].strip().lower() for s in sources.values()}
    print(f"{n} articles from {len(outlets)} outlets on "
          f"{len({s['topic'] for s in sources.values()})} topics; "
          f"{sum(s['format'] == 'html' for s in sources.values())} raw HTML, "
          f"{sum(bool(s['boilerplate']) for s in sources.values())} with site boilerplate; "
          f"{sum(len(v) for v in labels.values())} claims.")
    count = collections.Counter(splits[d] for d in sources)
    table("split", ["articles"], [(s, [count[s]]) for s in split_names])
    for field in ("outlet_kind", "topic"):
        c = collections.defaultdict(collections.Counter)
        for d, s in sources.items():
            c[s[field]][splits[d]] += 1
        table(field, ["articles", *split_names], [(k, [sum(v.values()), *(v[s] for s in split_names)]) for k, v in sorted(c.items())])
    by = collections.defaultdict(collections.Counter)
    pol, cats = collections.Counter(), collections.Counter()
    for d, claims in labels.items():
        for c in claims:
            by[c["type"]][c["modality"]] += 1
            by[c["type"]][splits[d]] += 1
            if c["polarity"]:
                pol[c["polarity"]] += 1
            cats.update(c["categories"])
    table("claims", ["all", *split_names, *MODALITIES],
          [(t, [sum(by[t][m] for m in MODALITIES), *(by[t][s] for s in split_names), *(by[t][m] for m in MODALITIES)]) for t in TYPES])
    table("stance polarity", ["claims"], sorted(pol.items()) and [(k, [v]) for k, v in sorted(pol.items())])
    table("threat category", ["claims"], [(k, [v]) for k, v in cats.most_common()])
    if args.documents:
        sentences, with_claim = collections.Counter(), collections.Counter()
        claimed = {(d, " ".join(c["sentence"].split())) for d, cs in labels.items() for c in cs}
        for line in open(args.documents, encoding="utf-8"):
            doc = json.loads(line)
            if doc["id"] not in splits:
                continue
            for s in doc["sentences"]:
                sentences[splits[doc["id"]]] += 1
                with_claim[splits[doc["id"]]] += (doc["id"], " ".join(s["text"].split())) in claimed
        table("sentences (claimex's segmentation)", ["sentences", "with a gold claim"],
              [(s, [sentences[s], with_claim[s]]) for s in split_names])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
