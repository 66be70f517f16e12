"""Rebuild the index whenever the sources change (`cqqa watch`, `cqqa serve --watch`).

watchfiles collects file events and hands them over once the folder has been
quiet for `debounce_ms` (trailing edge: a burst of saves, or an editor's
write-rename dance, triggers one rebuild after its last event; a folder that
never goes quiet is still rebuilt every MAX_WAIT_MS). Each rebuild is an ordinary
incremental `build_index`: only changed documents are embedded, the new
version is switched in atomically, and a running `cqqa serve` swaps to it
before its next request.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from cqqa.config import Settings
from cqqa.errors import CqqaError
from cqqa.index.build import BuildReport, build_index
from cqqa.ingest.sources import META_SUFFIX, SOURCE_SUFFIXES

DEBOUNCE_MS = 800
MAX_WAIT_MS = 60_000
POLL_MS = 100  # how often the quiet period is checked


def is_source_event(path: str, source_dir: Path) -> bool:
    """Whether a changed path can affect the index: an article or its metadata, not hidden."""
    try:
        rel = Path(path).resolve().relative_to(source_dir.resolve())
    except ValueError:
        return False
    if any(part.startswith(".") for part in rel.parts):
        return False
    return rel.name.endswith(META_SUFFIX) or rel.suffix.lower() in SOURCE_SUFFIXES


class SharedEmbedder:
    """Loads the model the first time a rebuild needs it, then keeps it for every later rebuild."""

    def __init__(self, settings: Settings, embedder=None):
        self.settings, self.embedder = settings, embedder
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            if self.embedder is None:
                from cqqa.models.factory import load_embedder

                self.embedder = load_embedder(self.settings)
            return self.embedder


def watch(settings: Settings, *, embedder_factory: Callable[[], object], on_report: Callable[[BuildReport], None],
          warn: Callable[[str], None], stop: threading.Event | None = None, debounce_ms: int = DEBOUNCE_MS,
          progress: bool = False) -> None:
    """Rebuild after every burst of source changes until `stop` is set (or Ctrl-C)."""
    from watchfiles import watch as file_events

    source_dir = settings.source_dir
    if not source_dir.is_dir():
        raise CqqaError(f"source folder {source_dir} does not exist; create it or pass --source")
    # watchfiles groups events into a set of (change, path), so the same file saved again does not
    # look like a new change to it; the quiet period is therefore timed here, on every event.
    pending_since = last_event = None
    for changes in file_events(source_dir, step=50, rust_timeout=POLL_MS, yield_on_timeout=True,
                               stop_event=stop, raise_interrupt=False,
                               watch_filter=lambda change, path: is_source_event(path, source_dir)):
        now = time.monotonic()
        if changes:
            pending_since, last_event = pending_since or now, now
        if pending_since is None:
            continue
        if (now - last_event) * 1000 < debounce_ms and (now - pending_since) * 1000 < MAX_WAIT_MS:
            continue
        pending_since = last_event = None
        try:
            on_report(build_index(settings, embedder_factory=embedder_factory, progress=progress, warn=warn))
        except CqqaError as exc:  # e.g. a non-UTF-8 file just saved: report it, keep watching
            warn(f"rebuild failed, the previous index stays in use: {exc}")


def start_watching(settings: Settings, **kwargs) -> tuple[threading.Thread, threading.Event]:
    """watch() in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(settings,), kwargs={**kwargs, "stop": stop},
                              name="cqqa-watch", daemon=True)
    thread.start()
    return thread, stop


def describe(report: BuildReport) -> str:
    if report.up_to_date:
        return f"index up to date ({report.docs} documents, {report.chunks} chunks)"
    parts = [f"{label} {', '.join(items)}" for label, items in
             (("added", report.added), ("changed", report.changed), ("removed", report.removed)) if items]
    parts += [f"renamed {r['from']} -> {r['to']}" for r in report.renamed]
    return (f"index {report.version}: {'; '.join(parts) or 'rebuilt'} ({report.docs} documents, "
            f"{report.chunks} chunks, {report.embedded_chunks} chunks embedded, {report.seconds:.1f} s)")
