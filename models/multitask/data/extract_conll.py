#!/usr/bin/env python3
"""Extract labeling candidates from the CoNLL-2003 Reuters text (stdlib only).

Reads train/dev/test.txt (one "TOKEN TAG" per line, blank line between
sentences; "-DOCSTART-" lines, present in test.txt, are skipped), detokenizes
each sentence, keeps sentences of 8-60 tokens that look like running prose,
and writes candidates to a JSONL file in three buckets:

  cue    - politics/security sentence that also contains a claim cue
           (condemned, urged, warned, proposed, welcomed, rejected, ...)
  topic  - politics/security sentence without such a cue
           (many are hard negatives: neutral reports of talks, visits, facts)
  other  - random sentences from other news (sports, markets, companies)
           drawn as negatives

Sentence numbers ("sentence N") are 0-based indices over all sentences of a
file in file order, counting every blank-line-separated block except the
-DOCSTART- markers, before any filtering.

Deterministic: fixed seed, sorted inputs. Usage:

  python3 extract_conll.py [--data DIR] [--out FILE] [--other-share 0.25]
"""
import argparse
import json
import os
import random
import re
import sys

SEED = 20030531
SPLITS = ("train", "dev", "test")
MIN_TOK, MAX_TOK = 8, 60

# Topic keywords: politics, diplomacy, security (lower-case; matched on word
# starts, so "minister" also matches "ministers", "attack" matches "attacked").
TOPIC = """
talks minister ministry president premier prime government parliament opposition
troops army military soldier peace peacekeep rebel guerrilla militia separatist
nato u.n. un united nations security council sanction embargo blockade attack
war bomb explosion terror gunmen guerrillas killed clash fighting ceasefire
cease-fire truce diplomat embassy ambassador envoy treaty accord agreement
summit negotiat election vote referendum party leader coup police arrest
nuclear weapon missile arms border invasion occupation refugee hostage kidnap
drug traffick smuggl mafia crime osce european union eu commission
palestinian israel arafat netanyahu plo hamas hizbollah lebanon syria iraq
iran chechen chechnya yeltsin lebed russia bosnia serb croat kosovo albania
burundi rwanda zaire liberia sierra leone sudan somalia afghanistan taleban
kurd turkey cyprus greece north korea south korea china taiwan clinton dole
moscow washington kremlin white house state department pentagon
""".split()

# Claim cues: stance / proposal / threat wording (single words, then phrases).
CUE_WORDS = set("""
urged urge urges urging condemned condemn condemns condemning denounced
denounce criticised criticized criticise criticize criticism warned warn warns
warning threatened threaten threatens threat threats danger dangerous risk
proposed propose proposes proposal suggested suggest appealed appeal demanded
demand demands welcomed welcome welcomes rejected reject rejects opposed oppose
opposes backed supports support supported praised praise accused accuse
accuses protest protested should must hoped hope hopes concern concerned
unacceptable insisted offered offer pledged pledge vowed vow favour favor
""".split())
CUE_PHRASES = ["called for", "call for", "calls for", "ready to", "committed to",
               "called on", "calls on", "need to", "needs to"]
TOPIC_SET = set(TOPIC)


def read_conll(path):
    """Yield lists of tokens, one per sentence (DOCSTART blocks skipped)."""
    sent = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if sent:
                    yield sent
                    sent = []
                continue
            tok = line.split(" ")[0]
            if tok == "-DOCSTART-":
                continue
            sent.append(tok)
    if sent:
        yield sent


NO_SPACE_BEFORE = {",", ".", ":", ";", "?", "!", "%", ")", "]", "}", "...", "n't",
                   "'s", "'S", "'re", "'m", "'ve", "'ll", "'d", "'RE", "'M", "'VE", "'LL", "'D", "N'T"}
NO_SPACE_AFTER = {"(", "[", "{", "$"}


