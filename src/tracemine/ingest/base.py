"""The reader interface every format module implements, and the per-file context it reports into.

A reader turns parsed JSON values (a whole document, or one JSON-lines record) into :class:`Span` and
:class:`TraceInfo` objects. Readers never raise on bad records: they call ``ctx.reject`` with a reason
and go on. Readers that need to see a whole file before emitting (e.g. to merge LangSmith post/patch
records) buffer in ``feed`` and emit in ``finish``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tracemine.model import SourceRef, Span, TraceInfo
from tracemine.redact import redact, redact_cut

Record = Span | TraceInfo
RejectFn = Callable[[str, str, str, str | None], None]
"""``reject(file, locator, reason, excerpt)``"""
EXCERPT_CHARS = 300
"""Longest quarantine excerpt, after redaction; callers pass up to :data:`EXCERPT_SOURCE` characters."""
EXCERPT_SOURCE = 4096
ID_CLASHES = "id_clashes"
"""Counter (in :attr:`ReadContext.counters`) of spans a reader gave a derived id because another record
of the file shares theirs; the archive adds the clashes it settles itself (``Store.commit_ingest``)."""


@dataclass
class ReadContext:
    """What a reader knows about the file it reads and where it reports rejected records."""

    file: str
    reject_fn: RejectFn
    counters: dict[str, int] = field(default_factory=dict)
    # longest record a reader may load whole (a zip member, say): ingest.max_record_bytes
    max_record_bytes: int = 64 * 1024 * 1024

    def reject(self, locator: str, reason: str, excerpt: Any = None) -> None:
        """Quarantine one record: it is counted and listed with file, locator and reason. The reason and
        the excerpt are redacted (the excerpt before it is cut to :data:`EXCERPT_CHARS`)."""
        text = None
        if excerpt is not None:
            text = excerpt if isinstance(excerpt, str) else repr(excerpt)
            text = redact_cut(text, EXCERPT_CHARS)
        self.reject_fn(self.file, locator, redact(reason), text)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name`` (e.g. :data:`ID_CLASHES`)."""
        if n:
            self.counters[name] = self.counters.get(name, 0) + n

    def source(self, fmt: str, locator: str) -> SourceRef:
        return SourceRef(format=fmt, file=self.file, locator=locator)


class Reader:
    """Base class for a JSON trace format. Subclasses set ``format`` and implement ``match`` and ``feed``.

    ``match`` is called on a parsed document or JSON-lines record and must be cheap and strict enough
    not to claim other formats' records. ``priority`` orders the checks (lower first).
    """

    format: ClassVar[str] = ""
    priority: ClassVar[int] = 100
    # True when records are independent (no state across records), so big files can be read in parts
    splittable: ClassVar[bool] = False

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    @classmethod
    def match(cls, obj: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def feed(self, obj: Any, locator: str) -> Iterable[Record]:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self) -> Iterable[Record]:
        return ()

    def src(self, locator: str) -> SourceRef:
        return self.ctx.source(self.format, locator)


class BinaryReader:
    """Base class for formats that are not JSON text (zip archives, protobuf)."""

    format: ClassVar[str] = ""

    @classmethod
    def match_file(cls, path: str, head: bytes) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, data: bytes, ctx: ReadContext) -> Iterator[Record]:  # pragma: no cover - interface
        raise NotImplementedError
