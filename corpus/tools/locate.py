#!/usr/bin/env python3
"""Fill span offsets in the corpus labels and check every label against its article (stdlib only).

usage: locate.py [--check] [--root DIR] [LABEL_FILE ...]

Without files: every corpus/labels/*.jsonl and corpus/second/*/*.jsonl. For each label line:
  - fields and values per docs/labeling.md (type, polarity iff stance, categories iff threat,
    modality, actor / actor_alternatives, holder, target);
  - the sentence is found in the article's visible text (whitespace differences ignored);
  - `target` lies inside the sentence; `holder` in the sentence, else the nearest earlier
    occurrence, else the next one (or exactly at a given `start`);
  - `start`/`end` of holder and target are code points of the file as read (HTML: of the source).
It also checks that every article has a label file and a source line, that sources name real
articles, and that no source address is excluded by shared/data/check_source.py.
With --check nothing is written; otherwise the offsets are written back into the label files.
Exit 1 on any error; each error names the file and line.
"""
import argparse
import glob
import html
import json
import os
import re
import subprocess
import sys

TYPES = ("stance", "proposal", "threat")
POLARITIES = ("support", "oppose")
MODALITIES = ("asserted", "negated", "hedged", "conditional")
CATEGORIES = ("terrorism", "extremism", "cybercrime", "information_security",
              "drug_trafficking", "illegal_migration", "organized_crime",
              "military_conflict", "economic_coercion", "other")
FIELDS = ("doc", "type", "sentence", "actor", "actor_alternatives", "holder", "target",
          "polarity", "categories", "modality")
SOURCE_FIELDS = ("id", "url", "date", "outlet", "outlet_kind", "topic", "format", "boilerplate")
OUTLET_KINDS = ("wire", "state_agency", "broadsheet", "government", "un", "think_tank",
                "live_blog", "interview", "other")

HERE = os.path.dirname(os.path.abspath(__file__))
# Set by --check: report offsets that would change instead of writing them.
CHECK_ONLY = False
CORPUS = os.path.dirname(HERE)
# Elements whose content is not visible text.
HIDDEN = {"script", "style", "noscript", "template", "head"}
# Elements that break the text flow (a space stands for them in the visible text).
BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
         "table", "section", "article", "header", "footer", "nav", "aside", "main", "figure",
         "figcaption", "blockquote", "title", "dt", "dd", "hr", "form", "button", "option"}
TAG = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?[^>]*>|</?([a-zA-Z][a-zA-Z0-9]*)[^>]*>", re.S)
ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")


class Article:
    """An article's visible text, whitespace collapsed, with each character's source span."""

    def __init__(self, path):
        with open(path, encoding="utf-8-sig") as f:
            self.source = f.read()
        chars, spans = [], []
        if path.endswith((".html", ".htm")):
            self._visible_html(chars, spans)
        else:
            for i, c in enumerate(self.source):
                chars.append(c)
                spans.append((i, i + 1))
        # Collapse whitespace runs to one space; the space keeps the run's first position.
        self.text, self.spans = [], []
        for c, s in zip(chars, spans):
            if c.isspace():
                if self.text and self.text[-1] == " ":
                    continue
                c = " "
            self.text.append(c)
            self.spans.append(s)
        self.text = "".join(self.text)

    def _visible_html(self, chars, spans):
        src, pos, hidden = self.source, 0, None
        for m in TAG.finditer(src):
            if hidden is None:
                self._text_run(src, pos, m.start(), chars, spans)
            name = (m.group(1) or "").lower()
            closing = m.group(0).startswith("</")
            if hidden is not None:
                if closing and name == hidden:
                    hidden = None
            elif name in HIDDEN and not closing and not m.group(0).endswith("/>"):
                hidden = name
            elif name in BLOCK:
                chars.append(" ")
                spans.append((m.start(), m.start()))
            pos = m.end()
        if hidden is None:
            self._text_run(src, pos, len(src), chars, spans)

    @staticmethod
    def _text_run(src, a, b, chars, spans):
        i = a
        while i < b:
            m = ENTITY.match(src, i, b)
            if m:
                for c in html.unescape(m.group(0)):
                    chars.append("\u00a0" if c == "\u00a0" else c)
                    spans.append((m.start(), m.end()))
                i = m.end()
            else:
                chars.append(src[i])
                spans.append((i, i + 1))
                i += 1

    def find_all(self, needle):
        """Visible-text positions (start, end) of every occurrence of needle, whitespace collapsed,
        that does not start or end inside a word ("he" is not found in "the")."""
        n = re.sub(r"\s+", " ", needle.strip())
        out, i = [], self.text.find(n)
        while i >= 0 and n:
            j = i + len(n)
            cut_before = n[0].isalnum() and i > 0 and self.text[i - 1].isalnum()
            cut_after = n[-1].isalnum() and j < len(self.text) and self.text[j].isalnum()
            if not (cut_before or cut_after):
                out.append((i, j))
            i = self.text.find(n, i + 1)
        return out

    def source_span(self, vis):
        a, b = vis
        return self.spans[a][0], self.spans[b - 1][1]