def detokenize(tokens):
    tokens = list(tokens)
    # A lone opening quote at the very end belongs to the next sentence.
    if tokens.count('"') % 2 == 1 and tokens[-1] == '"' and len(tokens) > 1 \
            and tokens[-2] in (".", "?", "!") and tokens[0] == '"':
        tokens = tokens[:-1]
    # Odd number of double quotes and the sentence does not open with one:
    # the sentence starts inside a quotation, so the first quote closes it.
    first_closes = False
    if tokens.count('"') % 2 == 1 and tokens[0] != '"':
        i = tokens.index('"')
        prev = tokens[i - 1] if i > 0 else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        # not after "said :" / before a capitalised word, which open a quote
        first_closes = prev != ":" and not (nxt[:1].isupper() and prev[:1].isalpha())
    out = []            # list of strings
    space = []          # whether a space precedes out[i]
    dq_open = False     # inside "..."
    sq_open = False     # inside '...'
    glue_next = False   # suppress the space before the next token
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        prev = out[-1] if out else ""
        sp = bool(out) and not glue_next
        glue_next = False
        if t == '"':
            if first_closes:
                first_closes = False
                sp = False
            elif not dq_open and prev in (",", ".", "?", "!") and nxt[:1].islower():
                sp = False                      # ..., " said X: closes a quote
            elif not dq_open:
                dq_open = True
                glue_next = True
            else:
                dq_open = False
                sp = False
        elif t == "'":
            if prev and prev[-1:] in "sS" and not sq_open and nxt[:1].isalpha():
                sp = False                      # plural possessive: ministers'
            elif nxt[:1].isdigit() and not sq_open:
                glue_next = True                # '96
            elif not sq_open:
                sq_open = True
                glue_next = True
            else:
                sq_open = False
                sp = False
        elif t in NO_SPACE_BEFORE:
            sp = False
        if t in NO_SPACE_AFTER:
            glue_next = True
        out.append(t)
        space.append(sp)
    if len(out) > 1 and out[-1] == '"' and dq_open:
        out.pop()                               # opening quote of next sentence
        space.pop()
    return "".join((" " if sp else "") + t for t, sp in zip(out, space))


def words(text):
    return re.findall(r"[a-z][a-z.\-']*", text.lower())


def has_kw(ws, kwset):
    for w in ws:
        w2 = w.strip(".'")
        if w2 in kwset or w in kwset:
            return True
        for k in kwset:
            if len(k) >= 5 and w2.startswith(k):
                return True
    return False


def has_cue(text, ws):
    low = " " + text.lower() + " "
    for p in CUE_PHRASES:
        if " " + p + " " in low:
            return True
    return any(w.strip(".'") in CUE_WORDS for w in ws)


def prose_like(tokens, text):
    """Reject tables, score lines, headlines in capitals, datelines."""
    alpha = [t for t in tokens if re.search(r"[A-Za-z]", t)]
    if len(alpha) < 0.6 * len(tokens):
        return False
    lower = [t for t in alpha if t[:1].islower()]
    if len(lower) < 0.35 * len(alpha):
        return False
    if not re.search(r"[.?!\"']$", text):  # finished sentence
        return False
    if text.count("--") > 1 or "..." in text:
        return False
    return True


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data/conll2003")
    ap.add_argument("--out", default="conll_candidates.jsonl")
    ap.add_argument("--other-share", type=float, default=0.25,
                    help="size of the 'other' bucket relative to cue+topic")
    args = ap.parse_args()

    seen = set()
    buckets = {"cue": [], "topic": [], "other": []}
    stats = {"sentences": 0, "length_ok": 0, "prose": 0, "dup": 0}
    for split in SPLITS:
        path = os.path.join(args.data, split + ".txt")
        for idx, toks in enumerate(read_conll(path)):
            stats["sentences"] += 1
            if not (MIN_TOK <= len(toks) <= MAX_TOK):
                continue
            stats["length_ok"] += 1
            text = detokenize(toks)
            if not prose_like(toks, text):
                continue
            stats["prose"] += 1
            key = re.sub(r"\s+", " ", text.lower()).strip()
            if key in seen:
                stats["dup"] += 1
                continue
            seen.add(key)
            ws = words(text)
            rec = {"id": "conll-%s-%06d" % (split, idx), "text": text,
                   "source": "CoNLL-2003 %s.txt sentence %d" % (split, idx),
                   "n_tokens": len(toks)}
            if has_kw(ws, TOPIC_SET):
                rec["bucket"] = "cue" if has_cue(text, ws) else "topic"
            else:
                rec["bucket"] = "other"
            buckets[rec["bucket"]].append(rec)

    rng = random.Random(SEED)
    for b in ("cue", "topic", "other"):
        rng.shuffle(buckets[b])
    n_other = int(args.other_share * (len(buckets["cue"]) + len(buckets["topic"])))
    n_other = min(n_other, len(buckets["other"]))
    other_pool = len(buckets["other"])
    buckets["other"] = buckets["other"][:n_other]

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for b in ("cue", "topic", "other"):
            for r in buckets[b]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    print("sentences read:        %d" % stats["sentences"])
    print("8-60 tokens:           %d" % stats["length_ok"])
    print("prose-like:            %d" % stats["prose"])
    print("duplicate texts:       %d" % stats["dup"])
    print("bucket cue:            %d" % len(buckets["cue"]))
    print("bucket topic:          %d" % len(buckets["topic"]))
    print("bucket other:          %d (of %d non-topic)" % (n_other, other_pool))
    print("written:               %s" % args.out)


if __name__ == "__main__":
    sys.exit(main())
