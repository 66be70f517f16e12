"""Whether an index reflects its sources and settings, and what changed since it was built:
documents compared by fingerprint (file bytes and sidecar metadata), the settings that decide
the index's content, the model. `cqqa index` rebuilds from this; `cqqa search`/`ask` only warn."""

from __future__ import annotations

from dataclasses import asdict

from cqqa.config import Settings
from cqqa.errors import CqqaError
from cqqa.index.stores import open_store
from cqqa.index.version import FORMAT
from cqqa.ingest.cleaning import CLEANING
from cqqa.ingest.formats import extraction
from cqqa.ingest.sources import Document, discover, doc_id_of, document_fingerprint, load_sources, meta_path


def diff_documents(before: dict[str, str], after: dict[str, str]) -> dict:
    """What changed between two {doc_id: sha256} maps. A document whose content reappears
    under another id is renamed, not removed and added."""
    gone = {doc: sha for doc, sha in before.items() if doc not in after}
    new = {doc: sha for doc, sha in after.items() if doc not in before}
    renamed = []
    for doc, sha in sorted(new.items()):
        match = next((old for old, old_sha in sorted(gone.items()) if old_sha == sha), None)
        if match:
            renamed.append({"from": match, "to": doc})
            del gone[match]
    moved_to = {r["to"] for r in renamed}
    return {
        "added": sorted(d for d in new if d not in moved_to),
        "changed": sorted(d for d in after if d in before and before[d] != after[d]),
        "removed": sorted(gone),
        "renamed": renamed,
        "unchanged": sum(1 for d in after if before.get(d) == after[d]),
    }


NAME_BRIDGE = 2  # 2: transliterated foreign names (names.json "foreign"); an older index is rebuilt, vectors reused


def settings_fingerprint(settings: Settings) -> dict:
    """Everything besides the sources that decides the index's content."""
    return {"chunks": asdict(settings.chunks), "faiss_index": settings.faiss_index, "cqqa_format": FORMAT,
            "name_bridge": NAME_BRIDGE, "extraction": extraction(), "cleaning": CLEANING}


def staleness(settings: Settings, docs: list[Document] | None = None) -> list[str]:
    """Reasons the index does not reflect the sources and settings; empty when current.

    `docs` are the sources already loaded by the caller (else they are read here)."""
    store = open_store(settings)
    manifest = store.manifest()
    if manifest is None:
        return [f"no index in {store.where}"]
    try:
        current = {d.doc_id: d.fingerprint for d in (docs if docs is not None else load_sources(settings))}
    except CqqaError as exc:  # an unreadable source is reported by `cqqa index`
        return stale_settings(manifest, settings) + [str(exc)]
    return stale_reasons(manifest, settings, current)


def looks_current(settings: Settings, manifest: dict) -> bool:
    """The cheap check on a question's path: the same article files as the index holds, none (nor
    its sidecar) modified since the index was built, the same settings. Reads names and
    modification times only, never the articles (at 24,000 articles reading and hashing them all
    took the whole corpus's read per question). A file replaced by an older-dated copy passes it;
    `cqqa index` and `cqqa watch` compare contents."""
    built_at = manifest.get("sources_read_at", 0.0)  # older manifests: always read the sources
    try:
        paths = discover(settings.source_dir, settings.follow_symlinks)
    except CqqaError:
        return False
    if {doc_id_of(p, settings.source_dir) for p in paths} != {d["doc_id"] for d in manifest["documents"]}:
        return False
    sidecars = (meta_path(p) for p in paths)
    newest = max([p.stat().st_mtime for p in paths] + [m.stat().st_mtime for m in sidecars if m.is_file()],
                 default=0.0)
    return newest < built_at and not stale_settings(manifest, settings)


def stale_warning(settings: Settings) -> str | None:
    """For commands that only read the index (search, ask): one line saying why it is stale, or
    None. A missing index is left to the loader, whose error says how to build one. The sources
    are read and hashed only when the cheap check (looks_current) finds something newer."""
    manifest = open_store(settings).manifest()
    if manifest is not None and looks_current(settings, manifest):
        return None
    stale = staleness(settings)
    if not stale or stale[0].startswith("no index"):
        return None
    return f"the index is stale ({'; '.join(stale[:3])}); run `cqqa index` to update it"


def built_documents(manifest: dict | None) -> dict[str, str]:
    """doc id -> fingerprint (file bytes and sidecar metadata) of what a manifest was built from."""
    if not manifest:
        return {}
    return {d["doc_id"]: document_fingerprint(d["sha256"], d.get("meta") or {}) for d in manifest["documents"]}


def stale_settings(manifest: dict, settings: Settings) -> list[str]:
    reasons = []
    if manifest.get("settings") != settings_fingerprint(settings):
        reasons.append("chunking, text extraction or index settings changed")
    if manifest["model"]["name"] != settings.model:
        reasons.append(f"built with model {manifest['model']['name']}, configured model is {settings.model}")
    return reasons


def stale_reasons(manifest: dict, settings: Settings, current: dict[str, str]) -> list[str]:
    built = built_documents(manifest)
    changes = diff_documents(built, current)
    same_bytes = lambda d: built[d].split("+")[0] == current[d].split("+")[0]  # noqa: E731 (fingerprint: sha+meta)
    return (stale_settings(manifest, settings)
            + [f"new source {d}" for d in changes["added"]]
            + [f"source {d} was removed" for d in changes["removed"]]
            + [f"the metadata (.meta.toml) of {d} changed" if same_bytes(d) else f"source {d} changed"
               for d in changes["changed"]]
            + [f"source {r['from']} was renamed to {r['to']}" for r in changes["renamed"]])
