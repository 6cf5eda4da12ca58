"""Finding input files (paths, directories, globs) and opening them (``.gz`` transparently)."""

from __future__ import annotations

import glob
import hashlib
import io
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
SKIP_SUFFIXES = {".duckdb", ".wal", ".pyc", ".lock", ".parquet", ".png", ".jpg", ".md", ".html", ".yaml", ".yml"}
SKIP_NAMES = {"labels.jsonl"}


class SourceError(Exception):
    """A path the user gave does not exist or matches nothing."""


def expand_paths(paths: list[str] | tuple[str, ...], ignored: list[Path] | None = None) -> list[Path]:
    """Files named by ``paths``: files as given, directories recursively, glob patterns expanded.

    Directory walks skip hidden entries, the store's own files and known non-trace files
    (``labels.jsonl`` ground truth, images, reports), appending them to ``ignored``; explicitly
    named files are always read.
    """
    ignored = ignored if ignored is not None else []
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            found.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            add(path)
        elif path.is_dir():
            for file in _walk(path, ignored):
                add(file)
        elif any(ch in raw for ch in "*?["):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise SourceError(f"no files match {raw!r}")
            for match in matches:
                match_path = Path(match)
                if match_path.is_file():
                    add(match_path)
                elif match_path.is_dir():
                    for file in _walk(match_path, ignored):
                        add(file)
        else:
            raise SourceError(f"no such file or directory: {raw!r}")
    return found


def _walk(root: Path, ignored: list[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if name in SKIP_NAMES or Path(name).suffix.lower() in SKIP_SUFFIXES:
                ignored.append(Path(dirpath) / name)
                continue
            yield Path(dirpath) / name


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


class GzipStream(io.RawIOBase):
    """Streaming gzip decompression that yields every byte it can from a truncated or corrupt stream
    (``gzip.GzipFile`` drops its last buffer) and then reports ``truncated``; multi-member files work."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._decoder = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._fresh = True  # the current decoder has not been fed yet (clean end of a member)
        self.truncated = False
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _fill(self) -> bool:
        while not self._pending:
            chunk = self._decoder.unconsumed_tail or self._fh.read(1 << 16)
            if not chunk:
                if not self._decoder.eof and not self._fresh and not self.truncated:
                    self.truncated = True
                    self.error = "compressed stream ends early (file truncated)"
                return False
            self._fresh = False
            try:
                self._pending = self._decoder.decompress(chunk, 1 << 20)
            except zlib.error as exc:
                self.truncated = True
                self.error = f"corrupt compressed data: {exc}"
                return False
            if self._decoder.eof:
                rest = self._decoder.unused_data
                self._decoder = zlib.decompressobj(wbits=31)
                self._fresh = True
                if rest:
                    if rest[:2] != GZIP_MAGIC:
                        return bool(self._pending)
                    self._fh.seek(self._fh.tell() - len(rest))
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending and not self._fill():
            return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing gzip whatever the file is called.

    For gzip input the returned reader's ``raw`` is a :class:`GzipStream`; check its ``truncated``
    flag after reading to learn whether the stream ended early.
    """
    if is_gzip(path):
        return io.BufferedReader(GzipStream(path), buffer_size=1 << 16)  # type: ignore[return-value]
    return open(path, "rb")


def stream_error(fh: BinaryIO) -> str | None:
    """Why a compressed stream ended early, or ``None``."""
    raw = getattr(fh, "raw", None)
    return raw.error if isinstance(raw, GzipStream) else None


def read_head(path: Path, size: int = 65536) -> bytes:
    """The first ``size`` decompressed bytes (a truncated gzip stream yields what it can)."""
    with open_binary(path) as fh:
        try:
            return fh.read(size)
        except OSError:
            return b""


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes as stored (compressed bytes for ``.gz``): the re-ingest key."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
