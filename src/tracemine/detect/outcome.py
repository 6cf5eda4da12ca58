"""Reading outcomes: does a tool result (or an agent's output) report failure, is it empty, did a span
record exceptions, is a tool a write, does a final answer admit failure.

Shared by the ``silent_failure`` and ``unrecovered_error`` detectors. Every rule here is structural —
keys and values of a decoded result, or a marker at the *start* of a text — so that prose that merely
mentions an error, ``"errors": []``, ``"ok": true``, ``"status": 200`` or ``"failed": 0`` never reads as a
failure, and nothing depends on particular tool or agent names.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from tracemine.ingest.decode import decode_value
from tracemine.model import Span, SpanKind, Status, StatusSource, span_order_key
from tracemine.redact import redact_cut

# --- result failure ------------------------------------------------------------------------------------

ERROR_KEYS = frozenset({
    "error", "errors", "err", "exception", "fault", "errormessage", "errormsg", "errordetail", "errordetails",
    "errorcode", "errortype", "errorinfo", "iserror", "haserror",
})
"""Keys (lowercase, without ``_``/``-``) whose non-empty value means the call failed."""

SUCCESS_KEYS = frozenset({"success", "ok", "succeeded", "successful", "issuccess"})
"""Keys whose value ``false`` means the call failed."""

STATUS_KEYS = frozenset({"status", "state", "outcome", "result", "conclusion", "resultstatus", "jobstatus"})
FAILED_VALUES = frozenset({
    "failed", "failure", "fail", "error", "errored", "aborted", "crashed", "timedout", "timeout",
})
"""Values of a status field (lowercase, without ``_``/``-``/spaces) that report failure."""

HTTP_KEYS = frozenset({
    "status", "statuscode", "httpstatus", "httpstatuscode", "httpcode", "responsecode", "responsestatus",
})
EMPTY_WORDS = frozenset({"", "none", "null", "nil", "ok", "success", "false", "0", "n/a"})
MESSAGE_KEYS = ("message", "msg", "error", "errors", "reason", "detail", "details", "description", "error_message",
                "errorMessage", "body", "text", "title")

_KEY_NORM = re.compile(r"[\s_\-.]+")
_ERROR_TEXT = re.compile(
    r"""^\s*(?:
        \[?(?:error|exception|fatal|failure|failed|err)\]?\s*[:!\-]          # Error: / [ERROR] - / failed:
      | an?\ (?:error|exception|failure)\ (?:occurred|occured|happened|was\ raised)\b  # An error occurred …
      | traceback\ \(most\ recent\ call\ last\)                              # Python traceback
      | (?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Fault)\b\s*[:(]      # ValueError: / errors.ApiError(
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_FAILED_TO = re.compile(r"^\s*(?:failed to|unable to|could not|couldn't)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a result reads as a failure: the mechanism and a short reason (an error message excerpt)."""

    mechanism: str
    reason: str


@functools.lru_cache(maxsize=65536)
def norm_key(key: Any) -> str:
    """A key compared without case and separators (``Error_Code`` → ``errorcode``); keys recur: cached."""
    return _KEY_NORM.sub("", str(key)).lower()


def excerpt(value: Any, limit: int = 200) -> str:
    """A one-line excerpt of ``value`` (text, or compact JSON-ish repr) of at most ``limit`` characters."""
    text = value if isinstance(value, str) else _compact(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else redact_cut(text, limit)  # redacted before the cut, never half a secret


def _compact(value: Any) -> str:
    try:
        import orjson

        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return str(value)


def is_blank(value: Any) -> bool:
    """``None``, ``False``, ``0``, empty containers and placeholder words (``""``, ``"none"``…)."""
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    if isinstance(value, str):
        return value.strip().lower() in EMPTY_WORDS
    if isinstance(value, dict | list | tuple | set):
        return all(is_blank(v) for v in (value.values() if isinstance(value, dict) else value))
    return False


def message_of(value: Any, limit: int = 160) -> str:
    """The most message-like text inside an error value (a string, or a dict's message/reason/…)."""
    if isinstance(value, str):
        return excerpt(value, limit)
    if isinstance(value, dict):
        for key in MESSAGE_KEYS:
            found = value.get(key)
            if found is not None and not is_blank(found):
                return message_of(found, limit)
        for key in ("code", "type", "name"):
            if isinstance(value.get(key), str | int) and not isinstance(value.get(key), bool):
                return excerpt(str(value[key]), limit)
        return excerpt(value, limit)
    if isinstance(value, list | tuple):
        parts = [message_of(v, limit) for v in value if not is_blank(v)]
        return excerpt("; ".join(parts), limit) if parts else ""
    return excerpt(str(value), limit)


def _http_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        code = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 3:
        code = int(value.strip())
    else:
        return None
    return code if 100 <= code <= 599 else None


VERDICT_KEYS = frozenset({"valid", "isvalid", "passed", "compliant", "conforms", "eligible", "approved", "verified"})
"""Keys whose boolean value is a *verdict about the input* a checking tool was asked for: with one, the
result's ``errors`` are the verdict's reasons (data the tool was called to produce), not a failed call."""


def _dict_failure(result: dict[str, Any]) -> Failure | None:
    """Failure reported by the top-level keys of a structured result."""
    keys = {norm_key(k): k for k in result}
    verdict = any(nk in VERDICT_KEYS and isinstance(result[k], bool) for nk, k in keys.items())
    reason_source = {k: v for k, v in result.items() if norm_key(k) not in SUCCESS_KEYS}
    for nk, key in keys.items():
        value = result[key]
        if nk in SUCCESS_KEYS and (value is False or (isinstance(value, str) and value.strip().lower() == "false")):
            return Failure("success_false", message_of(reason_source) or f"{key}=false")
    for nk, key in keys.items():
        if nk in HTTP_KEYS:
            code = _http_code(result[key])
            if code is not None and code >= 400:
                rest = {k: v for k, v in result.items() if k != key}
                return Failure("http_status", f"HTTP {code}" + (f": {message_of(rest)}" if rest else ""))
    for nk, key in keys.items():
        value = result[key]
        if nk in STATUS_KEYS and isinstance(value, str) and norm_key(value) in FAILED_VALUES:
            rest = {k: v for k, v in result.items() if k != key}
            return Failure("status_field", f"{key}={value}" + (f": {message_of(rest)}" if rest else ""))
    for nk, key in keys.items():
        value = result[key]
        if nk in ERROR_KEYS and not is_blank(value) and not verdict:
            reason = message_of(value) if value is not True else message_of(
                {k: v for k, v in result.items() if k != key})
            return Failure("error_in_result", reason or f"{key} set")
    if "code" in keys and (len(result) <= 4 or any(norm_key(k) in _MESSAGE_NKEYS for k in result)):
        code = _http_code(result[keys["code"]])  # {"code": 503, "message": …}: an HTTP-style status body
        if code is not None and code >= 400:
            rest = {k: v for k, v in result.items() if k != keys["code"]}
            return Failure("http_status", f"HTTP {code}" + (f": {message_of(rest)}" if rest else ""))
    for nk, key in keys.items():
        value = result[key]
        if nk in _BODY_KEYS and isinstance(value, str) and value:
            found = http_error_text(value)
            if found is not None:
                return found
    return None


FAILED_COUNT_KEYS = frozenset({
    "failed", "failures", "failedcount", "failurecount", "numfailed", "errored", "errorcount", "rejected",
    "rejectedcount", "bounced", "undeliverable", "undelivered", "notsent", "notdelivered", "unprocessed",
})
"""Keys (normalised) of a batch result counting or listing the items that failed."""
ITEM_LIST_KEYS = frozenset({"results", "items", "data", "records", "rows", "entries", "outcomes", "details",
                            "statuses", "responses", "deliveries"})
"""Keys of a batch result's per-item outcomes."""


def partial_failure(result: Any) -> Failure | None:
    """A batch result saying some of its items failed while the call as a whole answered normally: a count
    or list of failed items (``{"sent": 12, "failed": 3}``, ``{"delivered": 9, "undeliverable": [...]}``),
    or per-item outcomes of which some report failure (``{"results": [{"status": "delivered"}, …,
    {"status": "failed", "error": …}]}``). For a write, that is work partly not done; for a read a failure
    count is data, so callers decide where it applies."""
    if not isinstance(result, dict):
        return None
    for key, value in result.items():
        nk = norm_key(key)
        if nk in FAILED_COUNT_KEYS:
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                listed = next((v for k, v in result.items() if k != key and isinstance(v, list) and v), None)
                return Failure("partial_failure", f"{key}={value}" + (f": {message_of(listed)}" if listed else ""))
            if isinstance(value, list) and value:
                return Failure("partial_failure", f"{len(value)} {key}: {message_of(value)}")
        if nk in ITEM_LIST_KEYS and isinstance(value, list) and len(value) >= 2:
            failed = [f for f in (_dict_failure(item) for item in value if isinstance(item, dict)) if f is not None]
            if failed:
                return Failure("partial_failure", f"{len(failed)} of {len(value)} {key} failed: {failed[0].reason}")
    return None


_TELLS_PARTIAL = re.compile(
    r"\b(?:did\s*n['’]?o?t|didn['’]t|were\s*n['’]?o?t|weren['’]t|was\s*n['’]?o?t|wasn['’]t|could\s*n['’]?o?t"
    r"|couldn['’]t|can['’]?not|not)\s+(?:be\s+)?(?:receive|reach|deliver|get|sen[dt]|notif|inform|contact"
    r"|process|update|appl|sav|book|post|creat)\w*"
    r"|\b(?:bounced|undeliverable|undelivered|rejected|failed|unreachable|missed|except)\b",
    re.IGNORECASE,
)


def tells_partial_failure(text: str) -> bool:
    """The agent's words say some of the work did not get done (``3 couldn't be reached``, ``2 bounced``)."""
    return bool(text) and bool(_TELLS_PARTIAL.search(text) or _ADMITS_FAILURE.search(text))


_MESSAGE_NKEYS = frozenset(norm_key(k) for k in MESSAGE_KEYS)
_BODY_KEYS = frozenset({"body", "html", "content", "text", "response", "page", "raw", "data", "output"})


def _unwrap(result: Any) -> Any:
    """The payload inside common wrappers: MCP ``{"content": [{"type": "text", "text": …}]}``, a list of
    text blocks, or a single-key object holding a string (``{"output": "Error: …"}``)."""
    if isinstance(result, dict):
        content = result.get("content")
        if isinstance(content, list) and content and all(isinstance(c, dict) and "text" in c for c in content):
            return decode_value("\n".join(str(c.get("text", "")) for c in content))
        if len(result) == 1:
            (only,) = result.values()
            if isinstance(only, str):
                return decode_value(only)
    if isinstance(result, list) and result and all(isinstance(c, dict) and c.get("type") == "text" for c in result):
        return decode_value("\n".join(str(c.get("text", "")) for c in result))
    return result


def text_failure(text: str) -> Failure | None:
    """Failure reported by a text that *starts* with an error marker (``Error: …``, a traceback…) or that
    is an HTTP error response (see :func:`http_error_text`)."""
    if _ERROR_TEXT.match(text) or _FAILED_TO.match(text):
        return Failure("error_text", excerpt(text, 160))
    return http_error_text(text)


_SERVER_PHRASES = (r"internal\s+server\s+error|service\s+(?:temporarily\s+)?unavailable|bad\s+gateway"
                   r"|gateway\s+time-?\s?out|too\s+many\s+requests")
_HTTP_LINE = re.compile(r"^\s*HTTP/\d(?:\.\d)?\s+([1-5]\d\d)\b[^\n]{0,80}", re.IGNORECASE)
_HTML_HEADING = re.compile(r"<(title|h1)\b[^>]*>(.{0,200}?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_HEADING_ERROR = re.compile(
    rf"^(?:error\s*[:\-]?\s*)?(?:http\s*(?:error\s*)?)?(?:status\s*)?"
    rf"(?:([45]\d\d)(?:\s*$|\s*[-:|.(–]?\s*(?:{_SERVER_PHRASES}|not\s+found|forbidden|unauthori[sz]ed|bad\s+request"
    rf"|error|conflict|gone|request\s+time-?\s?out|method\s+not\s+allowed|unprocessable|payment\s+required|server"
    rf"|unknown)(?!s\b|\s+(?:in|on|at|for|with|when|about|and|or|to|from)\b))|(?:{_SERVER_PHRASES})\b"
    rf"|(?:server|application|unexpected|internal)\s+error(?:\s*[(\[]?\s*([45]\d\d)\s*[)\]]?)?\s*$"
    rf"|whitelabel\s+error\s+page|error\s*$)",
    re.IGNORECASE)
_HEADING_PARTS = re.compile(r"\s*(?:\||–|—|\s-\s|•)\s*")
"""Separators between a site's name and the page's own title (``example.com | 502: Bad gateway``)."""


def _error_heading(heading: str) -> re.Match[str] | None:
    """The part of a page title or first heading that states an HTTP error (nginx, Apache, Cloudflare,
    Tomcat, Django, IIS, Heroku, Spring pages), anchored so that a title *about* errors does not."""
    for part in _HEADING_PARTS.split(heading):
        found = _HEADING_ERROR.match(part.strip(" !.*"))
        if found:
            return found
    return None
_LEADING_PHRASE = re.compile(rf"^\s*(?:([45]\d\d)\s*[-:]?\s*)?(?:{_SERVER_PHRASES})\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")
SHORT_PAGE_CHARS = 1500
"""An HTML body with at most this much visible text is an error page when its title or first heading is
an HTTP error; a longer page that mentions errors is an article, not a failure."""


_STATUS_PHRASES = {status.phrase.casefold(): status.value for status in HTTPStatus if status.value >= 400}
_STATUS_ONLY = re.compile(r"^\s*((?:http(?:/\d(?:\.\d)?)?\s*)?(?:error\s*[:\-]?\s*)?)(?:([45]\d\d)\b)?\s*[:\-]?\s*"
                          r"([a-z][a-z' -]{1,40}?)?\s*[.!]?\s*$", re.IGNORECASE)


def http_status_only(text: str) -> int | None:
    """The HTTP error code of a body that is nothing but an error status (``422 Unprocessable Entity``,
    ``HTTP 400``, ``Bad Request``), by the standard reason phrases; ``None`` for anything else."""
    if not text or len(text) > 80:
        return None
    match = _STATUS_ONLY.match(text)
    if match is None:
        return None
    prefix, code, phrase = match.group(1), match.group(2), " ".join((match.group(3) or "").casefold().split())
    if code is not None:  # a bare number is data (a count, a price), not a status
        return int(code) if (phrase or prefix.strip()) and (not phrase or _STATUS_PHRASES.get(phrase) == int(code)) \
            else None
    # without a code, one ordinary word ("Locked", "Gone", "Conflict") may be the data asked for
    return _STATUS_PHRASES.get(phrase) if " " in phrase or phrase in ("unauthorized", "forbidden") else None


def http_error_text(text: str) -> Failure | None:
    """An HTTP error *as the body's own status*: a leading status line (``HTTP/1.1 503 …``), the title or
    ``<h1>`` of a short HTML page (``<title>500 Internal Server Error</title>``), or a short body that is
    essentially the error (``Service Unavailable``). Prose that merely mentions "500 errors" is not."""
    head = text[:4000]
    line = _HTTP_LINE.match(head)
    if line:
        code = int(line.group(1))
        return Failure("http_status", f"HTTP {code}: {excerpt(line.group(0), 120)}") if code >= 400 else None
    if "<" in head and ">" in head:
        visible = " ".join(_TAG.sub(" ", text[:50_000]).split())
        if len(visible) <= SHORT_PAGE_CHARS:
            for match in _HTML_HEADING.finditer(head):
                heading = " ".join(_TAG.sub(" ", match.group(2)).split())
                found = _error_heading(heading)
                if found:
                    number = found.group(1) or found.group(2)
                    code = f"HTTP {number}: " if number else ""
                    return Failure("error_page", code + excerpt(heading, 120))
        return None
    code = http_status_only(text)
    if code is not None:
        return Failure("http_status", f"HTTP {code}: {excerpt(text.strip(), 120)}")
    found = _LEADING_PHRASE.match(head)
    if found and len(text.strip()) <= 300:  # "503 Service Unavailable: maintenance": a status in words
        code = f"HTTP {found.group(1)}: " if found.group(1) else ""
        return Failure("http_status", code + excerpt(text, 120))
    return None


def result_failure(result: Any, text: str | None = None) -> Failure | None:
    """Whether a (decoded) tool result reports failure, and why; ``None`` when it does not.

    ``text`` is the raw result text when known (used when ``result`` is not structured).
    """
    if result is None and text is None:
        return None
    if isinstance(result, dict):
        found = _dict_failure(result)
        if found is not None:
            return found
    inner = _unwrap(result)
    if inner is not result:
        if isinstance(inner, dict):
            found = _dict_failure(inner)
            if found is not None:
                return found
        if isinstance(inner, str):
            return text_failure(inner)
    if isinstance(result, str):
        return text_failure(result)
    if result is None and text:
        return text_failure(text)
    return None


PAGE_FAILURES = frozenset({"error_page"})
"""Failures a result shows as a server's error page (``<title>502 Bad Gateway</title>``) while the span says
OK: the span's status hides an HTTP failure, a silent failure whatever the agent did next. An error message
naming a status (``Error: 503 Service Unavailable``) is the tool reporting its failure in words."""


def call_failure(call: Any) -> Failure | None:
    """:func:`result_failure` of a :class:`~tracemine.detect.view.ToolCall` (``None`` when no result),
    computed once per call (:attr:`~tracemine.detect.view.ToolCall.failure`)."""
    return call.failure


_ARGUMENT_REJECTION = re.compile(
    r"validation ?error|validationerror|\bzoderror\b|\bfield required\b|is required\b"
    r"|\binvalid[ _](?:value|argument|arg|parameter|param|input|request|type|format|enum|choice|option)s?\b"
    r"|\bunsupported[ _](?:value|argument|parameter|param|option)s?\b"
    r"|\b(?:missing|required)[ _](?:required[ _])?(?:argument|parameter|param|field|property|key)s?\b"
    r"|\b(?:unknown|unrecognized|unrecognised|no such|invalid|undefined)[ _](?:tool|function)\b"
    r"|\btool\b[^.\n]{0,60}\b(?:not found|does not exist|doesn't exist|is not available|not available)\b"
    r"|\bnot a valid (?:tool|function|enumeration|value|choice|option)\b"
    r"|\b(?:type|value)_error\b|unexpected keyword argument|does not match (?:the )?(?:pattern|format|'\^)",
    re.IGNORECASE,
)


def is_argument_rejection(failure: Failure, result: Any) -> bool:
    """The failure says the *call* was malformed (validation error, invalid parameter, unknown tool, HTTP
    400/422): the ``argument_error`` detector's business rather than a silent failure of the work."""
    if _ARGUMENT_REJECTION.search(failure.reason):
        return True
    if failure.mechanism == "http_status" and re.match(r"HTTP (?:400|422)\b", failure.reason):
        return True
    if isinstance(result, dict):
        for value in result.values():
            if isinstance(value, dict | list) and _ARGUMENT_REJECTION.search(excerpt(value, 2000)):
                return True
            if isinstance(value, str) and _ARGUMENT_REJECTION.search(value[:500]):
                return True
    return False


# --- emptiness ---------------------------------------------------------------------------------------


HAS_DATA, LOOSELY_EMPTY, EMPTY = 0, 1, 2
"""Levels of :func:`emptiness`."""


def _no_data(value: Any) -> bool:
    """No leaf carries data: only ``None``, ``""``, ``False``, ``0`` and empty containers."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return value.strip().lower() in {"", "null", "none", "[]", "{}", '""'}
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, dict):
        return all(_no_data(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_no_data(v) for v in value)
    return False


def emptiness(result: Any, text: str | None) -> int | None:
    """How empty a result is: :data:`EMPTY` (``[]``, ``{}``, ``""``, ``null``, or nothing but zeros and
    empty containers), :data:`LOOSELY_EMPTY` (an object whose collections are all empty, beside scalars:
    ``{"results": [], "page": 1}``) or :data:`HAS_DATA`; ``None`` when no result was recorded."""
    if text is None:
        return None
    if _no_data(result):
        return EMPTY
    if isinstance(result, dict):
        collections = [v for v in result.values() if isinstance(v, list | dict)]
        if collections and all(len(c) == 0 for c in collections):
            return LOOSELY_EMPTY
    return HAS_DATA


_NOT_FOUND = re.compile(
    r"\bnot\s+found\b|\bno\s+such\b|\b(?:does|do)\s*(?:n'?o?t)\s+exist\b|\bnon-?existent\b"
    r"|\bcould\s*n[o']?t\s+(?:be\s+)?f(?:i|ou)nd\b|\bunable\s+to\s+find\b"
    r"|\bno\s+(?:matching\s+)?(?:[a-z]+\s+){0,2}(?:found|exists?|matches?|records?|results?)\b|\bunknown\s+[a-z]+\s+(?:id|key)\b"
    r"|(?:^|:)\s*no\s+[a-z_]+\s+(?:with|for|matching|named|called|by)\s+(?:the\s+)?(?:given\s+)?(?:[a-z_]+\s+)?"
    r"(?:id|key|name|number|code|email|reference|uuid|slug|handle|sku|username)\b"
    r"|\bno\s+(?:[a-z_-]+\s+){1,3}(?:named|called)\s+['\"`]",  # No job board named 'Otta'
    re.IGNORECASE,
)
_NOT_FOUND_CODES = frozenset({
    "notfound", "resourcenotfound", "nosuchkey", "nosuchentity", "nosuchresource", "enoent",
    "doesnotexist", "entitynotfound", "recordnotfound", "objectnotfound", "itemnotfound", "unknownid",
})
"""Error codes and types (normalised like keys) that say "there is no such thing"."""


def says_not_found(text: str, args: Any = None) -> bool:
    """A short text saying there is no such thing *and naming what*: one of the call's argument values
    (``args``) or any word beside the phrase (``Policy not found``, ``No candidate with id …``). A bare
    ``404 Not Found`` / ``Resource not found`` names nothing: the endpoint may be wrong."""
    return _says(text, arg_values(args))


def _says(text: str, values: list[str]) -> bool:
    return len(text) <= 300 and bool(_NOT_FOUND.search(text)) and _names_any(text, values)


def not_found_failure(failure: Failure | None, result: Any, args: Any = None) -> bool:
    """Whether a failure read from a result is really the answer "there is no such thing": an error whose
    code or type is a not-found code (``NOT_FOUND``, ``NoSuchKey``…), or whose message says not found /
    does not exist / no such and names what (:func:`says_not_found`).

    A lookup that finds nothing has answered; only what the agent does next can make it a failure."""
    if failure is None:
        return False
    values = arg_values(args)
    if failure.mechanism == "http_status":
        return bool(re.match(r"HTTP (?:404|410)\b", failure.reason)) and _names_any(failure.reason, values)
    if failure.mechanism not in ("error_in_result", "error_text", "status_field", "success_false"):
        return False
    inner = _unwrap(result)
    payload = inner if isinstance(inner, dict) else result
    if isinstance(payload, dict):
        return any(_says_not_found(value, values) for key, value in payload.items()
                   if (nk := norm_key(key)) in ERROR_KEYS or nk in _CODE_NKEYS or nk in _MESSAGE_NKEYS)
    return _says(payload if isinstance(payload, str) else failure.reason, values)


def arg_values(args: Any) -> list[str]:
    """The argument values a message could name (strings and integers of at least 3 characters)."""
    out: list[str] = []
    stack = [decode_value(args)] if args is not None else []
    while stack and len(out) < 50:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str | int) and not isinstance(value, bool) and len(str(value).strip()) >= 3:
            out.append(str(value).strip().casefold())
    return out


_GENERIC_WORDS = frozenset({
    "error", "http", "status", "code", "resource", "resources", "the", "a", "an", "was", "is", "be", "been", "could",
    "couldn", "can", "cannot", "not", "found", "no", "such", "does", "do", "doesn", "exist", "exists", "requested",
    "url", "page", "object", "item", "entity", "record", "notfound", "not_found", "with", "for", "this", "that", "t",
    "server", "on", "api", "endpoint", "path", "route",
})
_WORD = re.compile(r"[a-z][a-z']+")


def _names_any(text: str, values: list[str]) -> bool:
    """The text names an argument value, or any word beyond a generic not-found phrase."""
    folded = text.casefold()
    if any(v in folded for v in values):
        return True
    return any(w.strip("'") not in _GENERIC_WORDS for w in _WORD.findall(folded))


_CODE_NKEYS = frozenset({"code", "type", "kind", "name", "status", "reason", "errorcode", "errortype"})


def _says_not_found(value: Any, values: list[str]) -> bool:
    if isinstance(value, str):
        return norm_key(value) in _NOT_FOUND_CODES or _says(value, values)
    if isinstance(value, dict):
        return any(_says_not_found(v, values) for k, v in value.items()
                   if norm_key(k) in _CODE_NKEYS or norm_key(k) in _MESSAGE_NKEYS)
    return False


_MISS_STATES = frozenset({"notfound", "missing", "unknown", "nonexistent", "absent", "none"})
_FOUND_KEYS = frozenset({"found", "exists", "exist"})


def _has_collection(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return True
    return isinstance(value, dict) and any(isinstance(v, list | tuple) for v in value.values())


def lookup_miss(result: Any, text: str | None, args: Any = None) -> str | None:
    """How a result says "there is no such thing": ``null`` (null, ``{}``, ``""``, only nulls),
    ``empty_list`` (``[]``, only empty collections: a search or listing with no hits), a
    ``found``/``exists`` flag that is false, a status such as ``not_found``, or a short message saying not
    found / no such / does not exist, or an error that says so, naming what (:func:`not_found_failure`,
    given the call's ``args``) or not (:func:`bare_not_found`). ``None`` when the result has data (or no result was recorded).

    On its own this is a valid answer, not a failure (see the ``silent_failure`` detector)."""
    level = emptiness(result, text)
    if level is None:
        return None
    if level == EMPTY:
        return "empty_list" if _has_collection(result) else "null"
    failure = result_failure(result, text)
    if failure is not None:
        named = not_found_failure(failure, result, args)
        return excerpt(failure.reason, 120) if named or bare_not_found(failure) else None
    if isinstance(result, dict):
        for key, value in result.items():
            nk = norm_key(key)
            if nk in _FOUND_KEYS and (value is False or value == "false"):
                return f"{key}=false"
            if nk in STATUS_KEYS and isinstance(value, str) and norm_key(value) in _MISS_STATES:
                return f"{key}={value}"
            if nk in _MESSAGE_NKEYS and isinstance(value, str) and len(value) <= 300 and _NOT_FOUND.search(value):
                return excerpt(value, 120)
        return "empty_list" if level == LOOSELY_EMPTY else None
    if isinstance(result, str) and len(result) <= 300 and _NOT_FOUND.search(result):
        return excerpt(result, 120)
    return None


def is_empty_result(result: Any, text: str | None) -> bool | None:
    """Whether a result is (at least loosely) empty; ``None`` when no result was recorded."""
    level = emptiness(result, text)
    return None if level is None else level > HAS_DATA


def result_shape(result: Any) -> str:
    """The top-level type of a result: ``object``, ``list``, ``text``, ``null`` or ``scalar``."""
    if result is None:
        return "null"
    if isinstance(result, dict):
        return "object"
    if isinstance(result, list | tuple):
        return "list"
    if isinstance(result, str):
        return "text"
    return "scalar"


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p)."""
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    total = 0.0
    for i in range(k + 1):
        total += math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q)
    return min(total, 1.0)


MAX_TRACKED_KEYS = 64


@dataclass(slots=True)
class ResultBaseline:
    """A tool's results over the window, as mergeable counts: how many calls returned a result, how many
    of those were (loosely) empty, and the usual shape (top-level type and keys) of results with data."""

    calls: int = 0
    loose: int = 0
    strict: int = 0
    with_data: int = 0
    shapes: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)

    def add(self, result: Any, level: int) -> None:
        self.calls += 1
        self.loose += int(level >= LOOSELY_EMPTY)
        self.strict += int(level >= EMPTY)
        if level == HAS_DATA:
            self.with_data += 1
            shape = result_shape(result)
            self.shapes[shape] = self.shapes.get(shape, 0) + 1
            if isinstance(result, dict):
                for key in result:
                    key = str(key)
                    if key in self.keys or len(self.keys) < MAX_TRACKED_KEYS:
                        self.keys[key] = self.keys.get(key, 0) + 1

    def merge(self, other: ResultBaseline) -> None:
        self.calls += other.calls
        self.loose += other.loose
        self.strict += other.strict
        self.with_data += other.with_data
        for shape, count in other.shapes.items():
            self.shapes[shape] = self.shapes.get(shape, 0) + count
        for key, count in other.keys.items():
            if key in self.keys or len(self.keys) < MAX_TRACKED_KEYS:
                self.keys[key] = self.keys.get(key, 0) + count

    def others(self, level: int) -> tuple[int, int]:
        """``(calls, empties at ≥ level)`` among the *other* calls, for judging one empty call."""
        empties = self.strict if level >= EMPTY else self.loose
        if empties > 0:
            return self.calls - 1, empties - 1
        return self.calls, empties

    def well_formed(self, result: Any) -> bool:
        """An empty result in one of the tool's own shapes: the way the tool says "nothing found", as opposed
        to a bare ``{}``/``""``/``null`` or a foreign body. Its type is one the tool's results with data take
        at least :data:`FAMILIAR_SHARE` of the time (a tool may answer in two shapes); an object also shares
        a key with most of them, or uses only keys they use often."""
        if not self.shapes:
            return False
        shape = result_shape(result)
        seen = sum(self.shapes.values())
        if self.shapes.get(shape, 0) < max(FAMILIAR_SHARE * seen, 1):
            return False
        if isinstance(result, dict):
            objects = self.shapes.get("object", 0)
            keys = [str(k) for k in result]
            usual = any(self.keys.get(k, 0) * 2 >= objects for k in keys)
            familiar = bool(keys) and all(self.keys.get(k, 0) >= FAMILIAR_SHARE * objects for k in keys)
            return usual or familiar
        return True


FAMILIAR_SHARE = 0.1
"""A result shape, or an object key, the tool's results with data use at least this often is its own."""


# --- spans -------------------------------------------------------------------------------------------


def explicit_error(span: Span) -> bool:
    """The source itself marked the span as an error (not inferred by tracemine from exception events)."""
    return span.status == Status.ERROR and span.status_source == StatusSource.EXPLICIT


def reported_status(span: Span) -> str:
    """The status the source reported: ``ok``, ``unset`` or ``error`` (inferred errors read as unset)."""
    if span.status == Status.ERROR and span.status_source != StatusSource.EXPLICIT:
        return Status.UNSET.value
    return span.status.value


def exception_events(span: Span) -> list[tuple[str, str]]:
    """``(type, message)`` of each exception event the span recorded."""
    found = []
    for event in span.events or ():
        attrs = event.get("attributes") or {}
        name = str(event.get("name") or "")
        etype = attrs.get("exception.type")
        if name.lower() == "exception" or etype is not None:
            found.append((str(etype or name), str(attrs.get("exception.message") or "")))
    return found


def error_description(span: Span) -> str:
    """The best short description of a span's error: status message, else its exception event."""
    if span.status_message:
        return excerpt(span.status_message, 160)
    events = exception_events(span)
    if events:
        etype, message = events[-1]
        return excerpt(f"{etype}: {message}" if message else etype, 160)
    attrs = span.attributes or {}
    if attrs.get("error.type"):
        return excerpt(str(attrs["error.type"]), 160)
    if span.tool_result:
        return excerpt(span.tool_result, 160)
    return "error status"


# --- agent output -------------------------------------------------------------------------------------


def strings_in(value: Any, limit: int = 20000) -> str:
    """All leaf strings of a decoded value joined by newlines (text of a message list, for example)."""
    out: list[str] = []
    stack = [decode_value(value) if isinstance(value, str) else value]
    size = 0
    while stack and size < limit:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            size += len(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
    return "\n".join(out)


_TEXT_KEYS = ("content", "text", "parts", "message", "output", "value")


def output_text(value: Any) -> str:
    """The text of an output: the last message's content for chat-message lists (GenAI ``parts``, OpenAI
    ``content``, serialised LangChain messages, a LangGraph ``{"messages": [...]}`` state), a structure's
    leaf strings otherwise, the text itself when it is plain."""
    decoded = decode_value(value) if isinstance(value, str) else value
    if isinstance(decoded, str):
        return decoded
    messages = chat_messages(decoded)
    if messages:
        last = messages[-1]
        return "\n".join(_part_texts([last[k] for k in _TEXT_KEYS if k in last])) or strings_in(last)
    return strings_in(decoded)


def spoken_text(value: Any) -> str:
    """What an LLM output *says*: its message text, without the tool calls it requests (``""`` for a turn
    that only calls tools; their arguments are no words to the user)."""
    decoded = decode_value(value) if isinstance(value, str) else value
    messages = chat_messages(decoded)
    if messages:
        last = messages[-1]
        return "\n".join(_part_texts([last[k] for k in _TEXT_KEYS if k in last]))
    return output_text(decoded)


_LC_ROLES = {"ai": "assistant", "aimessage": "assistant", "aimessagechunk": "assistant", "human": "user",
             "humanmessage": "user", "system": "system", "systemmessage": "system", "tool": "tool",
             "toolmessage": "tool", "function": "tool", "functionmessage": "tool"}


def chat_messages(value: Any) -> list[dict[str, Any]] | None:
    """``value`` as a list of chat messages with a ``role``, or ``None``: one message or a list of them
    (OpenAI / GenAI shapes), serialised LangChain messages (``{"lc": 1, "id": [..., "AIMessage"], "kwargs":
    {...}}``) and a LangGraph state ``{"messages": [...]}``."""
    if isinstance(value, dict) and isinstance(value.get("messages"), list) and len(value) <= 3:
        value = value["messages"]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        return None
    out = []
    for message in value:
        if not isinstance(message, dict):
            return None
        if "role" in message:
            out.append(message)
            continue
        kwargs = message.get("kwargs") if isinstance(message.get("kwargs"), dict) else None
        fields = kwargs if kwargs is not None else message
        ids = message.get("id") if isinstance(message.get("id"), list) else []
        kind = str(fields.get("type") or (ids[-1] if ids else "")).casefold()
        role = _LC_ROLES.get(kind)
        if role is None or not any(k in fields for k in _TEXT_KEYS):
            return None
        out.append({"role": role, **{k: fields[k] for k in _TEXT_KEYS if k in fields}})
    return out


def _part_texts(value: Any) -> list[str]:
    """Texts of message content: strings, and the ``content``/``text`` of part objects (not their type)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _part_texts(item)]
    if isinstance(value, dict):
        return [t for key in _TEXT_KEYS if key in value for t in _part_texts(value[key])]
    return []


_ADMITS_FAILURE = re.compile(
    r"\b(?:sorry|unfortunately|apolog(?:y|ies|i[sz]e[sd]?)|couldn['’]?t|could not|unable to"
    r"|can(?:no|['’])t (?:complete|finish|process|do|reach|connect|access|load|retrieve|list|get through)"
    r"|not able to|failed|failure|went wrong|try again later|an error|error occurred|timed out"
    r"|not (?:responding|reachable)|(?:is|was|are|were) (?:currently |temporarily )?(?:down|unreachable)"
    r"|(?:currently|temporarily) unavailable|have to stop|had to stop)\b",
    re.IGNORECASE,
)


def admits_failure(text: str) -> bool:
    """A final answer that tells the user the task failed (apology, "couldn't", "failed", "try again")."""
    return bool(text) and bool(_ADMITS_FAILURE.search(text))


def gave_up_on(view: Any) -> Any:
    """The tool call the run gave up on, or ``None``: the last call whose status or result reports a
    failure, when no later call retried its tool or failed too, and the final answer admits failure — or,
    for the run's last call, no final answer is on record (OpenAI Agents SDK ``response`` spans carry
    none). When other work came after it (paging someone, checking a status: no recovery of it), the
    agent's words right after the call must admit the failure too: the agent saw the call fail, did
    nothing more about it and said so."""
    key = ("gave_up_on",)
    if key not in view.memo:
        view.memo[key] = _gave_up_on(view)
    return view.memo[key]


def _gave_up_on(view: Any) -> Any:
    calls = view.tool_calls
    failed = [i for i, c in enumerate(calls) if explicit_error(c.span) or call_failure(c) is not None]
    if not failed:
        return None
    call = calls[failed[-1]]
    if any(c.tool == call.tool for c in calls[failed[-1] + 1:]):
        return None  # tried again: judged by what came of the retry
    answer = final_answer(view)
    if call is calls[-1]:
        return call if not answer.strip() or admits_failure(answer) else None
    # other work came after it: the agent's own reaction to it (its words before the next call) says it
    # failed, and so does the final answer; a reaction claiming success is carrying on as if it worked
    reaction = [spoken_text(t.output_text) for t in turns_after(view, call)[0]]
    return call if admits_failure(answer) and any(admits_failure(text) for text in reaction) else None


def gave_up_after(view: Any, call: Any) -> bool:
    """Whether ``call`` is the one the run gave up on (:func:`gave_up_on`)."""
    return call is not None and gave_up_on(view) is call


_TELLS_MISS = re.compile(
    r"\bcan(?:no|['’])?t\s+(?:seem\s+to\s+)?(?:find|locate)\b|\bcould\s*n?[o'’]?t\s+(?:find|locate)\b"
    r"|\bdid\s*(?:n['’]?t|\s+not)\s+(?:find|locate|turn\s+up|return\s+any)\b"
    r"|\bno\s+(?:[\w-]+\s+){1,3}(?:on|in)\s+(?:record|file|our\s+records|the\s+system)\b"
    r"|\bthere(?:'s|’s|\s+is)\s+no\b|\bnothing\s+(?:was\s+)?(?:found|matched|came\s+up)\b"
    r"|\b(?:found|returned)\s+(?:no|nothing|zero)\b|\b(?:zero|0)\s+(?:results|matches|hits)\b"
    r"|\bno\s+matching\s+\w+|\bno\s+(?:[\w-]+\s+){0,2}(?:were|was)\s+found\b|\bno\s+longer\s+exists?\b"
    r"|\bthere\s+(?:are|were|was|is)\s*(?:n['’]?t|\s+no)\b"  # there are no / there weren't any
    r"|\b(?:do|does|did)\s*(?:n['’]?t|\s+not)\s+(?:see|have|show|contain|list)\s+any\b"  # I don't see any
    r"|\b(?:was|were)\s*(?:n['’]?t|\s+not)\s+able\s+to\s+(?:find|locate)\b"
    r"|\bcame\s+back\s+empty\b|\breturned\s+(?:an?\s+)?empty\b|\bempty\s+(?:result|response|list)s?\b"
    r"|\bnone\s+(?:of\s+(?:the\s+)?\w+\s+)?(?:match|matched|matches|were\s+found|exists?)\b"
    r"|\bnothing\b[^.\n]{0,40}\b(?:match|matches|matched|found)\b"
    r"|\bno\s+(?:record|sign|trace|mention)s?\s+of\b"
    r"|\b(?:has|have|had)\s+no\s+(?:open|active|matching|existing|recent|current|pending|new|such)\b"
    r"|\bno\s+(?:open|active|existing|recent|current|pending|new)\s+[\w-]+",
    re.IGNORECASE,
)
"""How an agent tells the user that a lookup or search found nothing, in its own words."""


def bare_not_found(failure: Failure) -> bool:
    """A failure that says "not found" without naming what (HTTP 404/410, ``Resource not found``): an
    answer only when the agent treats it as one (used anyway: ``ignored_not_found``; reported: handled)."""
    if failure.mechanism == "http_status":
        return bool(re.match(r"HTTP (?:404|410)\b", failure.reason))
    return bool(_NOT_FOUND.search(failure.reason[:300]))


def says_missing(result: Any, text: str | None, failure: Failure | None, args: Any = None) -> bool:
    """A lookup's result that, whatever else it is, means "nothing there": empty or null in any shape, a
    found/exists flag that is false, HTTP 404/410, or an error or message saying not found, named or not."""
    if lookup_miss(result, text, args) is not None or (emptiness(result, text) or HAS_DATA) > HAS_DATA:
        return True
    return failure is not None and bare_not_found(failure)


def reports_miss(view: Any, call: Any) -> bool:
    """The agent told the user that a lookup found nothing: says not found / no such / does not exist /
    can't find right after the call (:func:`reports_miss_next`), or later — a model turn or the final
    answer — naming what the call looked up (one of its argument values: a miss reported later without
    naming it may be another call's). Handling a miss this way (asking, stopping, reporting it) makes it an
    answer; using the value anyway is ``ignored_not_found``."""
    if reports_miss_next(view, call):
        return True
    values = arg_values(call.args)
    after = [t.output_text for t in view.llm_turns if span_order_key(t.span) > span_order_key(call.span)]
    texts = [output_text(text) for text in after] + [final_answer(view)]
    return any(text and (_NOT_FOUND.search(text) or _TELLS_MISS.search(text))
               and any(v in text.casefold() for v in values) for text in texts)


def turns_after(view: Any, call: Any) -> tuple[list[Any], bool]:
    """The model turns between ``call`` and the next tool call (to the end of the trace when none follows),
    and whether a tool call follows: the agent's immediate reaction to the call's answer."""
    start = span_order_key(call.span)
    following = [c for c in view.tool_calls if span_order_key(c.span) > start]
    end = span_order_key(following[0].span) if following else None
    turns = [t for t in view.llm_turns if span_order_key(t.span) > start and (end is None or span_order_key(t.span) < end)]
    return turns, end is not None


def reports_miss_next(view: Any, call: Any) -> bool:
    """The agent said nothing was found right after the call: a model turn between it and the next tool
    call, or the final answer when no tool call follows (a miss reported later may be another call's)."""
    turns, followed = turns_after(view, call)
    texts = [output_text(t.output_text) for t in turns]
    if not followed:
        texts.append(final_answer(view))
    return any(text and (_NOT_FOUND.search(text) or _TELLS_MISS.search(text)) for text in texts)


def reaction_hidden(view: Any, call: Any) -> bool:
    """Whether the agent's reaction to the call was recorded without its content: model turns follow it
    (before the next tool call) but none kept an output, and no final answer is on record when no tool
    call follows — as OpenAI Agents SDK ``response`` spans are exported. What the agent made of the answer
    cannot be read either way. (A trace with no model turns at all is tool-level instrumentation: nothing
    was hidden.)"""
    turns, followed = turns_after(view, call)
    if not turns or any((t.output_text or "").strip() for t in turns):
        return False
    return followed or not final_answer(view).strip()


def final_answer(view: Any) -> str:
    """The agent's final answer: the root's output text, else the last LLM turn's output text."""
    root = view.root
    if root is not None and root.kind == SpanKind.AGENT and root.output:
        return output_text(root.output)
    if view.llm_turns:
        return output_text(view.llm_turns[-1].output_text)
    return ""
