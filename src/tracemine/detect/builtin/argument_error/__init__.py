"""``argument_error``: tool calls whose arguments are wrong.

Mechanisms (each call gets at most one signal listing every mechanism that applies):

- ``schema_violation`` — the decoded arguments break the tool's JSON Schema, declared in the trace
  (``gen_ai.tool.definitions``, OpenInference tools, agent tool lists) or given in a schema file.
- ``inferred_schema_violation`` — no schema is known; the arguments deviate from a schema inferred from
  the tool's successful calls across the window (:mod:`tracemine.detect.schema_infer`).
- ``unparseable_arguments`` — the argument text is not valid JSON although the tool takes an object.
- ``unknown_tool`` — the tool is not among the ≥ 2 tools the trace declares, and the call did not work.
- ``validation_error_result`` — the call's result or error reports a validation / invalid-parameter /
  unsupported-value / missing-argument / type error (phrases, 400/422 statuses, error codes).
- ``corrected_after_rejection`` — whatever the rejection says: the call failed (not transiently: no
  timeout, rate limit, 5xx or connection error; not a not-found answer), and the tool's next call (right
  after, or after at most two other calls: the agent looked the valid values up) has changed arguments
  about the same thing (they share a value; at most half of the fields changed), the rejection names a
  changed field or its old value, and it worked. A value respelled into an identifier (``Heating
  Engineer`` → ``heating_engineer``) or a display name replaced by the identifier it spells out
  (``Payments Team`` → ``payments``) is a corrected format whatever the rejection said, even not found.
  The changed fields are the evidence (``changed_fields``): the agent had to correct them.

An argument error is reported whatever happened next: the tool silently accepted it, returned an error, or
the agent retried with corrected arguments. Recovery (a later clean call of the same tool that keeps some
of the values or is new) is evidence — ``recovered``, ``corrected_span_id``, ``attempts``, ``wasted_ms`` —
and lowers severity to ``severity_recovered``; ``report_recovered: false`` restores the old behaviour of
dropping corrected calls. A call that failed transiently (timeout, 429/503) with valid arguments has no
mechanism at all, so it is never an argument error.

Each schema violation is structured so findings can be keyed by ``(tool, field, keyword)``: ``path``
(``$.a.b``), ``field`` (``a.b``), ``keyword`` (the JSON Schema keyword: ``enum``, ``pattern``, ``type``,
``required``, ``format``, ``additionalProperties`` …), ``validator`` (the historical name:
``missing_required``, ``unexpected_property`` …), ``expected`` (allowed values, pattern, type or format,
short) and ``value`` (the offending value, redacted and cut short). Formats are checked with a
``FormatChecker`` extended with ``date-time``, ``time``, ``uri``, ``uri-reference``, ``hostname`` and
``duration`` so that no optional package is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import orjson
from pydantic import ConfigDict, Field

from tracemine.detect.actions import PAGING_WORDS
from tracemine.detect.args import normalize_value
from tracemine.detect.base import Detector
from tracemine.detect.builtin.argument_error.evidence import ArgumentErrorEvidence
from tracemine.detect.outcome import (
    VERDICT_KEYS,
    explicit_error,
    http_status_only,
    norm_key,
    not_found_failure,
    result_failure,
    says_missing,
)
from tracemine.detect.schema_infer import (
    InferredSchemas,
    Rules,
    decode_arguments,
    display_name_of,
    spelling,
    walk,
)
from tracemine.detect.tool_roles import is_checking_tool, is_write_tool, words
from tracemine.detect.view import ToolCall, TraceView
from tracemine.model import Severity, Signal, Status
from tracemine.redact import redact_cut

MECHANISMS = ("unknown_tool", "unparseable_arguments", "schema_violation", "inferred_schema_violation",
              "validation_error_result", "corrected_after_rejection")
"""Mechanisms in order of precedence: the first one present names the signal."""

_FRAMEWORK_VALIDATION = (
    r"\bfield\s+validation\s+for\b"  # go-playground/validator
    r"|\bis\s+not\s+included\s+in\s+the\s+list\b"  # Rails
    r"|\bfailed\s+to\s+convert\s+value\b|\bunable\s+to\s+parse\s+string\s+as\b"  # Spring, pydantic
    r"|\binput\s+should\s+be\b|\bvalue\s+error,"  # pydantic v2
    r"|\binvalid\s+enum\s+value\b|\benum\s+mismatch\b"  # zod, OpenAPI validators
    r"|\bdoes\s+not\s+match\s+(?:the\s+)?(?:pattern|format|regex|['\"`/^])"  # jsonschema, ajv
    r"|\bmust\s+(?:match|conform\s+to)\s+(?:the\s+)?(?:pattern|format|regex)\b"
    r"|\bmust\s+(?:be\s+(?:all\s+)?(?:lower|upper)[\s-]?case|only\s+contain|contain\s+only|not\s+contain)\b"
    r"|\bis\s+not\s+an?\s+(?:valid|supported|recogni[sz]ed|known|allowed|permitted|accepted)\s+\w+"
    r"|\b(?:unknown|invalid|unsupported|unrecogni[sz]ed)\b[^\n]{0,100}?\b(?:known|valid|allowed|available|supported"
    r"|accepted|permitted|possible)\s+(?:values?|options?|choices?|[a-z]{3,20}s)\s*(?:are|is|include)?\s*[:=(\[]"
    # a rejection that lists what would have been accepted ("Unknown team 'X'. Known teams: a, b")
)
"""Validation messages of widely used frameworks and services, read alike whatever the call's status."""

