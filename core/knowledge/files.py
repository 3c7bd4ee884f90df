"""The files of the knowledge collection, kept by content hash under the data directory.

A file is stored once whatever it is called: its name is the SHA-256 of its bytes
(``knowledge/ab/abcdef….bin``). Writing goes through a temporary file and a rename, so a
reader never sees half a file; ``kept`` undoes a write whose database row did not commit.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NAME_MAX = 120
FALLBACK_STEM = "Datei"


def clean_name(name: str, content_type: str = "") -> str:
    """A file name a sender gave, safe to show and to send on: no folder part (``/`` or
    ``\\``), no control characters or undecodable bytes (U+FFFD), trimmed; ``Datei.<ext>``
    when nothing is left of it."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in last if c != "\ufffd" and not unicodedata.category(c).startswith("C"))
    kept = " ".join(kept.split())
    stem, dot, ext = kept.rpartition(".")
    if not dot:
        stem, ext = kept, ""
    stem = stem.strip(" .")
    ext = ext.strip()[:10]
    if not ext:
        ext = (mimetypes.guess_extension(content_type or "") or "").lstrip(".")
    stem = stem[:NAME_MAX] or FALLBACK_STEM
    return f"{stem}.{ext}" if ext else stem


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / "knowledge" / sha256[:2] / f"{sha256}.bin"

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except OSError:
            return None

    def stored(self) -> Iterator[tuple[str, float]]:
        """Every stored file's hash with the time it was written (seconds since the epoch)."""
        base = self.root / "knowledge"
        if not base.is_dir():
            return
        for folder in base.iterdir():
            if not folder.is_dir():
                continue
            for item in folder.glob("*.bin"):
                try:
                    yield item.stem, item.stat().st_mtime
                except OSError:  # removed meanwhile
                    continue

    def remove(self, sha256: str, written_before: float | None = None) -> bool:
        """Remove the file; with ``written_before`` only if it was last written (or
        reused, see ``put``) before then, checked right before removing. Whether it went."""
        target = self.path(sha256)
        if written_before is not None:
            try:
                if target.stat().st_mtime >= written_before:
                    return False
            except FileNotFoundError:
                return False
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        return True

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store the bytes; returns their hash and whether this call wrote the file."""
        sha256 = content_hash(data)
        target = self.path(sha256)
        if target.is_file():
            # Reused: the new write time keeps the sweep from removing a file it listed
            # as an old orphan before this caller's entry commits.
            try:
                os.utime(target)
                return sha256, False
            except FileNotFoundError:  # removed meanwhile: written afresh below
                pass
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return sha256, True

    @contextmanager
    def kept(self, data: bytes) -> Iterator[str]:
        """Store the bytes for the caller's transaction: if the block fails, a file this
        call wrote is removed again, so no file is left without its entry."""
        sha256, written = self.put(data)
        try:
            yield sha256
        except BaseException:
            if written:
                self.path(sha256).unlink(missing_ok=True)
            raise
