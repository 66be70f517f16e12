"""Settings: every knob in one place, each overridable by an environment variable.

This is the only module below the command line and the web app that reads the environment: each
setting is read here into a frozen object (Settings, with its ChunkSettings, LLMSettings and
ReaderSettings; RetrievalSettings for ranking) and passed down. The variables, their defaults and
what they do are listed once, in the README's Configuration table; tests/test_settings.py fails
when the code reads a CQQA_ variable that the table does not list, or the other way round."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cqqa.errors import ConfigError

VERSION = "0.1.0"  # cqqa.__version__; recorded in every index manifest
DEFAULT_MODEL = "embeddinggemma-300m"

# Nothing leaves the machine unless the user points cqqa at a server: every library that would
# phone home is switched off, in code, when `cqqa` is imported (cqqa/__init__.py calls
# stay_local() before any library is imported), for this process and every process it starts (the
# bundled reader, Milvus Lite), whatever the environment says. tests/test_offline.py runs the
# commands and the server under strace, these removed from their environment, and fails on any
# address outside 127.0.0.0/8 and ::1 and on any DNS query.
PHONE_HOME_OFF = {
    # onnxruntime 1.32's telemetry: a DNS lookup of mobile.events.data.microsoft.com from the int8
    # embedder; disable_telemetry_events() comes too late (its thread starts at import)
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",  # huggingface_hub, transformers, sentence-transformers: never ask the hub
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",  # and analytics_enabled=False on the page
    "DO_NOT_TRACK": "1",  # the tools that honour the convention
}


def stay_local() -> None:
    os.environ.update(PHONE_HOME_OFF)


def cache_dir() -> Path:
    return Path(os.environ.get("CQQA_CACHE_DIR") or Path.home() / ".cache" / "cqqa")


def model_dir() -> Path:
    return Path(os.environ.get("CQQA_MODEL_DIR") or cache_dir() / "models")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer; unset it or give a whole number") from None


def max_ocr_pages() -> int:
    """CQQA_MAX_OCR_PAGES: the pages OCR reads in one file (≈ 5 s each on 2 cores); the rest are
    left out, with a warning. Part of how a file is read (its cached text, the index's settings)."""
    pages = _env_int("CQQA_MAX_OCR_PAGES", 300)
    if pages < 1:
        raise ConfigError(f"CQQA_MAX_OCR_PAGES={pages}: give at least 1")
    return pages


def _env_flag(name: str) -> bool:
    raw = (os.environ.get(name) or "0").strip().lower()
    if raw not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name}={raw!r}: use 1 or 0")
    return raw in ("1", "true", "yes")


@dataclass(frozen=True)
class ChunkSettings:
    """Everything that decides how a cleaned document is cut into chunks."""

    chunk_tokens: int = 200
    chunk_overlap: int = 40
    encoding: str = "o200k_base"

    def __post_init__(self) -> None:
        if self.chunk_tokens < 16:
            raise ConfigError(f"chunk size {self.chunk_tokens} tokens is too small (minimum 16; CQQA_CHUNK_TOKENS)")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError(
                f"chunk overlap {self.chunk_overlap} must be >= 0 and below the chunk size {self.chunk_tokens}"
            )

    @classmethod
    def from_env(cls) -> "ChunkSettings":
        return cls(
            chunk_tokens=_env_int("CQQA_CHUNK_TOKENS", cls.chunk_tokens),
            chunk_overlap=_env_int("CQQA_CHUNK_OVERLAP", cls.chunk_overlap),
            encoding=os.environ.get("CQQA_ENCODING") or cls.encoding,
        )


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat server (llm.py): the reader that translates quotes, or with
    mode "generate" the writer of generated answers. Unset: the bundled reader if fetched."""

    base_url: str = ""
    model: str = ""
    api_key: str = ""
    timeout: float = 60.0
    mode: str = "translate"  # or "generate"
    grammar: str = ""  # a llama.cpp GBNF grammar sent with each request (the bundled reader's)

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    @classmethod
    def from_env(cls) -> "LLMSettings":
        raw = os.environ.get("CQQA_LLM_TIMEOUT") or "60"
        try:
            timeout = float(raw)
        except ValueError:
            raise ConfigError(f"CQQA_LLM_TIMEOUT={raw!r} is not a number of seconds") from None
        mode = (os.environ.get("CQQA_LLM_MODE") or "translate").strip().lower()
        if mode not in LLM_MODES:
            raise ConfigError(f"CQQA_LLM_MODE={mode!r}: use one of {', '.join(LLM_MODES)}")
        return cls(os.environ.get("CQQA_LLM_BASE_URL", "").rstrip("/"), os.environ.get("CQQA_LLM_MODEL", ""),
                   os.environ.get("CQQA_LLM_API_KEY", ""), timeout, mode)


LLM_MODES = ("translate", "generate")


ORDERS = ("fair", "arrival")  # whose quote the reader translates next (answer/turns.py)


@dataclass(frozen=True)
class ReaderSettings:
    """The reader that translates English answers' quotes (answer/readers.py makes it)."""

    wanted: bool = True  # CQQA_READER: auto starts the bundled reader when it is fetched; 0: none
    # quotes translated at once: llama.cpp's parallel slots for the bundled reader, requests in
    # flight for a server. 4: on 2 cores, 4 askers got their first checked translation in 17.3 s
    # p95 against 22.2 s with 1 slot (docs/performance.md)
    slots: int = 4
    order: str = "fair"  # everyone's first quote before anyone's second; arrival: first come first served
    cache_entries: int = 2048  # finished translations kept; 0: none (a quote is ~100 characters)
    judge: bool = True  # CQQA_JUDGE: the reader also judges near misses (retrieve/judge.py); 0: scores alone

    def __post_init__(self) -> None:
        if not 1 <= self.slots <= 16:
            raise ConfigError(f"CQQA_READER_SLOTS={self.slots} must be between 1 and 16")
        if self.order not in ORDERS:
            raise ConfigError(f"CQQA_READER_ORDER={self.order!r}: use fair or arrival")
        if self.cache_entries < 0:
            raise ConfigError(f"CQQA_TRANSLATION_CACHE={self.cache_entries} must be 0 (no cache) or more")

    @classmethod
    def from_env(cls) -> "ReaderSettings":
        raw = (os.environ.get("CQQA_READER") or "auto").strip().lower()
        if raw not in ("auto", "1", "0", "true", "false", "yes", "no"):
            raise ConfigError(f"CQQA_READER={raw!r}: use auto or 0")
        return cls(wanted=raw not in ("0", "false", "no"),
                   slots=_env_int("CQQA_READER_SLOTS", cls.slots),
                   order=(os.environ.get("CQQA_READER_ORDER") or cls.order).strip().lower(),
                   cache_entries=_env_int("CQQA_TRANSLATION_CACHE", cls.cache_entries),
                   judge=(os.environ.get("CQQA_JUDGE") or "1").strip().lower() not in ("0", "false", "no"))


