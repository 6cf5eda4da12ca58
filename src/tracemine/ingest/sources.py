"""Finding input files (paths, directories, globs) and opening them (``.gz`` transparently)."""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
SKIP_SUFFIXES = {".duckdb", ".wal", ".pyc", ".lock", ".parquet", ".png", ".jpg", ".md", ".html", ".yaml", ".yml"}
SKIP_NAMES = {"labels.jsonl"}


class SourceError(Exception):
    """A path the user gave does not exist or matches nothing."""


def expand_paths(paths: list[str] | tuple[str, ...]) -> list[Path]:
    """Files named by ``paths``: files as given, directories recursively, glob patterns expanded.

    Directory walks skip hidden entries, the store's own files and known non-trace files
    (``labels.jsonl`` ground truth, reports); explicitly named files are always read.
    """
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
            for file in _walk(path):
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
                    for file in _walk(match_path):
                        add(file)
        else:
            raise SourceError(f"no such file or directory: {raw!r}")
    return found


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name in SKIP_NAMES:
                continue
            if Path(name).suffix.lower() in SKIP_SUFFIXES:
                continue
            yield Path(dirpath) / name


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing gzip whatever the file is called."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_head(path: Path, size: int = 65536) -> bytes:
    """The first ``size`` decompressed bytes (a truncated gzip stream yields what it can)."""
    with open_binary(path) as fh:
        try:
            return fh.read(size)
        except (EOFError, OSError):
            return b""


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes as stored (compressed bytes for ``.gz``): the re-ingest key."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
