"""SQL lives in the store package only (ARCHITECTURE.md, "The archive"): no module of tracemine outside
``tracemine/store/`` touches a DuckDB connection or runs a query; the stages call the store's named
functions instead."""

from __future__ import annotations

import ast
from pathlib import Path

import tracemine

PACKAGE = Path(tracemine.__file__).resolve().parent
STORE = PACKAGE / "store"

# attributes that run SQL or reach the connection: ``store.con``, ``con.execute/sql/unregister``, results
# read back, and opening a database directly; ``Store.one/scalar`` count when they are given text (SQL)
SQL_ATTRIBUTES = frozenset({"con", "execute", "executemany", "sql", "fetchall", "fetchone", "fetchdf", "unregister",
                            "connect"})
SQL_TEXT_METHODS = frozenset({"one", "scalar"})

EXCEPTIONS: dict[str, set[str]] = {}
"""Module (relative to ``tracemine/``) → attributes it may use, each with its reason (none today)."""


def sql_uses(path: Path) -> list[tuple[int, str]]:
    """``(line, attribute)`` of every use of :data:`SQL_ATTRIBUTES` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [(node.lineno, node.attr) for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr in SQL_ATTRIBUTES]
    found += [(node.lineno, node.func.attr) for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in SQL_TEXT_METHODS and node.args
              and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
              and not (isinstance(node.args[0], ast.Constant) and not isinstance(node.args[0].value, str))]
    return sorted(found)


def test_no_sql_outside_the_store_package() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if STORE in path.parents:
            continue
        allowed = EXCEPTIONS.get(str(path.relative_to(PACKAGE)), set())
        offenders += [f"{path.relative_to(PACKAGE)}:{line} .{attr}" for line, attr in sql_uses(path)
                      if attr not in allowed]
    assert not offenders, "SQL outside tracemine/store/ (give the store a named function):\n" + "\n".join(offenders)


def test_the_scan_sees_the_store_package_own_sql() -> None:
    """The scanner is not blind: the store package's modules are full of what it looks for."""
    found = {attr for path in STORE.rglob("*.py") for _, attr in sql_uses(path)}
    assert {"con", "execute", "sql", "one", "scalar", "fetchall"} <= found
    assert sql_uses(STORE / "archive.py") and sql_uses(STORE / "history.py")
