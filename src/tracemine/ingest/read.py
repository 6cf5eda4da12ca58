"""Read one file into spans: decide JSON document vs JSON-lines vs binary, detect formats, quarantine.

Formats are detected per parsed value, so a JSON-lines file may mix shapes line by line. A value no
reader claims is unwrapped once when it is a list, a ``{"spans": [...]}``-style wrapper or a single-key
envelope (``{"result": {...}}``), and its elements are detected one by one. A file that is neither one
JSON document nor JSON-lines but has JSON values starting its lines (console exporter output between
other prints) is read as text: each such value is a record, the lines between them are skipped. Nothing here raises on bad input: every rejected record goes to
``ctx.reject`` with a locator (``line 12``, ``$.spans[3]``) and a reason.

Input is bounded (:class:`tracemine.ingest.limits.ReadLimits`): a JSON-lines record longer than
``max_record_bytes`` is skipped as it streams past (never held whole), and a compressed file is
decompressed, and a JSON document or binary file read whole, up to ``max_file_bytes``. A record nested
too deeply for the parser, the JSON writer or Python's recursion is rejected on its own; the records
around it are read.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from tracemine.ingest.base import EXCERPT_SOURCE, ReadContext, Reader, Record, RejectFn
from tracemine.ingest.detect_format import detect, detect_binary
from tracemine.ingest.limits import ReadLimits, depth_reason, is_too_deep, size_text
from tracemine.ingest.sources import (
    is_gzip,
    open_binary,
    open_regular,
    read_head,
    stream_error,
    stream_limited,
)
from tracemine.model import Span

# orjson turns integers beyond 64 bits into floats; ids written as 128-bit decimals need the stdlib parser
_BIG_INT = re.compile(rb"[:\[,]\s*-?\d{20,}\s*[,\]}]")
WRAPPER_KEYS = ("spans", "data", "items", "records", "results", "traces", "runs", "batch")
_MAX_UNWRAP_DEPTH = 2


class FileReader:
    """Reads one file; ``formats`` counts the records each format produced."""

    def __init__(
        self,
        path: Path,
        reject: RejectFn,
        byte_range: tuple[int, int] | None = None,
        first_line: int = 1,
        fast: Any = None,
        limits: ReadLimits | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or ReadLimits()
        # tracemine.ingest.fast.FastPath (rows for regular OTLP / flat records) or None
        self.fast = fast
        self.byte_range = byte_range
        self.first_line = first_line
        self.ctx = ReadContext(file=str(path), reject_fn=reject, max_record_bytes=self.limits.max_record_bytes)
        self.formats: Counter[str] = Counter()
        self.repaired = 0
        self._readers: dict[type[Reader], Reader] = {}
        self._exact_ints = False
        self._hint: type[Reader] | None = None

    def __iter__(self) -> Iterator[Record]:
        if self.byte_range is not None:
            yield from self._read_lines()
            yield from self._finish()
            return
        try:
            head = read_head(self.path)
        except OSError as exc:
            self.ctx.reject("file", f"cannot read file: {exc}")
            return
        if not head.strip():
            self.ctx.reject("file", "empty file")
            return
        binary = detect_binary(str(self.path), head)
        if binary is not None:
            yield from self._read_binary(binary)
            return
        if _looks_binary(head):
            self.ctx.reject("file", "binary file in no known trace format", head[:64])
            return
        layout = _layout(head)
        if layout == "lines":
            yield from self._read_lines()
        elif layout == "document":
            yield from self._read_document(head)
        elif layout == "text":
            yield from self._read_text(None)
        else:
            self.ctx.reject("file", "not a JSON trace file (no JSON found at the start)", head[:EXCERPT_SOURCE])
            return
        yield from self._finish()

    def _finish(self) -> Iterator[Record]:
        for reader in self._readers.values():
            try:
                yield from self._checked(reader.finish(), reader.format, "end of file")
            except Exception as exc:
                self.ctx.reject("end of file", _failure(reader.format, exc))

    # -- modes -------------------------------------------------------------------------------------

    def _read_whole(self) -> bytes | None:
        """The decompressed file, or ``None`` (rejected) when it cannot be read or is over ``max_file_bytes``."""
        limit = self.limits.max_file_bytes
        try:
            if not is_gzip(self.path) and os.stat(self.path).st_size > limit:
                self.ctx.reject("file", _too_big(limit))
                return None
            with open_binary(self.path, limit) as fh:
                data = fh.read()
                error, limited = stream_error(fh), stream_limited(fh)
        except (OSError, EOFError) as exc:
            self.ctx.reject("file", f"cannot read file: {exc}")
            return None
        if limited:
            self.ctx.reject("file", _too_big(limit))
            return None
        if error:
            self.ctx.reject("file", f"file ends early: {error}")
        return data

    def _read_binary(self, reader_cls: type[Any]) -> Iterator[Record]:
        data = self._read_whole()
        if data is None:
            return
        try:
            yield from self._checked(reader_cls().read(data, self.ctx), reader_cls.format, "file")
        except Exception as exc:
            self.ctx.reject("file", _failure(reader_cls.format, exc))

    def _lines(self, fh: BinaryIO) -> Iterator[bytes]:
        if self.byte_range is None:
            yield from _split_blocks(fh, None, self.limits.max_record_bytes)
            return
        start, end = self.byte_range
        fh.seek(start)
        yield from _split_blocks(fh, end - start, self.limits.max_record_bytes)

    def _sample(self) -> bytes:
        """The first 64 KB of what this reader reads (its byte range, or the decompressed file)."""
        if self.byte_range is None:
            return read_head(self.path)
        with open_regular(self.path) as fh:
            fh.seek(self.byte_range[0])
            return fh.read(min(65536, self.byte_range[1] - self.byte_range[0]))

    def _read_lines(self) -> Iterator[Record]:
        number = self.first_line - 1
        try:
            self._exact_ints = bool(_BIG_INT.search(self._sample()))
            exact, loads, parse = self._exact_ints, orjson.loads, self._parse
            with open_binary(self.path, self.limits.max_file_bytes) as fh:
                for number, line in enumerate(self._lines(fh), start=self.first_line):
                    stripped = line.strip()
                    if not stripped:
                        if type(line) is _TooLong:  # checked here, where only blank lines come: free per line
                            self.ctx.reject(f"line {number}", line.reason(self.limits.max_record_bytes), line.head)
                        continue
                    locator = f"line {number}"
                    if exact:
                        obj = parse(stripped, locator)
                    else:
                        try:
                            obj = loads(stripped)
                        except (orjson.JSONDecodeError, UnicodeDecodeError, RecursionError):  # _parse repeats the parse and handles the error
                            obj = parse(stripped, locator)
                    if obj is not None:
                        try:
                            yield from self._consume(obj, locator, 0)
                        except Exception as exc:  # costs this record, not the rest of the file
                            self.ctx.reject(locator, _failure("record", exc))
                error = stream_error(fh)
                if error:
                    reason = error if stream_limited(fh) else f"file ends early: {error}"
                    self.ctx.reject(f"line {number + 1}", reason)
        except (EOFError, OSError) as exc:
            self.ctx.reject(f"line {number + 1}", f"file ends early: {exc}")

    def _read_document(self, head: bytes) -> Iterator[Record]:
        if _first_line_unfinished(head) and self._over_file_limit():
            # one line longer than the sample: JSON-lines with a long first record, or a one-line
            # document; read as lines, each bounded by max_record_bytes, instead of whole
            yield from self._read_lines()
            return
        data = self._read_whole()
        if data is None:
            return
        obj = self._parse(data, "document", quiet=True)
        if obj is None:
            if b"\n" in data.strip() and _any_line_is_json(data):
                yield from self._read_lines()
                return
            if _starts_with_json_value(data):  # JSON values with text between them (console output)
                yield from self._read_text(data)
                return
            self.ctx.reject("document", _json_error(data), data[:EXCERPT_SOURCE])
            return
        try:
            yield from self._consume(obj, "$", 0)
        except Exception as exc:
            self.ctx.reject("$", _failure("document", exc))

    def _read_text(self, data: bytes | None) -> Iterator[Record]:
        """Text with JSON values in it, one or many lines each (an SDK's console exporter between other
        output): each value that starts a line is read; the lines between values are not records and are
        skipped. A value that starts a line with ``{`` but does not parse is rejected with its line, and the
        lines indented under it are skipped with it."""
        if data is None:
            data = self._read_whole()
            if data is None:
                return
        found = False
        for locator, value in _text_values(data, self.ctx):
            found = True
            try:
                yield from self._consume(value, locator, 0)
            except Exception as exc:  # costs this value, not the rest of the file
                self.ctx.reject(locator, _failure("record", exc))
        if not found:
            self.ctx.reject("file", "not a JSON trace file (no JSON value starts a line)", data[:EXCERPT_SOURCE])

    # -- helpers -----------------------------------------------------------------------------------

    def _over_file_limit(self) -> bool:
        """A plain file too big to read whole (a compressed one is cut at the limit as it is read)."""
        try:
            return not is_gzip(self.path) and os.stat(self.path).st_size > self.limits.max_file_bytes
        except OSError:
            return False

    def _parse(self, data: bytes, locator: str, quiet: bool = False) -> Any:
        try:
            if self._exact_ints or (locator == "document" and _BIG_INT.search(data)):
                return json.loads(data)
            return orjson.loads(data)
        except (orjson.JSONDecodeError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            if is_too_deep(exc):
                if not quiet:
                    self.ctx.reject(locator, depth_reason(), data[:EXCERPT_SOURCE].decode("utf-8", "replace"))
                return None
            if "utf-8" in str(exc).lower():
                try:
                    value = orjson.loads(data.decode("utf-8", errors="replace"))
                except orjson.JSONDecodeError:
                    value = None
                if value is not None:
                    self.repaired += 1
                    return value
            if not quiet:
                self.ctx.reject(locator, f"invalid JSON: {exc}", data[:EXCERPT_SOURCE].decode("utf-8", "replace"))
            return None

    def _consume(self, obj: Any, locator: str, depth: int) -> Iterable[Record]:
        reader_cls = detect(obj, self._hint)
        if reader_cls is None:
            return self._unwrapped(obj, locator, depth)
        self._hint = reader_cls
        reader = self._readers.get(reader_cls)
        if reader is None:
            reader = self._readers[reader_cls] = reader_cls(self.ctx)
        if self.fast is not None:
            handler = self.fast.handler(reader_cls)
            if handler is not None:
                records = self.fast.records(handler, reader, obj, locator)
                if records is not None:
                    return self._checked_list(records, reader_cls.format, locator)
        return self._fed(reader, obj, locator)

    def _fed(self, reader: Reader, obj: Any, locator: str) -> Iterator[Record]:
        try:
            yield from self._checked(reader.feed(obj, locator), reader.format, locator)
        except Exception as exc:
            self.ctx.reject(locator, depth_reason(obj) if is_too_deep(exc) else _failure(reader.format, exc))

    def _unwrapped(self, obj: Any, locator: str, depth: int) -> Iterator[Record]:
        if depth < _MAX_UNWRAP_DEPTH:
            elements = _unwrap(obj, locator)
            if elements is not None:
                for element_locator, element in elements:
                    try:
                        yield from self._consume(element, element_locator, depth + 1)
                    except Exception as exc:  # costs this element, not the others
                        self.ctx.reject(element_locator, _failure("record", exc))
                return
        self.ctx.reject(locator, _unrecognised(obj), _excerpt(obj))

    def _checked_list(self, records: list[Any], fmt: str, locator: str) -> list[Any]:
        """:meth:`_checked` for the fast path's records: rows are complete spans, ``Span``s are checked."""
        if len(records) == 1:
            if type(records[0]) is tuple:  # one flat span's row, the commonest case
                self.formats[fmt] += 1
                return records
            return list(self._checked(records, fmt, locator))
        if any(type(record) is not tuple for record in records):
            records = list(self._checked(records, fmt, locator))
        else:
            self.formats[fmt] += len(records)
        return records

    def _checked(self, records: Any, fmt: str, locator: str) -> Iterator[Record]:
        for record in records:
            if isinstance(record, Span) and (not record.trace_id or not record.span_id):
                where = record.source.locator if record.source else locator
                self.ctx.reject(where, "span without trace_id or span_id", record.name)
                continue
            self.formats[fmt] += 1
            yield record


_BLOCK = 1 << 20  # ingest.max_record_bytes is at least this, so a line inside one block is never too long


class _TooLong(bytes):
    """Stands (empty) for a line over the record limit in the stream of lines; keeps its size and start."""

    size: int
    head: str

    def reason(self, limit: int) -> str:
        return f"record of {size_text(self.size)} is over ingest.max_record_bytes ({size_text(limit)}): skipped"


def _too_long(size: int, start: bytes) -> _TooLong:
    marker = _TooLong()
    marker.size = size
    marker.head = start.decode("utf-8", "replace")
    return marker


def _split_blocks(fh: BinaryIO, size: int | None, max_line: int) -> Iterator[bytes]:
    """The lines (split at ``\\n``, as iterating the file does) of the next ``size`` bytes of ``fh`` (all
    of it when ``None``), read 1 MB at a time: several times cheaper than a ``readline`` per line. A last
    line cut by ``size`` is read to its end, as ``readline`` would. A line longer than ``max_line`` is
    not kept: a :class:`_TooLong` marker takes its place once it ends. A last line cut by a compressed
    stream's size limit is dropped (the stream's error reports it)."""
    parts: list[bytes] = []  # the unfinished line's pieces (dropped once it is over max_line)
    length = 0  # its length so far
    start = b""  # its first bytes, for the quarantine excerpt
    remaining = size

    def add(piece: bytes) -> None:
        nonlocal parts, length, start
        if not length:
            start = piece[:EXCERPT_SOURCE]
        length += len(piece)
        if length <= max_line:
            parts.append(piece)
        else:
            parts = []

    while True:
        block = fh.read(_BLOCK if remaining is None else min(_BLOCK, remaining))
        if not block:
            break
        if remaining is not None:
            remaining -= len(block)
        lines = block.split(b"\n")
        if len(lines) == 1:  # no line ends in this block
            add(block)
            continue
        if length:
            add(lines[0])
            lines[0] = b"".join(parts) if length <= max_line else _too_long(length, start)
        tail = lines.pop()
        yield from lines
        parts, length, start = [], 0, b""
        if tail:
            add(tail)
    if length and remaining is not None:
        while True:
            more = fh.readline(_BLOCK)
            if not more:
                break
            add(more)
            if more.endswith(b"\n"):
                break
    if length and not stream_limited(fh):
        yield b"".join(parts) if length <= max_line else _too_long(length, start)


def _first_line_unfinished(head: bytes) -> bool:
    """Whether the sample ends inside its first non-blank line (a line longer than the sample)."""
    return len(head) >= 65536 and b"\n" not in head.lstrip()


def _unwrap(obj: Any, locator: str) -> list[tuple[str, Any]] | None:
    """The elements of a list or of a ``{"spans": [...]}``-style wrapper, or the one value of an envelope:
    ``{"result": {...}}`` (grpc-gateway responses such as Jaeger API v3) or any other single-key object
    whose value is an object."""
    if isinstance(obj, list):
        if not any(isinstance(item, dict | list) for item in obj):
            return None  # a list of scalars is one unrecognised record, not many
        return [(f"{locator}[{i}]", item) for i, item in enumerate(obj)]
    if isinstance(obj, dict):
        for key in WRAPPER_KEYS:
            value = obj.get(key)
            if isinstance(value, list) and value:
                return [(f"{locator}.{key}[{i}]", item) for i, item in enumerate(value)]
        envelope = obj.get("result") if len(obj) <= 2 and "result" in obj else None
        if envelope is None and len(obj) == 1:
            envelope = next(iter(obj.values()))
        if isinstance(envelope, dict) and envelope:
            key = "result" if "result" in obj else next(iter(obj))
            return [(f"{locator}.{key}", envelope)]
    return None


_DECODER = json.JSONDecoder()


def _text_values(data: bytes, ctx: ReadContext) -> Iterator[tuple[str, Any]]:
    """``(line N, value)`` for each JSON value that starts a line of ``data`` (see ``_read_text``)."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip()
        if stripped[:1] not in ("{", "["):
            index += 1
            continue
        start = offsets[index] + len(line) - len(stripped)
        try:
            value, end = _DECODER.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError) as exc:
            if stripped[:1] == "{":
                reason = depth_reason() if isinstance(exc, RecursionError) else f"invalid JSON block: {exc}"
                ctx.reject(f"line {index + 1}", reason, text[start:start + EXCERPT_SOURCE])
                index = _after_block(lines, index)
            else:
                index += 1  # a log line such as "[INFO] ..." starts with a bracket too
            continue
        yield f"line {index + 1}", value
        while index < len(lines) and offsets[index] + len(lines[index]) < end:
            index += 1
        index += 1


def _after_block(lines: list[str], index: int) -> int:
    """The line after a broken block starting at ``index``: past the lines indented deeper than it."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    index += 1
    while index < len(lines):
        line = lines[index]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        index += 1
    return index


def _starts_with_json_value(data: bytes) -> bool:
    """Whether ``data`` opens with a whole JSON value (followed by something else)."""
    text = data.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip())
    try:
        _DECODER.raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _unrecognised(obj: Any) -> str:
    if isinstance(obj, dict):
        keys = ", ".join(sorted(str(k) for k in obj)[:8])
        return f"unrecognised record shape (keys: {keys})" if keys else "unrecognised record shape (empty object)"
    return f"unrecognised record shape ({type(obj).__name__})"


