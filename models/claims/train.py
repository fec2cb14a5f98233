"""Train claimex's claim classifier: all-MiniLM-L6-v2 + casing feature, mean-pooled (as the
base sentence encoder was trained), one sigmoid output per label: stance, proposal, threat,
support-given-stance, then one per threat category (trained as "a threat of this category", so
every sentence teaches the category outputs).

    .venv/bin/python models/claims/train.py                      # the shipped corpus
    .venv/bin/python models/claims/train.py --data my.jsonl ...  # your own labeled sentences too

Data: JSONL lines {"id", "text", "types", "polarity", "categories"} (models/claims/data/README.md).
A fixed 15% of ids (by hash) is held out as dev. Writes models/claims/{model.safetensors (fp16),
config.json, train_log.json}.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import random
import sys
import time

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel, get_linear_schedule_with_warmup

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import casing  # noqa: E402

TYPES = ["stance", "proposal", "threat"]
CATEGORIES = ["terrorism", "extremism", "cybercrime", "information_security", "drug_trafficking",
              "illegal_migration", "organized_crime", "military_conflict", "economic_coercion", "other"]
LABELS = TYPES + ["support"] + CATEGORIES
MAX_PIECES = 128


def load(paths):
    rows = []
    for path in paths:
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.strip():
                row = json.loads(line)
                row["_where"] = f"{path}:{n}"
                rows.append(row)
    return rows


def is_dev(row, share):
    h = int(hashlib.sha256(row["id"].encode()).hexdigest()[:8], 16)
    return h % 1000 < share * 1000


def targets(row):
    y = [0.0] * len(LABELS)
    mask = [1.0] * len(LABELS)
    for t in row["types"]:
        y[TYPES.index(t)] = 1.0
    if "stance" in row["types"]:
        y[3] = 1.0 if row["polarity"] == "support" else 0.0
    else:
        mask[3] = 0.0
    for c in row.get("categories") or []:
        y[4 + CATEGORIES.index(c)] = 1.0
    return y, mask


class ClaimClassifier(torch.nn.Module):
    """What claimex's src/classify.rs runs: BERT, masked mean of the last layer, one linear layer."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(bert.config.hidden_size, len(LABELS))

    def forward(self, input_ids, token_type_ids, attention_mask):
        h = self.bert(input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.classifier(self.dropout(pooled))


def save(model, out):
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    config = model.bert.config
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {l: i for i, l in enumerate(LABELS)}
    config.to_json_file(os.path.join(out, "config.json"))


def load_shipped(out):
    from safetensors.torch import load_file
    config = BertConfig.from_json_file(os.path.join(out, "config.json"))
    model = ClaimClassifier(BertModel(config, add_pooling_layer=False))
    model.load_state_dict({k: v.float() for k, v in load_file(os.path.join(out, "model.safetensors")).items()})
    return model


def encode(tok, text):
    enc = tok.encode(text)
    ids, offs = enc.ids, enc.offsets
    if len(ids) > MAX_PIECES:  # [CLS] … [SEP], as claimex's first window
        ids = ids[:MAX_PIECES - 1] + ids[-1:]
        offs = offs[:MAX_PIECES - 1] + offs[-1:]
    return ids, casing.token_type_ids(text, offs)


def batches(items, size, shuffle, rng):
    order = list(range(len(items)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), size):
        chunk = order[i:i + size]
        n = max(len(items[j][0]) for j in chunk)
        ids = torch.zeros(len(chunk), n, dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        for r, j in enumerate(chunk):
            k = len(items[j][0])
            ids[r, :k] = torch.tensor(items[j][0])
            types[r, :k] = torch.tensor(items[j][1])
            mask[r, :k] = 1
        y = torch.tensor([items[j][2] for j in chunk])
        m = torch.tensor([items[j][3] for j in chunk])
        yield chunk, ids, types, mask, y, m


def f1(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


@torch.inference_mode()
def evaluate(model, items, threshold=0.5):
    model.eval()
    counts = {t: [0, 0, 0] for t in TYPES + ["category"]}
    pol_ok = pol_n = 0
    for _, ids, types, mask, y, m in batches(items, 64, False, None):
        p = torch.sigmoid(model(input_ids=ids, token_type_ids=types, attention_mask=mask))
        for row_p, row_y in zip(p.tolist(), y.tolist()):
            for i, t in enumerate(TYPES):
                pred, gold = row_p[i] >= threshold, row_y[i] == 1.0
                counts[t][0] += pred and gold
                counts[t][1] += pred and not gold
                counts[t][2] += gold and not pred
            if row_y[0] == 1.0 and row_p[0] >= threshold:
                pol_n += 1
                pol_ok += (row_p[3] >= 0.5) == (row_y[3] == 1.0)
            if row_y[2] == 1.0 and row_p[2] >= threshold:
                cats = row_p[4:]
                best = max(range(len(cats)), key=cats.__getitem__)
                pred = {i for i, v in enumerate(cats) if v >= threshold} | {best}
                gold = {i for i, v in enumerate(row_y[4:]) if v == 1.0}
                counts["category"][0] += len(pred & gold)
                counts["category"][1] += len(pred - gold)
                counts["category"][2] += len(gold - pred)
    model.train()
    out = {k: f1(*v) for k, v in counts.items()}
    tp = sum(counts[t][0] for t in TYPES)
    fp = sum(counts[t][1] for t in TYPES)
    fn = sum(counts[t][2] for t in TYPES)
    out["overall"] = f1(tp, fp, fn)
    out["polarity_accuracy"] = pol_ok / pol_n if pol_n else None
    return out


@torch.inference_mode()
def calibrate(model, items):
    """Per claim type, the threshold in 0.20..0.80 with the best dev F1 (for pipeline.toml)."""
    model.eval()
    probs, golds = [], []
    for _, ids, types, mask, y, _ in batches(items, 64, False, None):
        probs += torch.sigmoid(model(input_ids=ids, token_type_ids=types, attention_mask=mask)).tolist()
        golds += y.tolist()
    best = {}
    for i, t in enumerate(TYPES):
        scored = []
        for k in range(20, 81, 5):
            th = k / 100
            tp = sum(p[i] >= th and g[i] == 1 for p, g in zip(probs, golds))
            fp = sum(p[i] >= th and g[i] == 0 for p, g in zip(probs, golds))
            fn = sum(p[i] < th and g[i] == 1 for p, g in zip(probs, golds))
            scored.append((f1(tp, fp, fn)["f1"], -abs(th - 0.5), th))
        best[t] = max(scored)[2]
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", nargs="*", default=sorted(glob.glob(os.path.join(HERE, "data", "*.jsonl"))))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--dev-share", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calibrate", action="store_true", help="only suggest thresholds for the model in --out")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    tok = Tokenizer.from_file(os.path.join(os.path.dirname(HERE), "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    rows = load(args.data)
    train_rows = [r for r in rows if not is_dev(r, args.dev_share)]
    dev_rows = [r for r in rows if is_dev(r, args.dev_share)]
    prep = lambda rs: [(*encode(tok, r["text"]), *targets(r)) for r in rs]  # noqa: E731
    train, dev = prep(train_rows), prep(dev_rows)
    print(f"{len(train)} train, {len(dev)} dev sentences from {len(args.data)} files", flush=True)
    if args.calibrate:
        print("suggested thresholds", json.dumps(calibrate(load_shipped(args.out), dev)))
        return

    model = ClaimClassifier(BertModel.from_pretrained(casing.base_model_dir(), add_pooling_layer=False))
    casing.init_case_embeddings(model)
    model.train()
    steps = args.epochs * math.ceil(len(train) / args.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * steps), steps)
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    log = {"args": vars(args), "labels": LABELS, "train_size": len(train), "dev_size": len(dev), "epochs": []}
    t0 = time.time()
    for epoch in range(args.epochs):
        for _, ids, types, mask, y, m in batches(train, args.batch_size, True, rng):
            logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            loss = (bce(logits, y) * m).sum() / m.sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
        scores = evaluate(model, dev) if dev else {}
        print(f"epoch {epoch}: loss {loss.item():.4f} dev {json.dumps({k: v['f1'] if isinstance(v, dict) else v for k, v in scores.items()})} ({time.time() - t0:.0f}s)", flush=True)
        log["epochs"].append({"epoch": epoch, "dev": scores, "seconds": time.time() - t0})

    # The last epoch is shipped (a fixed schedule: dev is too small to pick epochs on).
    save(model, args.out)
    shipped = load_shipped(args.out)
    log["dev_fp16"] = evaluate(shipped, dev) if dev else None
    log["suggested_thresholds"] = calibrate(shipped, dev) if dev else None
    log["train_seconds"] = time.time() - t0
    log["torch"] = torch.__version__
    print("fp16 dev", json.dumps(log["dev_fp16"]), flush=True)
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(log, f, indent=2)


if __name__ == "__main__":
    main()
