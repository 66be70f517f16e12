"""The Milvus store: index versions as Milvus collections, for an index past one machine and for
serving replicas that share it (pymilvus; Milvus Lite, embedded, for a file URI). Per version:
chunks, sentences and blobs (the articles' text, the name bridge, ..., the manifest written
last); `<prefix>_meta` has one row, "current", naming the version in use (docs/milvus.md).

A build writes a new version's collections, checks their counts, writes the manifest, and only
then names the version in the "current" row, one upsert: a build killed at any point leaves the
previous version serving, and a half-written version is never read (it has no manifest). Replicas
read that row before each question (Assistant.refresh), as they read the local CURRENT file.
Vectors stay in Milvus: a query fetches only its candidates' (milvus_parts.py).
"""

from __future__ import annotations

import base64
import json
import re
import time
from contextlib import nullcontext
from typing import Callable

import numpy as np
from tqdm import tqdm

from cqqa.errors import IndexProblem
from cqqa.index.stores.base import KEEP_VERSIONS, Payload, Store, new_version_name
from cqqa.index.stores.milvus_parts import BATCH, EngineLexical, EngineVectors, VectorRows
from cqqa.index.stores.milvus_schema import blob_rows, chunk_rows, connect, create_tables, ensure_meta, sentence_rows

STALE_BUILD_HOURS = 24  # an incomplete version older than this is a killed build's
VERSION_NAME = re.compile(r"\d{8}T\d{6}_\d{6}_\d+")


