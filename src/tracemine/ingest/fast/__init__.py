"""Ingest fast path: archive rows built straight from decoded records of the two high-volume shapes
(OTLP/JSON lines and flat span-per-line JSON), without ``Span`` objects.

A record (or, in OTLP, one span) the fast path does not fully understand goes to the general reader,
and what the fast path builds is the row the general path would have built, so the archive is the same
either way (``tests/test_ingest_fastpath.py`` compares the two). ``TRACEMINE_INGEST_FASTPATH=0`` turns
it off.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tracemine.ingest.base import Reader
from tracemine.ingest.fast.flat import flat_records
from tracemine.ingest.fast.otlp import otlp_records
from tracemine.ingest.fast.rows import RowBuilder
from tracemine.ingest.readers.flat import FlatSpanReader
from tracemine.ingest.readers.otlp import OtlpJsonReader
from tracemine.store.batch import SpanBatch

ENABLED = os.environ.get("TRACEMINE_INGEST_FASTPATH", "1") != "0"

FastFn = Callable[[Any, str, Any, RowBuilder], "list[Any] | None"]
_HANDLERS: dict[type[Reader], FastFn] = {OtlpJsonReader: otlp_records, FlatSpanReader: flat_records}


class FastPath:
    """Per-task fast path: ``records(reader, obj, locator)`` → rows and ``Span``s, or ``None``."""

    def __init__(self, batch: SpanBatch) -> None:
        self.rows = RowBuilder(batch)

    @staticmethod
    def handler(reader_cls: type[Reader]) -> FastFn | None:
        return _HANDLERS.get(reader_cls)

    def records(self, handler: FastFn, reader: Reader, obj: Any, locator: str) -> list[Any] | None:
        # rows of the previous record have all been taken; rows of a record handed over are never taken
        self.rows.pending_roots.clear()
        try:
            return handler(obj, locator, reader, self.rows)
        except Exception:  # anything unexpected: the general reader decides (and reports) instead
            return None


def fast_path(batch: SpanBatch) -> FastPath | None:
    """The fast path for a task appending to ``batch``, unless it is turned off."""
    return FastPath(batch) if ENABLED else None