_VALIDATION_PATTERNS = re.compile(
    _FRAMEWORK_VALIDATION + r"|validation\s*error|validationerror|\bzoderror\b|validation\s+failed|failed\s+validation|schema\s+validation"
    r"|does\s+not\s+(?:match|conform\s+to)\s+(?:the\s+)?(?:schema|pattern|format|expected\s+format|regex)"
    r"|\binvalid[\s_-]+(?:argument|arguments|parameter|parameters|param|params|value|values|input|field|fields"
    r"|type|format|enum|option|choice|payload|json|syntax|date|number|keyword)\b"
    r"|\b(?:unsupported|unknown|unexpected|unrecognized|unrecognised|extra)\s+(?:value|argument|parameter|param|field"
    r"|keyword|key|option|property|input)s?\b"
    r"|\bmissing\s+(?:\d+\s+)?(?:required\s+)?(?:positional\s+|keyword\s+)?(?:argument|parameter|param|field|key"
    r"|property|value|input)s?\b"
    r"|\brequired\s+(?:argument|parameter|param|field|property|key)s?\b|'[^']{1,60}'\s+is\s+a\s+required\s+property"
    r"|\bfield\s+required\b|\b(?:field|argument|parameter|param|property|value|input)s?\s+['\"`]?[\w.\[\]-]{0,60}['\"`]?"
    r"\s+(?:is|are)\s+required\b"
    r"|\bnot\s+a\s+valid\b|\bis\s+not\s+one\s+of\b|\bnot\s+(?:an?\s+)?(?:allowed|permitted|accepted)\s+value\b"
    r"|\bexpected\s+one\s+of\b|\bnot\s+(?:allowed|permitted|accepted)\s+for\s+(?:the\s+)?(?:field|argument|parameter"
    r"|param|property|key)\b"
    r"|\b(?:should|must)\s+(?:match|equal)\b"
    r"|\b(?:should|must)\s+be\s+(?:a\s+valid|an?\s+(?:string|integer|number|array|object|list|boolean|date|valid)"
    r"|one\s+of|either|of\s+type|between|at\s+(?:least|most)|greater|less|positive|non-?negative|non-?empty"
    r"|in\s+(?:the\s+)?(?:format|form)|formatted)"
    r"|\bexpected\s+(?:type|an?\s+(?:string|integer|number|array|object|list|boolean)|string|integer|number|array"
    r"|object|boolean)\b"
    r"|\b(?:type|value)_error\b|\[type=|\btype\s+mismatch\b"
    r"|\b(?:value|argument|parameter)\s+(?:is\s+)?out\s+of\s+range\b"
    r"|\b(?:unknown|invalid|unsupported|unrecognized|undefined|no\s+such)\s+(?:tool|function)\b"
    r"|\b(?:tool|function)\s+'?[\w.:-]+'?\s+(?:not\s+found|does\s+not\s+exist|is\s+not\s+(?:available|defined))"
    r"|\b(?:invalid_argument|invalid_parameter|invalid_params|parameter_missing|missing_parameter"
    r"|parameter_invalid|unprocessable[\s_]entity|bad[\s_]request)\b"
    r"|\b(?:400|422)\b(?=\s*(?:bad\s+request|unprocessable|client\s+error))"
    r"|\bexpected\s+[\w\s'\"`<>\[\].-]{1,40}?,?\s+(?:but\s+)?(?:got|received|found)\b"
    r"|\b(?:must|should)\s+(?:be|match)\s+(?:a|an|one|the|of|in|formatted|valid|either)\b"
    r"|\brequired\s+field\b|\bis\s+not\s+(?:a\s+)?(?:valid|supported|allowed|recogni[sz]ed)\b"
    r"|\bunsupported\s+\w+",
    re.IGNORECASE,
)
TRANSIENT = re.compile(
    r"\btime[d]?[ _-]?out\b|\btimeout|deadline|\b429\b|rate[ _-]?limit|too many requests|throttl|\b5\d\d\b"
    r"|unavailable|temporar|connection (?:reset|refused|aborted|closed|error)|overloaded|busy"
    r"|quota|exhausted|capacity",
    re.IGNORECASE,
)
"""Failures that say nothing about the arguments: a retry with other arguments that works is a coincidence."""
_ERROR_START = re.compile(r"^\s*(?:error|exception|traceback|failed|failure|fatal|an?\s+(?:error|exception|failure)"
                          r"\s+(?:occurred|occured|happened|was\s+raised))\b", re.IGNORECASE)
_ERROR_KEYS = ("error", "errors", "exception", "fault", "detail", "details", "message", "msg", "reason",
               "description", "title", "code", "type", "error_message", "errorMessage", "error_code", "errorCode")
_STATUS_KEYS = ("status", "status_code", "statusCode", "http_status", "httpStatus", "code")
_FAILED_WORDS = frozenset({"error", "failed", "failure", "invalid", "rejected", "fail"})


def _status_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 100 <= value <= 599 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if 100 <= number <= 599 else None
    return None


def error_context(call: ToolCall) -> tuple[bool, str]:
    """Whether the call reports a failure, and the text of that failure (status, exceptions, error fields)."""
    span = call.span
    parts: list[str] = []
    failed = span.status == Status.ERROR
    if span.status_message:
        parts.append(span.status_message)
    for event in span.events or ():
        attrs = event.get("attributes") if isinstance(event, dict) else None
        attrs = attrs if isinstance(attrs, dict) else {}
        if isinstance(event, dict) and (event.get("name") == "exception" or "exception.type" in attrs):
            failed = True
            parts.append(f"{attrs.get('exception.type', '')}: {attrs.get('exception.message', '')}")
    result = call.result
    if isinstance(result, dict):
        errorish, text = _dict_error(result)
        failed = failed or errorish
        if errorish:
            parts.append(text)
    elif isinstance(result, str) and result.strip():
        if _ERROR_START.match(result) or http_status_only(result) is not None:
            failed = True
            parts.append(result[:2000])
        elif failed:
            parts.append(result[:2000])
    return failed, "\n".join(p for p in parts if p)


def _dict_error(result: dict[str, Any]) -> tuple[bool, str]:
    errorish = False
    if any(norm_key(k) in VERDICT_KEYS and isinstance(v, bool) for k, v in result.items()):
        return False, ""  # a checking tool's verdict about its input, with its reasons: data, not a rejection
    for key in ("error", "errors", "exception", "fault"):
        if result.get(key) not in (None, "", [], {}, False, 0):
            errorish = True
    for key in ("success", "ok", "succeeded"):
        if result.get(key) is False:
            errorish = True
    for key in _STATUS_KEYS:
        code = _status_code(result.get(key))
        if code is not None and code >= 400:
            errorish = True
        value = result.get(key)
        if isinstance(value, str) and value.strip().lower() in _FAILED_WORDS:
            errorish = True
    if isinstance(result.get("detail"), list) and result["detail"]:
        errorish = True  # FastAPI / pydantic request-validation responses
    if not errorish:
        return False, ""
    fields = {k: result[k] for k in _ERROR_KEYS if k in result}
    for key in _STATUS_KEYS:
        code = _status_code(result.get(key))
        if code in (400, 422):
            fields["http"] = f"{code} bad request" if code == 400 else f"{code} unprocessable entity"
    return True, orjson.dumps(fields, default=str).decode()[:2000]


