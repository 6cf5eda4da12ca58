"""Argument mutations: schema violations, harmless re-encodings, near-identical variants.

Each function returns ``None`` when the arguments offer nothing to mutate, so callers can try another
tool call. A schema violation of one kind always breaks the same argument of a tool (one bug, one field).
"""

from __future__ import annotations

import json
import re
import zlib
from random import Random
from typing import Any

import orjson

from tracemine.synth.catalog import DATE_PATTERN, ToolSpec

_SYNONYMS = {
    "economy": "coach", "business": "Business Class", "premium_economy": "premium", "urgent": "ASAP",
    "high": "High Priority", "normal": "medium", "double": "twin", "suite": "Suite Room", "delivered": "complete",
    "shipped": "in_transit", "open": "active", "damaged": "broken", "USD": "usd", "EUR": "euro", "bar": "histogram",
    "line": "timeseries", "pdf": "PDF document", "main": "master", "public": "default", "week": "7d",
}


def props(spec: ToolSpec) -> dict[str, dict[str, Any]]:
    return spec.parameters.get("properties", {})


def _present(spec: ToolSpec, args: dict[str, Any], test: Any) -> list[str]:
    p = props(spec)
    return [k for k in args if k in p and test(p[k])]


def _site_key(spec: ToolSpec, keys: list[str], salt: str) -> str:
    """The argument a tool's bug of one kind always breaks (one bug, one field): a stable choice per tool."""
    ordered = sorted(keys)
    return ordered[zlib.crc32(f"{spec.name}\x00{salt}".encode()) % len(ordered)]


def missing_required(rng: Random, spec: ToolSpec, args: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    keys = [k for k in spec.parameters.get("required", []) if k in args]
    if not keys:
        return None
    key = _site_key(spec, keys, "missing_required")
    return {k: v for k, v in args.items() if k != key}, f"required argument '{key}' is missing"


def wrong_type(rng: Random, spec: ToolSpec, args: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    keys = _present(spec, args, lambda s: s.get("type") in ("integer", "number", "string", "boolean", "array"))
    if not keys:
        return None
    key = _site_key(spec, keys, "wrong_type")
    value = args[key]
    kind = props(spec)[key]["type"]
    if kind in ("integer", "number"):
        new: Any = str(value)
    elif kind == "boolean":
        new = "yes" if value else "no"
    elif kind == "array":
        new = ", ".join(str(v) for v in value) if value and not isinstance(value[0], dict) else orjson.dumps(value).decode()
    else:
        digits = re.sub(r"\D", "", value)
        new = int(digits[:12]) if digits else [value]
    return {**args, key: new}, f"'{key}' should be {kind} but is {type(new).__name__}"


def enum_violation(rng: Random, spec: ToolSpec, args: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    keys = _present(spec, args, lambda s: "enum" in s)
    if not keys:
        return None
    key = _site_key(spec, keys, "enum_violation")
    value = args[key]
    allowed = props(spec)[key]["enum"]
    options = [o for o in (_SYNONYMS.get(value), value.title(), value.upper(), value.replace("_", " ")) if o and o not in allowed]
    if not options:
        return None
    new = options[rng.randrange(len(options))]
    return {**args, key: new}, f"'{key}'={new!r} is not one of {allowed}"


def _bad_date(rng: Random, value: str) -> str:
    y, m, d = value.split("-")
    options = (f"{m}/{d}/{y}", f"{d}.{m}.{y}", f"{int(d)} {_MONTHS[int(m) - 1]} {y}", f"{y}/{m}/{d}", f"{y}-{int(m)}-{int(d)}T00:00")
    return options[rng.randrange(len(options))]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def bad_format(rng: Random, spec: ToolSpec, args: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    p = props(spec)
    keys = _present(spec, args, lambda s: "pattern" in s)
    keys = [k for k in keys if isinstance(args[k], str)]
    if not keys:
        return None
    key = _site_key(spec, keys, "bad_format")
    value: str = args[key]
    regex = p[key]["pattern"]
    if regex == DATE_PATTERN:
        new = _bad_date(rng, value)
    else:
        cands = [value.replace("@", " at "), value.lower(), value.upper(), value.replace("/", "\\"),
                 value.replace("-", ""), value.split("-")[-1], value.split("_")[-1]]
        cands = [c for c in cands if c != value and not re.search(regex, c)]
        if not cands:
            return None
        new = cands[rng.randrange(len(cands))]
    return {**args, key: new}, f"'{key}'={new!r} does not match {regex}"


SCHEMA_BREAKERS = {
    "missing_required": missing_required,
    "wrong_type": wrong_type,
    "enum_violation": enum_violation,
    "bad_format": bad_format,
}


def reformat(rng: Random, spec: ToolSpec, args: dict[str, Any], *, allow_enum_case: bool) -> tuple[dict[str, Any], str, str]:
    """The same arguments, encoded differently: returns ``(args, text, what_changed)``."""
    choices = ["whitespace"]
    if len(args) > 1:
        choices.append("key order")
    ints = [k for k, v in args.items() if isinstance(v, int) and not isinstance(v, bool)]
    if ints:
        choices.append("number format")
    enums = _present(spec, args, lambda s: "enum" in s)
    if allow_enum_case and enums:
        choices.append("enum case")
    how = choices[rng.randrange(len(choices))]
    if how == "whitespace":
        return args, json.dumps(args, ensure_ascii=False, indent=rng.choice((None, 2))), how
    if how == "key order":
        new = dict(reversed(list(args.items())))
    elif how == "number format":
        new = {k: float(v) if k in ints else v for k, v in args.items()}
    else:
        new = {k: v.upper() if k in enums else v for k, v in args.items()}
    return new, orjson.dumps(new).decode(), how


def near_same(rng: Random, spec: ToolSpec, args: dict[str, Any], n: int) -> list[dict[str, Any]] | None:
    """``n`` near-identical variants of ``args`` (free-text case, punctuation, quoting), or ``None``.

    Only variants that stay different after the normalisation that defines "the same arguments"
    (whitespace, key order, number format, case of single-word enum-like values) count as rephrasings;
    a whitespace-only change is the same call, not a near-same one."""
    p = props(spec)
    keys = [k for k in args if k in p and p[k].get("type") == "string" and not ({"pattern", "enum", "format"} & set(p[k]))
            and isinstance(args[k], str)]
    if not keys:
        return None
    key = keys[rng.randrange(len(keys))]
    v = args[key]
    limit = p[key].get("maxLength", 10**6)
    multi_word = " " in v.strip()
    variants = [v + "?", f'"{v}"', v + "!"] + ([v.lower(), v.title(), v.upper()] if multi_word else [])
    variants = list(dict.fromkeys(x for x in variants if x != v and len(x) <= limit))
    if len(variants) < n:
        return None
    rng.shuffle(variants)
    return [{**args, key: x} for x in variants[:n]]
