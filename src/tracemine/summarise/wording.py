"""Each detector's offline wording: a Jinja2 template the detector ships, rendered over one brief.

A detector class names its template in ``wording`` (a path relative to the folder of the detector's
module, shipped as package data); :func:`spec_of_kind` finds the class for a brief's signal kind, the same
class that says what its signals mean downstream (:func:`tracemine.detect.registry.spec_for`). A class
without a template — or one whose template fails (a syntax error, an undefined variable: the environment
is strict) — gets :data:`GENERIC`, and the failure is counted in :data:`FAILURES` and logged once.

A template sets four parts with ``{% set name %}…{% endset %}``: ``title``, ``what`` (the summary's
first sentences and any details), ``why`` (the mechanism) and ``fix``. Each part's whitespace is collapsed to single
spaces, so templates may be laid out on several lines. The template sees

* ``w``: the :class:`~tracemine.summarise.writer.Writer` (``w.q(text, limit)`` quotes trace text — the
  only way trace text reaches the wording —, ``w.tools()``, ``w.how_often()``, ``w.message_clause()`` …),
* ``facts`` (``w.facts``), ``kind``, ``mechanism`` (the most common one, or ``None``) and ``spec`` (the
  detector class, for phrase logic it keeps in Python),
* the helpers :data:`HELPERS` as globals (``pct``, ``num``, ``plural``, ``share_of``, ``pairs_of`` …) and
  the test ``num`` (an int or float).

Autoescaping is off: the output is Markdown-ish plain text, and trace text is quoted by the writer.
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from tracemine.summarise.writer import (
    TITLE_QUOTE,
    Subject,
    Writer,
    cap,
    dicts_of,
    dicts_with,
    fit,
    join_and,
    message_in,
    metric_value,
    num,
    pairs_of,
    pct,
    plural,
    share_of,
    verb,
)

__all__ = ["FAILURES", "GENERIC", "HELPERS", "Parts", "render", "spec_of_kind", "template_source"]

log = logging.getLogger("tracemine.summarise")

GENERIC = "templates/generic.j2"
"""The wording of signals whose detector ships none (relative to this module's folder)."""
PARTS = ("title", "what", "why", "fix")
FAILURES: Counter[str] = Counter()
"""Template failures per detector class (``module:Class``) since the process started."""

HELPERS: dict[str, Any] = {
    "pct": pct, "num": num, "plural": plural, "share_of": share_of, "pairs_of": pairs_of,
    "dicts_of": dicts_of, "dicts_with": dicts_with, "message_in": message_in, "metric_value": metric_value, "verb": verb, "cap": cap,
    "join_and": join_and, "fit": fit, "Subject": Subject, "floor": math.floor,
    "TITLE_QUOTE": TITLE_QUOTE,
}
"""Functions every template may call (see :mod:`tracemine.summarise.writer`)."""

_SPACES = re.compile(r"\s+")


@dataclass(slots=True)
class Parts:
    """A wording: the title, what happens (with details), why it happens (the mechanism) and the fix."""

    title: str
    what: str
    why: str
    fix: str


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    env.globals.update(HELPERS)
    env.tests["num"] = lambda value: isinstance(value, int | float)
    return env


def spec_of_kind(kind: str) -> type:
    """The class declaring signals of ``kind`` (a detector, or another signal source); the base detector
    when none does."""
    from tracemine.detect.registry import spec_for

    return spec_for(None, kind)


def template_source(spec: type) -> str | None:
    """The text of ``spec``'s wording template (``None`` when it names none)."""
    name = getattr(spec, "wording", None)
    if not isinstance(name, str) or not name:
        return None
    module = sys.modules.get(spec.__module__)
    package = getattr(getattr(module, "__spec__", None), "parent", None) if module else None
    if module is not None and getattr(module, "__path__", None) is not None:
        package = module.__name__  # the class lives in a package's __init__
    if package:
        return importlib.resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return (Path(getattr(module, "__file__", "") or ".").parent / name).read_text(encoding="utf-8")


@cache
def _template(spec: type) -> jinja2.Template | None:
    source = template_source(spec)
    return None if source is None else _environment().from_string(source)


@cache
def _generic() -> jinja2.Template:
    return _environment().from_string(
        importlib.resources.files(__package__).joinpath(GENERIC).read_text(encoding="utf-8"))


def _parts(template: jinja2.Template, context: dict[str, Any]) -> Parts:
    module = template.make_module(context)
    return Parts(*(_SPACES.sub(" ", str(getattr(module, part))).strip() for part in PARTS))


def render(w: Writer, kind: str, mechanism: str | None) -> Parts:
    """The wording of ``kind``'s template over ``w``'s brief; the generic wording when the kind's class
    ships no template or its template fails (counted in :data:`FAILURES`, logged once per class)."""
    spec = spec_of_kind(kind)
    context = {"w": w, "facts": w.facts, "kind": kind, "mechanism": mechanism, "spec": spec}
    try:
        template = _template(spec)
        if template is not None:
            return _parts(template, context)
    except Exception as exc:  # a plugin's broken template must not stop a run
        key = f"{spec.__module__}:{spec.__qualname__}"
        if not FAILURES[key]:
            log.warning("the wording template of %s failed (%s: %s); using the generic wording",
                        key, type(exc).__name__, exc)
        FAILURES[key] += 1
    return _parts(_generic(), context)
