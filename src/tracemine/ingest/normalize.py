"""Normalisation of ids, times and numbers as they appear in trace files.

Every function here accepts whatever a file contains (str, int, float, bytes, None, nested junk) and
returns a normalised value or ``None``; none of them raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import re
import uuid
from functools import lru_cache
from typing import Any

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$"
)

TRACE_ID_HEX_LEN = 32
SPAN_ID_HEX_LEN = 16


_ID_CACHES: dict[int, dict[str, str | None]] = {}
_ID_CACHE_LIMIT = 200_000


def normalize_id(value: Any, hex_len: int = SPAN_ID_HEX_LEN) -> str | None:
    """:func:`normalize_id_uncached` with a bounded cache for string ids (trace and parent ids repeat
    across the spans of a trace), one per target length."""
    if type(value) is not str:
        return normalize_id_uncached(value, hex_len)
    cache = _ID_CACHES.get(hex_len)
    if cache is None:
        cache = _ID_CACHES[hex_len] = {}
    cached = cache.get(value, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    if len(cache) >= _ID_CACHE_LIMIT:
        cache.clear()
    result = cache[value] = normalize_id_uncached(value, hex_len)
    return result


_MISSING = object()


def normalize_id_uncached(value: Any, hex_len: int = SPAN_ID_HEX_LEN) -> str | None:
    """Return a canonical id string, or ``None`` for empty/zero/unusable ids.

    Binary ids (bytes, base64 of 8/16 bytes, integers) become lowercase hex padded to ``hex_len``;
    hex strings are lowercased; UUIDs become 32 lowercase hex digits; anything else is kept verbatim
    (stripped) so prefixed ids such as ``span_abc`` still join parents to children.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value <= 0:
            return None
        text = format(value, "x")
        return text.rjust(hex_len, "0") if len(text) <= hex_len else text
    if isinstance(value, float):
        return None
    if isinstance(value, bytes | bytearray):
        if not value or not any(value):
            return None
        return value.hex()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _HEX.match(text):
        return text.lower() if text.strip("0") else None
    if len(text) == 36 and _UUID.match(text):
        return uuid.UUID(text).hex
    if len(text) in (12, 24) and _B64.match(text):
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) in (8, 16):
            return None if not any(raw) else raw.hex()
    return text


def stable_id(*parts: Any, length: int = SPAN_ID_HEX_LEN) -> str:
    """A deterministic hex id from ``parts``, for sources that have no ids (τ-bench, SWE-agent, Inspect)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "replace")).hexdigest()
    return digest[:length]


def raw_id(value: Any) -> str | None:
    """The id as the source spelt it, for display and round-tripping."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, bytes | bytearray):
        return value.hex()
    text = str(value)
    return text if text else None


@lru_cache(maxsize=65536)
def _epoch_seconds(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0))


_MINUTE_CACHE: dict[str, int | None] = {}


