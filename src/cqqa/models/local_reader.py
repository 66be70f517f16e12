"""The bundled reader: llama.cpp's own OpenAI-compatible server (xllamacpp, a prebuilt CPU wheel)
running the fetched GGUF on a loopback port chosen by the system, in this process.

`start()` returns a LocalReader whose `settings` point ChatClient at it (answer/readers.py
chooses whether to start it). Measured on a 2-core
AMD EPYC (AVX2): the model loads in about 3.5 s; a quote's translation begins after about 1 s
and takes 2-7 s (docs/reader.md).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cqqa.models import reader_model
from cqqa.config import LLMSettings, ReaderSettings
from cqqa.errors import LLMError

CONTEXT_PER_SLOT = 2048  # a quote's prompt and translation need well under 1,000 tokens
PROMPT_CACHE_MIB = 256  # earlier prompts' states kept in memory (the judge's worked examples: ~20 MB)


@dataclass
class LocalReader:
    server: object  # xllamacpp.Server: the server stops when this object is released
    settings: LLMSettings
    model_path: Path


def available() -> bool:
    """Whether the bundled reader can start: its model fetched and xllamacpp installed."""
    import importlib.util

    return reader_model.is_fetched() and importlib.util.find_spec("xllamacpp") is not None


def start(model_path: Path | None = None, threads: int | None = None, timeout: float = 120.0,
          ready_within: float = 60.0, slots: int = ReaderSettings.slots, grammar: str = "") -> LocalReader:
    """Start llama.cpp's server on 127.0.0.1 with the reader model; return when it answers /health.
    `slots`: quotes translated at once (each gets its share of the context); `grammar`: the GBNF
    grammar sent with each request (the caller's: what it checks the output against)."""
    try:
        import xllamacpp as xlc
    except ImportError as exc:
        raise LLMError(f"the bundled reader needs xllamacpp ({exc}); reinstall with `make setup`") from None
    path = model_path or reader_model.reader_path()
    if not path.is_file():
        raise LLMError(f"the reader model is not fetched ({path}); run `cqqa models fetch --only reader`")
    params = server_params(xlc, path, threads, slots)
    server = xlc.Server(params)
    base = wait_until_ready(server, ready_within)
    settings = LLMSettings(base_url=f"{base}/v1", model=reader_model.READER_MODEL, timeout=timeout,
                           mode="translate", grammar=grammar)
    return LocalReader(server, settings, path)


def wait_until_ready(server, within: float) -> str:
    """The started server's base URL once it answers /health; LLMError after `within` seconds."""
    base = server.listening_address.rstrip("/")
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise LLMError(f"the bundled reader did not become ready within {within:g} s")
        time.sleep(0.1)


def server_params(xlc, path: Path, threads: int | None = None, slots: int = ReaderSettings.slots):
    """llama.cpp's settings for the reader (xlc: the xllamacpp module); eval/bench_draft.py adds a
    draft model to the same ones. Measured on 2 cores (docs/reader.md, *Speed and memory*):

    * the GGUF is read into memory, not memory-mapped: llama.cpp repacks the weights for the
      CPU's vector units into memory of its own, so a mapping kept the file's 1.1 GB resident
      beside the repacked copy (the reader's RSS 2.1 -> 1.5 GB, the same speed and output);
    * the server's cache of earlier prompts' states in memory is bounded to PROMPT_CACHE_MIB
      (llama.cpp's default, 8 GiB, is more than this whole process should use);
    * the key/value cache stays 16-bit: q8_0 saved 138 MB but changed 7 of 12 translations,
      one of them losing half its sentence.
    """
    params = xlc.CommonParams()
    params.model.path = str(path)
    params.load_mode = xlc.llama_load_mode.LLAMA_LOAD_MODE_NONE
    params.cache_ram_mib = PROMPT_CACHE_MIB
    params.n_ctx = CONTEXT_PER_SLOT * slots
    params.n_parallel = slots
    threads = threads or max(1, len(os.sched_getaffinity(0)))
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.port = 0  # the system picks a free port; listening_address tells which
    params.verbosity = 0
    return params
