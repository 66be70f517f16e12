"""Settings: every knob in one place, each overridable by an environment variable.

| variable            | default                       | meaning                                        |
|---------------------|-------------------------------|------------------------------------------------|
| CQQA_CACHE_DIR      | ~/.cache/cqqa                 | models, tiktoken encodings, downloads          |
| CQQA_MODEL_DIR      | $CQQA_CACHE_DIR/models        | where `cqqa models fetch` puts models          |
| CQQA_MODEL          | embeddinggemma-300m           | the bundled model name, a local path or hub id |
| CQQA_DTYPE          | auto                          | auto, bfloat16 or float32                      |
| CQQA_SOURCE_DIR     | docs_src                      | the articles                                   |
| CQQA_INDEX_DIR      | index                         | where the index is written                     |
| CQQA_CHUNK_TOKENS   | 200                           | chunk size in tiktoken tokens                  |
| CQQA_CHUNK_OVERLAP  | 40                            | overlap between chunks, tokens                 |
| CQQA_ENCODING       | o200k_base                    | tiktoken encoding used to count tokens         |
| CQQA_FAISS_INDEX    | flat                          | flat (exact), hnsw (large corpora)             |
| CQQA_MAX_SOURCE_MB  | 32                            | larger source files are skipped with a warning |
| CQQA_FOLLOW_SYMLINKS| 0                             | 1: index symlinks that point out of the folder |
| CQQA_ALLOWED_HOSTS  |                               | host names `cqqa serve` answers besides localhost |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cqqa.errors import ConfigError

DEFAULT_MODEL = "embeddinggemma-300m"


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
class Settings:
    source_dir: Path = Path("docs_src")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    dtype: str = "auto"
    faiss_index: str = "flat"
    chunks: ChunkSettings = field(default_factory=ChunkSettings)
    max_source_mb: int = 32  # a bigger source file is skipped with a warning (chunking is ~linear, ~1 s/MB)
    follow_symlinks: bool = False  # index symlinks whose target is outside the source folder
    allowed_hosts: tuple[str, ...] = ()  # host names `cqqa serve` answers besides the loopback ones

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            source_dir=Path(os.environ.get("CQQA_SOURCE_DIR") or "docs_src"),
            index_dir=Path(os.environ.get("CQQA_INDEX_DIR") or "index"),
            model=os.environ.get("CQQA_MODEL") or DEFAULT_MODEL,
            dtype=os.environ.get("CQQA_DTYPE") or "auto",
            faiss_index=os.environ.get("CQQA_FAISS_INDEX") or "flat",
            chunks=ChunkSettings.from_env(),
            max_source_mb=_env_int("CQQA_MAX_SOURCE_MB", cls.max_source_mb),
            follow_symlinks=_env_flag("CQQA_FOLLOW_SYMLINKS"),
            allowed_hosts=tuple(h.strip() for h in (os.environ.get("CQQA_ALLOWED_HOSTS") or "").split(",") if h.strip()),
        )
