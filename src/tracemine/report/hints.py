"""Commands printed as hints (``tracemine show …``, ``stats --quarantine``), written so they work when pasted:
every part shell-quoted, and ``--db PATH`` added whenever the archive is not the default one."""

from __future__ import annotations

import shlex

from tracemine.store import DEFAULT_DB


def command(*args: str, db: str | None = None) -> str:
    """``tracemine ARGS [--db PATH]``; ``db`` is left out when it is ``None`` or the default archive."""
    parts = ["tracemine", *(shlex.quote(str(a)) for a in args)]
    if db and str(db) != DEFAULT_DB:
        parts += ["--db", shlex.quote(str(db))]
    return " ".join(parts)
