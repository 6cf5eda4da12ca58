"""The archive as Parquet partitions, and partition directories (local or any filesystem URL) as input.

Layout written by :func:`export_parquet` (``tracemine export --parquet DIR``), Hive-style::

    DIR/spans/day=2026-11-01/shard=3/data_0.parquet     spans by the UTC day of their end time and trace shard
    DIR/traces/shard=3/data_0.parquet                   trace records (outcome, labels) by trace shard
    DIR/.tracemine-export.json                          what was written (counts, shards, schema version)

A span file has exactly the archive's span columns (``tracemine.store.schema.SPAN_COLUMNS``); the
partition values live in the directory names. ``shard`` is :func:`tracemine.backends.shards.shard_of`
of the trace id, so one trace's spans are in one shard (possibly over several days).

Reading: :func:`list_files` and :func:`read_table` accept local paths and URLs of any filesystem
pyarrow knows (``s3://``, ``gs://``, ``hdfs://``, ``file://``) or, when ``fsspec`` is installed, any
fsspec protocol (``memory://``, ``az://`` with adlfs, ...). :func:`import_partitions` loads Parquet
partitions into an archive as one ingest (file fingerprints make a re-import a no-op; duplicates are
dropped, and spans with impossible times quarantined, as for any ingest); it is how every ingest reads
Parquet (``tracemine ingest DIR`` and ``tracemine mine DIR`` alike, through
:func:`tracemine.ingest.loader.ingest_paths`), so an export reads back as the same span rows.
:func:`fetch_files` copies remote JSON-lines partitions to a local folder for the ordinary readers.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from tracemine.backends.shards import shard_sql
from tracemine.store.export import copy_partitions
from tracemine.store.migrations import SCHEMA_VERSION
from tracemine.store.schema import SPAN_ARROW_SCHEMA, TRACE_ARROW_SCHEMA
from tracemine.timewindow import Window

if TYPE_CHECKING:
    import pyarrow.fs as pafs

    from tracemine.config import IngestSettings
    from tracemine.ingest.loader import IngestReport
    from tracemine.store import Store

MANIFEST = ".tracemine-export.json"
SPANS_DIR = "spans"
TRACES_DIR = "traces"
ROW_COLUMN = "_row"
"""Staging files for the sharded detector passes carry the archive's row order in this column."""
TEXT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz", ".traj", ".pb", ".binpb")


class PartitionError(RuntimeError):
    """A partition location cannot be read (unknown filesystem, missing path, unreadable file)."""


# -- locations ---------------------------------------------------------------------------------------


def filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """``(filesystem, path)`` for a local path or a URL (pyarrow's filesystems first, then fsspec)."""
    import pyarrow.fs as pafs

    if "://" not in location:
        return pafs.LocalFileSystem(), str(Path(location).expanduser().resolve())
    try:
        return pafs.FileSystem.from_uri(location)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as arrow_error:
        try:
            import fsspec
        except ImportError:
            raise PartitionError(
                f"cannot open {location!r}: {arrow_error}; for other filesystems install fsspec "
                '(pip install "tracemine[remote]") and its protocol package') from arrow_error
        try:
            fs, path = fsspec.core.url_to_fs(location)
        except (ImportError, ValueError) as exc:
            raise PartitionError(f"cannot open {location!r}: {exc}") from exc
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def _join(location: str, path: str) -> str:
    """The location string of ``path`` on the filesystem of ``location`` (a URL stays a URL)."""
    if "://" not in location:
        return path
    return f"{location.split('://', 1)[0]}://{path}"


def list_files(location: str, suffixes: Sequence[str] | None = None) -> list[str]:
    """Files at ``location`` (itself when it is a file, else every file below it), in name order,
    skipping hidden (``.``) and ``_``-prefixed entries; only ``suffixes`` when given."""
    import pyarrow.fs as pafs

    fs, root = filesystem(location)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise PartitionError(f"no such file or directory: {location!r}")
    if info.type == pafs.FileType.File:
        return [location]
    found = []
    for entry in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        if entry.type != pafs.FileType.File:
            continue
        relative = entry.path[len(root.rstrip("/")) + 1:] if entry.path.startswith(root.rstrip("/")) else entry.base_name
        if any(part.startswith((".", "_")) for part in relative.split("/")):
            continue
        if suffixes is None or entry.base_name.lower().endswith(tuple(suffixes)):
            found.append(_join(location, entry.path))
    return sorted(found)


