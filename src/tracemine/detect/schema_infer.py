"""Argument schemas inferred from a tool's successful calls across the window.

For every tool the first pass counts, per argument path (``order_id``, ``flights[].date``), which JSON
types were seen, how often the key was present in its parent object, which string values occurred (for
small enums) and which *shape* the strings had (ISO date, UUID, ``ABC-123`` ids, numeric strings, or a
character-class template such as ``aAa:9.9``). The counts are plain counters, so statistics built on
different trace shards merge by addition. :meth:`InferredSchemas.check` then reports the deviations of
one call from the rules that have enough support: a key present in ≥ 99 % of calls is required, a type
seen in ≥ 90 % of calls is expected (a fraction where only whole numbers were seen breaks it; ≥ 80 % suffices
against a value not even written as that type, such as ``"200 units"`` where numbers belong), a small closed set of identifier-like values is an enum (holding one
spelling per word), a named format (ISO date, UUID, e-mail, URL) shared by ≥ 80 % of many distinct values
is the field's format, other shapes need ≥ 90–99 %. Fields holding free text never get enum or shape rules.
The shares leave room for the bad calls that are part of every window.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

MAX_VALUES = 64
"""Distinct string values kept per path; beyond that the field is not an enum."""
MAX_TEMPLATES = 24
MAX_CHARS = 48
MAX_DEPTH = 4
MAX_ITEMS = 50
"""Array items inspected per array (bounded work on huge arguments)."""

_ENUM_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-.]{0,40}$")
FAMILIES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("iso_date", "format", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("iso_datetime", "format",
     re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")),
    ("uuid", "format", re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    ("email", "format", re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")),
    ("url", "format", re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")),
    ("prefixed_id", "pattern", re.compile(r"^[A-Z]{2,}-\d+$")),
    ("numeric_string", "pattern", re.compile(r"^-?\d+(?:\.\d+)?$")),
)
_FAMILY_BY_NAME = {name: (validator, regex) for name, validator, regex in FAMILIES}
_RUNS = (
    (re.compile(r"[A-Z]+"), "A"),
    (re.compile(r"[a-z]+"), "a"),
    (re.compile(r"[0-9]+"), "9"),
)
_SPACE = re.compile(r"\s")
_PUNCT = re.compile(r"[^A-Za-z0-9\s]")
_WORD = re.compile(r"^[^\W\d_]+$")


def char_classes(text: str) -> set[str]:
    """Which character classes a string uses: ``upper``, ``lower``, ``digit``, and ``word`` for letters only."""
    out = set()
    if any(c.isupper() for c in text):
        out.add("upper")
    if any(c.islower() for c in text):
        out.add("lower")
    if any(c.isdigit() for c in text):
        out.add("digit")
    if _WORD.match(text):
        out.add("word")
    return out


def value_type(value: Any) -> str:
    """JSON type group of a decoded value (integral floats count as integers, as JSON Schema does)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def written_as(value: Any, expected: str) -> bool:
    """Whether ``value`` is ``expected`` written another way (``"12"`` for a number, ``"true"`` for a boolean,
    an integer for a string): a serialisation slip, unlike ``"200 units"`` or ``"two pallets"``."""
    if expected in ("integer", "number"):
        return isinstance(value, str) and bool(_NUMBER.match(value.strip()))
    if expected == "boolean":
        return isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1")
    if expected == "string":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


def _compatible(expected: str, actual: str) -> bool:
    numeric = {"integer", "number"}
    return actual == expected or (expected in numeric and actual in numeric)


_ID_PREFIX = re.compile(r"^([A-Za-z]{1,8}[_:-])(?=[A-Za-z0-9]*\d)[A-Za-z0-9_:-]+$")


def id_prefix(text: str) -> str:
    """The literal prefix of an identifier (``cus_`` of ``cus_N8a7Xq2``, ``INV-`` of ``INV-2025-0042``):
    up to eight letters and a ``_``, ``-`` or ``:``, followed by letters and digits with a digit soon after.
    ``""`` for anything else (words, paths, names, numbers)."""
    found = _ID_PREFIX.match(text) if len(text) <= 64 else None
    return found.group(1) if found else ""


def template(text: str) -> str:
    """Character-class shape of a token: runs of upper, lower and digits collapsed (``ORD-0042`` → ``A-9``)."""
    out = text
    for pattern, placeholder in _RUNS:
        out = pattern.sub(placeholder, out)
    return out