def validation_phrase(text: str) -> str | None:
    """The validation-error phrase found in an error text, if any."""
    match = _VALIDATION_PATTERNS.search(text)
    return match.group(0) if match else None


_REJECTING = (r"invalid|unknown|unsupported|unrecogni[sz]ed|bad|malformed|illegal|wrong|unexpected|disallowed"
              r"|not[\s_-]+(?:a[\s_-]+)?(?:valid|allowed|supported|recogni[sz]ed|permitted|accepted)")


_REJECTING_WORD = re.compile(_REJECTING, re.IGNORECASE)
_GENERIC_KEY_WORDS = frozenset({"error", "errors", "message", "data", "request", "input", "value", "result",
                                "status", "response", "body", "payload", "params", "args"})


def names_rejected_argument(text: str, args: Any) -> str | None:
    """The phrase in an error text that rejects one of the call's own arguments by name, in any style:
    ``unknown_trade``, ``Invalid team slug``, ``unknown payout category`` (one qualifying word may stand
    before the name), ``category is not supported``, ``team_slug: not a valid``.
    "Not found" is not a rejection: a lookup that finds nothing has answered."""
    if not text or not isinstance(args, dict):
        return None
    head = text[:2000]
    if not _REJECTING_WORD.search(head):
        return None  # no rejecting word at all (most texts): no per-argument patterns to try
    for key in list(args)[:50]:
        key_words = [w for w in words(str(key)) if len(w) >= 3 or len(words(str(key))) == 1]
        if not key_words or set(key_words) <= _GENERIC_KEY_WORDS:
            continue  # "unexpected error" says nothing about an argument named error
        name = r"[\s_-]+".join(re.escape(w) for w in key_words)
        pattern = (rf"\b(?:{_REJECTING})(?:[\s_-]+(?:value|values|input)(?:[\s_-]+(?:for|of))?)?[\s_-]+"
                   rf"(?:the[\s_-]+)?(?:[a-z]{{3,20}}[\s_-]+)?(?:{name})(?![a-z])"
                   rf"|(?<![a-z])(?:{name})['\"`]?(?:\s+['\"`][^'\"`\n]{{1,80}}['\"`])?[\s_:-]+"
                   rf"(?:is[\s_-]+|was[\s_-]+|has[\s_-]+an?[\s_-]+|(?:value|input)[\s_-]+)?(?:{_REJECTING})\b")
        match = re.search(pattern, head, re.IGNORECASE)
        if match:
            return match.group(0)
    return None


_STRICT_VALIDATION = re.compile(
    _FRAMEWORK_VALIDATION + r"|\b\d+\s+validation\s+errors?\s+for\b|validationerror\b|validation\s+(?:failed|errors?)\s*(?:for\b|on\b|:)"
    r"|\binvalid[\s_-](?:value|argument|parameter|param|input|format|choice|option)s?\s*(?:for\b|['\"`:])"
    r"|\b(?:must|should)\s+be\s+one\s+of\b|\bis\s+not\s+one\s+of\b|\bexpected\s+one\s+of\b"
    r"|\bnot\s+(?:allowed|permitted|accepted)\s+for\s+(?:the\s+)?(?:field|argument|parameter|param|property|key)\b"
    r"|\bis\s+not\s+a\s+valid\s+\w+"
    r"|\bexpected\s+(?:an?\s+)?(?:type\s+)?['\"`]?\w{1,20}['\"`]?,?\s+(?:but\s+)?(?:got|received)\b"
    r"|\brequired\s+(?:field|argument|parameter|property)\s+['\"`]|\bis\s+a\s+required\s+(?:property|field)\b"
    r"|\bmissing\s+required\s+(?:argument|parameter|field|property)\b"
    r"|\bunsupported\s+(?:value|argument|parameter|option|format)\s+(?:for\b|['\"`:])",
    re.IGNORECASE,
)


def accepted_complaint(call: ToolCall, max_chars: int = 400) -> str | None:
    """A short result that is *itself* a complaint about a named argument although the call was not marked
    failed (``"Invalid value 'X' for cabin: must be one of …"``, ``"Unsupported category 'X'"`` with status
    OK, as agent SDKs return tool errors). Only plain text or a small flat object (a message, a code) is read
    this way, never data that merely mentions such words, and never a checking tool's verdict."""
    result = call.result
    if isinstance(result, dict):
        if len(result) > 4 or any(isinstance(v, dict | list) for v in result.values()):
            return None
        text = " ".join(str(v) for v in result.values() if isinstance(v, str))
    elif isinstance(result, str):
        text = result
    else:
        return None
    text = text.strip()
    if not text or len(text) > max_chars:
        return None
    match = _STRICT_VALIDATION.search(text[:200])
    if match:
        return match.group(0)
    if is_checking_tool(call.tool):
        return None  # a checking tool's answer about its input ("invalid postcode") is the data it was asked for
    return names_rejected_argument(text, call.args)


def rejects_arguments(call: ToolCall) -> bool:
    """The call's status or result says its arguments were rejected, in the words this detector reads as a
    ``validation_error_result`` (so another detector can leave the call to this one)."""
    failed, text = error_context(call)
    if failed:
        return bool(text) and (validation_phrase(text) is not None or names_rejected_argument(text, call.args)
                               is not None)
    return accepted_complaint(call) is not None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (tool names are short)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest_tool(name: str, declared: Iterable[str]) -> str | None:
    """The declared tool nearest to ``name`` (edit distance, then shared words)."""
    name_words = set(words(name))
    best = sorted(declared, key=lambda d: (edit_distance(name.lower(), d.lower()) - 2 * len(name_words & set(words(d))),
                                           d))
    return best[0] if best else None


def _norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_declared(name: str, declared: Mapping[str, Any]) -> bool:
    """Whether ``name`` is a declared tool, allowing namespacing (``functions.x``, ``server__x``) and case."""
    if name in declared:
        return True
    norm = _norm_name(name)
    for d in declared:
        dn = _norm_name(d)
        if dn == norm or (len(dn) >= 3 and name.endswith(("." + d, "__" + d, "/" + d))):
            return True
    return False