def file_identity(location: str) -> tuple[str, int]:
    """``(fingerprint, size)`` of one file. A local file: SHA-256 of its bytes, as for every ingested file
    (the same partition is recognised wherever it was copied). A remote one: SHA-256 of its location,
    size and modification time (not read twice to be recognised; a changed file gets a new fingerprint)."""
    if "://" not in location:
        from tracemine.ingest.sources import fingerprint

        return fingerprint(location), Path(location).stat().st_size
    fs, path = filesystem(location)
    info = fs.get_file_info(path)
    size = int(info.size or 0)
    mtime = info.mtime_ns if info.mtime_ns is not None else 0
    digest = hashlib.sha256(f"parquet\x00{location}\x00{size}\x00{mtime}".encode()).hexdigest()
    return digest, size


# -- reading -----------------------------------------------------------------------------------------


def read_table(location: str) -> pa.Table:
    """One Parquet file (local or URL) as an Arrow table."""
    import pyarrow.parquet as pq

    fs, path = filesystem(location)
    try:
        return pq.read_table(path, filesystem=fs, partitioning=None)
    except (OSError, pa.ArrowException) as exc:
        raise PartitionError(f"cannot read {location}: {exc}") from exc


def conform(table: pa.Table, schema: pa.Schema, ingest_id: int | None = None) -> pa.Table:
    """``table`` with exactly ``schema``'s columns (missing ones null, extra ones dropped, types cast)
    and, when given, ``ingest_id`` in the ``ingest_id`` column."""
    columns = []
    for f in schema:
        if f.name == "ingest_id" and ingest_id is not None:
            columns.append(pa.array([ingest_id] * table.num_rows, f.type))
        elif f.name in table.column_names:
            columns.append(table.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def table_kind(table: pa.Table) -> str | None:
    """``"spans"``, ``"traces"`` or ``None`` from a table's columns."""
    names = set(table.column_names)
    if {"trace_id", "span_id"} <= names:
        return "spans"
    if {"trace_id", "outcome"} <= names:
        return "traces"
    return None


def read_partition(location: str) -> tuple[str | None, pa.Table | None, str | None]:
    """One partition file read and conformed to the archive's span or trace schema: ``(kind, table,
    None)``; ``(None, None, None)`` for a Parquet file of something else and ``(None, None, reason)`` for
    one that cannot be read (never raises for bad input). The stage function of a Parquet import, run
    in-process by the local backend and as a Ray task by the Ray backend."""
    try:
        table = read_table(location)
        kind = table_kind(table)
        if kind == "spans":
            return kind, conform(table, SPAN_ARROW_SCHEMA), None
        if kind == "traces":
            return kind, conform(table, TRACE_ARROW_SCHEMA), None
    except (PartitionError, pa.ArrowException, ValueError) as exc:
        return None, None, f"unreadable Parquet file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None, None, None


def impossible_times(table: pa.Table, location: str, latest_ns: int) -> tuple[pa.Table, list[Any]]:
    """``table`` without the spans whose times are impossible (before 2000, or after ``latest_ns``), and
    their quarantine records (``row N`` of the file, 1-based) — the ingest limits of every other file
    (:mod:`tracemine.ingest.limits`)."""
    import pyarrow.compute as pc

    from tracemine.ingest.limits import MIN_TIME_NS, time_problem
    from tracemine.redact import redact_cut
    from tracemine.store import QuarantineRecord

    bad = None
    for column in ("start_ns", "end_ns"):
        values = table.column(column)
        outside = pc.fill_null(pc.or_(pc.less(values, MIN_TIME_NS), pc.greater(values, latest_ns)), False)
        bad = outside if bad is None else pc.or_(bad, outside)
    if bad is None or not pc.any(bad).as_py():
        return table, []
    rows = pc.indices_nonzero(bad).to_pylist()
    picked = table.take(rows).select(["start_ns", "end_ns", "name"]).to_pylist()
    records = [QuarantineRecord(location, f"row {i + 1}", time_problem(r["start_ns"], r["end_ns"], latest_ns)
                                or "impossible time", redact_cut(str(r["name"]), 300))
               for i, r in zip(rows, picked, strict=True)]
    return table.filter(pc.invert(bad)), records


def import_partitions(
    store: Store,
    locations: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
    reader: Callable[[Callable[[str], Any], list[str]], Iterable[Any]] = map,
    settings: IngestSettings | None = None,
) -> IngestReport:
    """Load Parquet partition files into ``store`` as one ingest (spans and trace records; the files'
    fingerprints recorded so the same files are skipped next time; duplicate spans dropped; spans with
    impossible times and unreadable files quarantined, with file and row, under ``settings``' limits).

    ``reader(read_partition, files)`` yields the files' ``(kind, table, problem)`` in order: the builtin
    ``map`` in-process, or a parallel map (the Ray backend's)."""
    from tracemine.config import IngestSettings
    from tracemine.ingest.loader import IngestReport
    from tracemine.redact import redact
    from tracemine.store import QuarantineRecord

    settings = settings or IngestSettings()
    started = time.perf_counter()
    report = IngestReport()
    identities = {loc: file_identity(loc) for loc in locations}
    known = store.known_fingerprints([fp for fp, _ in identities.values()])
    fresh = []
    for loc in locations:
        fp = identities[loc][0]
        if fp in known:
            report.files_skipped += 1
            report.skipped.append(loc)
        else:
            known.add(fp)  # a copy of it later in this import is skipped too
            fresh.append(loc)
    total = sum(identities[loc][1] for loc in fresh)
    ingest_id = store.begin_ingest(list(locations))
    report.ingest_id = ingest_id
    latest = time.time_ns() + settings.future_tolerance_seconds * 1_000_000_000
    files = []
    try:
        for loc, (kind, table, problem) in zip(fresh, reader(read_partition, fresh), strict=True):
            fp, size = identities[loc]
            spans, rejected = 0, []
            if kind == "spans":
                table, rejected = impossible_times(table, loc, latest)
                store.insert_spans(conform(table, SPAN_ARROW_SCHEMA, ingest_id))
                spans = table.num_rows
            elif kind == "traces":
                store.insert_traces(conform(table, TRACE_ARROW_SCHEMA, ingest_id).to_pylist())
            elif problem is not None:
                rejected = [QuarantineRecord(loc, "file", redact(problem))]
            else:
                report.ignored.append(Path(loc))
            files.append({"fingerprint": fp, "path": loc, "size": size, "formats": {"parquet": spans},
                          "spans": spans, "rejected": len(rejected)})
            report.quarantine.extend(rejected)
            report.spans_read += spans
            report.bytes_read += size
            report.formats["parquet"] += spans
            if progress:
                progress(report.bytes_read, total)
    except BaseException:
        store.abort_ingest(ingest_id)
        raise
    report.files_read = len(fresh)
    report.files = files
    report.rejected = len(report.quarantine)
    inserted, duplicates = store.commit_ingest(
        ingest_id, files, report.quarantine, {"files_read": report.files_read, "files_skipped": report.files_skipped})
    report.spans_inserted, report.duplicate_spans = inserted, duplicates
    report.seconds = time.perf_counter() - started
    return report


def fetch_files(locations: Sequence[str], into: str | Path) -> list[Path]:
    """Copy remote files to the local folder ``into`` (keeping their names unique); local paths are
    returned as they are. For JSON-lines partitions read by the ordinary readers."""
    out: list[Path] = []
    into = Path(into)
    for n, loc in enumerate(locations):
        if "://" not in loc:
            out.append(Path(loc))
            continue
        fs, path = filesystem(loc)
        target = into / f"{n:06d}-{Path(path).name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with fs.open_input_stream(path) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        out.append(target)
    return out


# -- export ------------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    """What :func:`export_parquet` wrote."""

    out: str
    spans: int = 0
    traces: int = 0
    files: int = 0
    shards: int = 0
    days: int = 0
    shard_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_parquet(
    store: Store,
    out: str | Path,
    window: Window | None = None,
    shards: int = 16,
    by_day: bool = True,
    row_order: bool = False,
    compression: str = "zstd",
) -> ExportReport:
    """Write the archive's spans (whole traces touching ``window``; everything without one) and their
    trace records as Parquet partitions by day and trace shard (by shard only when ``by_day`` is off).

    ``out`` is a local folder or a filesystem URL (written locally, then copied). ``row_order`` adds the
    archive row number as ``_row`` so readers can restore the archive's span order exactly (used for
    the sharded detector passes). Existing partitions under ``out`` are replaced."""
    if shards < 1:
        raise ValueError(f"shards must be positive, got {shards}")
    started = time.perf_counter()
    out_str = str(out)
    remote = "://" in out_str
    local_root = Path(tempfile.mkdtemp(prefix="tracemine-export-")) if remote else Path(out_str)
    local_root.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out=out_str, shards=shards)
    spans_dir, traces_dir = local_root / SPANS_DIR, local_root / TRACES_DIR
    for d in (spans_dir, traces_dir):
        if d.exists():
            shutil.rmtree(d)
    copied = copy_partitions(store, spans_dir, traces_dir, window, shard_sql(shards), by_day,
                             ROW_COLUMN if row_order else None, compression)
    report.spans, report.traces, report.shard_ids, report.days = (copied.spans, copied.traces, copied.shard_ids,
                                                                  copied.days)
    report.files = sum(1 for _ in local_root.rglob("*.parquet"))
    manifest = {"schema_version": SCHEMA_VERSION, "layout": "day/shard" if by_day else "shard",
                "shard_function": "int(md5(trace_id)[:8], 16) % shards", **report.as_dict(), "out": out_str,
                "window": [getattr(window, "since_ns", None), getattr(window, "until_ns", None)]}
    (local_root / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    if remote:
        import pyarrow.fs as pafs

        fs, path = filesystem(out_str)
        fs.create_dir(path, recursive=True)
        pafs.copy_files(str(local_root), path, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)
        shutil.rmtree(local_root, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


# -- shards of a staged window (the sharded detector passes) ----------------------------------------


def shard_files(root: str, shard: int) -> tuple[list[str], list[str]]:
    """The span and trace files of one shard under an export ``root`` (any layout)."""
    marker = f"shard={shard}"

    def of(sub: str) -> list[str]:
        try:
            files = list_files(_child(root, sub), (".parquet",))
        except PartitionError:
            return []
        return [f for f in files if marker in f.replace("\\", "/").split("/")]

    return of(SPANS_DIR), of(TRACES_DIR)


def _child(root: str, name: str) -> str:
    return root.rstrip("/") + "/" + name if "://" in root else str(Path(root) / name)


def read_shard_traces(root: str, shard: int) -> list[Any]:
    """The whole traces of one shard of an export, in trace-id order, each trace's spans in the
    archive's order (``_row`` when present) — what :meth:`tracemine.store.Store.iter_traces` yields
    for the same traces."""
    from tracemine.model import Trace
    from tracemine.store.archive import _outcome, row_to_span

    span_files, trace_files = shard_files(root, shard)
    tables = [read_table(f) for f in span_files]
    if not tables:
        return []
    spans = pa.concat_tables(tables, promote_options="default")
    keys = [("trace_id", "ascending")] + ([(ROW_COLUMN, "ascending")] if ROW_COLUMN in spans.column_names else [])
    spans = spans.sort_by(keys)
    outcomes: dict[str, Any] = {}
    for f in trace_files:
        t = read_table(f)
        outcomes.update(zip(t.column("trace_id").to_pylist(), t.column("outcome").to_pylist(), strict=True))
    traces = []
    current: list[Any] = []
    current_id: str | None = None
    for row in spans.to_pylist():
        if row["trace_id"] != current_id and current:
            traces.append(Trace(current_id or "", current, _outcome(outcomes.get(current_id))))
            current = []
        current_id = row["trace_id"]
        current.append(row_to_span(row))
    if current:
        traces.append(Trace(current_id or "", current, _outcome(outcomes.get(current_id))))
    return traces


def remove(location: str) -> None:
    """Delete a folder (local or URL) written by :func:`export_parquet`."""
    if "://" not in location:
        shutil.rmtree(location, ignore_errors=True)
        return
    fs, path = filesystem(location)
    with contextlib.suppress(OSError):
        fs.delete_dir(path)


__all__ = [
    "MANIFEST",
    "ExportReport",
    "PartitionError",
    "export_parquet",
    "fetch_files",
    "file_identity",
    "filesystem",
    "import_partitions",
    "list_files",
    "read_partition",
    "read_shard_traces",
    "read_table",
]
