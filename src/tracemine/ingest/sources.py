"""Finding input files (paths, directories, globs) and opening them (``.gz`` transparently).

Only regular files are read: symlinks are followed, and a dangling symlink, a FIFO, a socket or a device
(also behind a symlink) is listed with the reason it was skipped, never opened. Files are opened
non-blocking and checked again once open, so a path that changed in between cannot hang a reader.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import io
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tracemine.ingest.limits import size_text

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_SUFFIX = ".parquet"
"""Parquet files are archive partitions (``tracemine export --parquet``), imported as tables, not read as traces."""
SKIP_SUFFIXES = {".duckdb", ".wal", ".pyc", ".lock", PARQUET_SUFFIX, ".png", ".jpg", ".md", ".html", ".yaml", ".yml"}
SKIP_NAMES = {"labels.jsonl"}


class SourceError(Exception):
    """A path the user gave does not exist or matches nothing."""


def _is_glob(raw: str) -> bool:
    return any(ch in raw for ch in "*?[")


def check_paths(paths: list[str] | tuple[str, ...]) -> None:
    """Raise :class:`SourceError` for the first path that names nothing (checked before the archive is
    opened, so a typo leaves no archive file behind). Special files and dangling symlinks exist: they
    are reported when read (:func:`expand_paths`). A filesystem URL (``s3://…``) must name something."""
    for raw in paths:
        if "://" in raw:
            _check_url(raw)
            continue
        if os.path.lexists(raw):
            continue
        if _is_glob(raw):
            if next(glob.iglob(raw, recursive=True), None) is None:
                raise SourceError(f"no files match {raw!r}")
            continue
        raise SourceError(f"no such file or directory: {raw!r}")


def _check_url(location: str) -> None:
    """:class:`SourceError` when the filesystem URL ``location`` cannot be opened or names nothing."""
    import pyarrow.fs as pafs

    from tracemine.export import PartitionError, filesystem

    try:
        fs, path = filesystem(location)
        missing = fs.get_file_info(path).type == pafs.FileType.NotFound
    except (PartitionError, OSError) as exc:
        raise SourceError(str(exc)) from exc
    if missing:
        raise SourceError(f"no such file or directory: {location!r}")


def not_regular(path: Path | str) -> str | None:
    """Why ``path`` is not a regular file that can be read (after following symlinks), or ``None``."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"dangling symlink (its target {os.readlink(path)!r} does not exist): skipped"
        return "file disappeared before it was read: skipped"
    except OSError as exc:  # a symlink loop, no permission
        return f"cannot read file: {exc.strerror or exc}: skipped"
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
        else "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
        else "a directory" if stat.S_ISDIR(mode) else "a special file"
    )
    via = " (through a symlink)" if os.path.islink(path) else ""
    return f"not a regular file: {kind}{via}; skipped, never opened"


def is_parquet(path: Path | str) -> bool:
    """Whether ``path`` names a Parquet file (by its suffix, as ``tracemine export`` writes them)."""
    return str(path).lower().endswith(PARQUET_SUFFIX)


def expand_paths(
    paths: list[str] | tuple[str, ...],
    ignored: list[Path] | None = None,
    unreadable: list[tuple[Path, str]] | None = None,
    partitions: list[Path] | None = None,
) -> list[Path]:
    """Regular files named by ``paths``: files as given, directories recursively (following symlinks,
    each directory once), glob patterns expanded.

    Directory walks skip hidden entries, the store's own files and known non-trace files
    (``labels.jsonl`` ground truth, images, reports), appending them to ``ignored``; explicitly
    named files are always read. Paths that are not regular files (dangling symlinks, FIFOs, sockets,
    devices) go to ``unreadable`` with the reason, wherever they were found. With ``partitions``, Parquet
    files (walked, globbed or named) go there instead, for :func:`tracemine.export.import_partitions`.
    """
    ignored = ignored if ignored is not None else []
    unreadable = unreadable if unreadable is not None else []
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        reason = not_regular(path)
        if reason is not None:
            unreadable.append((path, reason))
            return
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            (partitions if partitions is not None and is_parquet(path) else found).append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path, ignored, partitions is not None):
                add(file)
        elif os.path.lexists(path):  # a file, or a special file or dangling symlink add() reports
            add(path)
        elif _is_glob(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise SourceError(f"no files match {raw!r}")
            for match in matches:
                match_path = Path(match)
                if match_path.is_dir():
                    for file in _walk(match_path, ignored, partitions is not None):
                        add(file)
                else:
                    add(match_path)
        else:
            raise SourceError(f"no such file or directory: {raw!r}")
    return found


def _walk(root: Path, ignored: list[Path], with_parquet: bool = False) -> Iterator[Path]:
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:  # a symlink back to a directory already walked
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if name in SKIP_NAMES or (Path(name).suffix.lower() in SKIP_SUFFIXES
                                      and not (with_parquet and is_parquet(name))):
                ignored.append(Path(dirpath) / name)
                continue
            yield Path(dirpath) / name


def open_regular(path: Path | str, buffering: int = -1) -> BinaryIO:
    """Open a regular file for reading bytes; ``OSError`` for anything else. The open never blocks
    (``O_NONBLOCK``: a FIFO opens at once and is then refused)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def is_gzip(path: Path) -> bool:
    with open_regular(path) as fh:
        return fh.read(2) == GZIP_MAGIC


class GzipStream(io.RawIOBase):
    """Streaming gzip decompression that yields every byte it can from a truncated or corrupt stream
    (``gzip.GzipFile`` drops its last buffer) and then reports ``truncated``; multi-member files work.

    At most ``limit`` decompressed bytes are produced (1 MB at a time, so a small file expanding to a
    huge one never sits in memory); past it the stream ends with ``limited`` set and ``error`` saying so.
    """

    def __init__(self, path: Path, limit: int | None = None) -> None:
        self._fh = open_regular(path)
        self._decoder = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._fresh = True  # the current decoder has not been fed yet (clean end of a member)
        self.truncated = False
        self.limited = False
        self.error: str | None = None
        self._limit = self._left = limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _fill(self) -> bool:
        if self.limited:
            return False
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
            if self._left is not None:
                if len(self._pending) > self._left:
                    self._pending = self._pending[: self._left]
                    self.limited = True
                    self.error = (f"rest of file not read: it decompresses to more than ingest.max_file_bytes "
                                  f"({size_text(self._limit or 0)})")
                    return bool(self._pending)
                self._left -= len(self._pending)
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


def open_binary(path: Path, limit: int | None = None) -> BinaryIO:
    """Open a regular file for reading bytes, decompressing gzip (at most ``limit`` bytes of it)
    whatever the file is called.

    For gzip input the returned reader's ``raw`` is a :class:`GzipStream`; check its ``truncated``
    flag after reading to learn whether the stream ended early.
    """
    if is_gzip(path):
        return io.BufferedReader(GzipStream(path, limit), buffer_size=1 << 16)  # type: ignore[return-value]
    return open_regular(path)


def stream_error(fh: BinaryIO) -> str | None:
    """Why a compressed stream ended early (or was cut at its size limit), or ``None``."""
    raw = getattr(fh, "raw", None)
    return raw.error if isinstance(raw, GzipStream) else None


def stream_limited(fh: BinaryIO) -> bool:
    """Whether a compressed stream stopped at its decompressed-size limit."""
    raw = getattr(fh, "raw", None)
    return isinstance(raw, GzipStream) and raw.limited


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
    with open_regular(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
