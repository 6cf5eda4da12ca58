"""Report files written whole or not at all, and the ``--out`` folder checked before any work.

Each file goes to a hidden temporary file in its own folder (``.findings.json.<random>.tmp``), is
flushed to disk and then renamed over the old one with :func:`os.replace`; a full disk, a failing
writer or a crash mid-write leaves the previous complete file (or none), never a truncated one.
:func:`replacing` does the same for several files at once: all are renamed into place only when every
one was written, so a report set is never half from one run and half from the next.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path


class ReportWriteError(OSError):
    """A report file or folder could not be written; what was there before is left as it was."""

    def __init__(self, path: Path, reason: str, action: str = "write") -> None:
        super().__init__(f"cannot {action} {path}: {reason}")
        self.path = path
        self.reason = reason
        self.action = action


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _temp_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{uuid.uuid4().hex[:12]}.tmp")


def _discard(paths: Iterator[Path] | tuple[Path, ...]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _as_error(exc: OSError, finals: Mapping[Path, Path], default: Path) -> ReportWriteError:
    """``exc`` as a :class:`ReportWriteError` naming the final file, not the temporary one."""
    if isinstance(exc, ReportWriteError):
        return ReportWriteError(finals.get(exc.path, exc.path), exc.reason, exc.action)
    name = Path(exc.filename) if isinstance(exc.filename, str) else None
    return ReportWriteError(finals.get(name, default) if name else default, _reason(exc))


@contextlib.contextmanager
def replacing(*finals: Path) -> Iterator[tuple[Path, ...]]:
    """Temporary paths (same folders) for ``finals``; when the block ends without an error they are
    renamed over ``finals``, else removed (an ``OSError`` becomes a :class:`ReportWriteError`)."""
    finals = tuple(Path(f) for f in finals)
    temps = tuple(_temp_path(f) for f in finals)
    names = dict(zip(temps, finals, strict=True))
    try:
        yield temps
        for temp, final in zip(temps, finals, strict=True):
            os.replace(temp, final)
    except OSError as exc:
        _discard(temps)
        raise _as_error(exc, names, finals[0]) from exc
    except BaseException:
        _discard(temps)
        raise


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename; returns ``path``."""
    final = Path(path)
    with replacing(final) as (temp,), open(temp, "xb") as fh:
        fh.write(text.encode(encoding))
        fh.flush()
        os.fsync(fh.fileno())
    return final


def make_dir(path: str | Path) -> Path:
    """``path`` and its missing parents created (an ``OSError`` becomes a :class:`ReportWriteError`)."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportWriteError(folder, _reason(exc), "create folder") from exc
    return folder


def check_out_dir(path: str | Path) -> Path:
    """Check, before any work, that ``path`` is or can become a folder this process can write in:
    missing folders are created, a small probe file is written and removed, and the folders made here
    are removed again (nothing is left behind). Raises :class:`ReportWriteError` saying why not."""
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ReportWriteError(folder, "it exists and is not a folder", "use")
    missing = []
    probe_parent = folder.absolute()
    while not probe_parent.exists() and probe_parent != probe_parent.parent:
        missing.append(probe_parent)
        probe_parent = probe_parent.parent
    try:
        make_dir(folder)
        probe = folder / f".tracemine-probe-{uuid.uuid4().hex[:12]}.tmp"
        try:
            with open(probe, "xb") as fh:
                fh.write(b"tracemine")
                fh.flush()
        except OSError as exc:
            raise ReportWriteError(folder, _reason(exc), "write in") from exc
        finally:
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
    finally:
        for made in missing:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
    return folder


__all__ = ["ReportWriteError", "check_out_dir", "make_dir", "replacing", "write_text"]
