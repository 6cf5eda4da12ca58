"""Ingest: files → spans → the archive, in parallel by file (and by byte range for big JSON-lines).

The unit of work is a *task*: a whole file, or a line-aligned byte range of a large uncompressed
JSON-lines file whose records a stateless reader handles. Tasks run in a process pool (or in-process
for small inputs). A pooled task writes its spans as Arrow IPC files in a spill directory, so a worker
holds one batch at a time whatever the size of its file; the main process appends each file to the
archive as it arrives, with at most ``workers + 1`` tasks in flight, and finishes the ingest at the end
(see :class:`tracemine.store.Store` for how an interrupted ingest is undone).
Python's cyclic garbage collector is paused while a task builds spans: spans hold no cycles, and its
full scans of millions of young objects cost a third of the parse time.
Reader processes die with the ingest process (:mod:`tracemine.ingest.workers`). Spans with impossible
times (before 2000, or beyond ``future_tolerance_seconds`` after the ingest started) are quarantined.
Parquet files (archive partitions) are imported as tables by :func:`tracemine.export.import_partitions`.
"""

from __future__ import annotations

import gc
import itertools
import os
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tracemine.config import IngestSettings
from tracemine.ingest.base import EXCERPT_CHARS, ID_CLASHES
from tracemine.ingest.decode import as_json_text
from tracemine.ingest.fast import fast_path
from tracemine.ingest.limits import MIN_TIME_NS, ReadLimits, depth_reason, is_too_deep, time_problem
from tracemine.ingest.outcome import RootSpanFacts, derived_trace_rows, root_outcome
from tracemine.ingest.read import read_file
from tracemine.ingest.sources import expand_paths, fingerprint
from tracemine.ingest.tasks import Task, plan_tasks
from tracemine.ingest.workers import die_with_parent
from tracemine.model import Span, TraceInfo
from tracemine.redact import redact, redact_cut
from tracemine.store import QuarantineRecord, Store
from tracemine.store.batch import SpanBatch
from tracemine.store.schema import SPAN_ARROW_SCHEMA

ProgressFn = Callable[[int], None]
"""Called with the number of input bytes just finished."""


@dataclass
class TaskResult:
    path: str
    tables: list[pa.Table]
    spill_files: list[str]
    traces: list[dict[str, Any]]
    quarantine: list[QuarantineRecord]
    formats: dict[str, int]
    spans: int
    repaired: int
    size: int
    roots: list[RootSpanFacts] = field(default_factory=list)
    """Root spans with outcome-like attributes or an error status (:func:`tracemine.ingest.outcome.root_outcome`)."""
    id_clashes: int = 0
    """Spans its readers gave a derived id (RPC halves sharing one id, :mod:`tracemine.ingest.tagged`)."""


@dataclass
class IngestReport:
    """What an ingest did: counts per file and overall, and what it rejected."""

    ingest_id: int | None = None
    files_read: int = 0
    files_skipped: int = 0
    spans_read: int = 0
    spans_inserted: int = 0
    duplicate_spans: int = 0
    id_clashes: int = 0
    """Spans kept under a derived id: they shared ``(trace_id, span_id)`` with a span of different content."""
    rejected: int = 0
    repaired: int = 0
    seconds: float = 0.0
    bytes_read: int = 0
    formats: Counter[str] = field(default_factory=Counter)
    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)

    @property
    def spans_per_second(self) -> float:
        return self.spans_read / self.seconds if self.seconds > 0 else 0.0


