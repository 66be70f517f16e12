"""The sentence table: every sentence of every chunk (each text once), its vector, and which
chunk holds which sentence. A question usually targets one sentence, and a 200-token chunk holds
several topics, so retrieval scores each chunk by its best sentence too (search.py), and the
answer quotes sentences (answer.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cqqa.chunking import Chunk, sentences



@dataclass
class SentenceUnits:
    """The sentences of all chunks (each text once) and which chunk holds which sentence."""

    TEXTS = "sentences.jsonl"
    VECTORS = "sentence_vectors.npy"
    OWNER = "sentence_owner.npy"

    texts: list[str]
    vectors: np.ndarray  # row j = texts[j]
    owner: np.ndarray  # (m, 2) int32 pairs: (chunk row, sentence row)

    def save(self, folder: Path) -> None:
        with open(folder / self.TEXTS, "w", encoding="utf-8") as out:
            for text in self.texts:
                out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        np.save(folder / self.VECTORS, self.vectors)
        np.save(folder / self.OWNER, self.owner)

    @classmethod
    def load(cls, folder: Path) -> "SentenceUnits":
        texts = [json.loads(line)["text"] for line in (folder / cls.TEXTS).read_text("utf-8").splitlines()]
        return cls(texts, np.load(folder / cls.VECTORS), np.load(folder / cls.OWNER))

    def best(self, query_vector: np.ndarray, n_chunks: int) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk: the best sentence similarity and that sentence's row (-1 for none)."""
        owned = (self.vectors @ query_vector)[self.owner[:, 1]]  # one similarity per (chunk, sentence) pair
        best = np.full(n_chunks, -1.0, dtype=np.float32)
        np.maximum.at(best, self.owner[:, 0], owned)
        which = np.full(n_chunks, -1, dtype=np.int64)
        is_best = owned >= best[self.owner[:, 0]]
        which[self.owner[is_best, 0]] = self.owner[is_best, 1]
        return best, which


def sentence_units(chunks: list[Chunk]) -> tuple[list[str], np.ndarray]:
    texts: dict[str, int] = {}
    owner = []
    for row, chunk in enumerate(chunks):
        for sentence in sentences(chunk.text):
            owner.append((row, texts.setdefault(sentence, len(texts))))
    return list(texts), np.array(owner, dtype=np.int32).reshape(-1, 2)
