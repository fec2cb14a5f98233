#!/usr/bin/env python3
"""Agreement between two independent labelings of the same articles (stdlib only).

usage: agreement.py [--first DIR] [--json | --diff] SECOND_DIR...

Each SECOND_DIR (corpus/second/<labeler>/) holds <id>.jsonl files; each is compared with the
first labeling of that article (corpus/labels/<id>.jsonl, or DIR/<id>.jsonl with --first).
Claims pair up when doc, type and sentence (whitespace-normalised) agree. Reported:
  - claim F1 per type and overall (symmetric: F1 of one labeling scored against the other);
  - on paired claims: actor agreement (equal, or one's actor among the other's alternatives,
    case-insensitive; both null agree), polarity (stances), modality, categories (exact set and
    micro F1), holder mention (the spans overlap, or both null), target (overlap, or both null);
  - Cohen's kappa for modality on paired claims.
With --diff: every disagreement instead, per article (claims only one labeling has, and paired
claims that differ in a field), for adjudication.
"""
import argparse
import collections
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.dirname(HERE)
TYPES = ("stance", "proposal", "threat")


def load(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            out[(r["type"], re.sub(r"\s+", " ", r["sentence"]).strip())] = r
    return out


def actor_agrees(a, b):
    if a["actor"] is None or b["actor"] is None:
        return a["actor"] is None and b["actor"] is None
    names_a = {x.lower() for x in [a["actor"], *a["actor_alternatives"]]}
    names_b = {x.lower() for x in [b["actor"], *b["actor_alternatives"]]}
    return a["actor"].lower() in names_b or b["actor"].lower() in names_a


def span_agrees(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a["start"] < b["end"] and b["start"] < a["end"]


def f1(tp, n1, n2):
    p = tp / n2 if n2 else 1.0
    r = tp / n1 if n1 else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def kappa(pairs):
    if not pairs:
        return None
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    ca, cb = collections.Counter(a for a, _ in pairs), collections.Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def show_diff(doc, first, second):
    """Prints what two labelings of one article disagree on."""
    lines = []
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key), second.get(key)
        where = f"{key[0]:8} {key[1][:110]!r}"
        if a is None or b is None:
            lines.append(f"  only {'second' if a is None else 'first ':6} {where}")
            continue
        diffs = []
        if not actor_agrees(a, b):
            diffs.append(f"actor {a['actor']!r} / {b['actor']!r}")
        for field in ("polarity", "modality"):
            if a[field] != b[field]:
                diffs.append(f"{field} {a[field]} / {b[field]}")
        if set(a["categories"]) != set(b["categories"]):
            diffs.append(f"categories {sorted(a['categories'])} / {sorted(b['categories'])}")
        if diffs:
            lines.append(f"  differ      {where}: " + "; ".join(diffs))
    if lines:
        print(f"== {doc} (first / second)")
        print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("second", nargs="+")
    ap.add_argument("--first", default=os.path.join(CORPUS, "labels"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--diff", action="store_true", help="list the disagreements for adjudication")
    args = ap.parse_args()
    counts = {t: [0, 0, 0] for t in TYPES}  # paired, first, second
    agree = collections.defaultdict(lambda: [0, 0])  # field -> [agree, total]
    cats = [0, 0, 0]
    modality_pairs = []
    docs = 0
    for d in args.second:
        for path in sorted(glob.glob(os.path.join(d, "*.jsonl"))):
            doc = os.path.splitext(os.path.basename(path))[0]
            first, second = load(os.path.join(args.first, doc + ".jsonl")), load(path)
            docs += 1
            if args.diff:
                show_diff(doc, first, second)
                continue
            for key, r in first.items():
                counts[key[0]][1] += 1
            for key, r in second.items():
                counts[key[0]][2] += 1
                if key not in first:
                    continue
                a = first[key]
                counts[key[0]][0] += 1
                for field, ok in (("actor", actor_agrees(a, r)), ("holder", span_agrees(a["holder"], r["holder"])),
                                  ("target", span_agrees(a["target"], r["target"])),
                                  ("modality", a["modality"] == r["modality"])):
                    agree[field][0] += ok
                    agree[field][1] += 1
                modality_pairs.append((a["modality"], r["modality"]))
                if key[0] == "stance":
                    agree["polarity"][0] += a["polarity"] == r["polarity"]
                    agree["polarity"][1] += 1
                if key[0] == "threat":
                    agree["categories (exact)"][0] += set(a["categories"]) == set(r["categories"])
                    agree["categories (exact)"][1] += 1
                    sa, sb = set(a["categories"]), set(r["categories"])
                    cats[0] += len(sa & sb)
                    cats[1] += len(sa)
                    cats[2] += len(sb)
    if args.diff:
        return 0
    report = {"articles": docs, "claim_f1": {}, "fields": {}}
    tp = n1 = n2 = 0
    for t in TYPES:
        p, a, b = counts[t]
        report["claim_f1"][t] = {"f1": round(f1(p, a, b), 3), "paired": p, "first": a, "second": b}
        tp, n1, n2 = tp + p, n1 + a, n2 + b
    report["claim_f1"]["overall"] = {"f1": round(f1(tp, n1, n2), 3), "paired": tp, "first": n1, "second": n2}
    for field, (ok, n) in agree.items():
        report["fields"][field] = {"agreement": round(ok / n, 3) if n else None, "n": n}
    report["fields"]["categories (micro F1)"] = {"agreement": round(f1(cats[0], cats[1], cats[2]), 3), "n": cats[1]}
    k = kappa(modality_pairs)
    report["modality_kappa"] = round(k, 3) if k is not None else None
    report["modality_pairs"] = dict(collections.Counter(f"{a}/{b}" for a, b in modality_pairs))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{docs} articles labeled twice")
    print("| type | F1 | paired | first | second |\n|---|---|---|---|---|")
    for t, v in report["claim_f1"].items():
        print(f"| {t} | {v['f1']:.3f} | {v['paired']} | {v['first']} | {v['second']} |")
    print("\n| field (paired claims) | agreement | n |\n|---|---|---|")
    for field, v in report["fields"].items():
        a = "—" if v["agreement"] is None else f"{v['agreement']:.3f}"
        print(f"| {field} | {a} | {v['n']} |")
    print(f"\nmodality kappa {report['modality_kappa']}; pairs (first/second): {report['modality_pairs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