def article_paths(root):
    out = {}
    for p in sorted(glob.glob(os.path.join(root, "articles", "*"))):
        doc, ext = os.path.splitext(os.path.basename(p))
        if ext in (".txt", ".html"):
            out[doc] = p
    return out


def place(art, span, sentence_vis, where, errors, inside_only):
    """Find `span` ({"text", "start"?}) in the article; return it with start/end, or None on error."""
    if not isinstance(span, dict) or not isinstance(span.get("text"), str) or not span["text"].strip():
        errors.append(f"{where}: span must be an object with a non-empty \"text\"")
        return None
    text = span["text"]
    hits = art.find_all(text)
    if "start" in span and span.get("end") is not None and not inside_only:
        want = (span["start"], span["end"])
        if any(art.source_span(h) == want for h in hits):
            return {"text": text, "start": want[0], "end": want[1]}
    s0, s1 = sentence_vis
    inside = [h for h in hits if h[0] >= s0 and h[1] <= s1]
    if inside:
        chosen = inside[0]
    elif inside_only:
        errors.append(f"{where}: target {text!r} is not inside the claim sentence")
        return None
    else:
        before = [h for h in hits if h[1] <= s0]
        after = [h for h in hits if h[0] >= s1]
        if not (before or after):
            errors.append(f"{where}: holder {text!r} not found in the article")
            return None
        chosen = before[-1] if before else after[0]
    a, b = art.source_span(chosen)
    return {"text": text, "start": a, "end": b}


def check_line(rec, where, art, errors, warnings):
    if not isinstance(rec, dict):
        errors.append(f"{where}: not a JSON object")
        return rec
    missing = [k for k in FIELDS if k not in rec]
    if missing:
        errors.append(f"{where}: missing fields {missing}")
        return rec
    extra = sorted(set(rec) - set(FIELDS))
    if extra:
        errors.append(f"{where}: unknown fields {extra}")
    t = rec["type"]
    if t not in TYPES:
        errors.append(f"{where}: type {t!r} is not one of {TYPES}")
    if (t == "stance") != (rec["polarity"] in POLARITIES) or (t != "stance" and rec["polarity"] is not None):
        errors.append(f"{where}: polarity {rec['polarity']!r} with type {t!r} (support/oppose for a stance, else null)")
    cats = rec["categories"]
    if not isinstance(cats, list) or any(c not in CATEGORIES for c in cats) or len(set(cats)) != len(cats):
        errors.append(f"{where}: categories {cats!r} must be distinct values of {CATEGORIES}")
    elif (t == "threat") != bool(cats):
        errors.append(f"{where}: categories {cats!r} with type {t!r} (non-empty for a threat, else empty)")
    if rec["modality"] not in MODALITIES:
        errors.append(f"{where}: modality {rec['modality']!r} is not one of {MODALITIES}")
    actor = rec["actor"]
    if actor is not None and (not isinstance(actor, str) or not actor.strip()):
        errors.append(f"{where}: actor must be a non-empty string or null")
    alts = rec["actor_alternatives"]
    if not isinstance(alts, list) or not all(isinstance(a, str) and a.strip() for a in alts):
        errors.append(f"{where}: actor_alternatives must be a list of non-empty strings")
    sent = rec["sentence"]
    if not isinstance(sent, str) or not sent.strip():
        errors.append(f"{where}: empty sentence")
        return rec
    if art is None:
        return rec
    hits = art.find_all(sent)
    if not hits:
        errors.append(f"{where}: sentence not found in the article's visible text: {sent[:80]!r}")
        return rec
    svis = hits[0]
    if rec["holder"] is None:
        if actor is not None:
            warnings.append(f"{where}: actor {actor!r} without a holder mention")
    else:
        if actor is None:
            errors.append(f"{where}: holder given but actor is null")
        rec["holder"] = settle(art, rec["holder"], svis, where, errors, inside_only=False)
    if rec["target"] is not None:
        rec["target"] = settle(art, rec["target"], svis, where, errors, inside_only=True)
    return rec


