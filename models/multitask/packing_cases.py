"""Writes tests/fixtures/packing.jsonl: how train.py packs sentences into windows, for cases that
cover its branches. src/encode.rs checks that `plan` packs them the same way.

    .venv/bin/python models/multitask/packing_cases.py
"""
import json
import os
import random

from train import ROOT, pack


def cases():
    rng = random.Random(7)
    yield [10, 20, 100], [0, 0, 1], 126              # second paragraph does not fit beside the first
    yield [60, 60, 60, 60], [0, 0, 0, 0], 126        # one long paragraph: context sentence when both fit
    yield [100, 90, 30], [0, 0, 0], 126              # context does not fit beside the next sentence
    yield [200, 10, 10], [0, 1, 1], 126              # a sentence longer than a window
    yield [5, 300, 5], [0, 0, 0], 126                # ... inside a paragraph
    yield [], [], 126
    for _ in range(30):
        n = rng.randint(1, 25)
        lengths = [rng.choice([rng.randint(1, 40), rng.randint(20, 90), rng.randint(100, 200)]) for _ in range(n)]
        paragraphs, p = [], 0
        for _ in range(n):
            p += rng.random() < 0.5
            paragraphs.append(p)
        yield lengths, paragraphs, rng.choice([30, 62, 126, 254])


with open(os.path.join(ROOT, "tests", "fixtures", "packing.jsonl"), "w") as f:
    for lengths, paragraphs, room in cases():
        windows = pack(lengths, paragraphs, room + 2)
        f.write(json.dumps({"lengths": lengths, "paragraphs": paragraphs, "room": room, "windows": windows}) + "\n")
