"""Milvus for the Milvus store (milvus.py): connecting, the collections of one index version and
the table naming the current one, and the rows written into them."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from cqqa.errors import IndexProblem
from cqqa.index.stores.milvus_parts import BM25_PARAMS, engine_tokens

TEXT = 65535  # bytes a VARCHAR holds
PART = 15000  # characters per blob part: 4 bytes per character at worst
MAX_TOKENS = 3600  # 18 bytes each in the BM25 field (milvus_parts.engine_token and a space)


def _quiet_lite(record) -> bool:
    """Milvus Lite serves pymilvus in this process and does not implement AllocTimestamp, which
    pymilvus asks for on create_collection and then does without: drop that one logged traceback."""
    return "Method not implemented" not in record.getMessage()


def connect(uri: str, token: str):
    """A client for the URI (a file: Milvus Lite in this process), or one line saying why not."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    remote = re.match(r"^(https?|tcp|unix)://", uri)
    if not remote:
        if not uri.endswith(".db"):
            raise IndexProblem(f"CQQA_MILVUS_URI={uri} is neither a server (http://host:19530) nor a Milvus Lite "
                               "file (a path ending in .db)")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("grpc._server").addFilter(_quiet_lite)
    try:
        return MilvusClient(uri=uri, token=token, timeout=10)
    except MilvusException as exc:
        if "auth" in str(exc).lower() or "token" in str(exc).lower() or getattr(exc, "code", None) == 1800:
            raise IndexProblem(f"Milvus at {uri} refused the credentials ({exc.message}); set CQQA_MILVUS_TOKEN "
                               "to user:password or an API key") from None
        raise IndexProblem(f"cannot reach Milvus at {uri} ({exc.message}); start it, or point CQQA_MILVUS_URI at "
                           "a running one (a path ending in .db runs Milvus Lite in this process)") from None
    except ImportError as exc:  # a file URI needs the milvus-lite package
        raise IndexProblem(f"Milvus Lite is not installed ({exc}); `pip install milvus-lite`, or point "
                           "CQQA_MILVUS_URI at a Milvus server") from None




def _schema(client, fields: list[tuple], bm25: bool = False):
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    for name, kind, options in fields:
        schema.add_field(name, getattr(DataType, kind), **options)
    if bm25:
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                                     output_field_names=["sparse"]))
    return schema


def _vector_index(client, dim_kind: str, bm25: bool = False):
    params = client.prepare_index_params()
    if dim_kind == "hnsw":
        params.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 200})
    else:
        params.add_index("vector", index_type="FLAT", metric_type="IP")
    if bm25:
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS)
    return params


def create_tables(client, prefix: str, version: str, dim: int, kind: str) -> None:
    """The chunks, sentences and blobs collections of a new version."""
    vector = ("vector", "FLOAT_VECTOR", {"dim": dim})
    row = ("row", "INT64", {"is_primary": True})
    key = ("key", "VARCHAR", {"max_length": 64})
    chunks = _schema(client, [row, key, ("chunk", "VARCHAR", {"max_length": TEXT}),
                              ("tokens", "VARCHAR", {"max_length": TEXT, "enable_analyzer": True,
                                                     "analyzer_params": {"tokenizer": "standard"}}),
                              vector, ("sparse", "SPARSE_FLOAT_VECTOR", {})], bm25=True)
    client.create_collection(f"{prefix}_{version}_chunks", schema=chunks, index_params=_vector_index(client, kind, True))
    sentences = _schema(client, [row, key, ("text", "VARCHAR", {"max_length": TEXT}), vector])
    client.create_collection(f"{prefix}_{version}_sentences", schema=sentences, index_params=_vector_index(client, kind))
    blobs = _schema(client, [row, ("name", "VARCHAR", {"max_length": 1024}), ("part", "INT64", {}),
                             ("text", "VARCHAR", {"max_length": TEXT}), ("vector", "FLOAT_VECTOR", {"dim": 2})])
    client.create_collection(f"{prefix}_{version}_blobs", schema=blobs, index_params=_vector_index(client, "flat"))


def ensure_meta(client, prefix: str) -> None:
    """The one-row table naming the current version (Milvus wants a vector in every collection)."""
    name = f"{prefix}_meta"
    if client.has_collection(name):
        return
    schema = _schema(client, [("key", "VARCHAR", {"is_primary": True, "max_length": 64}),
                              ("value", "VARCHAR", {"max_length": 1024}), ("vector", "FLOAT_VECTOR", {"dim": 2})])
    client.create_collection(name, schema=schema, index_params=_vector_index(client, "flat"))


def chunk_rows(payload, vocabulary: set[str]):
    """The chunks collection's rows; the lexical tokens seen are added to `vocabulary`."""
    from cqqa.index.lexical import tokenize

    for row, chunk in enumerate(payload.chunks):
        tokens = tokenize(payload.lexical_texts[row]) or ["<empty>"]
        vocabulary.update(tokens)
        record = json.dumps(chunk.to_dict(), ensure_ascii=False)
        if len(record.encode("utf-8")) > TEXT:
            raise IndexProblem(f"chunk {chunk.chunk_id} is longer than Milvus stores in one field (64 KB); "
                               "lower CQQA_CHUNK_TOKENS")
        yield {"row": row, "key": payload.chunk_keys[row], "chunk": record, "tokens": engine_tokens(tokens[:MAX_TOKENS]),
               "vector": payload.vectors[row].tolist()}


def sentence_rows(units):
    from cqqa.index.inputs import vector_key

    for row, text in enumerate(units.texts):
        yield {"row": row, "key": vector_key(text), "text": text, "vector": units.vectors[row].tolist()}


def blob_rows(blobs: dict[str, str], first_row: int):
    """Named texts in parts, rows numbered from `first_row`."""
    row = first_row
    for name, text in blobs.items():
        for part, at in enumerate(range(0, max(len(text), 1), PART)):
            yield {"row": row, "name": name, "part": part, "text": text[at:at + PART], "vector": [1.0, 0.0]}
            row += 1