def load_schema_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Tool name → JSON Schema from a JSON/YAML file holding such a mapping or a list of tool definitions."""
    from tracemine.ingest.mappers.common import normalize_tool_definitions

    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = orjson.loads(text)
    if isinstance(data, dict) and "tools" in data and isinstance(data["tools"], list):
        data = data["tools"]
    out: dict[str, dict[str, Any]] = {}
    if isinstance(data, dict) and not ({"name", "function"} & set(data)):
        for name, schema in data.items():
            if isinstance(schema, dict):
                inner = schema.get("parameters") or schema.get("input_schema") or schema
                out[str(name)] = inner
        return out
    for definition in normalize_tool_definitions(data) or ():
        if isinstance(definition.get("parameters"), dict):
            out[definition["name"]] = definition["parameters"]
    return out


class SchemaValidators:
    """JSON Schema validators compiled once per schema text; malformed schemas are skipped and counted."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self.malformed = 0
        self._format_checker: Any = None

    def _checker(self, cls: Any) -> Any:
        from jsonschema import FormatChecker

        checker = FormatChecker()
        base = getattr(cls, "FORMAT_CHECKER", None)
        if base is not None:
            checker.checkers.update(base.checkers)
        for name, check in _EXTRA_FORMATS.items():
            if name not in checker.checkers:
                checker.checks(name, raises=ValueError)(check)
        return checker

    def get(self, schema: dict[str, Any]) -> Any:
        """A validator for ``schema``, or ``None`` when the schema is malformed."""
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS, default=str).decode()
        if key in self._cache:
            return self._cache[key]
        validator = None
        try:
            from jsonschema.validators import validator_for

            cls = validator_for(schema, default=_default_validator())
            cls.check_schema(schema)
            validator = cls(schema, format_checker=self._checker(cls))
        except Exception:  # a malformed schema must never stop detection
            self.malformed += 1
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[key] = validator
        return validator


def _default_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def _check_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATETIME.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    from datetime import datetime

    datetime.fromisoformat(value.replace("z", "+00:00").replace("Z", "+00:00"))
    return True