def settle(art, span, sentence_vis, where, errors, inside_only):
    """The span placed in the article; offsets it already had must agree when only checking."""
    placed = place(art, span, sentence_vis, where, errors, inside_only)
    if placed is None:
        return span
    if CHECK_ONLY and (span.get("start"), span.get("end")) != (placed["start"], placed["end"]):
        errors.append(f"{where}: offsets of {span['text']!r} are missing or stale; run locate.py without --check")
    return placed


def records(path, root, errors):
    """(where, record) of each line of a JSONL file; a line that does not parse is an error."""
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        where = f"{os.path.relpath(path, root)}:{n}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: bad JSON: {e}")


def check_sources(root, articles, errors):
    seen, urls = {}, []
    for p in sorted(glob.glob(os.path.join(root, "sources", "*.jsonl"))):
        for where, rec in records(p, root, errors):
            missing = [k for k in SOURCE_FIELDS if k not in rec]
            if missing:
                errors.append(f"{where}: missing fields {missing}")
                continue
            if rec["id"] in seen:
                errors.append(f"{where}: id {rec['id']!r} also at {seen[rec['id']]}")
            seen[rec["id"]] = where
            if rec["id"] not in articles:
                errors.append(f"{where}: no article {rec['id']!r} in articles/")
            if rec["outlet_kind"] not in OUTLET_KINDS:
                errors.append(f"{where}: outlet_kind {rec['outlet_kind']!r} not one of {OUTLET_KINDS}")
            urls.append(rec["url"])
    for doc in articles:
        if doc not in seen:
            errors.append(f"articles/{doc}: no source line in sources/*.jsonl")
    checker = os.path.join(os.path.dirname(os.path.dirname(root)), "shared", "data", "check_source.py")
    if urls and os.path.exists(checker):
        r = subprocess.run([sys.executable, checker, *urls], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            errors.append(f"sources: {line} (an evaluation source: remove the article)")
    elif urls:
        print("WARNING: shared/data/check_source.py not found; source addresses not checked")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--check", action="store_true", help="check only, write nothing")
    ap.add_argument("--root", default=CORPUS)
    args = ap.parse_args()
    global CHECK_ONLY
    CHECK_ONLY = args.check
    root = args.root
    articles = article_paths(root)
    errors, warnings = [], []
    files = args.files or (sorted(glob.glob(os.path.join(root, "labels", "*.jsonl")))
                           + sorted(glob.glob(os.path.join(root, "second", "*", "*.jsonl"))))
    if not args.files:
        labeled = {os.path.splitext(os.path.basename(p))[0]
                   for p in glob.glob(os.path.join(root, "labels", "*.jsonl"))}
        for doc in articles:
            if doc not in labeled:
                errors.append(f"articles/{doc}: no labels/{doc}.jsonl (an empty file means no claim)")
        check_sources(root, articles, errors)
    loaded = {}
    counts = {"files": 0, "claims": 0}
    for p in files:
        doc = os.path.splitext(os.path.basename(p))[0]
        rel = os.path.relpath(p, root)
        if doc not in articles:
            errors.append(f"{rel}: no article {doc!r} in articles/")
            continue
        art = loaded.get(doc) or Article(articles[doc])
        loaded[doc] = art
        out, keys = [], set()
        for where, rec in records(p, root, errors):
            if isinstance(rec, dict) and rec.get("doc") != doc:
                errors.append(f"{where}: doc {rec.get('doc')!r} but the file is for {doc!r}")
            rec = check_line(rec, where, art, errors, warnings)
            if isinstance(rec, dict):
                key = (rec.get("type"), re.sub(r"\s+", " ", str(rec.get("sentence", ""))).strip())
                if key in keys:
                    errors.append(f"{where}: a second {key[0]} line for the same sentence")
                keys.add(key)
            out.append(rec)
        counts["files"] += 1
        counts["claims"] += len(out)
        if not args.check:
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out)
            with open(p, encoding="utf-8") as f:
                old = f.read()
            if body != old:
                tmp = p + ".tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(body)
                os.replace(tmp, p)
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("error:", e)
    print(f"{len(articles)} articles, {counts['files']} label files, {counts['claims']} claims, "
          f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
