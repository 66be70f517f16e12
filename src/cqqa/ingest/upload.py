"""Articles added from the chat: check the file, then put it in the source folder.

A file is accepted only when its name (after `safe_name`) has a source format's suffix, it is
no bigger than CQQA_MAX_SOURCE_MB, its content is of that format (a PDF renamed .docx is
refused) and its text can be extracted (a scan, an encrypted PDF or a zip bomb is refused with
the reason). An article with the same id (the name without its suffix, whatever the suffix) is
replaced only when the caller says so; the file it replaces is moved to `.replaced/` in the
uploads folder (hidden: never indexed), not deleted.
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from pathlib import Path

from cqqa.errors import SourceError
from cqqa.ingest.formats import SUFFIXES
from cqqa.ingest.sources import Document, extract
from cqqa.textnorm import CJK_PUNCT

MAX_NAME_CHARS = 100
UNSAFE = re.compile(rf"[^\w{CJK_PUNCT} .()\[\]（）【】《》·-]+")
REPLACED = ".replaced"


class UploadRefused(SourceError):
    """The file is not added: `status` is the HTTP status that says why (400, 409, 413, 415)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def safe_name(name: str) -> str:
    """A file name that is only a name: no folders (either slash), no control or shell
    characters, not hidden, at most MAX_NAME_CHARS; the suffix kept and lower-cased."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = UNSAFE.sub("_", "".join(c for c in stem if unicodedata.category(c)[0] != "C")).strip(" ._-")
    stem = stem[:MAX_NAME_CHARS] or "article"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check(raw: bytes, filename: str, max_mb: int) -> tuple[str, Document]:
    """The stored name and the document the file would be; UploadRefused when it cannot be added."""
    name = safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadRefused(f"{filename!r} is not a kind of file cqqa reads; add {', '.join(SUFFIXES)} files", 415)
    if len(raw) > max_mb * 2**20:
        raise UploadRefused(f"{filename!r} is {len(raw) / 2**20:.1f} MB, over the limit of {max_mb} MB for one "
                            "article (CQQA_MAX_SOURCE_MB)", 413)
    warnings: list[str] = []
    try:
        extracted = extract(raw, Path(name), warnings.append)
    except SourceError as exc:
        raise UploadRefused(str(exc), 415) from None
    return name, Document(Path(name).stem, Path(name), extracted.text, "", extracted.meta)


def existing(folder: Path, name: str) -> Path | None:
    """The source file that is already the article `name` would be: same folder and stem (an
    article's id is its path without the suffix), any suffix."""
    return next((candidate for suffix in SUFFIXES if (candidate := folder / (Path(name).stem + suffix)).is_file()),
                None)


def store(raw: bytes, name: str, folder: Path, replace: bool = False) -> Path:
    """Write the file into `folder` (atomically: a reader never sees half a file); an existing
    article of that id is moved to `.replaced/` first, only when `replace`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    old = existing(folder, name)
    if old is not None:
        if not replace:
            raise UploadRefused(f"an article named {old.name!r} is already in {folder}; confirm to replace it", 409)
        aside = folder / REPLACED / f"{time.strftime('%Y%m%d-%H%M%S')}-{old.name}"
        aside.parent.mkdir(exist_ok=True)
        os.replace(old, aside)
    partial = folder / f".{name}.partial"
    partial.write_bytes(raw)
    os.replace(partial, target)
    return target
