"""A loaded index version, wherever it is stored (index/stores/): chunk table, vectors, vector
index, lexical index, name bridge, sentence table and source texts; the index format this cqqa
reads (FORMAT), and how a chunk is read back from its stored row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cqqa.ingest.chunking import Chunk
from cqqa.models.embedding import ModelIdentity
from cqqa.errors import IndexProblem
from cqqa.index.lexical import LexicalIndex
from cqqa.index.names import NameBridge
from cqqa.index.sentence_units import SentenceUnits
from cqqa.index.vector_index import VectorIndex

FORMAT = 7  # 7: chunks know their page (PDF); 6: manifest["files"] (checksums), fingerprints cover the sidecar



@dataclass
class Index:
    """One index version, wherever it is stored (index/stores/): the local store holds everything
    in memory or memory-mapped; the Milvus store gives `vectors`, `vector_index`, `lexical` and the
    sentence vectors as objects that ask the engine (stores/milvus_parts.py), same calls."""

    version: str
    manifest: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    vector_index: VectorIndex
    lexical: LexicalIndex
    names: NameBridge
    sentences: "SentenceUnits"
    read_texts: Callable[[], dict[str, str]] = field(default=dict, repr=False)  # the store reads them when asked
    _texts: dict[str, str] | None = field(default=None, repr=False)
    _rows: dict[str, int] | None = field(default=None, repr=False)

    def document_texts(self) -> dict[str, str]:
        """doc id -> the decoded source text the chunk offsets of this version point into."""
        if self._texts is None:
            self._texts = self.read_texts()
        return self._texts

    def document_text(self, doc_id: str) -> str:
        texts = self.document_texts()
        if doc_id not in texts:
            raise IndexProblem(f"no article {doc_id!r} in the index version {self.version}")
        return texts[doc_id]

    def document_meta(self, doc_id: str) -> dict:
        entry = next((d for d in self.manifest["documents"] if d["doc_id"] == doc_id), None)
        return dict(entry.get("meta") or {}) | {"title": entry["title"]} if entry else {}

    def row_of(self, chunk_id: str) -> int:
        if self._rows is None:
            self._rows = {chunk.chunk_id: row for row, chunk in enumerate(self.chunks)}
        return self._rows[chunk_id]

    def chunk_sentences(self, row: int) -> list[int]:
        """Rows in the sentence table of chunk `row`'s sentences, in reading order."""
        return self.sentences.pairs_of(np.array([row]))[1].tolist()

    @property
    def model(self) -> ModelIdentity:
        return ModelIdentity(**self.manifest["model"])



def check_format(manifest: dict, where: str, rebuild: str) -> None:
    """An IndexProblem when a version was written in another index format than this cqqa reads."""
    if manifest.get("format") != FORMAT:
        raise IndexProblem(f"the index in {where} has format {manifest.get('format')}, this cqqa reads {FORMAT}; "
                           f"rebuild it with `{rebuild}`")


CHUNK_FIELDS = tuple(Chunk.__dataclass_fields__)


def read_chunk(row: dict) -> Chunk:
    """A chunk from its chunks.jsonl row (fields it does not know are ignored)."""
    return Chunk(**{name: row[name] for name in CHUNK_FIELDS if name in row})
