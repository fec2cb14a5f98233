"""The peer for bench/run.py: the same two models, run the way a Python user would with Hugging
Face transformers pipelines, over the same sentences, thread count and batch size.

    .venv/bin/python bench/peer.py --sentences FILE [--threads 2] [--batch-size 32]
                                   [--ner models/ner] [--claims models/claims] [--dump OUT.jsonl]
                                   [--no-casing]

NER: `TokenClassificationPipeline` on `BertForTokenClassification.from_pretrained(models/ner)`,
aggregation_strategy="first" (a word takes its first piece's label, as claimex does), stride 32
for sentences longer than 128 pieces (claimex cuts windows with a 31-piece overlap).
Claims: the model is not a stock transformers head (ClaimClassifier in models/claims/train.py:
BERT, masked mean of the last layer, one linear layer, sigmoid per label), so the peer wraps the
same computation as a `BertPreTrainedModel` subclass loaded with `from_pretrained`, served by a
small `transformers.Pipeline` subclass (preprocess = tokenize, _forward = model, postprocess =
sigmoid → {label: p}); batching and padding are the Pipeline base class's. Sentences longer than
128 pieces are truncated to their first window, as in training (claimex takes the max over
windows: a rare difference).

Both models were trained with token_type_ids = the casing class of each piece (models/casing.py).
A stock pipeline would feed zeros; the peer overrides preprocess to feed the casing classes, so
its outputs match claimex's (--no-casing feeds zeros instead, the unmodified pipelines). Models
load in fp32 (transformers' default), whatever the files hold.

Times only the pipeline calls (tokenizing, batching, forward, postprocessing: what a pipeline
does), after one untimed warm-up batch; prints one JSON object.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models"))

import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import (BertForTokenClassification, BertModel, BertPreTrainedModel,  # noqa: E402
                          Pipeline, PreTrainedTokenizerFast, TokenClassificationPipeline)
from transformers.modeling_outputs import SequenceClassifierOutput  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import casing  # noqa: E402

MAX_PIECES = 128


def load_tokenizer(path):
    backend = Tokenizer.from_file(path)
    backend.no_padding()  # the shipped file pads and truncates to 128; the pipelines decide
    backend.no_truncation()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", sep_token="[SEP]",
                                   pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]",
                                   model_max_length=MAX_PIECES, clean_up_tokenization_spaces=False)


def with_casing(text, model_inputs):
    """Replace the zero token_type_ids with the casing class of each piece ([CLS]/[SEP]: none)."""
    offsets = model_inputs["offset_mapping"][0].tolist()
    types = casing.token_type_ids(text, [tuple(o) for o in offsets])
    model_inputs["token_type_ids"] = torch.tensor([types], dtype=torch.long)
    return model_inputs


class CasedTokenClassificationPipeline(TokenClassificationPipeline):
    """The stock token-classification pipeline, feeding the casing classes as token types."""

    casing = True

    def preprocess(self, sentence, offset_mapping=None, **preprocess_params):
        for model_inputs in super().preprocess(sentence, offset_mapping=offset_mapping, **preprocess_params):
            yield with_casing(sentence, model_inputs) if self.casing else model_inputs

    def _forward(self, model_inputs):
        out = super()._forward(model_inputs)
        out["logits"] = out["logits"].float()  # postprocess calls .numpy(), which bf16 lacks
        return out


class ClaimClassifierModel(BertPreTrainedModel):
    """ClaimClassifier (models/claims/train.py) as a PreTrainedModel: same parameter names."""

    def __init__(self, config):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **_):
        h = self.bert(input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return SequenceClassifierOutput(logits=self.classifier(self.dropout(pooled)))


class ClaimsPipeline(Pipeline):
    """Multi-label sentence classification: {label: sigmoid probability} per sentence."""

    casing = True

    def _sanitize_parameters(self, **kwargs):
        return {}, {}, {}

    def preprocess(self, text):
        enc = self.tokenizer(text, truncation=True, max_length=MAX_PIECES, return_offsets_mapping=True,
                             return_tensors="pt")
        if self.casing:
            enc = with_casing(text, enc)
        else:
            enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
        return {k: enc[k] for k in ("input_ids", "token_type_ids", "attention_mask")}

    def _forward(self, model_inputs):
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, model_outputs):
        probs = torch.sigmoid(model_outputs["logits"][0].float()).tolist()
        return {self.model.config.id2label[i]: p for i, p in enumerate(probs)}


def load_checked(cls, path):
    model, info = cls.from_pretrained(path, output_loading_info=True)
    missing = [k for k in info["missing_keys"] if "position_ids" not in k]
    if missing or info["unexpected_keys"] or info["mismatched_keys"]:
        raise SystemExit(f"{path}: weights do not match {cls.__name__}: {info}")
    return model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--ner", default=os.path.join(ROOT, "models", "ner"))
    ap.add_argument("--claims", default=os.path.join(ROOT, "models", "claims"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "tokenizer.json"))
    ap.add_argument("--dump", help="write per-sentence entities and claim probabilities (JSONL)")
    ap.add_argument("--no-casing", action="store_true", help="feed zero token types (the stock pipelines)")
    ap.add_argument("--models", default="ner,claims", help="ner, claims or both")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="arithmetic of the forward passes")
    args = ap.parse_args()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.precision]

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    sentences = [l.rstrip("\n") for l in open(args.sentences, encoding="utf-8") if l.strip()]
    wanted = set(args.models.split(","))
    t = time.perf_counter()
    tok = load_tokenizer(args.tokenizer)
    ner = claims = None
    if "ner" in wanted:
        ner = CasedTokenClassificationPipeline(model=load_checked(BertForTokenClassification, args.ner).to(dtype), tokenizer=tok,
                                               device="cpu", batch_size=args.batch_size)
        ner.casing = not args.no_casing
    if "claims" in wanted:
        claims = ClaimsPipeline(model=load_checked(ClaimClassifierModel, args.claims).to(dtype), tokenizer=tok,
                                device="cpu", batch_size=args.batch_size)
        claims.casing = not args.no_casing
    load_seconds = time.perf_counter() - t

    warm = sentences[:args.batch_size]
    t = time.perf_counter()
    with torch.inference_mode():
        if ner:
            ner(warm, aggregation_strategy="first", stride=32)
        if claims:
            claims(warm)
    warmup_seconds = time.perf_counter() - t

    ents = probs = None
    ner_seconds = claims_seconds = 0.0
    with torch.inference_mode():
        if ner:
            t = time.perf_counter()
            ents = ner(sentences, aggregation_strategy="first", stride=32)
            ner_seconds = time.perf_counter() - t
        if claims:
            t = time.perf_counter()
            probs = claims(sentences)
            claims_seconds = time.perf_counter() - t

    pieces = sum(len(tok(s, add_special_tokens=False)["input_ids"]) for s in sentences)
    if args.dump:
        labels = list(claims.model.config.id2label.values()) if claims else []
        with open(args.dump, "w", encoding="utf-8") as f:
            for i, s in enumerate(sentences):
                row = {"i": i,
                       "entities": [[e["start"], e["end"], e["entity_group"], float(e["score"])] for e in ents[i]] if ents else [],
                       "claims": [probs[i][l] for l in labels] if probs else None}
                f.write(json.dumps(row) + "\n")
    seconds = ner_seconds + claims_seconds
    print(json.dumps({
        "seconds": seconds, "ner_seconds": ner_seconds, "claims_seconds": claims_seconds,
        "sentences": len(sentences), "pieces": pieces,
        "entities": sum(len(e) for e in ents) if ents else 0,
        "batch_size": args.batch_size, "threads": torch.get_num_threads(), "casing": not args.no_casing,
        "precision": args.precision,
        "load_seconds": load_seconds, "warmup_seconds": warmup_seconds,
        "sentences_per_second": len(sentences) / seconds if seconds else None,
        "pieces_per_second": pieces / seconds if seconds else None,
        "torch": torch.__version__, "transformers": __import__("transformers").__version__,
    }))


if __name__ == "__main__":
    main()