_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_URI_REF = re.compile(r"^[^\s]*$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")
_DURATION = re.compile(r"^P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?"
                       r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$")


def _regex_check(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: object) -> bool:
        if isinstance(value, str) and not pattern.match(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return True
    return check


def _check_time(value: object) -> bool:
    if isinstance(value, str):
        if not _TIME.match(value):
            raise ValueError(f"{value!r} is not an RFC 3339 time")
        hours, minutes, seconds = (int(float(x)) for x in value[:8].split(":"))
        if hours > 23 or minutes > 59 or seconds > 60:
            raise ValueError(f"{value!r} is out of range")
    return True


_EXTRA_FORMATS: dict[str, Any] = {
    "date-time": lambda v: _check_datetime(v),
    "time": _check_time,
    "uri": _regex_check(_URI, "URI"),
    "iri": _regex_check(_URI, "IRI"),
    "uri-reference": _regex_check(_URI_REF, "URI reference"),
    "hostname": _regex_check(_HOSTNAME, "hostname"),
    "duration": _regex_check(_DURATION, "ISO 8601 duration"),
}
"""Formats ``jsonschema`` checks only with optional packages installed, checked here without them."""


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


_VALIDATOR_NAMES = {"required": "missing_required", "additionalProperties": "unexpected_property",
                    "minimum": "minimum", "exclusiveMinimum": "minimum", "maximum": "maximum",
                    "exclusiveMaximum": "maximum"}


def schema_violations(validator: Any, args: Any, limit: int = 8) -> list[dict[str, Any]]:
    """``[{path, validator, message}]`` for the errors of ``args`` against a compiled schema."""
    out = []
    try:
        errors = sorted(validator.iter_errors(args), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    except Exception:  # e.g. a $ref that cannot be resolved
        return []
    for error in errors[:limit]:
        keyword = str(error.validator)
        name = _VALIDATOR_NAMES.get(keyword, keyword)
        parts = list(error.absolute_path)
        field_parts = parts
        value: Any = error.instance
        expected: Any = error.validator_value
        if keyword == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            if missing:
                parts.append(missing[0])
                expected = missing[0]
            value = None
        elif keyword == "additionalProperties":
            extra = re.findall(r"'([^']+)'", error.message.split("(", 1)[-1])
            if extra:  # the path stays the object's (as jsonschema reports it); the field is the extra key
                field_parts = [*parts, extra[0]]
                value = error.instance.get(extra[0]) if isinstance(error.instance, dict) else None
            expected = False
        elif keyword in ("properties", "items", "prefixItems", "anyOf", "oneOf", "allOf"):
            expected = None  # sub-schemas: too long to quote
        violation = {"path": _json_path(parts), "field": _field(field_parts), "validator": name, "keyword": keyword,
                     "expected": short_value(expected), "value": short_value(value),
                     "message": short_value(error.message, 300)}
        if keyword == "enum" and isinstance(error.instance, str) and isinstance(error.validator_value, list):
            violation["case_only"] = error.instance.lower() in {str(x).lower() for x in error.validator_value}
        out.append(violation)
    return out


def _field(parts: Iterable[Any]) -> str:
    """A field path without the root marker and with list indices generalised: ``items[].sku``."""
    out = ""
    for part in parts:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def short_value(value: Any, limit: int = 60) -> Any:
    """An offending value or a constraint, safe to store: scalars kept (strings redacted and cut short),
    containers as short redacted JSON text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
        except TypeError:
            text = str(value)
    from tracemine.redact import redact

    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def structure_violation(violation: dict[str, Any], args: Any) -> dict[str, Any]:
    """An inferred-schema violation in the structured form of :func:`schema_violations`."""
    path = str(violation.get("path") or "$")
    field_name = path.removeprefix("$").removeprefix(".")
    validator = str(violation.get("validator") or "")
    keyword = {"missing_required": "required", "unexpected_property": "additionalProperties",
               "shape": "pattern"}.get(validator, validator)
    value = None if keyword == "required" else _lookup(args, field_name)
    return {**violation, "field": field_name, "keyword": keyword, "value": short_value(value)}


def _lookup(args: Any, field_name: str) -> Any:
    """The value at a ``a.b`` / ``a[].b`` path (first list item), or ``None``."""
    current = args
    for part in re.findall(r"[^.\[\]]+|\[\]", field_name):
        if part == "[]":
            current = current[0] if isinstance(current, list) and current else None
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


_FIELD_IN_TEXT = re.compile(
    r"'([\w.\[\]-]{1,60})'\s+is\s+a\s+required\s+property"
    r"|\b(?:field|argument|parameter|param|property|key|value\s+for)\s+['\"`]?([A-Za-z_][\w.\[\]-]{0,60})['\"`]?"
    r"|^\s*(?:error:\s*)?['\"`]?([A-Za-z_][\w.\[\]-]{0,60})['\"`]?\s*:\s*(?:must|should|expected|invalid|is\s+not)",
    re.IGNORECASE,
)
_NOT_FIELDS = frozenset({"is", "the", "a", "an", "required", "missing", "value", "type", "for", "must", "invalid"})


def field_from_text(text: str) -> str | None:
    """The field a validation-error text names (``'date' is a required property``, ``field 'cabin'``)."""
    for match in _FIELD_IN_TEXT.finditer(text[:500]):
        name = next((g for g in match.groups() if g), None)
        if name and name.lower() not in _NOT_FIELDS:
            return name
    return None


def _recovery_cost(view: TraceView, call: ToolCall, correction: ToolCall) -> dict[str, Any]:
    """What the mistake cost before the corrected call: attempts of the tool, time and LLM tokens."""
    between = view.steps[call.step: correction.step]
    attempts = sum(1 for s in between if isinstance(s, ToolCall) and s.tool == call.tool)
    wasted_ns = sum(s.span.duration_ns or 0 for s in between)
    tokens = sum((s.span.total_tokens or (s.span.input_tokens or 0) + (s.span.output_tokens or 0))
                 for s in between if not isinstance(s, ToolCall))
    return {"corrected_span_id": correction.span.span_id, "attempts": attempts,
            "wasted_ms": round(wasted_ns / 1e6, 3), "wasted_tokens": tokens}


def _case_only_enum(violation: dict[str, Any]) -> bool:
    """An enum violation whose value differs from an allowed one only by letter case."""
    if "case_only" in violation:
        return bool(violation["case_only"])
    allowed = re.search(r"is not one of (\[.*\])", violation.get("message", ""))
    value = re.match(r"^'(.*)' is not one of", violation.get("message", ""))
    return bool(allowed and value and f"'{value.group(1).lower()}'" in allowed.group(1).lower())


def _cosmetic(violations: list[dict[str, Any]], inferred: bool) -> bool:
    """Every violation is about the spelling of a value (case, quoting, separators), not its type or presence."""
    if not violations:
        return False
    for v in violations:
        name = v.get("validator")
        if name == "enum" and _case_only_enum(v):
            continue
        if inferred and name in ("pattern", "format", "enum"):
            continue  # an inferred shape is a guess; a declared pattern is the tool's contract
        return False
    return True


def respelling(old: Any, new: Any) -> bool:
    """``new`` is ``old`` written another way: the same letters and digits up to case and separators
    (``Heating Engineer`` → ``heating_engineer``, ``V1234`` → ``V-1234``), into an identifier (no spaces):
    a free-text query losing its brackets (``ML Engineer (Lisbon)`` → ``ML Engineer Lisbon``) is rewording."""
    if not (isinstance(old, str) and isinstance(new, str)) or old == new or any(c.isspace() for c in new.strip()):
        return False
    loose_old, loose_new = spelling(old), spelling(new)
    return len(loose_old) >= 3 and loose_old == loose_new


_PROSE_KEY_WORDS = frozenset({"query", "q", "search", "text", "keyword", "keywords", "term", "terms", "prompt",
                              "question", "message", "body", "content", "title", "description", "note", "notes",
                              "comment", "subject", "name", "label", "display"})
"""Argument names of free text and names for people: a shorter value there is another question."""


def into_identifier(key: str, old: Any, new: Any) -> bool:
    """``new`` is the identifier that ``old`` was written for people (``Payments Team`` → ``payments``), in
    an argument that is no free text or name: a corrected format, like a :func:`respelling`."""
    if not (isinstance(old, str) and isinstance(new, str)) or set(words(key)) & _PROSE_KEY_WORDS:
        return False
    return display_name_of(old, new) or _fewer_words(old, new)


def _fewer_words(old: str, new: str) -> bool:
    """``new`` is ``old`` with words dropped from its start or end (``payments-team`` → ``payments``): the
    identifier inside a longer spelling, with at least three letters left."""
    before, after = words(old), words(new)
    n = len(after)
    return (0 < n < len(before) and sum(map(len, after)) >= 3 and any(c.isalpha() for c in new)
            and (before[:n] == after or before[-n:] == after))


LOOKUPS_BEFORE_FIX = 2
"""Other calls that may stand between a rejected call and its fix (the agent looked the valid values up)."""


def corrects_format(key: str, old: Any, new: Any) -> bool:
    """``new`` is ``old`` in the right format: respelled (:func:`respelling`) or the identifier it was written
    for (:func:`into_identifier`)."""
    return respelling(old, new) or into_identifier(key, old, new)


def corrected_by_respelling(view: TraceView, call: ToolCall) -> bool:
    """The tool's next call (right after, or after at most two lookups) worked with the same arguments but
    for values respelled or narrowed into identifiers (:func:`respelling`, :func:`into_identifier`): the
    failed call's arguments were in the wrong format — this detector's finding, whatever the failure said."""
    calls = view.tool_calls
    position = next((i for i, c in enumerate(calls) if c is call), None)
    if position is None:
        return False
    following = next((c for c in calls[position + 1:position + 2 + LOOKUPS_BEFORE_FIX] if c.tool == call.tool), None)
    if following is None or error_context(following)[0] or result_failure(following.result, following.result_text):
        return False
    mine, theirs = decode_arguments(call.span.tool_arguments)[0], decode_arguments(following.span.tool_arguments)[0]
    if not (isinstance(mine, dict) and isinstance(theirs, dict)) or mine.keys() != theirs.keys():
        return False
    changed = [k for k in mine if mine[k] != theirs[k]]
    return bool(changed) and all(corrects_format(k, mine[k], theirs[k]) for k in changed)


def loose_key(args: Any) -> str:
    """Arguments with strings reduced to lower-case letters and digits (spelling differences ignored)."""
    def loosen(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): loosen(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [loosen(v) for v in value]
        if isinstance(value, str):
            return spelling(value)
        return normalize_value(value)

    try:
        return orjson.dumps(loosen(args), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()
    except TypeError:
        return str(args)


class ArgumentErrorParams(Rules):
    """``detect.argument_error``: where schemas come from, what is reported, and the thresholds for
    trusting an inferred rule (:class:`~tracemine.detect.schema_infer.Rules`)."""

    model_config = ConfigDict(use_enum_values=True, validate_default=True)

    schema_file: str | None = Field(None, description="JSON/YAML: tool name → JSON Schema, or a list of "
                                    "OpenAI-style tool definitions")
    schemas: dict[str, Any] = Field(default_factory=dict, description="the same, inline")
    use_declared_schemas: bool = Field(True, description="schemas the traces declare (gen_ai.tool.definitions, "
                                       "llm.tools, agent tool lists)")
    report_recovered: bool = Field(True, description="report calls the agent corrected later too")
    check_corrections: bool = Field(True, description="a rejected call retried at once with corrected arguments "
                                    "is an argument error")
    severity_recovered: Severity = Field(Severity.LOW, description="severity of an argument error the agent "
                                         "corrected on a later call")
    unknown_tool_min_declared: int = Field(2, ge=0, description="only judge unknown tools when the trace declares "
                                           "at least this many tools")
    unknown_tool_max_successes: int = Field(3, ge=0, description="an \"unknown\" tool that succeeded this often "
                                            "means the declared list is incomplete")
    max_argument_chars: int = Field(500, ge=1, description="arguments quoted in evidence are cut to this length")


class ArgumentErrorDetector(Detector):
    """Tool calls with arguments that break a known or inferred schema, unknown tools, validation errors."""

    name = "argument_error"
    kinds = ("argument_error",)
    wording = "wording.j2"
    facts_order = 10
    uses_window_stats = True
    explains = ("silent_failure", "unrecovered_error")  # a failure its bad arguments caused is one argument error
    params_model: ClassVar[type[ArgumentErrorParams]] = ArgumentErrorParams
    evidence_model: ClassVar[type[ArgumentErrorEvidence]] = ArgumentErrorEvidence
    params: ArgumentErrorParams

    @classmethod
    def facts(cls, evidences: list[Mapping[str, Any]], texts: Any, top: int) -> dict[str, Any]:
        """``violations``: ``[{"validator", "path", "message", "count"}]`` (each counted once per member);
        ``unknown_tools``: ``[{"tool", "closest", "count"}]``."""
        from collections import Counter

        from tracemine.summarise.aggregate import texts_of
        from tracemine.summarise.aggregate import top as top_of

        out: dict[str, Any] = {}
        counts: Counter[tuple[str, str]] = Counter()
        messages: dict[tuple[str, str], Counter[str]] = {}
        for ev in evidences:
            seen: set[tuple[str, str]] = set()
            listed = ev.get("violations")
            for v in listed if isinstance(listed, list) else ():
                if not isinstance(v, Mapping):
                    continue
                key = (texts.clean(v.get("validator")) or "invalid", texts.clean(v.get("path")) or "$")
                if key in seen:
                    continue
                seen.add(key)
                counts[key] += 1
                message = texts.clean(v.get("message"))
                if message:
                    messages.setdefault(key, Counter())[message] += 1
        if counts:
            out["violations"] = [
                {"validator": key[0], "path": key[1],
                 "message": top_of(messages[key], 1)[0][0] if key in messages else "", "count": n}
                for key, n in top_of(counts, top)
            ]
        unknown: Counter[tuple[str, str]] = Counter()
        for ev in evidences:
            mechanisms = set(texts_of(ev.get("mechanisms"))) | set(texts_of(ev.get("mechanism")))
            if "unknown_tool" not in mechanisms and not isinstance(ev.get("closest_tool"), str):
                continue
            unknown[(texts.clean(ev.get("tool")) or "?", texts.clean(ev.get("closest_tool")))] += 1
        if unknown:
            out["unknown_tools"] = [{"tool": k[0], "closest": k[1] or None, "count": n}
                                    for k, n in top_of(unknown, top)]
        return out

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.rules: Rules = self.params
        self.inferred = InferredSchemas()
        self.successes: dict[str, int] = {}
        self.validators = SchemaValidators()
        self.config_schemas: dict[str, dict[str, Any]] = dict(self.params.schemas)
        schema_file = self.params.schema_file
        if schema_file:
            try:
                self.config_schemas.update(load_schema_file(schema_file))
            except Exception as exc:  # missing file, bad JSON or YAML: a configuration error, said early
                raise ValueError(f"argument_error: cannot read schema_file {schema_file!r}: {exc}") from exc

    @property
    def malformed_schemas(self) -> int:
        """Schemas skipped because they are not valid JSON Schema."""
        return self.validators.malformed

    # -- first pass ---------------------------------------------------------------------------------

    def observe(self, view: TraceView) -> None:
        for call in view.tool_calls:
            failed, _ = error_context(call)
            if failed or accepted_complaint(call) is not None:
                continue  # only calls the tool took teach what its arguments look like
            args, status = decode_arguments(call.span.tool_arguments)
            if status == "ok":
                self.inferred.add(call.tool, args)
            self.successes[call.tool] = self.successes.get(call.tool, 0) + 1

    def merge(self, other: Detector) -> None:
        if isinstance(other, ArgumentErrorDetector):
            self.inferred.merge(other.inferred)
            for tool, count in other.successes.items():
                self.successes[tool] = self.successes.get(tool, 0) + count

    # -- second pass --------------------------------------------------------------------------------

    def detect(self, view: TraceView) -> Iterable[Signal]:
        declared = view.tool_definitions
        findings = [(call, self._examine(call, declared)) for call in view.tool_calls]
        report_recovered = self.params.report_recovered
        out = []
        for position, (call, found) in enumerate(findings):
            if not found["mechanisms"] and not self._rejected_then_corrected(call, found, findings[position + 1:]):
                continue
            if self._reencoded_duplicate(call, found, view.tool_calls[:position]):
                continue
            correction = self._correction(call, found, findings[:position], findings[position + 1:])
            if correction is not None and not report_recovered:
                continue
            out.append(self._signal(view, call, found, declared, correction))
        return out

    def _examine(self, call: ToolCall, declared: Mapping[str, Any]) -> dict[str, Any]:
        """Everything wrong with one call: ``{mechanisms, violations, reason, schema_source, …}``."""
        found: dict[str, Any] = {"mechanisms": []}
        failed, error_text = error_context(call)
        found["failed"] = failed
        if failed and error_text:
            phrase = validation_phrase(error_text) or names_rejected_argument(error_text, call.args)
            if phrase:
                found["mechanisms"].append("validation_error_result")
                found["reason"] = redact_cut(error_text, 300, ellipsis="")
                found["phrase"] = phrase
        elif not failed and (phrase := accepted_complaint(call)):
            found["mechanisms"].append("validation_error_result")
            found["reason"] = redact_cut(call.result_text.strip(), 300, ellipsis="")
            found["phrase"] = phrase
        if len(declared) >= self.params.unknown_tool_min_declared and not is_declared(call.tool, declared):
            worked = not failed and call.result is not None
            known_elsewhere = self.successes.get(call.tool, 0) >= self.params.unknown_tool_max_successes
            if not worked and not known_elsewhere:
                found["mechanisms"].append("unknown_tool")
                found["closest_tool"] = closest_tool(call.tool, declared)
                return found
        schema, source = self._schema(call.tool, declared)
        args, status = decode_arguments(call.span.tool_arguments)
        if status in ("absent", "empty"):
            return found
        inferred = self.inferred.get(call.tool)
        if status == "unparseable":
            takes_object = _schema_takes_object(schema) or (inferred is not None and inferred.takes_object(self.rules))
            looks_json = str(args).strip()[:1] in ("{", "[")
            if takes_object and (looks_json or schema is None) and not call.span.truncated:
                found["mechanisms"].append("unparseable_arguments")
                found.setdefault("reason", "arguments are not valid JSON")
                found["schema_source"] = source or "inferred"
            return found
        found["args"] = args
        if schema is not None:
            validator = self.validators.get(schema)  # None for a malformed schema: fall back to inference
            if validator is not None:
                violations = schema_violations(validator, args)
                found["schema_source"] = source
                if violations:
                    found["mechanisms"].append("schema_violation")
                    found["violations"] = violations
                return found
        if inferred is not None and inferred.calls >= self.rules.min_support:
            violations = inferred.check(args, self.rules)
            found["schema_source"] = "inferred"
            if violations:
                found["mechanisms"].append("inferred_schema_violation")
                found["violations"] = [structure_violation(v, args) for v in violations]
        return found

    def _schema(self, tool: str, declared: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        if self.params.use_declared_schemas:
            definition = declared.get(tool)
            params = definition.get("parameters") if definition else None
            if isinstance(params, dict) and params:
                return params, "declared"
        schema = self.config_schemas.get(tool)
        if isinstance(schema, dict) and schema:
            return schema, "config"
        return None, None

    def _correction(self, call: ToolCall, found: dict[str, Any], earlier: list[tuple[ToolCall, dict[str, Any]]],
                    later: list[tuple[ToolCall, dict[str, Any]]]) -> ToolCall | None:
        """The later call that corrected this one: the same tool worked with clean arguments that keep some
        of this call's values or (after a failure) are new. A later call that only repeats a call made
        before, sharing nothing with this one, is not a correction."""
        if "unknown_tool" in found["mechanisms"]:
            return None
        before = {other.args_key for other, _ in earlier if other.tool == call.tool}
        mine = _leaves(found.get("args"))
        for other, other_found in later:
            if other.tool != call.tool or other_found.get("failed") or other_found["mechanisms"]:
                continue
            shares = bool(mine & _leaves(other_found.get("args")))
            if shares or (found.get("failed") and other.args_key not in before):
                return other
        return None

    def _rejected_then_corrected(self, call: ToolCall, found: dict[str, Any],
                                 later: list[tuple[ToolCall, dict[str, Any]]]) -> bool:
        """``corrected_after_rejection`` (see the module docstring); records the mechanism in ``found``."""
        if not later or not self.params.check_corrections:
            return False
        # the tool's next call, right after or after a lookup or two (the agent fetched the valid values)
        nxt = next((i for i, (other, _) in enumerate(later[:1 + LOOKUPS_BEFORE_FIX]) if other.tool == call.tool),
                   None)
        if nxt is None:
            return False
        following, following_found = later[nxt]
        if following_found.get("failed") or following_found["mechanisms"]:
            return False
        if "args" not in found or "args" not in following_found or found["args"] == following_found["args"]:
            return False  # (the canonical keys may agree on a value respelled only in letter case)
        shown = result_failure(call.result, call.result_text)
        # "no such team 'Platform Team'" as the answer's body: a miss, corrected only by a respelled value
        missing = shown is None and says_missing(call.result, call.span.tool_result, None, found.get("args"))
        if not found.get("failed") and shown is None and not missing:
            return False  # neither the status nor the body says the call failed
        if missing and says_missing(following.result, following.span.tool_result, None, following_found.get("args")):
            return False  # the respelled value found nothing either: no correction, the same miss again
        _, error_text = error_context(call)
        if not explicit_error(call.span) and shown is None and not missing:
            return False  # only an exception event: the agent never saw a rejection to correct
        if TRANSIENT.search(error_text):
            return False
        mine, theirs = found["args"], following_found["args"]
        if not (isinstance(mine, dict) and isinstance(theirs, dict)):
            return False
        changed = sorted(k for k in set(mine) | set(theirs)
                         if normalize_value(mine.get(k)) != normalize_value(theirs.get(k)) or mine.get(k) != theirs.get(k))
        # the same value spelled another way ("heating-engineer" → "heating_engineer", "Otta" → "otta"): a
        # corrected format, whatever the rejection said, even "not found" — when every changed value was
        # respelled, or the rejection quotes the respelled one; another value after a not-found is the next item
        said_text = (error_text or call.result_text).casefold()
        respelled_keys = [k for k in changed if corrects_format(k, mine.get(k), theirs.get(k))]
        respelled = bool(respelled_keys) and (len(respelled_keys) == len(changed) or any(
            str(mine.get(k)).casefold() in said_text for k in respelled_keys))
        if not respelled and not _leaves(mine) & _leaves(theirs):
            return False  # nothing kept: another call altogether
        if not changed or (2 * len(changed) > len(set(mine) | set(theirs)) and not respelled):
            return False  # most of the call changed: another question, not a corrected one
        if all(any(w in PAGING_WORDS for w in words(k)) for k in changed):
            return False  # the next page, not a correction
        if not respelled and (missing or not_found_failure(shown, call.result, found["args"])):
            return False
        named = [k for k in changed if any(w in said_text for w in words(k) if len(w) >= 3)
                 or (isinstance(mine.get(k), str | int) and len(str(mine[k])) >= 2
                     and str(mine[k]).casefold() in said_text)]
        if not named and not respelled:
            return False  # the rejection says nothing about what changed: the next item, not a correction
        found["mechanisms"].append("corrected_after_rejection")
        found["reason"] = redact_cut(error_text or call.result_text, 300, ellipsis="")
        found["changed_fields"] = changed
        return True

    @staticmethod
    def _reencoded_duplicate(call: ToolCall, found: dict[str, Any], earlier: list[ToolCall]) -> bool:
        """Only cosmetic violations (enum letter case; for inferred schemas also quoting or punctuation of a
        value), and an earlier call of the same tool with the same arguments up to those cosmetics worked:
        a re-encoded repeat (the duplicate_call and loop detectors' business), not a wrong argument."""
        if found["mechanisms"] not in (["schema_violation"], ["inferred_schema_violation"]):
            return False
        if not _cosmetic(found.get("violations", []), found["mechanisms"][0] == "inferred_schema_violation"):
            return False
        key = loose_key(found.get("args"))
        return any(e.tool == call.tool and e.span.status != Status.ERROR
                   and loose_key(decode_arguments(e.span.tool_arguments)[0]) == key for e in earlier)

    def _signal(self, view: TraceView, call: ToolCall, found: dict[str, Any], declared: Mapping[str, Any],
                correction: ToolCall | None = None) -> Signal:
        mechanisms: list[str] = sorted(found["mechanisms"], key=MECHANISMS.index)
        write = is_write_tool(call.tool, declared.get(call.tool))
        unknown = "unknown_tool" in mechanisms
        severity = "high" if write or unknown else "medium"
        if correction is not None:
            severity = self.params.severity_recovered
        evidence: dict[str, Any] = {
            "mechanism": mechanisms[0],
            "mechanisms": mechanisms,
            "tool": call.tool,
            "arguments": _truncate(_compact(found.get("args"), call), self.params.max_argument_chars),
            "schema_source": found.get("schema_source"),
            "write": write,
            "span_ids": [call.span.span_id],
        }
        if found.get("violations"):
            evidence["violations"] = found["violations"]
            first = found["violations"][0]
            evidence["constraint"] = {"tool": call.tool, "field": first.get("field", ""),
                                      "keyword": first.get("keyword", first.get("validator"))}
        elif found.get("reason"):
            field_name = field_from_text(found["reason"])
            if field_name:
                evidence["constraint"] = {"tool": call.tool, "field": field_name, "keyword": "reported"}
        if found.get("reason"):
            evidence["reason"] = found["reason"]
        if found.get("changed_fields"):
            evidence["changed_fields"] = found["changed_fields"]
            evidence.setdefault("constraint", {"tool": call.tool, "field": found["changed_fields"][0],
                                               "keyword": "corrected"})
        # a rejection the tool reported, in any words or shown by the agent's correction, is one fix per tool
        # (the violated constraint, when a schema names it, keys schema violations)
        evidence["fix_mechanism"] = "rejected" if mechanisms[0] in ("validation_error_result",
                                                                    "corrected_after_rejection") else mechanisms[0]
        evidence["failed"] = bool(found.get("failed"))
        evidence["accepted"] = not found.get("failed")  # the tool took the bad arguments without complaint
        evidence["recovered"] = correction is not None
        if correction is not None:
            evidence.update(_recovery_cost(view, call, correction))
        if unknown:
            evidence["closest_tool"] = found.get("closest_tool")
            evidence["declared_tools"] = sorted(declared)[:50]
        return self.signal(view, "argument_error", [call.span.span_id], severity, evidence,
                           _text(call.tool, mechanisms, found))


def _leaves(value: Any) -> set[str]:
    """Normalised scalar values inside arguments (strings also split on commas), to relate a retry to a failure."""
    out: set[str] = set()
    for _path, leaf in walk(value):
        if isinstance(leaf, dict | list | tuple) or leaf is None:
            continue
        text = str(normalize_value(leaf))
        out.add(text)
        if isinstance(leaf, str) and "," in leaf:
            out.update(str(normalize_value(part)) for part in leaf.split(",") if part.strip())
    return out


def _schema_takes_object(schema: dict[str, Any] | None) -> bool:
    return isinstance(schema, dict) and (schema.get("type") == "object" or "properties" in schema)


def _compact(args: Any, call: ToolCall) -> str:
    """Canonical JSON of the arguments as sent (sorted keys; values not normalised, so the fault shows)."""
    if args is None:
        return call.span.tool_arguments or ""
    try:
        return orjson.dumps(args, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()
    except TypeError:
        return str(args)


def _truncate(text: str, limit: int) -> str:
    return redact_cut(text, limit)  # redacted before the cut: no secret survives as a half


def _text(tool: str, mechanisms: list[str], found: dict[str, Any]) -> str:
    """A stable description of the failure for embedding (values left out, names of fields kept)."""
    first = mechanisms[0]
    if first == "unknown_tool":
        closest = found.get("closest_tool")
        hint = f" (closest: {closest})" if closest else ""
        return f"called tool {tool} which is not among the agent's tools{hint}"
    if first == "unparseable_arguments":
        return f"tool {tool} called with arguments that are not valid JSON"
    if first == "corrected_after_rejection":
        fields = ", ".join(found.get("changed_fields") or [])
        return f"tool {tool} failed and worked when the agent called it again with other {fields}"
    if first == "validation_error_result":
        return f"tool {tool} rejected its arguments: result reports {found.get('phrase', 'a validation error').lower()}"
    violations = found.get("violations") or []
    what = ", ".join(sorted({f"{v['validator']} {v['path'].removeprefix('$.')}" for v in violations[:3]}))
    source = "inferred" if first == "inferred_schema_violation" else "declared"
    return f"tool {tool} arguments violate its {source} schema: {what}"
