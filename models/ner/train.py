"""Train claimex's NER model: all-MiniLM-L6-v2 + casing feature, fine-tuned on CoNLL-2003 English.

    .venv/bin/python models/ner/train.py --conll ../shared/data/conll2003

Writes models/ner/{model.safetensors (fp16), config.json, train_log.json}. Every word piece is
labelled (continuation pieces of an entity word get I-X), so inference can decode BIO over
pieces or words alike. Deterministic for a given seed and thread count.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
from safetensors.torch import save_file
from seqeval.metrics import classification_report, f1_score
from tokenizers import Tokenizer
from transformers import BertForTokenClassification, get_linear_schedule_with_warmup

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import casing  # noqa: E402

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
L2I = {l: i for i, l in enumerate(LABELS)}
MAX_PIECES = 128


def read_conll(path):
    sents, toks, tags = [], [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if toks:
                sents.append((toks, tags))
            toks, tags = [], []
            continue
        parts = line.split()
        if parts[0] == "-DOCSTART-":
            continue
        toks.append(parts[0])
        tags.append(parts[-1])
    if toks:
        sents.append((toks, tags))
    return sents


def encode(tok, words, tags=None):
    """Space-join the words (as claimex's eval-ner does) and label every piece."""
    text = " ".join(words)
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    enc = tok.encode(text)
    ids, offs = enc.ids[:MAX_PIECES], enc.offsets[:MAX_PIECES]
    if len(enc.ids) > MAX_PIECES:  # keep [SEP] last
        ids[-1], offs[-1] = enc.ids[-1], enc.offsets[-1]
    types = casing.token_type_ids(text, offs)
    word_of, first = [], []
    wi = 0
    for s, e in offs:
        if e <= s:
            word_of.append(-1)
            first.append(False)
            continue
        while wi + 1 < len(starts) and starts[wi + 1] <= s:
            wi += 1
        first.append(not word_of or word_of[-1] != wi)
        word_of.append(wi)
    labels = None
    if tags is not None:
        labels = []
        for w, f in zip(word_of, first):
            if w < 0:
                labels.append(-100)
                continue
            t = tags[w]
            if not f and t != "O":
                t = "I-" + t[2:]
            labels.append(L2I[t])
    return ids, types, labels, word_of, first


def batches(items, size, shuffle, rng):
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(chunks)
    for chunk in chunks:
        n = max(len(items[i][0]) for i in chunk)
        ids = torch.zeros(len(chunk), n, dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        labels = torch.full_like(ids, -100)
        for r, i in enumerate(chunk):
            it = items[i]
            k = len(it[0])
            ids[r, :k] = torch.tensor(it[0])
            types[r, :k] = torch.tensor(it[1])
            mask[r, :k] = 1
            if it[2] is not None:
                labels[r, :k] = torch.tensor(it[2])
        yield chunk, ids, types, mask, labels


@torch.inference_mode()
def evaluate(model, tok, sents, batch_size=64):
    model.eval()
    items = [encode(tok, w, t) for w, t in sents]
    preds = [None] * len(items)
    for chunk, ids, types, mask, _ in batches(items, batch_size, False, None):
        logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
        best = logits.argmax(-1)
        for r, i in enumerate(chunk):
            preds[i] = best[r, :len(items[i][0])].tolist()
    gold, pred = [], []
    for (words, tags), it, p in zip(sents, items, preds):
        word_tags = ["O"] * len(words)
        for w, f, lab in zip(it[3], it[4], p):
            if w >= 0 and f:
                word_tags[w] = LABELS[lab]
        # A word cut off by MAX_PIECES keeps "O".
        gold.append(tags)
        pred.append(repair(word_tags))
    model.train()
    return f1_score(gold, pred), classification_report(gold, pred, digits=4, output_dict=True)


def repair(tags):
    """I-X after O or another type starts an entity, as claimex decodes it."""
    out, prev = [], "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            t = "B-" + t[2:]
        out.append(t)
        prev = t
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conll", required=True, help="folder with train.txt, dev.txt, test.txt")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N sentences (smoke tests)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    tok = Tokenizer.from_file(os.path.join(os.path.dirname(HERE), "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    train = read_conll(os.path.join(args.conll, "train.txt"))
    dev = read_conll(os.path.join(args.conll, "dev.txt"))
    test = read_conll(os.path.join(args.conll, "test.txt"))
    if args.limit:
        train = train[:args.limit]
    items = [encode(tok, w, t) for w, t in train]

    model = BertForTokenClassification.from_pretrained(
        casing.base_model_dir(), num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)), label2id=L2I)
    casing.init_case_embeddings(model)
    model.train()

    steps = args.epochs * math.ceil(len(items) / args.batch_size)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    log = {"args": vars(args), "labels": LABELS, "epochs": []}
    t0 = time.time()
    best = -1.0
    step = 0
    for epoch in range(args.epochs):
        for _, ids, types, mask, labels in batches(items, args.batch_size, True, rng):
            loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
        f1, _ = evaluate(model, tok, dev)
        print(f"epoch {epoch}: dev F1 {f1:.4f} ({time.time() - t0:.0f}s)", flush=True)
        log["epochs"].append({"epoch": epoch, "dev_f1": f1, "seconds": time.time() - t0})
        if f1 > best:
            best = f1
            state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
            save_file(state, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
            model.config.to_json_file(os.path.join(args.out, "config.json"))

    # Score what we ship: the fp16 weights, loaded back.
    shipped = BertForTokenClassification.from_pretrained(args.out, torch_dtype=torch.float32)
    for name, data in (("dev", dev), ("test", test)):
        f1, report = evaluate(shipped, tok, data)
        log[name] = {"f1": f1, "per_type": {k: v for k, v in report.items() if k in ("PER", "ORG", "LOC", "MISC")}}
        print(f"fp16 {name} F1 {f1:.4f}", flush=True)
    log["train_seconds"] = time.time() - t0
    log["torch"] = torch.__version__
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(log, f, indent=2, default=lambda o: o.item())


if __name__ == "__main__":
    main()
