"""Ingest work units: a whole file, or a line-aligned byte range of a large JSON-lines file.

Tasks are planned lazily: the line number a range starts at needs the newlines of every range before it
counted, and counting a 1.4 GB file up front would keep the reader processes waiting (~1.5 s); counted
range by range, it overlaps with their work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from tracemine.config import IngestSettings
from tracemine.ingest.detect_format import detect
from tracemine.ingest.sources import is_gzip

_COUNT_BLOCK = 1 << 22
_LINE_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Task:
    path: str
    byte_range: tuple[int, int] | None
    first_line: int
    size: int


def count_newlines(path: Path, start: int, end: int) -> int:
    """Newlines in ``[start, end)`` of the file, read through one reused buffer."""
    buffer = bytearray(min(_COUNT_BLOCK, max(end - start, 1)))
    view = memoryview(buffer)
    lines = 0
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        remaining = end - start
        while remaining > 0:
            got = fh.readinto(view[: min(len(buffer), remaining)])
            if not got:
                break
            lines += buffer.count(b"\n", 0, got)
            remaining -= got
    return lines


def _line_end(path: Path, position: int) -> int:
    """The offset just after the first newline at or after ``position`` (the file's end if none), found
    1 MB at a time so a very long line is never held in memory."""
    with open(path, "rb") as fh:
        fh.seek(position)
        while True:
            block = fh.read(_LINE_BLOCK)
            if not block:
                return fh.tell()
            found = block.find(b"\n")
            if found >= 0:
                return position + found + 1
            position += len(block)


def line_aligned_ranges(path: Path, chunk_bytes: int) -> Iterator[tuple[tuple[int, int], int]]:
    """``((start, end), first_line)`` ranges of about ``chunk_bytes`` ending on newlines, counted lazily."""
    size = path.stat().st_size
    start, line = 0, 1
    while start < size:
        target = min(start + chunk_bytes, size)
        end = size if target >= size else min(_line_end(path, target), size)
        yield (start, end), line
        line += count_newlines(path, start, end)
        start = end


def _splittable(path: Path) -> bool:
    """True when the file is plain JSON-lines whose first record a stateless span reader claims."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 22).strip()
    except OSError:
        return False
    if not first.startswith(b"{"):
        return False
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    reader = detect(obj)
    return reader is not None and getattr(reader, "splittable", False)


def plan_tasks(files: list[Path], settings: IngestSettings) -> Iterator[Task]:
    """Tasks for ``files`` in order; a large uncompressed JSON-lines file becomes several."""
    for path in files:
        size = path.stat().st_size
        if size > settings.chunk_bytes and not is_gzip(path) and _splittable(path):
            for byte_range, first_line in line_aligned_ranges(path, settings.chunk_bytes):
                yield Task(str(path), byte_range, first_line, byte_range[1] - byte_range[0])
        else:
            yield Task(str(path), None, 1, size)
