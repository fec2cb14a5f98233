"""Train claimex's one-pass model: all-MiniLM-L6-v2 + casing feature, reading windows of whole
paragraphs (claimex's `pack`), with four heads on the one encoder pass:

  token level     ner       O / B-X / I-X over the CoNLL types (trained on CoNLL-2003)
                  roles     O / B-HOLDER / I-HOLDER / B-TARGET / I-TARGET (the corpus's claim-frame spans)
  sentence level  sentence  sigmoid: stance, proposal, threat, support-given-stance, threat categories
  (mean of the    modality  softmax: asserted, negated, hedged, conditional (sentences with claims)
  sentence's own pieces)

    claimex segment $(python3 corpus/tools/split.py --list train) > target/train.segments.jsonl
    claimex segment $(python3 corpus/tools/split.py --list dev) > target/dev.segments.jsonl
    .venv/bin/python models/multitask/train.py --conll ../shared/data/conll2003 \
        --segments target/train.segments.jsonl --dev-segments target/dev.segments.jsonl

(`make train` does all three.) Claim windows come from the corpus's train split, read in context
as claimex segments it, plus the single-sentence files in models/multitask/data; NER windows from
CoNLL-2003 train, consecutive sentences packed the same way. Dev: CoNLL dev and the corpus dev
split. Writes models/multitask/{model.safetensors (fp16), config.json, train_log.json}.
Deterministic for a given seed and thread count.
"""
import argparse
import glob
import json
import math
import os
import random
import re
import sys
import time

import torch
from safetensors.torch import save_file
from seqeval.metrics import classification_report, f1_score
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel, get_linear_schedule_with_warmup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import casing  # noqa: E402

NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
ROLES = ["O", "B-HOLDER", "I-HOLDER", "B-TARGET", "I-TARGET"]
TYPES = ["stance", "proposal", "threat"]
CATEGORIES = ["terrorism", "extremism", "cybercrime", "information_security", "drug_trafficking",
              "illegal_migration", "organized_crime", "military_conflict", "economic_coercion", "other"]
SENTENCE = TYPES + ["support"] + CATEGORIES
MODALITY = ["asserted", "negated", "hedged", "conditional"]
CLS, SEP = 101, 102
IGNORE = -100


# ---------------------------------------------------------------- packing (src/encode.rs `pack`)

def pack(lengths, paragraphs, max_pieces):
    """Windows of whole paragraphs, as claimex's encode::pack makes them: a list of windows, each a
    list of (sentence index, scored). Paragraphs are added while they fit; a paragraph longer than
    a window is split on sentence borders, each later part starting with the sentence before it as
    unscored context when both fit; a sentence longer than a window gets windows of its own."""
    room = max_pieces - 2
    windows, current, used = [], [], 0

    def flush():
        nonlocal current, used
        if current:
            windows.append(current)
        current, used = [], 0

    i, n = 0, len(lengths)
    while i < n:
        j = i
        while j < n and paragraphs[j] == paragraphs[i]:
            j += 1
        total = sum(lengths[i:j])
        if used + total <= room:
            current += [(k, True) for k in range(i, j)]
            used += total
            i = j
            continue
        flush()
        if total <= room:
            continue
        for k in range(i, j):
            if lengths[k] > room:
                flush()
                windows.append([(k, True)])  # split into piece windows by the reader
                continue
            if used + lengths[k] > room:
                flush()
                if k > i and lengths[k - 1] + lengths[k] <= room:
                    current, used = [(k - 1, False)], lengths[k - 1]
            current.append((k, True))
            used += lengths[k]
        flush()
        i = j
    flush()
    return windows


# ---------------------------------------------------------------- inputs

class Sentence:
    """One sentence's pieces and its labels (None where the source labels nothing)."""

    def __init__(self, tok, text):
        enc = tok.encode(text, add_special_tokens=False)
        self.text = text
        self.ids = enc.ids
        self.offsets = enc.offsets
        self.types = casing.token_type_ids(text, enc.offsets)
        self.ner = None          # per piece
        self.roles = None        # per piece
        self.sentence = None     # (targets, mask) over SENTENCE
        self.modality = IGNORE


