"""Speed benchmark: index build and search timings, as medians over several runs.

Each figure comes with its baseline measured in the same run: search latency is
compared with embedding the query alone (the floor any dense search pays), a
cold build with a no-op rebuild. The query-vector cache is cleared before every
timed query. Extractive answers (`cqqa ask`, the chat) are timed against search.
"""

from __future__ import annotations

import dataclasses
import resource
import statistics
import tempfile
import time
from pathlib import Path

from cqqa.ingest.chunking import chunk_document
from cqqa.config import Settings
from cqqa.ingest.sources import load_documents
from cqqa.ingest.tiktoken_offline import count_tokens

QUERIES = [
    "what did Yin Qi say about AI 2.0", "What role does Changan play in Chongqing?",
    "How many new-energy vehicles did Chongqing produce in 2024?", "What is the 33618 system?",
    "Who is the chairman of Seres?", "What did Li Shufu say about safety?",
    "How much did Avatr pay for its Yinwang stake?", "super-charging stations by the end of 2025",
    "What does Bosch Hydrogen make in Chongqing?", "How many users does Dongchedi cover?",
    "CITIC Bank financing for the car industry", "Zhu Huarong four roles of future cars",
    "印奇如何评价AI 2.0时代？", "长安汽车前三季度累计销量是多少？", "赛力斯与华为的合作是什么模式？",
    "重庆的超充站建设目标", "北斗智联公司的年营收", "国科础石成立于哪一年？",
    "李書福認為AI技術會給汽車行業帶來什麼？", "重慶新能源汽車產量目標是多少？", "千里科技由哪家企業蛻變而來？",
    "中信銀行重慶分行今年提供了多少融資？", "張興海如何定位未來汽車？", "車路雲一體化試點的目標",
]


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def _time_queries(embedder, searcher, assistant, runs: int, progress) -> tuple[list, list, list]:
    """Seconds for the query embedding alone, a search and an answer, per query and run. The three
    alternate query by query, so a slower stretch of the machine affects them alike and their
    ratios hold."""
    embed_only, search, answer = [], [], []
    for i in range(runs):
        for query in QUERIES:
            for timings, work in ((embed_only, lambda: embedder.encode_queries([query])),
                                  (search, lambda: searcher.search(query, k=10)),
                                  (answer, lambda: assistant.ask(query))):
                embedder.query_cache.clear()  # time real work, not the query cache
                t0 = time.perf_counter()
                work()
                timings.append(time.perf_counter() - t0)
        progress(f"run {i + 1}/{runs}: search median {_median_ms(search)} ms, "
                 f"answer median {_median_ms(answer)} ms")
    return embed_only, search, answer


def float32_chunks_only(settings: Settings, chunks: list, runs: int, progress) -> float:
    """The reference a build is compared with (issue 37): torch float32 embedding the chunk texts
    alone (no sentences, no index), median seconds over `runs`, measured in the same run."""
    from cqqa.index.build import embed_input
    from cqqa.models.torch_embedding import SentenceTransformerEmbedder

    reference = SentenceTransformerEmbedder(settings.model, "float32")
    texts = [embed_input(c) for c in chunks]
    reference.encode_documents(texts[:4])  # warm-up
    seconds = []
    for i in range(runs):
        started = time.perf_counter()
        reference.encode_documents(texts)
        seconds.append(time.perf_counter() - started)
        progress(f"float32 chunks-only reference {i + 1}/{runs}: {seconds[-1]:.1f} s")
    return statistics.median(seconds)


def run(settings: Settings, runs: int = 5, progress=lambda message: None, reference: bool = False) -> dict:
    from cqqa.answer.assistant import Assistant
    from cqqa.models.factory import load_embedder
    from cqqa.index.build import build_index
    from cqqa.config import LLMSettings
    from cqqa.retrieve.search import Searcher

    started = time.perf_counter()
    embedder = load_embedder(settings)
    model_load = time.perf_counter() - started

    docs = load_documents(settings.source_dir)
    chunks = [c for d in docs for c in chunk_document(d, settings.chunks)]
    tokens = [count_tokens(c.text, settings.chunks.encoding) for c in chunks]
    chars = [len(c.text) for c in chunks]

    cold, noop = [], []
    with tempfile.TemporaryDirectory(prefix="cqqa-bench-") as tmp:
        for i in range(runs):
            bench_settings = dataclasses.replace(settings, index_dir=Path(tmp) / f"index{i}", store="local")  # never the shared store
            cold.append(build_index(bench_settings, embedder_factory=lambda: embedder).seconds)
            noop.append(build_index(bench_settings, embedder_factory=lambda: embedder).seconds)
            progress(f"build run {i + 1}/{runs}: cold {cold[-1]:.1f} s, no-op {noop[-1]:.3f} s")
        searcher = Searcher(bench_settings, embedder=embedder)
        # extractive answers: no language model, no reader (answer times must not include translations)
        assistant = Assistant(bench_settings, embedder=embedder, llm=LLMSettings(), reader=False)
        for query in QUERIES:  # warm-up: first-use loading (jieba's tagger…) is not per-query work
            assistant.ask(query)
        embed_only, search, answer = _time_queries(embedder, searcher, assistant, runs, progress)

    from cqqa.models.cpu import cpu_class

    return {
        "runs": runs,
        "cpu_class": cpu_class(),
        "dtype": embedder.dtype,
        "docs": len(docs),
        "chunks": len(chunks),
        "chunk_tokens": {"min": min(tokens), "median": statistics.median(tokens), "max": max(tokens)},
        "chunk_chars": {"min": min(chars), "median": statistics.median(chars), "max": max(chars)},
        "model_load_s": round(model_load, 2),
        "cold_build_s_median": round(statistics.median(cold), 2),
        "noop_rebuild_s_median": round(statistics.median(noop), 3),
        "cold_build_per_100_chunks_s": round(statistics.median(cold) / len(chunks) * 100, 2),
        "cold_build_chunks_per_minute": round(60 * len(chunks) / statistics.median(cold), 1),
        "search_queries": len(search),
        "search_ms_median": _median_ms(search),
        "search_ms_p90": round(sorted(search)[int(0.9 * len(search))] * 1000, 1),
        "query_embedding_ms_median": _median_ms(embed_only),
        "search_vs_query_embedding_ratio": round(statistics.median(search) / statistics.median(embed_only), 3),
        "answer_ms_median": _median_ms(answer),
        "answer_ms_p90": round(sorted(answer)[int(0.9 * len(answer))] * 1000, 1),
        "answer_vs_search_ratio": round(statistics.median(answer) / statistics.median(search), 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    } | (_against_reference(statistics.median(cold), float32_chunks_only(settings, chunks, runs, progress))
         if reference else {})


def _against_reference(cold: float, reference: float) -> dict:
    return {"float32_chunks_only_s_median": round(reference, 2),
            "cold_build_vs_float32_chunks_only": round(cold / reference, 2)}