@dataclass(frozen=True)
class Settings:
    source_dir: Path = Path("docs_src")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    dtype: str = "auto"
    backend: str = "auto"  # torch where bf16 is native, else int8 ONNX when prepared (models/factory.choose_backend)
    faiss_index: str = "flat"
    chunks: ChunkSettings = field(default_factory=ChunkSettings)
    max_source_mb: int = 32  # a bigger source file is skipped with a warning (chunking is ~linear, ~1 s/MB)
    follow_symlinks: bool = False  # index symlinks whose target is outside the source folder
    allowed_hosts: tuple[str, ...] = ()  # host names `cqqa serve` answers besides the loopback ones
    feedback_file: Path = Path("feedback/feedback.jsonl")
    conversations_file: Path = Path("conversations/conversations.sqlite3")
    conversations_max: int = 500
    uploads_dir: Path | None = None  # where articles added from the chat go (inside source_dir); None: source_dir
    allow_uploads: bool = False  # accept articles from the chat when not bound to loopback (--allow-uploads)
    users_file: Path = Path("users/users.sqlite3")  # users, tokens, sessions (serve/users.py), shared by replicas
    audit_file: Path | None = None  # the audit log (serve/audit.py); None: audit.jsonl beside the users file
    session_hours: int = 12  # a login lasts this long
    behind_https: bool = False  # session cookies marked Secure (a TLS proxy in front of cqqa serve)
    site_title: str = ""  # what the chat says it searches (serve/site.py); "": the source folder's site.toml,
    site_description: str = ""  # else derived from the index
    site_examples: tuple[str, ...] = ()
    extract_memory_mb: int = 384  # an added file is read in a child process with this much memory (ingest/bounded.py)
    extract_seconds: int = 30  # and this long, plus 4 s per MB of the file (and 20 s per page OCR reads)
    ocr_memory_mb: int = 3072  # the address space for a PDF or an image instead, which OCR may need to read
    embed_base_url: str = ""  # an OpenAI-compatible /v1/embeddings server that runs the model (server_embedding.py)
    embed_api_key: str = ""
    embed_query_prefix: str = ""  # put before each query / passage sent to that server (e.g. "query: ")
    embed_document_prefix: str = ""
    store: str = "local"  # where index versions live (index/stores/): local (FAISS + files in index_dir) or milvus
    milvus_uri: str = ""  # a Milvus Lite file (default index_dir/milvus.db) or http://host:19530
    milvus_token: str = ""
    milvus_prefix: str = "cqqa"  # collection names start with it: several indexes can share one Milvus
    llm: LLMSettings = field(default_factory=LLMSettings)
    reader: ReaderSettings = field(default_factory=ReaderSettings)

    @property
    def audit_path(self) -> Path:
        return self.audit_file or self.users_file.parent / "audit.jsonl"

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            source_dir=Path(os.environ.get("CQQA_SOURCE_DIR") or "docs_src"),
            index_dir=Path(os.environ.get("CQQA_INDEX_DIR") or "index"),
            model=os.environ.get("CQQA_MODEL") or DEFAULT_MODEL,
            dtype=os.environ.get("CQQA_DTYPE") or "auto",
            backend=os.environ.get("CQQA_BACKEND") or "auto",
            faiss_index=os.environ.get("CQQA_FAISS_INDEX") or "flat",
            chunks=ChunkSettings.from_env(),
            max_source_mb=_env_int("CQQA_MAX_SOURCE_MB", cls.max_source_mb),
            follow_symlinks=_env_flag("CQQA_FOLLOW_SYMLINKS"),
            allowed_hosts=tuple(h.strip() for h in (os.environ.get("CQQA_ALLOWED_HOSTS") or "").split(",") if h.strip()),
            feedback_file=Path(os.environ.get("CQQA_FEEDBACK_FILE") or "feedback/feedback.jsonl"),
            conversations_file=Path(os.environ.get("CQQA_CONVERSATIONS_FILE") or cls.conversations_file),
            conversations_max=_env_int("CQQA_CONVERSATIONS_MAX", cls.conversations_max),
            uploads_dir=Path(os.environ["CQQA_UPLOADS_DIR"]) if os.environ.get("CQQA_UPLOADS_DIR") else None,
            allow_uploads=_env_flag("CQQA_ALLOW_UPLOADS"),
            users_file=Path(os.environ.get("CQQA_USERS_FILE") or cls.users_file),
            audit_file=Path(os.environ["CQQA_AUDIT_FILE"]) if os.environ.get("CQQA_AUDIT_FILE") else None,
            session_hours=_env_int("CQQA_SESSION_HOURS", cls.session_hours),
            behind_https=_env_flag("CQQA_BEHIND_HTTPS"),
            site_title=os.environ.get("CQQA_TITLE", ""),
            site_description=os.environ.get("CQQA_DESCRIPTION", ""),
            site_examples=tuple(q.strip() for q in (os.environ.get("CQQA_EXAMPLES") or "").split("|") if q.strip()),
            extract_memory_mb=_env_int("CQQA_EXTRACT_MEMORY_MB", cls.extract_memory_mb),
            extract_seconds=_env_int("CQQA_EXTRACT_SECONDS", cls.extract_seconds),
            ocr_memory_mb=_env_int("CQQA_OCR_MEMORY_MB", cls.ocr_memory_mb),
            embed_base_url=(os.environ.get("CQQA_EMBED_BASE_URL") or "").rstrip("/"),
            embed_api_key=os.environ.get("CQQA_EMBED_API_KEY") or "",
            embed_query_prefix=os.environ.get("CQQA_EMBED_QUERY_PREFIX", ""),
            embed_document_prefix=os.environ.get("CQQA_EMBED_DOCUMENT_PREFIX", ""),
            store=os.environ.get("CQQA_STORE") or "local",
            milvus_uri=os.environ.get("CQQA_MILVUS_URI") or "",
            milvus_token=os.environ.get("CQQA_MILVUS_TOKEN") or "",
            milvus_prefix=os.environ.get("CQQA_MILVUS_PREFIX") or "cqqa",
            llm=LLMSettings.from_env(),
            reader=ReaderSettings.from_env(),
        )