def read_conll(path):
    """Documents (split at -DOCSTART-) of sentences of (words, tags)."""
    docs, doc, words, tags = [], [], [], []
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if not parts:
            if words:
                doc.append((words, tags))
            words, tags = [], []
            continue
        if parts[0] == "-DOCSTART-":
            if doc:
                docs.append(doc)
            doc = []
            continue
        words.append(parts[0])
        tags.append(parts[-1])
    if words:
        doc.append((words, tags))
    if doc:
        docs.append(doc)
    return docs


def conll_sentence(tok, words, tags):
    """Space-joined words (as claimex's eval-ner reads them); every piece labeled, a word's later
    pieces with I-X."""
    s = Sentence(tok, " ".join(words))
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    s.ner, wi, last = [], 0, -1
    for a, b in s.offsets:
        while wi + 1 < len(starts) and starts[wi + 1] <= a:
            wi += 1
        t = tags[wi]
        if wi == last and t != "O":
            t = "I-" + t[2:]
        s.ner.append(NER.index(t))
        last = wi
    return s


def sentence_targets(claims):
    y, mask = [0.0] * len(SENTENCE), [1.0] * len(SENTENCE)
    stances = [c for c in claims if c["type"] == "stance"]
    for c in claims:
        y[TYPES.index(c["type"])] = 1.0
        for cat in c.get("categories") or []:
            y[4 + CATEGORIES.index(cat)] = 1.0
    if stances:
        y[3] = 1.0 if stances[0]["polarity"] == "support" else 0.0
    else:
        mask[3] = 0.0
    return y, mask


def modality_target(claims):
    """The sentence's modality when all its claims share one (mixed sentences teach nothing)."""
    found = {c.get("modality", "asserted") for c in claims}
    return MODALITY.index(found.pop()) if len(found) == 1 else IGNORE


def nearest(haystack, needle, around):
    best, at = None, haystack.find(needle)
    while at >= 0:
        if best is None or abs(at - around) < abs(best - around):
            best = at
        at = haystack.find(needle, at + 1)
    return best


def mark(sentences, segs, span, b, i):
    """Role tags for a labeled span (source code points): the sentence that holds it, the
    pieces it covers."""
    if not span or span.get("start") is None:
        return False
    for s, seg in zip(sentences, segs):
        if seg["start"] <= span["start"] and span["end"] <= seg["end"]:
            rel = nearest(s.text, span["text"], span["start"] - seg["start"])
            if rel is None:
                return False
            first = True
            for k, (a, e) in enumerate(s.offsets):
                if a >= rel and e <= rel + len(span["text"]) and e > a:
                    if s.roles[k] == 0:
                        s.roles[k] = b if first else i
                    first = False
            return not first
    return False


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


def corpus_documents(tok, segments_path, labels_dir):
    """Documents of the corpus as claimex segments them, with their claims' labels attached."""
    docs, stats = [], {"claims": 0, "unplaced": 0, "holders": 0, "targets": 0}
    for line in open(segments_path, encoding="utf-8"):
        d = json.loads(line)
        segs = d["sentences"]
        sentences = [Sentence(tok, s["text"]) for s in segs]
        for s in sentences:
            s.roles = [0] * len(s.ids)
        by_sentence = [[] for _ in segs]
        for c in (json.loads(l) for l in open(os.path.join(labels_dir, d["id"] + ".jsonl"), encoding="utf-8") if l.strip()):
            stats["claims"] += 1
            k = next((k for k, s in enumerate(segs) if norm(s["text"]) == norm(c["sentence"])), None)
            if k is None and c.get("target") and c["target"].get("start") is not None:
                k = next((k for k, s in enumerate(segs) if s["start"] <= c["target"]["start"] and c["target"]["end"] <= s["end"]), None)
            if k is None:
                stats["unplaced"] += 1
                continue
            by_sentence[k].append(c)
            stats["holders"] += mark(sentences, segs, c.get("holder"), 1, 2)
            stats["targets"] += mark(sentences, segs, c.get("target"), 3, 4)
        for s, claims in zip(sentences, by_sentence):
            s.sentence = sentence_targets(claims)
            s.modality = modality_target(claims) if claims else IGNORE
        docs.append((d["id"], sentences, [s["paragraph"] for s in segs], by_sentence))
    return docs, stats