def family(text: str) -> str | None:
    """The first named shape family ``text`` belongs to, or ``None``."""
    for name, _validator, regex in FAMILIES:
        if regex.match(text):
            return name
    return None


def decode_arguments(raw: str | None) -> tuple[Any, str]:
    """Decode raw argument text one level: ``(value, status)`` with status ``ok``, ``absent``, ``empty`` or
    ``unparseable``. Nested JSON strings are left as strings (a string where an array belongs is an error
    to report, not something to repair); double-encoded JSON and Python reprs are accepted."""
    if raw is None:
        return None, "absent"
    text = raw.strip()
    if not text:
        return None, "empty"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        if text[0] in "{[" and text[-1] in "}]" and len(text) < 200_000:
            try:
                return ast.literal_eval(text), "ok"
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                pass
        return raw, "unparseable"
    if isinstance(value, str):
        inner = value.strip()
        if inner[:1] in ("{", "[") and inner[-1:] in ("}", "]"):
            try:
                return orjson.loads(inner), "ok"
            except orjson.JSONDecodeError:
                return value, "unparseable"
    return value, "ok"


def walk(value: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` for the value and everything nested in it (``a.b``, ``a[].b``), bounded."""
    yield path, value
    if depth >= MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list | tuple):
        for item in value[:MAX_ITEMS]:
            yield from walk(item, f"{path}[]", depth + 1)


@dataclass
class PathStats:
    """Counts for one argument path over successful calls."""

    present: int = 0
    objects: int = 0
    types: Counter[str] = field(default_factory=Counter)
    strings: int = 0
    spaced: int = 0
    values: Counter[str] = field(default_factory=Counter)
    values_overflow: bool = False
    families: Counter[str] = field(default_factory=Counter)
    templates: Counter[str] = field(default_factory=Counter)
    templates_overflow: bool = False
    chars: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    prefixes: Counter[str] = field(default_factory=Counter)
    """Literal id prefixes (``cus_``, ``INV-``) of identifier-like values, ``""`` for a value without one."""
    prefixes_overflow: bool = False

    def add(self, value: Any) -> None:
        self.present += 1
        kind = value_type(value)
        self.types[kind] += 1
        if kind == "object":
            self.objects += 1
        elif kind == "string":
            self._add_string(value)

    def _add_string(self, text: str) -> None:
        self.strings += 1
        if _SPACE.search(text):
            self.spaced += 1
        if not self.values_overflow:
            self.values[text] += 1
            if len(self.values) > MAX_VALUES:
                self.values_overflow = True
                self.values.clear()
        name = family(text)
        if name:
            self.families[name] += 1
        for char in set(_PUNCT.findall(text[:200])):
            if char in self.chars or len(self.chars) < MAX_CHARS:
                self.chars[char] += 1
        self.classes.update(char_classes(text))
        if not self.templates_overflow:
            self.templates[template(text)] += 1
            if len(self.templates) > MAX_TEMPLATES:
                self.templates_overflow = True
                self.templates.clear()
        if not self.prefixes_overflow:
            self.prefixes[id_prefix(text)] += 1
            if len(self.prefixes) > MAX_TEMPLATES:
                self.prefixes_overflow = True
                self.prefixes.clear()

    def merge(self, other: PathStats) -> None:
        self.present += other.present
        self.objects += other.objects
        self.types.update(other.types)
        self.strings += other.strings
        self.spaced += other.spaced
        self.families.update(other.families)
        self.chars.update(other.chars)
        self.classes.update(other.classes)
        self.values_overflow = self.values_overflow or other.values_overflow
        self.values = Counter() if self.values_overflow else self.values + other.values
        if len(self.values) > MAX_VALUES:
            self.values_overflow, self.values = True, Counter()
        self.templates_overflow = self.templates_overflow or other.templates_overflow
        self.templates = Counter() if self.templates_overflow else self.templates + other.templates
        if len(self.templates) > MAX_TEMPLATES:
            self.templates_overflow, self.templates = True, Counter()
        self.prefixes_overflow = self.prefixes_overflow or other.prefixes_overflow
        self.prefixes = Counter() if self.prefixes_overflow else self.prefixes + other.prefixes
        if len(self.prefixes) > MAX_TEMPLATES:
            self.prefixes_overflow, self.prefixes = True, Counter()


class Rules(BaseModel):
    """Thresholds for trusting an inferred rule (``detect.argument_error`` settings; two fields are named
    there by their aliases)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    min_support: int = Field(30, ge=1, description="successful calls needed before an inferred rule is trusted")
    required_share: float = Field(0.99, ge=0, le=1, description="a key present in this share of successful "
                                  "calls is required")
    type_share: float = Field(0.9, ge=0, le=1, description="a type seen in this share of calls is expected")
    foreign_type_share: float = Field(0.8, ge=0, le=1, description="…this share suffices against a value not "
                                      "even written as that type (\"two pallets\")")
    shape_share: float = Field(0.9, ge=0, le=1, description="a value family (PREFIX-123, numeric strings) seen "
                               "in this share of calls is expected")
    format_share: float = Field(0.8, ge=0, le=1, description="a named format (date, UUID, e-mail, URL) over many "
                                "distinct values: strong evidence, contaminated windows")
    template_share: float = Field(0.99, ge=0, le=1, description="bare letter/digit templates, letter case and "
                                  "characters (weaker evidence than a named family) must hold this often")
    prefix_share: float = Field(0.95, ge=0, le=1, description="a literal id prefix (INV-) over many distinct "
                                "values, leaving room for another entity's ids in a contaminated window")
    enum_max_values: int = Field(12, ge=1, description="at most this many distinct identifier-like values make "
                                 "an enum…")
    enum_min_calls: int = Field(30, ge=1, description="…learned from at least this many calls")
    enum_rare_share: float = Field(0.02, ge=0, le=1, description="an enum value rarer than this is an exception")
    free_text_share: float = Field(0.1, ge=0, le=1, description="fields with spaces in more than this share of "
                                   "values are free text (no enum/shape)")
    template_min_distinct: int = Field(10, ge=1, alias="shape_min_distinct", description="distinct values a "
                                       "shape, format or prefix rule needs")
    tolerance: int = Field(2, ge=0, alias="rule_tolerance", description="exceptions a rule tolerates in its "
                           "training calls whatever the share (bad calls are part of the window)")

    def holds(self, count: float, total: float, share: float) -> bool:
        """Whether a property seen ``count`` times in ``total`` is a rule (≥ ``share``, or at most
        ``tolerance`` exceptions)."""
        return total > 0 and count >= min(share * total, total - self.tolerance)

    def rare(self, total: float, share: float) -> float:
        """Largest count of something that is still an exception to a rule of ``share``."""
        return max((1 - share) * total, self.tolerance)


@dataclass
class ToolSchemaStats:
    """What a tool's successful calls looked like."""

    calls: int = 0
    paths: dict[str, PathStats] = field(default_factory=dict)

    def add(self, args: Any) -> None:
        self.calls += 1
        for path, value in walk(args):
            stats = self.paths.get(path)
            if stats is None:
                stats = self.paths[path] = PathStats()
            stats.add(value)

    def merge(self, other: ToolSchemaStats) -> None:
        self.calls += other.calls
        for path, stats in other.paths.items():
            mine = self.paths.get(path)
            if mine is None:
                self.paths[path] = stats
            else:
                mine.merge(stats)

    def takes_object(self, rules: Rules) -> bool:
        """Whether this tool's successful calls (enough of them) pass an object."""
        root = self.paths.get("")
        return (root is not None and root.present >= rules.min_support
                and rules.holds(root.objects, root.present, rules.type_share))

    def check(self, args: Any, rules: Rules) -> list[dict[str, Any]]:
        """Deviations of ``args`` from the rules with enough support (``[]`` when it conforms)."""
        violations: list[dict[str, Any]] = []
        for path, value in walk(args):
            stats = self.paths.get(path)
            if stats is None:
                continue
            kind = value_type(value)
            problem = self._type_problem(path, stats, value, kind, rules)
            if problem:
                violations.append(problem)
                continue
            if kind == "object":
                violations.extend(self._missing(path, value, stats, rules))
            elif kind == "string":
                problem = self._enum_problem(path, stats, value, rules)
                problem = problem or self._prefix_problem(path, stats, value, rules)
                problem = problem or self._shape_problem(path, stats, value, rules)
                if problem:
                    violations.append(problem)
        return violations

    @staticmethod
    def _type_problem(path: str, stats: PathStats, value: Any, kind: str, rules: Rules) -> dict[str, Any] | None:
        """A value of another JSON type than the field's usual one. Integers and numbers are one type, except
        that a fraction is foreign to a field holding only whole numbers (``12.5`` items)."""
        if stats.present < rules.min_support:
            return None
        types = Counter(stats.types)
        whole = types.get("integer", 0)
        if whole and types.get("number"):
            types["number"] += types.pop("integer")
        expected, count = types.most_common(1)[0]
        if expected == "number" and rules.holds(whole, stats.present, rules.type_share):
            expected, count = "integer", whole
        if kind == "number" and expected == "integer":
            kind = "number (a fraction)"
        elif _compatible(expected, kind):
            return None
        close = kind.startswith("number") or written_as(value, expected)
        share = rules.type_share if close else rules.foreign_type_share
        if not rules.holds(count, stats.present, share):
            return None
        return _violation(path, "type", f"expected {expected} (seen in {count} of {stats.present} calls), got {kind}",
                          expected=expected)

    def _missing(self, path: str, value: dict[str, Any], stats: PathStats, rules: Rules) -> list[dict[str, Any]]:
        if stats.objects < rules.min_support:
            return []
        out = []
        prefix = f"{path}." if path else ""
        for child_path, child in self.paths.items():
            if not child_path.startswith(prefix):
                continue
            key = child_path[len(prefix):]
            if not key or "." in key or "[]" in key:
                continue
            if key not in value and rules.holds(child.present, stats.objects, rules.required_share):
                out.append(_violation(child_path, "missing_required",
                                      f"'{key}' is missing (present in {child.present} of {stats.objects} calls)"))
        return out

    @staticmethod
    def _free_text(stats: PathStats, rules: Rules) -> bool:
        return stats.spaced > rules.rare(stats.strings, 1 - rules.free_text_share)

    def _enum_problem(self, path: str, stats: PathStats, text: str, rules: Rules) -> dict[str, Any] | None:
        allowed = enum_values(stats, rules)
        if allowed is None or text in allowed:
            return None
        case_only = any(text.lower() == a.lower() for a in allowed)
        return _violation(path, "enum", f"{text!r} is not one of the values seen: {sorted(allowed)}",
                          expected=sorted(allowed), case_only=case_only)

    @staticmethod
    def _prefix_problem(path: str, stats: PathStats, text: str, rules: Rules) -> dict[str, Any] | None:
        """An identifier without the literal prefix that (almost) every value of the field carries: an
        ``ORD-1042`` where ``CUS-…`` ids belong, a ``sub_…`` id where ``cus_…`` ones do — another entity's id,
        the same shape. Needs many distinct values, so a field of a few names is no id field."""
        if stats.strings < rules.min_support or stats.prefixes_overflow or not stats.prefixes:
            return None
        if not stats.values_overflow and len(stats.values) < rules.template_min_distinct:
            return None
        usual, count = stats.prefixes.most_common(1)[0]
        if not usual or not rules.holds(count, stats.strings, rules.prefix_share) or text.startswith(usual):
            return None
        return _violation(path, "pattern", f"{text!r} does not start with {usual!r} like {count} of {stats.strings} "
                          "values", expected=f"starts with {usual}")

    def _shape_problem(self, path: str, stats: PathStats, text: str, rules: Rules) -> dict[str, Any] | None:
        if stats.strings < rules.min_support:
            return None
        if stats.families:  # a named family (dates, e-mails, ids) holding for most values is no free text
            name, count = stats.families.most_common(1)[0]
            if rules.holds(count, stats.strings, family_share(stats, name, rules)):
                validator, regex = _FAMILY_BY_NAME[name]
                if regex.match(text):
                    return self._case_problem(path, stats, text, rules)
                return _violation(path, validator, f"{text!r} is not a {name} like {count} of {stats.strings} values",
                                  expected=name)
        if self._free_text(stats, rules):
            return None
        distinct_enough = stats.values_overflow or len(stats.values) >= rules.template_min_distinct
        if not distinct_enough:
            return None
        if stats.templates and not stats.templates_overflow:
            shape, count = stats.templates.most_common(1)[0]
            # a bare letter/digit template is weaker evidence than a named family (a date, an e-mail): names and
            # places legitimately take other shapes now and then, so it must hold almost always
            if rules.holds(count, stats.strings, rules.template_share):
                if template(text) == shape:
                    return None
                return _violation(path, "pattern", f"{text!r} does not have the shape {shape!r} of {count} of "
                                  f"{stats.strings} values", expected=shape)
        return self._charset_problem(path, stats, text, rules)

    @staticmethod
    def _case_problem(path: str, stats: PathStats, text: str, rules: Rules) -> dict[str, Any] | None:
        """Letter case a field never uses (``AMARA@X.COM`` where addresses are lower case)."""
        rare = rules.rare(stats.strings, rules.template_share)
        used = char_classes(text)
        for cls in ("upper", "lower"):
            if cls in used and stats.classes.get(cls, 0) <= rare:
                without = stats.strings - stats.classes.get(cls, 0)
                return _violation(path, "pattern", f"{text!r} has {cls}-case letters, which {without} of "
                                  f"{stats.strings} values do not", expected=f"no {cls}-case")
        return None

    @classmethod
    def _charset_problem(cls, path: str, stats: PathStats, text: str, rules: Rules) -> dict[str, Any] | None:
        """Characters a field never uses (letter case, separators) or separators it always uses."""
        problem = cls._case_problem(path, stats, text, rules)
        if problem:
            return problem
        rare = rules.rare(stats.strings, rules.template_share)
        chars = set(_PUNCT.findall(text[:200]))
        always = {c for c, n in stats.chars.items() if rules.holds(n, stats.strings, rules.template_share)}
        missing = sorted(always - chars)
        if missing:
            return _violation(path, "pattern", f"{text!r} lacks {''.join(missing)!r}, which {stats.strings} values have",
                              expected=f"contains {''.join(missing)}")
        if rules.holds(stats.classes.get("word", 0), stats.strings, rules.template_share):
            return None  # words and names: an apostrophe or hyphen now and then is normal
        new = sorted(c for c in chars if stats.chars.get(c, 0) <= rare)
        if new and len(stats.chars) < MAX_CHARS:
            usual = "".join(sorted(c for c, n in stats.chars.items() if n > rare))
            return _violation(path, "pattern", f"{text!r} uses {''.join(new)!r}, which the other values do not",
                              expected=f"characters {usual}")
        return None


def family_share(stats: PathStats, name: str, rules: Rules) -> float:
    """How often a named family must hold: a *format* (date, UUID, e-mail, URL) seen over many distinct values
    is strong evidence and holds at ``format_share``; other families at ``shape_share``."""
    validator, _regex = _FAMILY_BY_NAME[name]
    distinct = stats.values_overflow or sum(1 for v in stats.values if family(v) == name) >= rules.template_min_distinct
    return rules.format_share if validator == "format" and distinct else rules.shape_share


def display_name_of(display: str, token: str) -> bool:
    """Whether ``display`` is a value written for people (spaces or capitals: ``Payments Team``) that
    spells out the identifier ``token`` (lower case, no spaces: ``payments``) with more words."""
    if not _ENUM_TOKEN.match(token) or token != token.lower():
        return False
    if not (_SPACE.search(display.strip()) or display != display.lower()):
        return False
    short, long = spelling(token), spelling(display)
    return len(short) >= 3 and short != long and short in long


def spelling(value: str) -> str:
    """A value reduced to lower-case letters and digits, its last word in the singular: ``Platform Team``,
    ``platform-team`` and ``platform_team`` are one word spelled three ways, and so are ``bank_fee`` and
    ``bank_fees`` (:func:`singular`)."""
    return singular(_NON_ALNUM.sub("", value.lower()))


_NON_ALNUM = re.compile(r"[^0-9a-z]+")
def singular(word: str) -> str:
    """``word`` (lower case) with a regular English plural ending removed: ``fees`` → ``fee``, ``taxes``
    → ``tax``, ``categories`` → ``category``; ``status``, ``address``, ``analysis`` and short words stay. One
    word in the singular and the plural is one value spelled two ways, a mistake agents make with enums."""
    if len(word) < 4 or not word.endswith("s") or not word[-2].isalpha():
        return word
    if word.endswith("ies") and len(word) >= 5 and word[-4] not in "aeiou":
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zzes", "ches", "shes")) and len(word) >= 5:
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def enum_values(stats: PathStats, rules: Rules) -> set[str] | None:
    """The closed set of identifier-like values of a field, or ``None`` when it is not an enum.

    A field is an enum when at least ``enum_min_calls`` string values were seen, all frequent values are
    identifier-like tokens, at most ``enum_max_values`` of them were seen twice or more, and values seen
    only once (other than re-spellings of frequent values) make up at most ``enum_rare_share`` of the calls
    (a Good–Turing estimate of the chance that the next value is a new one). Of several spellings of one
    word (letter case, separators: :func:`spelling`) only the most frequent belongs to the enum, and a
    display name of one of its tokens is none of its values (:func:`_without_display_names`)."""
    if (stats.values_overflow or stats.strings < rules.enum_min_calls
            or stats.spaced > rules.rare(stats.strings, 1 - rules.free_text_share)):
        return None
    by_spelling: dict[str, str] = {}
    for value, count in stats.values.most_common():
        if count >= 2:
            by_spelling.setdefault(spelling(value) or value, value)  # an enum does not hold two spellings of one word
    core = _without_display_names(set(by_spelling.values()), stats.values)
    # values seen once that are not just another spelling of a frequent value: evidence of an open set
    rare = sum(c for v, c in stats.values.items() if c < 2 and (spelling(v) or v) not in by_spelling)
    if not core or len(core) > rules.enum_max_values or rare > rules.enum_rare_share * stats.strings:
        return None
    if not all(_ENUM_TOKEN.match(v) for v in core):
        return None
    if len(core) > 1 and all(family(v) == "numeric_string" for v in core):
        return None
    return core


def _without_display_names(core: set[str], counts: Counter[str]) -> set[str]:
    """``core`` without display names of its identifiers: a value that is no identifier token (spaces,
    ``Payments Team``) and spells out a more frequent token of the field (``payments``) is that value
    written for people — a bad value that recurs in the window, not a member of the enum."""
    tokens = {v for v in core if _ENUM_TOKEN.match(v)}
    return {v for v in core if v in tokens or not any(
        counts[t] >= counts[v] and (display_name_of(v, t) or spelling(t) == spelling(v)) for t in tokens)}


def _violation(path: str, validator: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"path": path or "$", "validator": validator, "message": message, **extra}


@dataclass
class InferredSchemas:
    """Per-tool inferred argument statistics; mergeable across shards."""

    tools: dict[str, ToolSchemaStats] = field(default_factory=dict)

    def add(self, tool: str, args: Any) -> None:
        stats = self.tools.get(tool)
        if stats is None:
            stats = self.tools[tool] = ToolSchemaStats()
        stats.add(args)

    def merge(self, other: InferredSchemas) -> None:
        for tool, stats in other.tools.items():
            mine = self.tools.get(tool)
            if mine is None:
                self.tools[tool] = stats
            else:
                mine.merge(stats)

    def get(self, tool: str) -> ToolSchemaStats | None:
        return self.tools.get(tool)

    def summary(self, tool: str, rules: Rules) -> dict[str, Any] | None:
        """A JSON-Schema-like summary of what was inferred for ``tool`` (for reports and debugging)."""
        stats = self.tools.get(tool)
        if stats is None:
            return None
        return _summarise(stats, "", rules)


def _summarise(stats: ToolSchemaStats, path: str, rules: Rules) -> dict[str, Any]:
    node = stats.paths.get(path)
    out: dict[str, Any] = {}
    if node is None:
        return out
    if node.types:
        out["type"] = node.types.most_common(1)[0][0]
    prefix = f"{path}." if path else ""
    if node.objects:
        props = {}
        required = []
        for child_path, child in stats.paths.items():
            key = child_path[len(prefix):] if child_path.startswith(prefix) else ""
            if not key or "." in key or "[]" in key:
                continue
            props[key] = _summarise(stats, child_path, rules)
            if node.objects >= rules.min_support and rules.holds(child.present, node.objects, rules.required_share):
                required.append(key)
        out["properties"] = props
        if required:
            out["required"] = sorted(required)
    if f"{path}[]" in stats.paths:
        out["items"] = _summarise(stats, f"{path}[]", rules)
    allowed = enum_values(node, rules)
    if allowed:
        out["enum"] = sorted(allowed)
    if node.families:
        name, count = node.families.most_common(1)[0]
        if node.strings >= rules.min_support and rules.holds(count, node.strings, rules.shape_share):
            out["x-shape"] = name
    return out