class MilvusStore(Store):
    def __init__(self, settings):
        self.uri = settings.milvus_uri or str(settings.index_dir / "milvus.db")
        self.token, self.prefix = settings.milvus_token, settings.milvus_prefix
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", self.prefix):
            raise IndexProblem(f"CQQA_MILVUS_PREFIX={self.prefix!r}: use letters, digits and underscores")
        self.where = f"Milvus at {self.uri}"
        self._client = None
        self._loaded: set[str] = set()

    @property
    def client(self):
        if self._client is None:
            self._client = connect(self.uri, self.token)
        return self._client

    def _call(self, what: str, action: Callable):
        """Run one engine call; an engine error becomes one line naming the store."""
        from pymilvus.exceptions import MilvusException

        try:
            return action()
        except MilvusException as exc:
            raise IndexProblem(f"{self.where} failed to {what} ({exc.message})") from None

    def _name(self, version: str, table: str) -> str:
        return f"{self.prefix}_{version}_{table}"

    def _open(self, collection: str) -> bool:
        """Whether the collection exists (another build may have dropped it); loaded the first time
        this process reads it (a server or a reopened Milvus Lite file holds collections released)."""
        if not self._call("list collections", lambda: self.client.has_collection(collection)):
            self._loaded.discard(collection)  # dropped by another process's prune
            return False
        if collection in self._loaded:
            return True
        self._call(f"load {collection}", lambda: self.client.load_collection(collection))
        self._loaded.add(collection)
        return True

    # -- which versions there are ------------------------------------------------------------
    def lock(self, lock_timeout: float, warn: Callable[[str], None]):
        """No lock: two builds at once each write a complete version of their own, and the last
        to finish is current."""
        return nullcontext(True)

    def current(self) -> str | None:
        meta = f"{self.prefix}_meta"
        if not self._open(meta):
            return None
        rows = self._call("read the current version", lambda: self.client.query(
            meta, filter='key == "current"', output_fields=["value"], limit=1, consistency_level="Strong"))
        return rows[0]["value"] if rows else None

    def versions(self) -> dict[str, bool]:
        """Every version with collections here -> whether it is complete (has its manifest)."""
        names = self._call("list collections", self.client.list_collections)
        found = {}
        for name in names:
            match = re.fullmatch(re.escape(self.prefix) + r"_(" + VERSION_NAME.pattern + r")_(chunks|sentences|blobs)", name)
            if match:
                found.setdefault(match.group(1), False)
        for version in found:
            found[version] = self._blob(version, "manifest") is not None
        return found

    def has(self, version: str) -> bool:
        return bool(VERSION_NAME.fullmatch(version)) and self.manifest(version) is not None

    def manifest(self, version: str | None = None) -> dict | None:
        version = version or self.current()
        text = self._blob(version, "manifest") if version else None
        return json.loads(text) if text else None

    def state(self, note: Callable[[str], None]) -> tuple[dict | None, bool]:
        from cqqa.index.version import FORMAT

        manifest = self.manifest()
        if manifest is None or manifest.get("format") != FORMAT:
            return manifest, False
        version = self.current()
        counts = (self._count(self._name(version, "chunks")), self._count(self._name(version, "sentences")))
        if counts != (manifest["chunks"], manifest["sentences"]):
            note(f"the index version {version} in {self.where} is damaged ({counts[0]} chunks and {counts[1]} "
                 f"sentences stored, {manifest['chunks']} and {manifest['sentences']} written); rebuilding it")
            return manifest, False
        return manifest, True

    def _count(self, collection: str) -> int:
        if not self._open(collection):
            return 0  # dropped: the caller says the version is damaged
        rows = self._call("count rows", lambda: self.client.query(collection, output_fields=["count(*)"],
                                                                   consistency_level="Strong"))
        return int(rows[0]["count(*)"])

    # -- reading ------------------------------------------------------------------------------
    def _blob(self, version: str, name: str) -> str | None:
        collection = self._name(version, "blobs")
        if not self._open(collection):
            return None
        rows = self._call(f"read {name}", lambda: self.client.query(
            collection, filter=f'name == "{name}"', output_fields=["part", "text"], limit=16384,
            consistency_level="Strong"))
        return "".join(r["text"] for r in sorted(rows, key=lambda r: r["part"])) if rows else None

    def _documents(self, version: str) -> dict[str, str]:
        collection = self._name(version, "blobs")
        rows = []
        for start in range(0, self._count(collection), BATCH * 10):
            rows += self._call("read the articles", lambda: self.client.query(
                collection, filter=f'row >= {start} and row < {start + BATCH * 10} and name like "doc:%"',
                output_fields=["name", "part", "text"], limit=BATCH * 10))
        parts: dict[str, list] = {}
        for row in sorted(rows, key=lambda r: (r["name"], r["part"])):
            parts.setdefault(row["name"][4:], []).append(row["text"])
        return {doc: "".join(texts) for doc, texts in parts.items()}

    def _column(self, collection: str, size: int, field: str) -> list:
        """One field of rows 0..size-1, in row order."""
        out: list = [None] * size
        for start in range(0, size, BATCH * 10):
            rows = self._call("read the index", lambda: self.client.query(
                collection, filter=f"row >= {start} and row < {start + BATCH * 10}", output_fields=["row", field],
                limit=BATCH * 10))
            for row in rows:
                out[row["row"]] = row[field]
        return out

    def load(self, version: str | None = None):
        from cqqa.index.names import NameBridge
        from cqqa.index.sentence_units import SentenceUnits
        from cqqa.index.version import Index, check_format, read_chunk

        asked, version = version, version or self.current()
        manifest = self.manifest(version) if version else None
        if manifest is None and asked:  # as the local store says it: the index is there, not that version
            raise IndexProblem(f"no index version {asked} in {self.where}")
        if manifest is None:
            raise IndexProblem(f"no index in {self.where} (collections {self.prefix}_*); build it with "
                               "`cqqa index --store milvus`")
        check_format(manifest, self.where, "cqqa index --store milvus")
        chunks_at, sentences_at = self._name(version, "chunks"), self._name(version, "sentences")
        if not (self._open(chunks_at) and self._open(sentences_at)):
            raise IndexProblem(f"the index version {version} in {self.where} has lost its collections; rebuild it "
                               "with `cqqa index --store milvus`")
        n, m, dim = manifest["chunks"], manifest["sentences"], manifest["model"]["dim"]
        chunks = [read_chunk(json.loads(text)) for text in self._column(chunks_at, n, "chunk")]
        texts = self._column(sentences_at, m, "text")
        if None in chunks or None in texts:
            raise IndexProblem(f"the index version {version} in {self.where} is missing rows; rebuild it with "
                               "`cqqa index --store milvus`")
        owner = np.frombuffer(base64.b64decode(self._blob(version, "owner") or ""), dtype=np.int32).reshape(-1, 2)
        units = SentenceUnits(texts, VectorRows(self.client, sentences_at, m, dim), owner)
        vocabulary = set(json.loads(self._blob(version, "vocabulary") or "[]"))
        return Index(version, manifest, chunks, VectorRows(self.client, chunks_at, n, dim),
                     EngineVectors(self.client, chunks_at, n, manifest["store"]["vectors"]),
                     EngineLexical(self.client, chunks_at, n, vocabulary),
                     NameBridge.from_json(self._blob(version, "names")), units, lambda: self._documents(version))

    def reusable(self, model_name: str, keys: set[str]) -> tuple[dict[str, np.ndarray], dict | None]:
        from cqqa.index.version import FORMAT

        found: dict[str, np.ndarray] = {}
        identity = None
        current = self.current()
        for version, complete in sorted(self.versions().items(), key=lambda v: v[0] != current):
            manifest = self.manifest(version) if complete else None
            if (not manifest or manifest.get("format") != FORMAT or manifest["model"]["name"] != model_name
                    or identity not in (None, manifest["model"])):
                continue
            identity = manifest["model"]
            for table in ("chunks", "sentences"):
                if not self._open(self._name(version, table)):
                    continue
                wanted = sorted(keys - found.keys())
                for start in range(0, len(wanted), BATCH):
                    batch = wanted[start:start + BATCH]
                    rows = self._call("read stored vectors", lambda: self.client.query(
                        self._name(version, table), filter=f"key in {json.dumps(batch)}",
                        output_fields=["key", "vector"], limit=16384))
                    found.update((row["key"], np.asarray(row["vector"], dtype=np.float32)) for row in rows)
        return found, identity if found else None

    # -- writing ------------------------------------------------------------------------------
    def write(self, manifest: dict, payload: Payload, progress: bool = False) -> str:
        version = re.sub(r"[.-]", "_", new_version_name())  # collection names take letters, digits, "_"
        try:
            self._create(version, payload)
            vocabulary: set[str] = set()
            self._insert_all("chunks", version, chunk_rows(payload, vocabulary), progress)
            self._insert_all("sentences", version, sentence_rows(payload.sentences), progress)
            blobs = {"names": payload.names.to_json(), "vocabulary": json.dumps(sorted(vocabulary), ensure_ascii=False),
                     "owner": base64.b64encode(np.ascontiguousarray(payload.sentences.owner, dtype=np.int32)).decode()}
            blobs |= {f"doc:{doc}": text for doc, text in payload.texts.items()}
            blob_list = list(blob_rows(blobs, 0))
            self._insert_all("blobs", version, blob_list, False)
            for table in ("chunks", "sentences", "blobs"):
                self._call("flush", lambda: self.client.flush(self._name(version, table)))
            expected = (len(payload.chunks), len(payload.sentences.texts))
            stored = (self._count(self._name(version, "chunks")), self._count(self._name(version, "sentences")))
            if stored != expected:
                raise IndexProblem(f"{self.where} stored {stored} rows of {expected}; the build was not made current")
            manifest = {**manifest, "store": {"kind": "milvus", "vectors": payload.vector_kind}}
            self._insert_all("blobs", version, blob_rows({"manifest": json.dumps(manifest, ensure_ascii=False,
                                                                               default=str)}, len(blob_list)), False)
            self._call("flush", lambda: self.client.flush(self._name(version, "blobs")))
        except BaseException:
            self._drop(version)
            raise
        self.use(version)
        return version

    def _insert(self, table: str, version: str, rows: list[dict]) -> None:
        self._call(f"write {table}", lambda: self.client.insert(self._name(version, table), rows))

    def _create(self, version: str, payload: Payload) -> None:
        from pymilvus.exceptions import MilvusException

        try:
            create_tables(self.client, self.prefix, version, payload.vectors.shape[1], payload.vector_kind)
        except MilvusException as exc:
            words = str(exc).lower()
            hint = ("; this Milvus has no BM25 full-text search, which cqqa needs: use Milvus 2.5 or newer"
                    if any(w in words for w in ("bm25", "function", "analyzer", "sparse")) else "")
            raise IndexProblem(f"{self.where} could not create the collections ({exc.message}){hint}") from None

    def _insert_all(self, table: str, version: str, rows, progress: bool) -> None:
        batch = []
        for row in tqdm(rows, desc=f"writing {table} to Milvus", unit=table[:-1], disable=not progress, leave=False):
            batch.append(row)
            if len(batch) == BATCH:
                self._insert(table, version, batch)
                batch = []
        if batch:
            self._insert(table, version, batch)

    def _drop(self, version: str) -> None:
        for table in ("chunks", "sentences", "blobs"):
            self._loaded.discard(self._name(version, table))
            try:
                self.client.drop_collection(self._name(version, table))
            except Exception:  # noqa: BLE001 (best effort: prune drops what is left)
                pass

    def kept(self) -> list[str]:
        return sorted((v for v, done in self.versions().items() if done), reverse=True)

    def use(self, version: str) -> None:
        self._call("create the version table", lambda: ensure_meta(self.client, self.prefix))
        self._call("make the version current", lambda: self.client.upsert(
            f"{self.prefix}_meta", [{"key": "current", "value": version, "vector": [1.0, 0.0]}]))
        self._call("flush", lambda: self.client.flush(f"{self.prefix}_meta"))

    def prune(self) -> None:
        """Drop versions a killed build left (incomplete, and older than the current one or than
        STALE_BUILD_HOURS) and complete ones past KEEP_VERSIONS; never the current one. A newer
        incomplete version may be another build still writing: it is left alone."""
        current = self.current()
        versions = self.versions()
        complete = sorted((v for v, done in versions.items() if done), reverse=True)
        keep = {current} | set(complete[:KEEP_VERSIONS])
        long_ago = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() - STALE_BUILD_HOURS * 3600))
        for version, done in versions.items():
            if version not in keep and (done or (current and version < current) or version < long_ago):
                self._drop(version)
