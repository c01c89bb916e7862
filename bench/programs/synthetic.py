"""Small synthetic data sets written locally (no internet): numpy and the standard library only.

Each benchmark program keeps its package's own data-reading code and reads these
files or arrays instead of the downloaded originals; both frameworks see the
same bytes.
"""

from __future__ import annotations

import os
import random

import numpy as np

WORDS = ["the", "time", "traveller", "said", "that", "we", "could", "move", "through", "time", "as", "we", "move", "through", "space", "and", "the", "psychologist", "laughed", "while", "the", "medical", "man", "looked", "at", "the", "fire", "and", "the", "very", "young", "man", "asked", "what", "the", "machine", "would", "do", "in", "the", "future"]


def fashion_like(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Ten classes of 1-channel images: a bright square at a class-dependent place, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    x = rng.normal(0.0, 0.3, size=(n, 1, size, size)).astype(np.float32)
    step = size // 5
    for i, c in enumerate(y):
        r, col = divmod(int(c), 5)
        x[i, 0, r * step * 2:(r * 2 + 1) * step, col * step:(col + 1) * step] += 2.0
    return x, y


def sentences(n: int, seed: int = 0) -> list[str]:
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 12))) for _ in range(n)]


def time_machine_file(path: str = "timemachine.txt", lines: int = 400) -> str:
    """Text in the shape of d2l's time machine download."""
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write("\n".join(sentences(lines)) + "\n")
    return path


def fra_eng_dir(folder: str = "fra-eng", pairs: int = 600) -> str:
    """`fra.txt` as in d2l's fra-eng.zip: `english<TAB>french` lines (french = reversed words)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "fra.txt")
    if not os.path.exists(path):
        rnd = random.Random(1)
        with open(path, "w") as f:
            for _ in range(pairs):
                words = [rnd.choice(WORDS) for _ in range(rnd.randint(2, 5))]
                f.write(" ".join(words) + " .\t" + " ".join(reversed(words)) + " !\n")
    return folder


def wikitext_dir(folder: str = "wikitext-2", paragraphs: int = 60) -> str:
    """`wiki.train.tokens` as in WikiText-2: paragraphs of sentences joined by ' . '."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "wiki.train.tokens")
    if not os.path.exists(path):
        rnd = random.Random(2)
        with open(path, "w") as f:
            for _ in range(paragraphs):
                f.write(" . ".join(sentences(rnd.randint(3, 6), rnd.randint(0, 10**6))) + " .\n")
    return folder


def token_shards(folder: str = "edu_fineweb10B", tokens: int = 20000, vocab: int = 64) -> str:
    """uint16 token shards named like nanoGPT's fineweb shards, with a learnable repeating pattern."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    pattern = rng.integers(0, vocab, size=97).astype(np.uint16)
    for split in ("train", "val"):
        path = os.path.join(folder, f"edufineweb_{split}_000000.npy")
        if not os.path.exists(path):
            np.save(path, np.resize(pattern, tokens))
    return folder


def pattern_tokens(n: int, length: int, vocab: int, seed: int = 0) -> np.ndarray:
    """Sequences of a repeating random pattern from random offsets: next tokens are learnable."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, vocab, size=53)
    starts = rng.integers(0, len(pattern), size=n)
    idx = (starts[:, None] + np.arange(length)[None, :]) % len(pattern)
    return pattern[idx].astype(np.int64)