def single_sentences(tok, paths):
    out = []
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            s = Sentence(tok, row["text"])
            claims = [{"type": t, "polarity": row.get("polarity"), "categories": row.get("categories") if t == "threat" else []}
                      for t in row["types"]]
            s.sentence = sentence_targets(claims)
            if claims and row.get("modality"):
                s.modality = MODALITY.index(row["modality"])
            out.append(s)
    return out


class Window:
    """Model inputs for one packed window, and its labels."""

    def __init__(self, sentences, parts, max_pieces):
        room = max_pieces - 2
        self.ids, self.types, self.ner, self.roles = [CLS], [0], [IGNORE], [IGNORE]
        self.segments = []  # (start, end) in the window, sentence targets, mask, modality, sentence
        for k, scored in parts:
            s = sentences[k]
            start = len(self.ids)
            take = min(len(s.ids), room)
            self.ids += s.ids[:take]
            self.types += s.types[:take]
            self.ner += (s.ner[:take] if s.ner is not None and scored else [IGNORE] * take)
            self.roles += (s.roles[:take] if s.roles is not None else [IGNORE] * take)
            if scored:
                self.segments.append((start, start + take, s, k))
        self.ids.append(SEP)
        self.types.append(0)
        self.ner.append(IGNORE)
        self.roles.append(IGNORE)


def windows_of(sentences, paragraphs, max_pieces):
    return [Window(sentences, parts, max_pieces) for parts in pack([len(s.ids) for s in sentences], paragraphs, max_pieces)]


# ---------------------------------------------------------------- model