def run_task(
    task: Task, settings: IngestSettings, ingest_id: int, fallback_time_ns: int, spill_dir: str | None = None
) -> TaskResult:
    """Read one task into Arrow batches (kept, or written to ``spill_dir``); never raises for bad input."""
    quarantine: list[QuarantineRecord] = []

    def reject(file: str, locator: str, reason: str, excerpt: str | None) -> None:
        # redacted here too: not every rejection comes through ReadContext.reject (idempotent when it did)
        quarantine.append(QuarantineRecord(file, locator, redact(reason),
                                           None if excerpt is None else redact_cut(excerpt, EXCERPT_CHARS)))

    batch = SpanBatch(ingest_id, fallback_time_ns, settings.max_field_chars, settings.max_attr_chars)
    fast = fast_path(batch)
    reader = read_file(Path(task.path), reject, task.byte_range, task.first_line, fast,
                       ReadLimits.from_settings(settings))
    now = max(fallback_time_ns, time.time_ns())  # the ingest's start, or this clock if that is behind
    earliest, latest = MIN_TIME_NS, now + settings.future_tolerance_seconds * 1_000_000_000

    def impossible(start: int | None, end: int | None, fmt: str | None, locator: str | None, name: Any) -> None:
        """Quarantine a span whose times are impossible (never stored at another time)."""
        reject(task.path, locator or "span", time_problem(start, end, latest) or "impossible time", str(name))
        if fmt and reader.formats.get(fmt, 0) > 0:
            reader.formats[fmt] -= 1

    roots: list[RootSpanFacts] = []
    fast_roots = fast.rows.pending_roots if fast is not None else {}
    tables: list[pa.Table] = []
    spill_files: list[str] = []
    traces: list[dict[str, Any]] = []
    spans = 0

    def flush() -> None:
        table = _to_arrow(batch, reject, task.path)
        batch.clear()
        if spill_dir is None:
            tables.append(table)
            return
        fd, name = tempfile.mkstemp(suffix=".arrow", dir=spill_dir)
        with os.fdopen(fd, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        spill_files.append(name)

    gc_was_enabled = gc.isenabled()
    gc.disable()
    add, batch_spans, pending = batch.add, settings.batch_spans, 0
    try:
        for record in reader:
            if type(record) is tuple:  # a row from the fast path
                start, end = record[5], record[6]
                if ((start is not None and not earliest <= start <= latest)
                        or (end is not None and not earliest <= end <= latest)):
                    fast_roots.pop(id(record), None)
                    impossible(start, end, record[-4], record[-2], record[3])
                    continue
                if record[2] is None and fast_roots:  # a root span: as for Span records below
                    found = fast_roots.pop(id(record), None)
                    if found is not None:
                        roots.append(found)
                batch.rows.append(record)
                spans += 1
                pending += 1
                if pending >= batch_spans:
                    flush()
                    pending = 0
            elif isinstance(record, Span):
                source = record.source
                start, end = record.start_ns, record.end_ns
                if ((start is not None and not earliest <= start <= latest)
                        or (end is not None and not earliest <= end <= latest)):
                    impossible(start, end, source.format if source else None, source.locator if source else None,
                               record.name)
                    continue
                try:
                    add(record)
                except Exception as exc:  # e.g. values nested too deeply to store: this span, not the file
                    values = (record.attributes, record.events, record.resource)
                    reject(task.path, source.locator if source else "span", _unstorable(exc, values), record.name)
                    continue
                if record.parent_span_id is None:  # what the trace's outcome may come from (ingest/outcome.py)
                    found = root_outcome(
                        record.trace_id, record.name, record.status.value, record.attributes,
                        source.format if source else "", source.file if source else "",
                    )
                    if found is not None:
                        roots.append(found)
                spans += 1
                pending += 1
                if pending >= batch_spans:
                    flush()
                    pending = 0
            elif isinstance(record, TraceInfo):
                try:
                    traces.append(_trace_row(record, ingest_id))
                except Exception as exc:
                    reject(task.path, record.source.locator if record.source else "trace",
                           _unstorable(exc, record.labels), record.trace_id)
    except Exception as exc:  # a reader bug must cost one file, not the run
        reject(task.path, "file", f"reading stopped: {type(exc).__name__}: {exc}", None)
    finally:
        if gc_was_enabled:
            gc.enable()
    if len(batch):
        flush()
    return TaskResult(
        task.path, tables, spill_files, traces, quarantine, dict(reader.formats), spans, reader.repaired, task.size,
        roots, reader.ctx.counters.get(ID_CLASHES, 0),
    )


def _unstorable(exc: Exception, values: Any) -> str:
    """Why a record could not be stored; ``values`` are what was being written (for the depth)."""
    if is_too_deep(exc):
        return depth_reason(values)
    return f"record cannot be stored: {type(exc).__name__}: {exc}"


def _to_arrow(batch: SpanBatch, reject: Callable[..., None], path: str) -> pa.Table:
    try:
        return batch.to_arrow()
    except (pa.ArrowException, UnicodeEncodeError, OverflowError, TypeError):
        # fall back to row-by-row conversion so one unconvertible span does not cost the batch
        rows: list[pa.Table] = []
        for i in range(len(batch)):
            row = {name: [values[i]] for name, values in batch.columns.items()}
            try:
                rows.append(pa.Table.from_pydict(row, schema=SPAN_ARROW_SCHEMA))
            except (pa.ArrowException, UnicodeEncodeError, OverflowError, TypeError) as exc:
                reject(path, str(row["source_locator"][0]), f"span cannot be stored: {exc}", str(row["name"][0]))
        return pa.concat_tables(rows) if rows else SPAN_ARROW_SCHEMA.empty_table()


def _trace_row(info: TraceInfo, ingest_id: int) -> dict[str, Any]:
    return {
        "trace_id": info.trace_id,
        "outcome": info.outcome.value,
        "name": info.name,
        "labels": as_json_text(info.labels),
        "source_format": info.source.format if info.source else None,
        "source_file": info.source.file if info.source else None,
        "ingest_id": ingest_id,
    }


def _results(
    tasks: Iterator[Task], total: int, settings: IngestSettings, ingest_id: int, fallback_time_ns: int, spill_dir: str
) -> Iterator[TaskResult]:
    """Task results in task order; pooled when the input is big enough, with bounded look-ahead."""
    workers = settings.workers or os.cpu_count() or 1
    first = list(itertools.islice(tasks, workers + 1))
    tasks = itertools.chain(first, tasks)
    if workers <= 1 or len(first) <= 1 or total < settings.parallel_min_bytes:
        for task in tasks:
            yield run_task(task, settings, ingest_id, fallback_time_ns)
        return
    # pyarrow imports pandas on its first conversion of Python values (~0.2 s of CPU); the archive's
    # process does that anyway, so doing it before the reader processes fork spares each of them the import
    pa.array([""], pa.string())
    with ProcessPoolExecutor(
        max_workers=min(workers, len(first)), initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[Future[TaskResult]] = deque(
            pool.submit(run_task, task, settings, ingest_id, fallback_time_ns, spill_dir)
            for task in itertools.islice(tasks, workers + 1)
        )
        while pending:
            result = pending.popleft().result()
            next_task = next(tasks, None)
            if next_task is not None:
                pending.append(pool.submit(run_task, next_task, settings, ingest_id, fallback_time_ns, spill_dir))
            yield result


def _load_result(store: Store, result: TaskResult) -> None:
    for table in result.tables:
        store.insert_spans(table)
    for name in result.spill_files:
        try:
            with pa.memory_map(name) as source:
                store.insert_spans(pa.ipc.open_file(source).read_all())
        finally:
            os.unlink(name)
    store.insert_traces(result.traces)


def _fresh_files(
    files: list[Path], store: Store, report: IngestReport, hasher: ThreadPoolExecutor
) -> tuple[list[Path], dict[str, Future[str]]]:
    """The files not ingested before (same bytes), and futures of their fingerprints.

    Only a file whose size matches an ingested file or another file of this ingest can be a copy: those
    are hashed first and skipped when known. The others are hashed in the background while they are read
    (hashing 1.4 GB takes about a second, time the reader processes would otherwise wait).
    """
    sizes = {str(p): p.stat().st_size for p in files}
    repeated = {size for size, n in Counter(sizes.values()).items() if n > 1} | store.known_sizes()
    maybe_known = {str(p): fingerprint(p) for p in files if sizes[str(p)] in repeated}
    known = store.known_fingerprints(list(maybe_known.values()))
    fresh: list[Path] = []
    prints: dict[str, Future[str]] = {}
    seen_now: set[str] = set()
    for path in files:
        fp = maybe_known.get(str(path))
        if fp is None:
            prints[str(path)] = hasher.submit(fingerprint, path)
        elif fp in known or fp in seen_now:
            report.files_skipped += 1
            report.skipped.append(str(path))
            continue
        else:
            seen_now.add(fp)
            done: Future[str] = Future()
            done.set_result(fp)
            prints[str(path)] = done
        fresh.append(path)
    return fresh, prints


ResultsFn = Callable[[Iterator[Task], int, IngestSettings, int, int, str], Iterator[TaskResult]]
"""Runs the read tasks and yields their results in task order: ``(tasks, total_bytes, settings, ingest_id,
fallback_time_ns, spill_dir)``. The default (:func:`_results`) uses a local process pool; a distributed
backend passes its own (e.g. Ray tasks running :func:`run_task`)."""


def ingest_paths(
    paths: list[str] | tuple[str, ...],
    store: Store,
    settings: IngestSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    results: ResultsFn | None = None,
    partitions: Sequence[str] = (),
    map_partitions: Callable[[Callable[[str], Any], list[str]], Iterable[Any]] = map,
) -> IngestReport:
    """Ingest ``paths`` (files, directories, globs) into ``store``; already-seen files are skipped.

    Trace files go to the readers; Parquet files (walked, globbed or named: archive partitions written by
    ``tracemine export --parquet``), with ``partitions`` (further Parquet locations, e.g. URLs), are
    imported as tables by :func:`tracemine.export.import_partitions` (through ``map_partitions``) as an
    ingest of their own, so they read back as the rows they were written from. This is the one path of
    ``tracemine ingest``, ``detect PATHS`` and ``mine PATHS`` (every backend).

    ``progress(done_bytes, total_bytes)`` is called as tasks finish; ``results`` runs the read tasks
    (:data:`ResultsFn`; local processes by default).
    """
    settings = settings or IngestSettings()
    parquet: list[Path] = []
    report = _ingest_files(paths, store, settings, progress, results, parquet)
    located = [str(p) for p in parquet] + list(partitions)
    if not located:
        return report
    from tracemine.export import import_partitions

    imported = import_partitions(store, located, progress, reader=map_partitions, settings=settings)
    if imported.ingest_id is not None:
        imported.id_clashes = store.id_clashes(imported.ingest_id)
    return combine_reports([report, imported])


def combine_reports(reports: list[IngestReport]) -> IngestReport:
    """One report for several ingests (counts added, lists joined; the last ingest's id)."""
    if len(reports) == 1:
        return reports[0]
    out = IngestReport()
    for r in reports:
        out.ingest_id = r.ingest_id
        for name in ("files_read", "files_skipped", "spans_read", "spans_inserted", "duplicate_spans", "id_clashes",
                     "rejected", "repaired", "seconds", "bytes_read"):
            setattr(out, name, getattr(out, name) + getattr(r, name))
        out.formats.update(r.formats)
        for name in ("files", "skipped", "ignored", "quarantine"):
            getattr(out, name).extend(getattr(r, name))
    return out


def _ingest_files(
    paths: list[str] | tuple[str, ...],
    store: Store,
    settings: IngestSettings,
    progress: Callable[[int, int], None] | None,
    results: ResultsFn | None,
    parquet: list[Path],
) -> IngestReport:
    """Read the trace files of ``paths`` into ``store`` as one ingest; Parquet files found go to
    ``parquet``. When ``paths`` hold Parquet files and nothing to read or reject, no ingest is recorded."""
    started = time.perf_counter()
    report = IngestReport()
    unreadable: list[tuple[Path, str]] = []
    files = expand_paths(list(paths), report.ignored, unreadable, parquet)
    if parquet and not files and not unreadable:
        return report
    report.quarantine.extend(QuarantineRecord(str(path), "file", redact(reason)) for path, reason in unreadable)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracemine-hash") as hasher:
        fresh, prints = _fresh_files(files, store, report, hasher)
        per_file: dict[str, dict[str, Any]] = {
            str(p): {"fingerprint": None, "path": str(p), "size": p.stat().st_size, "formats": Counter(),
                     "spans": 0, "rejected": 0}
            for p in fresh
        }
        total_bytes = sum(entry["size"] for entry in per_file.values())
        fallback_time_ns = time.time_ns()
        ingest_id = store.begin_ingest([str(p) for p in paths])
        roots: list[RootSpanFacts] = []
        report.ingest_id = ingest_id
        spill_root = Path(store.path).resolve().parent if store.path != ":memory:" else None
        try:
            with tempfile.TemporaryDirectory(prefix=".tracemine-spill-", dir=spill_root) as spill_dir:
                tasks = plan_tasks(fresh, settings)
                for result in (results or _results)(tasks, total_bytes, settings, ingest_id, fallback_time_ns,
                                                     spill_dir):
                    _load_result(store, result)
                    roots.extend(result.roots)
                    _count_result(report, per_file[result.path], result)
                    if progress:
                        progress(report.bytes_read, total_bytes)
            for path, entry in per_file.items():
                entry["fingerprint"] = prints[path].result()
            store.add_derived_outcomes(
                ingest_id, derived_trace_rows(roots, ingest_id, settings.outcome_from_root_error)
            )
        except BaseException:
            store.abort_ingest(ingest_id)
            raise
    report.files_read = len(fresh)
    report.files = [dict(v, formats=dict(v["formats"])) for v in per_file.values()]
    report.rejected = len(report.quarantine)
    inserted, duplicates = store.commit_ingest(
        ingest_id,
        report.files,
        report.quarantine,
        {"files_read": report.files_read, "files_skipped": report.files_skipped, "repaired": report.repaired,
         ID_CLASHES: report.id_clashes},
    )
    report.spans_inserted = inserted
    report.duplicate_spans = duplicates
    report.id_clashes = store.id_clashes(ingest_id)
    report.seconds = time.perf_counter() - started
    return report


def _count_result(report: IngestReport, entry: dict[str, Any], result: TaskResult) -> None:
    entry["formats"].update(result.formats)
    entry["spans"] += result.spans
    entry["rejected"] += len(result.quarantine)
    report.quarantine.extend(result.quarantine)
    report.spans_read += result.spans
    report.repaired += result.repaired
    report.id_clashes += result.id_clashes
    report.formats.update(result.formats)
    report.bytes_read += result.size