MODES = ("hybrid", "dense", "lexical", "rrf")


@dataclass(frozen=True)
class RetrievalSettings:
    """How passages are ranked. The defaults are the
    product; ablations and sweeps are `dataclasses.replace(...)` of them."""

    mode: str = "hybrid"  # or dense, lexical, rrf (naive fusion): single stages, for comparison
    candidates: int = 100  # dense candidates per query, besides the best lexical matches
    lexical_candidates: int = 300  # lexical matches kept as candidates, best BM25 first (0: all)
    lexical_weight: float = 0.2  # weight of the normalised BM25 score at full lexical coverage (cqqa eval)
    sentence_weight: float = 0.5  # dense score = (1 - w) chunk similarity + w best sentence's (sweep_fusion.py)
    sentence_level: bool = True  # off: chunk similarity only (ablation)
    bridge_names: bool = True  # off: no pinyin/alias name bridge (ablation)
    # "Who is X?": the passage giving X's title first; "What is X?" about a subject the articles
    # write: answerable (roles.py). Off for the ablation.
    subject_lookup: bool = True
    # When to say "not in the articles" is not a knob but data fitted per corpus and language:
    # retrieve/decision.py, `cqqa calibrate`.

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown retrieval mode {self.mode!r}; choose one of {', '.join(MODES)}")


def tiktoken_cache_dir() -> Path:
    """tiktoken's cache folder: TIKTOKEN_CACHE_DIR if set, else ours (and the variable is set to
    it, since tiktoken reads only the variable)."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    path = cache_dir() / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path