class OnePass(torch.nn.Module):
    """What claimex's src/onepass.rs runs: BERT, a token head per tag set, and sentence heads on
    the mean of each sentence's pieces."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        h = bert.config.hidden_size
        self.dropout = torch.nn.Dropout(0.1)
        self.ner = torch.nn.Linear(h, len(NER))
        self.roles = torch.nn.Linear(h, len(ROLES))
        self.sentence = torch.nn.Linear(h, len(SENTENCE))
        self.modality = torch.nn.Linear(h, len(MODALITY))

    def forward(self, ids, types, mask, pool):
        h = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        d = self.dropout(h)
        pooled = self.dropout(torch.bmm(pool, h))  # [batch, segments, hidden]
        return self.ner(d), self.roles(d), self.sentence(pooled), self.modality(pooled)


def collate(windows):
    n = max(len(w.ids) for w in windows)
    m = max(1, max(len(w.segments) for w in windows))
    b = len(windows)
    ids = torch.zeros(b, n, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    ner = torch.full_like(ids, IGNORE)
    roles = torch.full_like(ids, IGNORE)
    pool = torch.zeros(b, m, n)
    y = torch.zeros(b, m, len(SENTENCE))
    ymask = torch.zeros(b, m, len(SENTENCE))
    modality = torch.full((b, m), IGNORE, dtype=torch.long)
    for r, w in enumerate(windows):
        k = len(w.ids)
        ids[r, :k] = torch.tensor(w.ids)
        types[r, :k] = torch.tensor(w.types)
        mask[r, :k] = 1
        ner[r, :k] = torch.tensor(w.ner)
        roles[r, :k] = torch.tensor(w.roles)
        for j, (a, e, s, _) in enumerate(w.segments):
            pool[r, j, a:e] = 1.0 / (e - a)
            if s.sentence is not None:
                y[r, j] = torch.tensor(s.sentence[0])
                ymask[r, j] = torch.tensor(s.sentence[1])
            modality[r, j] = s.modality
    return ids, types, mask, pool, ner, roles, y, ymask, modality


def batches(windows, size, rng):
    """Batches of windows of similar length (little padding), in random order when rng is given."""
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    if rng:
        rng.shuffle(chunks)
    for chunk in chunks:
        yield [windows[i] for i in chunk]


def loss_of(model, batch, modality_weights):
    ids, types, mask, pool, ner, roles, y, ymask, modality = collate(batch)
    ner_logits, role_logits, sent_logits, mod_logits = model(ids, types, mask, pool)
    ce = torch.nn.functional.cross_entropy
    total = torch.zeros(())
    if (ner != IGNORE).any():
        total = total + ce(ner_logits.reshape(-1, len(NER)), ner.reshape(-1), ignore_index=IGNORE)
    if (roles != IGNORE).any():
        total = total + ce(role_logits.reshape(-1, len(ROLES)), roles.reshape(-1), ignore_index=IGNORE)
    if ymask.sum() > 0:
        bce = torch.nn.functional.binary_cross_entropy_with_logits(sent_logits, y, reduction="none")
        total = total + 2.0 * (bce * ymask).sum() / ymask[..., 0].sum().clamp(min=1.0) / 4.0
    if (modality != IGNORE).any():
        total = total + ce(mod_logits.reshape(-1, len(MODALITY)), modality.reshape(-1), weight=modality_weights, ignore_index=IGNORE)
    return total


# ---------------------------------------------------------------- dev scores

def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


@torch.inference_mode()
def predict(model, windows):
    """Per window: piece NER ids, piece role ids, and per segment (sentence probs, modality probs)."""
    model.eval()
    out = {}
    for batch in batches(windows, 32, None):
        ids, types, mask, pool, *_ = collate(batch)
        ner, roles, sent, mod = model(ids, types, mask, pool)
        for r, w in enumerate(batch):
            out[id(w)] = (ner[r].argmax(-1).tolist(), roles[r].argmax(-1).tolist(),
                          torch.sigmoid(sent[r]).tolist(), torch.softmax(mod[r], -1).tolist())
    model.train()
    return out


def ner_dev(model, tok, docs, max_pieces):
    gold, pred = [], []
    for doc in docs:
        sentences = [conll_sentence(tok, w, t) for w, t in doc]
        windows = windows_of(sentences, list(range(len(sentences))), max_pieces)
        tags = {}
        got = predict(model, windows)
        for w in windows:
            labels = got[id(w)][0]
            for a, e, s, k in w.segments:
                tags[k] = labels[a:e]
        for k, ((words, word_tags), s) in enumerate(zip(doc, sentences)):
            starts, pos = [], 0
            for wd in words:
                starts.append(pos)
                pos += len(wd) + 1
            first = {}
            for p, (a, _) in enumerate(s.offsets):
                wi = max(i for i, st in enumerate(starts) if st <= a)
                first.setdefault(wi, p)
            seq = [NER[tags[k][first[i]]] if i in first and first[i] < len(tags[k]) else "O" for i in range(len(words))]
            # seqeval needs valid BIO starts: an I- after O counts as B-.
            gold.append(word_tags)
            pred.append(seq)
    return {"f1": round(f1_score(gold, pred), 4), "report": classification_report(gold, pred, output_dict=True, digits=4)}


def claims_dev(model, docs, max_pieces, thresholds=(0.5, 0.5, 0.5)):
    counts = {t: [0, 0, 0] for t in TYPES}
    mod_ok = mod_n = 0
    per_class = {m: [0, 0] for m in MODALITY}
    curve = {t: [] for t in TYPES}
    for _, sentences, paragraphs, _ in docs:
        windows = windows_of(sentences, paragraphs, max_pieces)
        got = predict(model, windows)
        for w in windows:
            _, _, sent, mod = got[id(w)]
            for j, (_, _, s, _) in enumerate(w.segments):
                for i, t in enumerate(TYPES):
                    gold = s.sentence[0][i] == 1.0
                    curve[t].append((sent[j][i], gold))
                    p = sent[j][i] >= thresholds[i]
                    counts[t][0] += p and gold
                    counts[t][1] += p and not gold
                    counts[t][2] += gold and not p
                if s.modality != IGNORE:
                    guess = max(range(len(MODALITY)), key=lambda m: mod[j][m])
                    mod_n += 1
                    mod_ok += guess == s.modality
                    per_class[MODALITY[s.modality]][0] += guess == s.modality
                    per_class[MODALITY[s.modality]][1] += 1
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {"per_type": {t: prf(*c) for t, c in counts.items()}, "overall": prf(*total),
            "modality_accuracy": round(mod_ok / mod_n, 4) if mod_n else None,
            "modality_recall": {m: round(ok / n, 4) if n else None for m, (ok, n) in per_class.items()}}, curve


def best_thresholds(curve):
    """Per type, the threshold in 0.30..0.70 with the best F1 on dev (reported, not applied)."""
    out = {}
    for t, points in curve.items():
        best = (0.0, 0.5)
        for th in [x / 100 for x in range(30, 71, 5)]:
            tp = sum(p >= th and g for p, g in points)
            fp = sum(p >= th and not g for p, g in points)
            fn = sum(p < th and g for p, g in points)
            best = max(best, (prf(tp, fp, fn)["f1"], th))
        out[t] = {"threshold": best[1], "f1": best[0]}
    return out


# ---------------------------------------------------------------- main

def save(model, out, max_pieces):
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    config = model.bert.config.to_dict()
    for k in ("id2label", "label2id", "_name_or_path", "architectures", "transformers_version"):
        config.pop(k, None)
    config["heads"] = {"ner": NER, "roles": ROLES, "sentence": SENTENCE, "modality": MODALITY}
    config["max_pieces"] = max_pieces
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def fit(model, windows, epochs, args, rng, modality_weights, stage, evaluate):
    """AdamW with 6 % warm-up then linear decay over `epochs` passes of `windows`; `evaluate`
    gets each epoch's log entry."""
    per_epoch = math.ceil(len(windows) / args.batch_size)
    steps = epochs * per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    for epoch in range(epochs):
        model.train()
        total, t0 = 0.0, time.time()
        for step, batch in enumerate(batches(windows, args.batch_size, rng), 1):
            loss = loss_of(model, batch, modality_weights)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
            if step % 100 == 0:
                print(f"{stage} epoch {epoch + 1} step {step}/{per_epoch} loss {total / step:.4f} ({time.time() - t0:.0f} s)", flush=True)
        evaluate({"stage": stage, "epoch": epoch + 1, "loss": round(total / max(1, per_epoch), 4), "seconds": round(time.time() - t0)})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conll", required=True)
    ap.add_argument("--segments", required=True, help="claimex segment output for the corpus train split")
    ap.add_argument("--dev-segments", required=True, help="claimex segment output for the corpus dev split")
    ap.add_argument("--labels", default=os.path.join(ROOT, "corpus", "labels"))
    ap.add_argument("--sentences", nargs="*", default=sorted(glob.glob(os.path.join(HERE, "data", "*_sentences.jsonl"))))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--epochs", type=int, default=4, help="epochs of the joint stage (every head)")
    ap.add_argument("--ner-warmup-epochs", type=int, default=2, help="epochs on CoNLL alone before the joint stage")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=8, help="windows per step (a CoNLL window holds about six sentences)")
    ap.add_argument("--max-pieces", type=int, default=128)
    ap.add_argument("--sentence-repeats", type=int, default=2, help="times the sentence files are read per epoch")
    ap.add_argument("--modality-weight-power", type=float, default=0.5, help="each modality class weighs (most common class / its count) to this power")
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--threads", type=int, default=1, help="1 trains about as fast as 2 on a 2-core machine shared with anything else (OpenMP stalls)")
    ap.add_argument("--limit", type=int, default=0, help="use only this many windows of each source (smoke tests)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    started = time.time()
    tok = Tokenizer.from_file(os.path.join(ROOT, "models", "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()

    conll_train = read_conll(os.path.join(args.conll, "train.txt"))
    conll_dev = read_conll(os.path.join(args.conll, "dev.txt"))
    ner_windows = []
    for doc in conll_train:
        sentences = [conll_sentence(tok, w, t) for w, t in doc]
        ner_windows += windows_of(sentences, list(range(len(sentences))), args.max_pieces)
    corpus, corpus_stats = corpus_documents(tok, args.segments, args.labels)
    dev_corpus, _ = corpus_documents(tok, args.dev_segments, args.labels)
    claim_windows = []
    for _, sentences, paragraphs, _ in corpus:
        claim_windows += windows_of(sentences, paragraphs, args.max_pieces)
    singles = single_sentences(tok, args.sentences)
    single_windows = [Window(singles, [(k, True)], args.max_pieces) for k in range(len(singles))]  # no context: unrelated
    if args.limit:
        ner_windows, claim_windows, single_windows = ner_windows[:args.limit], claim_windows[:args.limit], single_windows[:args.limit]
        conll_dev = conll_dev[:1]
        dev_corpus = dev_corpus[:3]
    # The sentence files hold the look-alike contrasts (patterns, borderline cases, commentary):
    # read twice an epoch, as the two-model classifier read them over more epochs.
    train = ner_windows + claim_windows + single_windows * args.sentence_repeats
    print(f"windows: {len(ner_windows)} CoNLL, {len(claim_windows)} corpus, {len(single_windows)} sentence files; "
          f"corpus claims {corpus_stats}", flush=True)

    # Non-asserted modality is rare (under a tenth of labeled sentences): weigh each class by a
    # power of its rarity (default the square root), or the head learns to say "asserted" always.
    found = [s.modality for sentences in ([s for _, ss, _, _ in corpus for s in ss], singles) for s in sentences if s.modality != IGNORE]
    counts = [max(1, found.count(m)) for m in range(len(MODALITY))]
    modality_weights = torch.tensor([(max(counts) / c) ** args.modality_weight_power for c in counts])
    print(f"modality counts {dict(zip(MODALITY, counts))}, weights {[round(w, 2) for w in modality_weights.tolist()]}", flush=True)

    config = BertConfig.from_pretrained(casing.base_model_dir())
    bert = BertModel.from_pretrained(casing.base_model_dir(), add_pooling_layer=False)

    class Holder(torch.nn.Module):  # casing.init_case_embeddings expects `.bert`
        def __init__(self):
            super().__init__()
            self.bert = bert
    casing.init_case_embeddings(Holder())
    model = OnePass(bert)
    log = {"args": vars(args), "modality_counts": dict(zip(MODALITY, counts)), "windows": {"conll": len(ner_windows), "corpus": len(claim_windows), "sentences": len(single_windows)},
           "corpus_claims": corpus_stats, "epochs": []}

    def evaluate(entry):
        entry["conll_dev_f1"] = ner_dev(model, tok, conll_dev, args.max_pieces)["f1"]
        entry["corpus_dev"] = claims_dev(model, dev_corpus, args.max_pieces)[0]
        log["epochs"].append(entry)
        print(json.dumps(entry), flush=True)

    # NER first, alone: the token head then starts the joint stage from an encoder that already
    # knows entities, and the joint stage's sentence objectives pull it away less (model card).
    if args.ner_warmup_epochs:
        fit(model, ner_windows, args.ner_warmup_epochs, args, rng, modality_weights, "ner warm-up", evaluate)
    fit(model, train, args.epochs, args, rng, modality_weights, "joint", evaluate)
    model.eval()
    # The shipped weights are fp16: score what ships.
    model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    ner = ner_dev(model, tok, conll_dev, args.max_pieces)
    claims, curve = claims_dev(model, dev_corpus, args.max_pieces)
    log["dev_fp16"] = {"conll_f1": ner["f1"], "conll_per_type": {k: {m: round(float(x), 4) for m, x in v.items()} for k, v in ner["report"].items() if k in ("PER", "ORG", "LOC", "MISC")},
                       "corpus": claims, "best_thresholds": best_thresholds(curve)}
    log["train_seconds"] = round(time.time() - started)
    log["torch"] = torch.__version__
    os.makedirs(args.out, exist_ok=True)
    save(model, args.out, args.max_pieces)
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(log, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(log["dev_fp16"]["corpus"]), "conll dev F1", ner["f1"], f"({log['train_seconds']} s)")


if __name__ == "__main__":
    main()
