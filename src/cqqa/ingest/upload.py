"""Articles added from the chat: check the file, then put it in the source folder.

A file is accepted only when its name (after `safe_name`) has a source format's suffix, it is
no bigger than CQQA_MAX_SOURCE_MB, its content is of that format (a PDF renamed .docx is
refused) and its text can be extracted (a scan, an encrypted PDF or a zip bomb is refused with
the reason). An article with the same id (the name without its suffix, whatever the suffix) is
replaced only when the caller says so; the file it replaces is moved to `.replaced/` in the
uploads folder (hidden: never indexed), not deleted. Messages name the file, never a server path.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

from cqqa.errors import SourceError
from cqqa.ingest.formats import SUFFIXES
from cqqa.ingest import bounded
from cqqa.ingest.sources import Document
from cqqa.textnorm import CJK_PUNCT

MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 180  # room left for the timestamp of .replaced/ and the .partial name, under 255
UNSAFE = re.compile(rf"[^\w{CJK_PUNCT} .()\[\]（）【】《》·-]+")
REPLACED = ".replaced"
_storing = threading.Lock()


class UploadRefused(SourceError):
    """The file is not added: `status` is the HTTP status that says why (400, 409, 413, 415)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def safe_name(name: str) -> str:
    """A file name that is only a name: no folders (either slash), no control or shell
    characters, not hidden, at most MAX_NAME_CHARS and MAX_NAME_BYTES (UTF-8: most file systems
    allow 255 bytes, and a Chinese character takes 3); the suffix kept and lower-cased."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = UNSAFE.sub("_", "".join(c for c in stem if unicodedata.category(c)[0] != "C")).strip(" ._-")
    stem = stem[:MAX_NAME_CHARS]
    while len(stem.encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" ._-") or "article"
    suffix = UNSAFE.sub("_", suffix.lower())[:10]
    return f"{stem}.{suffix}" if suffix else stem


def accepted_name(filename: str, size: int, max_mb: int) -> str:
    """The name the file would be stored under; UploadRefused when its kind or size is refused
    (checked before anything is read)."""
    name = safe_name(filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        raise UploadRefused(f"{filename!r} is not a kind of file cqqa reads; add {', '.join(SUFFIXES)} files", 415)
    if size > max_mb * 2**20:
        raise UploadRefused(f"{filename!r} is {size / 2**20:.1f} MB, over the limit of {max_mb} MB for one "
                            "article (CQQA_MAX_SOURCE_MB)", 413)
    return name


def check(raw: bytes, filename: str, max_mb: int, memory_mb: int = bounded.MEMORY_MB,
          seconds: float = bounded.BASE_SECONDS, ocr_memory_mb: int = bounded.OCR_MEMORY_MB,
          progress=None) -> tuple[str, Document, list[str]]:
    """The stored name, the document the file would be and what reading it warned of (a page OCR
    could not read); UploadRefused when it cannot be added
    (read in a child process with `memory_mb` (`ocr_memory_mb` for a file OCR may read) and
    `seconds`, ingest/bounded.py; `progress(done, total)` hears of the pages OCR reads)."""
    name = accepted_name(filename, len(raw), max_mb)
    try:
        extracted, warnings = bounded.extract(raw, name, memory_mb, seconds, ocr_memory_mb, progress)
    except SourceError as exc:
        raise UploadRefused(str(exc), 415) from None
    return name, Document(Path(name).stem, Path(name), extracted.text, "", extracted.meta), warnings


def refuse_existing(folder: Path, name: str) -> None:
    """UploadRefused (409) when an article of that id is already in `folder`: asked before a long
    read, so the user can confirm replacing it at once (`store` asks again, atomically)."""
    old = existing(folder, name)
    if old is not None:
        raise UploadRefused(f"an article named {old.name!r} is already there; confirm to replace it", 409)


def existing(folder: Path, name: str) -> Path | None:
    """The source file that is already the article `name` would be: same folder and stem (an
    article's id is its path without the suffix), any suffix."""
    return next((candidate for suffix in SUFFIXES if (candidate := folder / (Path(name).stem + suffix)).is_file()),
                None)


def store(raw: bytes, name: str, folder: Path, replace: bool = False) -> Path:
    """Write the file into `folder` (atomically: a reader never sees half a file, and two uploads
    of one name at once never both land: one is refused with 409); an existing article of that
    id is moved to `.replaced/` first, only when `replace`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkstemp(prefix=".upload-", suffix=".partial", dir=folder)[1])
        try:
            partial.write_bytes(raw)
            with _storing:  # the check (any suffix) and the link are one step for this server
                if not replace:
                    refuse_existing(folder, name)
                old = existing(folder, name)
                if old is not None:
                    aside = folder / REPLACED / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}-{old.name}"
                    aside.parent.mkdir(exist_ok=True)
                    os.replace(old, aside)
                _link(partial, folder / name)
        finally:
            partial.unlink(missing_ok=True)
    except FileExistsError:
        raise UploadRefused(f"an article named {name!r} was added at the same moment; send it again to replace it",
                            409) from None
    except OSError as exc:
        raise UploadRefused(f"the file could not be stored ({exc.strerror})",
                            507 if exc.errno in (errno.ENOSPC, errno.EDQUOT) else 400) from None
    return folder / name


def _link(partial: Path, target: Path) -> None:
    """`partial` at `target`, FileExistsError if something is there: a hard link, so that another
    process writing the same name at once cannot be overwritten; a rename under the lock where the
    file system has no hard links."""
    try:
        os.link(partial, target)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(partial, target)
