"""The peer for bench/run.py: claimex's one-pass model run the usual Python way, over the same
documents, thread count and batch size.

    .venv/bin/python bench/peer.py --documents FILE [--threads 2] [--batch-size 32]
                                   [--model models/multitask] [--dump OUT.jsonl]

FILE: JSONL, one document per line: {"sentences": [text, …], "paragraphs": [n, …]}.
The model is not a stock transformers head, so the peer is what its training script
(models/multitask/train.py) runs: `transformers.BertModel` loaded with `from_pretrained` from the
model folder, the four linear heads beside it, the Hugging Face fast tokenizer per sentence (with
the casing classes of models/casing.py as token types), windows packed with train.py's `pack`,
and batches of `--batch-size` windows in document order, padded to their longest (a plain loop,
as a Python user writes it; claimex sorts windows by length across documents). Loads in fp32
(transformers' default), whatever the file holds.

Times the loop (tokenizing, packing, padding, forward, sigmoid/softmax, results to Python lists)
after one untimed warm-up document; prints one JSON object.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "multitask"))
sys.path.insert(0, os.path.join(ROOT, "models"))

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import BertConfig, BertModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import casing  # noqa: E402
from train import CLS, SEP, pack  # noqa: E402


class OnePass(torch.nn.Module):
    """BERT and the heads, with train.py's parameter names."""

    def __init__(self, config, heads):
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)
        h = config.hidden_size
        self.ner = torch.nn.Linear(h, len(heads["ner"]))
        self.roles = torch.nn.Linear(h, len(heads["roles"]))
        self.sentence = torch.nn.Linear(h, len(heads["sentence"]))
        self.modality = torch.nn.Linear(h, len(heads["modality"]))


def load(folder, dtype):
    raw = json.load(open(os.path.join(folder, "config.json")))
    config = BertConfig.from_pretrained(folder)
    model = OnePass(config, raw["heads"])
    model.load_state_dict({k: v.float() for k, v in load_file(os.path.join(folder, "model.safetensors")).items()})
    return model.to(dtype).eval(), raw["heads"]


def encode(tok, text):
    enc = tok.encode(text, add_special_tokens=False)
    return enc.ids, casing.token_type_ids(text, enc.offsets)


def windows_of(doc, tok, max_pieces):
    """(ids, types, scored parts as (start, end, sentence index)) per window of one document."""
    encoded = [encode(tok, s) for s in doc["sentences"]]
    room = max_pieces - 2
    out = []
    for parts in pack([len(e[0]) for e in encoded], doc["paragraphs"], max_pieces):
        ids, types, spans = [CLS], [0], []
        for k, scored in parts:
            e_ids, e_types = encoded[k][0][:room], encoded[k][1][:room]  # a longer sentence: its first window
            if scored:
                spans.append((len(ids), len(ids) + len(e_ids), k))
            ids += e_ids
            types += e_types
        out.append((ids + [SEP], types + [0], spans))
    return out


@torch.inference_mode()
def read(model, tok, docs, batch_size, max_pieces):
    """Per document, per sentence: (NER label per piece, sentence probabilities + modality)."""
    results = []
    for doc in docs:
        windows = windows_of(doc, tok, max_pieces)
        per_sentence = [None] * len(doc["sentences"])
        for i in range(0, len(windows), batch_size):
            chunk = windows[i:i + batch_size]
            n = max(len(w[0]) for w in chunk)
            ids = torch.zeros(len(chunk), n, dtype=torch.long)
            types = torch.zeros_like(ids)
            mask = torch.zeros_like(ids)
            for r, (w_ids, w_types, _) in enumerate(chunk):
                ids[r, :len(w_ids)] = torch.tensor(w_ids)
                types[r, :len(w_types)] = torch.tensor(w_types)
                mask[r, :len(w_ids)] = 1
            hidden = model.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            tags = model.ner(hidden).argmax(-1)
            for r, (_, _, spans) in enumerate(chunk):
                for a, b, k in spans:
                    pooled = hidden[r, a:b].mean(0)
                    probs = torch.sigmoid(model.sentence(pooled).float()).tolist()
                    probs += torch.softmax(model.modality(pooled).float(), -1).tolist()
                    per_sentence[k] = (tags[r, a:b].tolist(), probs)
        results.append(per_sentence)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-pieces", type=int, default=128)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "multitask"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "tokenizer.json"))
    ap.add_argument("--dump", help="write per-sentence sentence probabilities (JSONL)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="arithmetic of the forward passes")
    args = ap.parse_args()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.precision]

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    docs = [json.loads(l) for l in open(args.documents, encoding="utf-8") if l.strip()]
    t = time.perf_counter()
    tok = Tokenizer.from_file(args.tokenizer)
    tok.no_padding()
    tok.no_truncation()
    model, heads = load(args.model, dtype)
    load_seconds = time.perf_counter() - t

    t = time.perf_counter()
    read(model, tok, docs[:1], args.batch_size, args.max_pieces)
    warmup_seconds = time.perf_counter() - t

    t = time.perf_counter()
    results = read(model, tok, docs, args.batch_size, args.max_pieces)
    seconds = time.perf_counter() - t

    sentences = sum(len(d["sentences"]) for d in docs)
    pieces = sum(len(tok.encode(s, add_special_tokens=False).ids) for d in docs for s in d["sentences"])
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            i = 0
            for per_sentence in results:
                for tags, probs in per_sentence:
                    f.write(json.dumps({"i": i, "claims": probs}) + "\n")
                    i += 1
    print(json.dumps({
        "seconds": seconds, "documents": len(docs), "sentences": sentences, "pieces": pieces,
        "batch_size": args.batch_size, "threads": torch.get_num_threads(), "precision": args.precision,
        "load_seconds": load_seconds, "warmup_seconds": warmup_seconds,
        "sentences_per_second": sentences / seconds if seconds else None,
        "pieces_per_second": pieces / seconds if seconds else None,
        "heads": {k: len(v) for k, v in heads.items()},
        "torch": torch.__version__, "transformers": __import__("transformers").__version__,
    }))


if __name__ == "__main__":
    main()