def _excerpt(obj: Any) -> str:
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()[:EXCERPT_SOURCE]
    except TypeError:
        try:
            return repr(obj)[:EXCERPT_SOURCE]
        except RecursionError:
            return f"({type(obj).__name__} nested too deeply to show)"


def _failure(fmt: str, exc: Exception) -> str:
    """The quarantine reason for a reader (of format ``fmt``, or ``record``/``document``) that raised."""
    if is_too_deep(exc):
        return depth_reason()
    what = f"reading the {fmt}" if fmt in ("record", "document") else f"{fmt} reader"
    return f"{what} failed: {type(exc).__name__}: {exc}"


def _too_big(limit: int) -> str:
    return f"file not read: it is (or decompresses to) more than ingest.max_file_bytes ({size_text(limit)})"


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head[:8192]:
        return True
    sample = head[:8192]
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # a multi-byte character cut by the sample boundary
            return False
    bad = sum(1 for b in sample if b < 9 or (13 < b < 32))
    return bad > len(sample) // 20


def _layout(head: bytes) -> str:
    """``lines`` (JSON-lines), ``document`` (one JSON value over many lines), ``text`` (JSON values between
    lines of text) or ``other`` (not JSON)."""
    for line in head.split(b"\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped[:1] not in (b"{", b"["):
            # junk before JSON-lines records still reads line by line; text with JSON blocks in it (a
            # console exporter's output) is scanned for them; plain text is rejected whole
            if _any_line_is_json(head):
                return "lines"
            return "text" if _opens_block(head) else "other"
        try:
            orjson.loads(stripped)
            return "lines"
        except orjson.JSONDecodeError as exc:
            return "lines" if is_too_deep(exc) else "document"
    return "other"


def _opens_block(data: bytes) -> bool:
    """Whether a line of ``data`` is a lone ``{`` or ``[`` (the start of a pretty-printed JSON value)."""
    return any(line.strip() in (b"{", b"[") for line in data.split(b"\n"))


def _any_line_is_json(data: bytes) -> bool:
    for line in data.split(b"\n")[:50]:
        stripped = line.strip()
        if stripped[:1] == b"{":
            try:
                orjson.loads(stripped)
                return True
            except orjson.JSONDecodeError:
                continue
    return False


def _json_error(data: bytes) -> str:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if is_too_deep(exc):
            return depth_reason()
        reason = f"invalid JSON document: {exc}"
        if "end of data" in str(exc) or data.rstrip()[-1:] not in (b"}", b"]"):
            reason += " (file looks truncated)"
        return reason
    return "invalid JSON document"


def read_file(
    path: Path,
    reject: RejectFn,
    byte_range: tuple[int, int] | None = None,
    first_line: int = 1,
    fast: Any = None,
    limits: ReadLimits | None = None,
) -> FileReader:
    """A :class:`FileReader` for ``path`` (or a line-aligned byte range of it): iterate it for records.

    With ``fast`` (a :class:`tracemine.ingest.fast.FastPath`), regular OTLP and flat spans come as
    archive rows (tuples) instead of ``Span`` objects. ``limits`` bound what is read (defaults otherwise)."""
    return FileReader(path, reject, byte_range, first_line, fast, limits)
