"""The benchmark corpus: N articles made from the samples in samples/articles.

Document i is sample i % 5. The first five are the samples as they are; every later one is a
variant, deterministic in (seed, i): body paragraphs shuffled (the header blocks stay first),
country names with their adjectives, capitals and people's names swapped for others (one
consistent mapping per document), and every number replaced by another of the same number of
digits. The text differs from document to document while its length and make-up stay those of
real articles, so documents/s at N = 100 and at N = 10,000 measure the same kind of work.

    python bench/corpus.py N OUT.jsonl [--seed 7]     # writes {"id", "text"} lines
"""
import argparse
import json
import os
import random
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples", "articles")

# (country, adjective); the first ones occur in the samples, the others are replacements.
COUNTRIES = [
    ("Belarus", "Belarusian"), ("Russia", "Russian"), ("China", "Chinese"), ("India", "Indian"),
    ("Uzbekistan", "Uzbek"), ("Tajikistan", "Tajik"), ("Pakistan", "Pakistani"),
    ("Afghanistan", "Afghan"), ("Kyrgyzstan", "Kyrgyz"), ("Kazakhstan", "Kazakh"),
    ("Armenia", "Armenian"), ("Iran", "Iranian"), ("Mongolia", "Mongolian"), ("Ukraine", "Ukrainian"),
    ("Serbia", "Serbian"), ("Hungary", "Hungarian"), ("Vietnam", "Vietnamese"),
    ("Indonesia", "Indonesian"), ("Turkey", "Turkish"), ("Egypt", "Egyptian"),
    ("Azerbaijan", "Azerbaijani"), ("Georgia", "Georgian"), ("Moldova", "Moldovan"), ("Cuba", "Cuban"),
]
CAPITALS = ["Minsk", "Bishkek", "Moscow", "Beijing", "Astana", "Dushanbe", "Tashkent", "Yerevan",
            "Baku", "Tbilisi", "Belgrade", "Hanoi", "Budapest", "Cairo"]
PEOPLE = ["Viktor Khrenin", "Alexander Lukashenko", "Vladimir Putin", "Andrei Rusakovich",
          "Yuri Khachaturov", "Vladimir Makei", "Sergei Lavrov", "Wang Yi", "Kassym-Jomart Tokayev",
          "Shavkat Mirziyoyev", "Emomali Rahmon", "Sadyr Japarov", "Nikol Pashinyan", "Ilham Aliyev",
          "Maria Zakharova", "Igor Petrishenko", "Roman Golovchenko", "Maxim Ryzhenkov"]
HEADER_BLOCKS = 3


def load_samples():
    names = sorted(n for n in os.listdir(SAMPLES) if n.endswith(".txt"))
    if not names:
        raise SystemExit(f"no samples in {SAMPLES}")
    return [(os.path.splitext(n)[0], open(os.path.join(SAMPLES, n), encoding="utf-8").read()) for n in names]


def _mapping(rng):
    """One consistent renaming for a document: a shuffle of each pool onto itself."""
    m = {}
    shuffled = COUNTRIES[:]
    rng.shuffle(shuffled)
    for (c, a), (c2, a2) in zip(COUNTRIES, shuffled):
        m[c], m[a] = c2, a2
    caps = CAPITALS[:]
    rng.shuffle(caps)
    m.update(zip(CAPITALS, caps))
    people = PEOPLE[:]
    rng.shuffle(people)
    for p, p2 in zip(PEOPLE, people):
        m[p] = p2
        m[p.split()[-1]] = p2.split()[-1]  # "Lukashenko said" → the new surname
    return m


_NAME_RE = re.compile(r"\b(" + "|".join(sorted(
    (re.escape(k) for k in {c for pair in COUNTRIES for c in pair} | set(CAPITALS) | set(PEOPLE)
     | {p.split()[-1] for p in PEOPLE}), key=len, reverse=True)) + r")\b")
_NUM_RE = re.compile(r"\d+")


def variant(text, rng):
    blocks = re.split(r"\n\s*\n", text)
    head, body = blocks[:HEADER_BLOCKS], blocks[HEADER_BLOCKS:]
    rng.shuffle(body)
    text = "\n\n".join(head + body)
    m = _mapping(rng)
    text = _NAME_RE.sub(lambda x: m.get(x.group(1), x.group(1)), text)

    def number(x):
        s = x.group(0)
        if len(s) <= 2:
            return str(rng.randint(1, 28))  # days, counts: stay plausible
        if len(s) == 4 and s[:2] in ("19", "20"):
            return str(rng.randint(1991, 2025))  # years
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(len(s) - 1))

    return _NUM_RE.sub(number, text)


def build(n, path, seed=7):
    """Writes n documents as JSONL to path; returns (documents, characters)."""
    samples = load_samples()
    chars = 0
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            name, text = samples[i % len(samples)]
            if i >= len(samples):
                text = variant(text, random.Random(seed * 1_000_003 + i))
            chars += len(text)
            f.write(json.dumps({"id": f"bench-{i:06d}-{name}", "text": text}, ensure_ascii=False) + "\n")
    return n, chars


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    print(build(a.n, a.out, a.seed))