def _minute_base(prefix: str) -> int | None:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM`` (cached: a trace archive has few distinct minutes)."""
    base = _MINUTE_CACHE.get(prefix, -1)
    if base != -1:
        return base
    if len(_MINUTE_CACHE) > 100_000:
        _MINUTE_CACHE.clear()
    try:
        if prefix[4] != "-" or prefix[7] != "-" or prefix[10] not in "Tt " or prefix[13] != ":":
            raise ValueError(prefix)
        value: int | None = _epoch_seconds(
            int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10]), int(prefix[11:13]), int(prefix[14:16])
        )
    except (ValueError, OverflowError):
        value = None
    _MINUTE_CACHE[prefix] = value
    return value


def _parse_iso_fast(text: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)`` by slicing (the common case, several times faster than the regex)."""
    if len(text) < 19 or text[16] != ":":
        return None
    base = _minute_base(text[:16])
    seconds = text[17:19]
    if base is None or not seconds.isdigit():
        return None
    rest = text[19:]
    nanos = 0
    offset = 0
    if rest and rest[0] in ".,":
        last = rest[-1]
        if last in "Zz":
            frac, zone = rest[1:-1], ""
        elif len(rest) > 7 and rest[-6] in "+-" and rest[-3] == ":":
            frac, zone = rest[1:-6], rest[-6:]
        else:
            frac, zone = rest[1:], ""
        if not frac.isdigit():
            return None
        nanos = int(frac[:9].ljust(9, "0"))
    elif rest in ("Z", "z", ""):
        zone = ""
    else:
        zone = rest
    if zone:
        if len(zone) != 6 or zone[0] not in "+-" or zone[3] != ":" or not (zone[1:3] + zone[4:6]).isdigit():
            return None
        offset = (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * (-1 if zone[0] == "-" else 1)
    return (base + int(seconds) - offset) * 1_000_000_000 + nanos


def _parse_iso(text: str) -> int | None:
    fast = _parse_iso_fast(text)
    if fast is not None:
        return fast
    m = _ISO.match(text)
    if not m:
        return None
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59):
        return None
    try:
        base = _epoch_seconds(year, month, day, hour, minute)
    except (ValueError, OverflowError):
        return None
    sec = int(m.group(6) or 0)
    frac = m.group(7) or ""
    nanos = int((frac + "000000000")[:9]) if frac else 0
    offset = 0
    zone = m.group(8)
    if zone and zone not in ("Z", "z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)
    return (base + sec - offset) * 1_000_000_000 + nanos


_BEYOND = 2**63  # an infinite time: past any bound (ingest quarantines it), and not an int64


def _scale_number(number: float | int) -> int | None:
    """Guess the unit of an epoch number by magnitude (s, ms, µs, ns) and return nanoseconds.

    Zero (OTLP's "unset") and NaN are ``None``. A negative number, or one too small to be an epoch time
    in any unit, is returned (as nanoseconds) rather than dropped, so ingest can quarantine the span
    instead of timing it otherwise (:func:`tracemine.ingest.limits.time_problem`)."""
    if number != number or number == 0:  # NaN or unset
        return None
    magnitude = abs(number)
    if magnitude >= 1e17:
        return int(number) if magnitude < 1e30 else (_BEYOND if number > 0 else -_BEYOND)
    if magnitude >= 1e14:
        return int(number * 1_000)
    if magnitude >= 1e11:
        return int(number * 1_000_000)
    if magnitude >= 1e8:
        return round(number * 1_000_000_000)
    return int(number)


def to_ns(value: Any) -> int | None:
    """Parse a timestamp (ns/µs/ms/s number, numeric string, ISO-8601 text) to epoch nanoseconds;
    ``None`` when there is none (or it is not a time at all). Impossible values come back as they are."""
    if type(value) is str and value.isdigit():  # the common OTLP case, before the general checks
        return _scale_number(int(value))
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _scale_number(value)
    if isinstance(value, float):
        return _scale_number(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0].isdigit() and text.isdigit():
            return _scale_number(int(text))
        parsed = _parse_iso(text)
        if parsed is not None:
            return parsed
        try:
            return _scale_number(float(text))
        except ValueError:
            return None
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        # OpenTelemetry-JS HrTime: [seconds, nanoseconds]
        return value[0] * 1_000_000_000 + value[1]
    return None


_SECOND_CACHE: dict[str, int | None] = {}


def iso_z_ns(value: Any) -> int | None:
    """:func:`to_ns` with a shortcut for ``YYYY-MM-DDTHH:MM:SS.f…Z`` (how OTel SDKs and HALO write times):
    the whole-second prefix is parsed once (by the same code, so results are identical) and cached, and
    only the fraction is parsed per value. Anything else goes to :func:`to_ns`."""
    if type(value) is str and len(value) == 30 and value[19] == "." and value[29] == "Z":
        # nanosecond precision, the usual case: the fraction is exactly nine digits
        base = _SECOND_CACHE.get(value[:19], -1)
        frac = value[20:29]
        if base is not None and base != -1 and frac.isdigit():
            return base + int(frac)
    if type(value) is str and len(value) > 21 and value[19] == "." and value[-1] == "Z" and value[0].isdigit():
        prefix = value[:19]
        base = _SECOND_CACHE.get(prefix, -1)
        if base == -1:
            if len(_SECOND_CACHE) > 100_000:
                _SECOND_CACHE.clear()
            base = _SECOND_CACHE[prefix] = _parse_iso_fast(prefix + "Z")
        frac = value[20:-1]
        if base is not None and frac.isdigit():
            return base + int(frac[:9].ljust(9, "0"))
    return to_ns(value)


def duration_to_ns(seconds: Any) -> int | None:
    """A duration in seconds (number or numeric string) as integer nanoseconds."""
    number = to_float(seconds)
    if number is None or number < 0:
        return None
    return round(number * 1_000_000_000)


def to_int(value: Any) -> int | None:
    """An integer count from int/float/numeric string; ``None`` for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e18 else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number == number and abs(number) < 1e18 else None
    return None


def to_float(value: Any) -> float | None:
    """A float from int/float/numeric string; ``None`` for anything else (incl. NaN)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if number == number and abs(number) != float("inf") else None


def to_text(value: Any) -> str | None:
    """A display string for a name-like value; ``None`` for empty values and the text 'None'/'null'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text if text and text not in ("None", "null") else None
    if isinstance(value, bool | int | float):
        return str(value)
    return None
