#!/usr/bin/env python3
"""Runs of N or more words that an article shares with its source text.

    python3 corpus/tools/verbatim.py ARTICLE SOURCE_TEXT [--min 7] [--allow NAME ...]

Writers paraphrase a real report sentence by sentence and must copy no sentence verbatim: this
lists every run of at least --min words (default 7) found in both files, compared case-insensitively
on words with punctuation stripped. Runs made only of words from --allow (names, titles) are not
counted. Exit status 1 when any run is left, so a batch can be checked in a loop.
The source text is what the `pages` search returned for the report (kept outside the repo).
"""
import argparse
import re
import sys


def words(text):
    return [w for w in (re.sub(r"[^\w'-]", "", t).lower() for t in text.split()) if w]


def shared_runs(article, source, min_len):
    """Maximal runs of >= min_len consecutive words of `article` that occur in `source`."""
    src = words(source)
    grams = {tuple(src[i:i + min_len]) for i in range(len(src) - min_len + 1)}
    art = words(article)
    runs, i = [], 0
    while i <= len(art) - min_len:
        if tuple(art[i:i + min_len]) in grams:
            j = i + min_len
            while j < len(art) and tuple(art[j - min_len + 1:j + 1]) in grams:
                j += 1
            runs.append(art[i:j])
            i = j
        else:
            i += 1
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("article")
    ap.add_argument("source")
    ap.add_argument("--min", type=int, default=7, help="shortest run reported (words)")
    ap.add_argument("--allow", nargs="*", default=[], help="words of names and titles that may be copied")
    args = ap.parse_args()
    with open(args.article, encoding="utf-8") as f:
        article = re.sub(r"<[^>]+>", " ", f.read())
    with open(args.source, encoding="utf-8") as f:
        source = f.read()
    allowed = set(words(" ".join(args.allow)))
    runs = [r for r in shared_runs(article, source, args.min) if not set(r) <= allowed]
    for run in runs:
        print(f"{args.article}: {len(run)} words shared: {' '.join(run)}")
    return 1 if runs else 0


if __name__ == "__main__":
    sys.exit(main())
