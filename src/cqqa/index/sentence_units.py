"""The sentence table: every sentence of every chunk (each text once), its vector, and which
chunk holds which sentence. A question usually targets one sentence, and a 200-token chunk holds
several topics, so retrieval scores each chunk by its best sentence too (search.py), and the
answer quotes sentences (answer.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cqqa.index.vector_index import similarities
from cqqa.ingest.chunking import Chunk, sentences



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
        """The vectors are memory-mapped, read-only: a query reads only its candidates' sentences
        (`best`), so at 100,000 chunks the 1.2 GB of sentence vectors need not be in memory
        (eval/bench_scale.py). Deleting an old version's files under a running server is safe."""
        texts = [json.loads(line)["text"] for line in (folder / cls.TEXTS).read_text("utf-8").splitlines()]
        return cls(texts, np.load(folder / cls.VECTORS, mmap_mode="r"), np.load(folder / cls.OWNER))

    def pairs_of(self, chunk_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For chunk rows: (position in chunk_rows, sentence row) of each of their sentences, in
        reading order. `owner` is sorted by chunk row, so each chunk's sentences are one run."""
        chunk_col = self.owner[:, 0]
        starts = np.searchsorted(chunk_col, chunk_rows, side="left")
        counts = np.searchsorted(chunk_col, chunk_rows, side="right") - starts
        which_chunk = np.repeat(np.arange(len(chunk_rows)), counts)
        pair = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        return which_chunk, self.owner[pair, 1]

    def best(self, query_vector: np.ndarray, chunk_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the given chunk rows only (the candidates: the cost does not grow with the corpus):
        the best sentence similarity (-1 for none) and that sentence's row (-1 for none); of equal
        best sentences, the last."""
        which_chunk, rows = self.pairs_of(chunk_rows)
        scores = similarities(self.vectors, rows, query_vector)
        best = np.full(len(chunk_rows), -1.0, dtype=np.float32)
        np.maximum.at(best, which_chunk, scores)
        which = np.full(len(chunk_rows), -1, dtype=np.int64)
        is_best = scores >= best[which_chunk]
        which[which_chunk[is_best]] = rows[is_best]
        return best, which


def sentence_units(chunks: list[Chunk]) -> tuple[list[str], np.ndarray]:
    texts: dict[str, int] = {}
    owner = []
    for row, chunk in enumerate(chunks):
        for sentence in sentences(chunk.text):
            owner.append((row, texts.setdefault(sentence, len(texts))))
    return list(texts), np.array(owner, dtype=np.int32).reshape(-1, 2)
