"""One HTTP client for every publisher: JSON bodies, explicit timeouts, retries, dry runs, masking.

- 429, and 403 carrying ``Retry-After`` (or GitHub's ``X-RateLimit-Remaining: 0``), wait as the server says
  (seconds or an HTTP date), up to ``max_retry_after_s``; a longer wait fails at once rather than hammering.
- A tracker that says "rate limited" otherwise (Linear: a GraphQL ``RATELIMITED`` error; Slack: ``ok: false,
  error: ratelimited``) passes ``rate_limited``, a test on the response: a match waits and retries the same way.
- 5xx, timeouts and connection errors are retried with exponential backoff (tenacity), up to ``retries``.
- A request that may have reached the server before failing (a read timeout on a POST) is reported as
  ``maybe_sent`` so that the caller can look for what it created before trying again.
- In a dry run nothing is sent: each request is recorded (credentials masked) and ``None`` is returned.
- Header values named in ``secret_headers`` and every credential value are masked in anything this module
  returns, raises or logs.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from tracemine.publish.settings import Credentials

log = logging.getLogger("tracemine.publish")

SECRET_HEADERS = frozenset({"authorization", "private-token", "x-tracemine-signature", "cookie"})
USER_AGENT = "tracemine-publish"


@dataclass
class PlannedRequest:
    """A request as it would be (or was) sent, credentials masked."""

    tracker: str
    fingerprint: str
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None

    def render(self) -> str:
        head = f"{self.method} {self.url}"
        lines = [head] + [f"  {k}: {v}" for k, v in self.headers.items()]
        if self.json is not None:
            body = orjson.dumps(self.json, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
            lines += ["  " + line for line in body.splitlines()]
        return "\n".join(lines)


class HttpError(Exception):
    """A request failed for good. The message never holds a credential."""

    def __init__(self, message: str, *, status: int | None = None, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.maybe_sent = maybe_sent


class _Retry(Exception):
    def __init__(self, reason: str, wait_s: float | None = None, status: int | None = None,
                 maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.wait_s = wait_s
        self.status = status
        self.maybe_sent = maybe_sent


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or an HTTP date); ``None`` when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _rate_limit_wait(resp: httpx.Response) -> float | None:
    """How long the server asks us to wait: ``Retry-After``, or GitHub's exhausted primary rate limit."""
    wait = parse_retry_after(resp.headers.get("retry-after"))
    if wait is not None:
        return wait
    if resp.headers.get("x-ratelimit-remaining") == "0" and resp.headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(resp.headers["x-ratelimit-reset"]) - time.time())
        except ValueError:
            return None
    return None


@dataclass
class Http:
    """The shared client. ``sleep`` is injectable so that tests do not wait."""

    credentials: Credentials
    timeout_s: float = 30.0
    retries: int = 5
    max_retry_after_s: float = 120.0
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    dry_run: bool = False
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    planned: list[PlannedRequest] = field(default_factory=list)
    tracker: str = ""
    fingerprint: str = ""
    sent: int = 0
    _client: httpx.Client | None = None
    _blocked_until: float = 0.0
    """Set when the tracker asked for a longer wait than ``max_retry_after_s``: later requests fail at once."""

    def __post_init__(self) -> None:
        if not self.dry_run:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout_s), transport=self.transport, follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def mask(self, text: Any) -> str:
        return self.credentials.mask(text)

    def masked_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for key, value in headers.items():
            if key.lower() in SECRET_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value else ""
                out[key] = f"{scheme} {Credentials.MASK}".strip() if scheme in ("Bearer", "Basic", "token") \
                    else Credentials.MASK
            else:
                out[key] = self.mask(value)
        return out

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        secret_headers: frozenset[str] = frozenset(),
        rate_limited: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response | None:
        """Send one request (with retries) and return its 2xx/3xx/4xx response; ``None`` in a dry run.

        Raises :class:`HttpError` on a 5xx / network failure after the retries, on a rate limit longer than
        ``max_retry_after_s``, and on any other 4xx (with the server's message, masked). ``rate_limited``
        tells a rate-limit answer the tracker gives with another status (retried like a 429).
        """
        headers = dict(headers or {})
        if json is not None and content is None:
            content = orjson.dumps(json)
            headers.setdefault("Content-Type", "application/json")
        full_url = str(httpx.URL(url, params=params)) if params else url
        planned_json = json if json is not None else (orjson.loads(content) if content else None)
        if self.dry_run:
            masked = self.masked_headers({k: v for k, v in headers.items()})
            for name in secret_headers:
                if name in masked:
                    masked[name] = Credentials.MASK
            self.planned.append(PlannedRequest(self.tracker, self.fingerprint, method, self.mask(full_url),
                                               masked, planned_json))
            return None
        assert self._client is not None
        if time.monotonic() < self._blocked_until:
            raise HttpError(f"{method} {self._where(full_url)}: not sent, the tracker rate-limited us for "
                            f"{self._blocked_until - time.monotonic():.0f} s more", status=429)
        if idempotent is None:
            idempotent = method.upper() in ("GET", "PUT", "DELETE", "HEAD", "PATCH")
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retry),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            resp = retrying(self._send_once, method, full_url, headers, content, idempotent, rate_limited)
        except _Retry as exc:
            raise HttpError(self.mask(f"{method} {self._where(full_url)}: {exc} (after {self.retries + 1} attempt(s))"),
                            status=exc.status, maybe_sent=exc.maybe_sent) from None
        if resp.status_code >= 400 and resp.status_code not in (404, 410):
            raise HttpError(self.mask(f"{method} {self._where(full_url)}: HTTP {resp.status_code} {_reason(resp)}"),
                            status=resp.status_code)
        return resp

    def _where(self, url: str) -> str:
        parts = httpx.URL(url)
        return f"{parts.host}{parts.path}"

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retry) and exc.wait_s is not None:
            return exc.wait_s
        attempt = max(1, state.attempt_number)
        return min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1))

    def _send_once(self, method: str, url: str, headers: dict[str, str], content: bytes | None,
                   idempotent: bool, rate_limited: Callable[[httpx.Response], bool] | None = None
                   ) -> httpx.Response:
        assert self._client is not None
        self.sent += 1
        try:
            resp = self._client.request(method, url, headers=headers, content=content)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.debug("%s %s: %s, retrying", method, self.mask(self._where(url)), type(exc).__name__)
            raise _Retry(type(exc).__name__) from None
        except httpx.TransportError as exc:  # read/write timeouts, dropped connections
            if not idempotent:
                # the server may have acted on it: let the caller check before sending it again
                raise HttpError(self.mask(f"{method} {self._where(url)}: {type(exc).__name__}"),
                                maybe_sent=True) from None
            raise _Retry(type(exc).__name__) from None
        status = resp.status_code
        log.debug("%s %s -> %s", method, self.mask(self._where(url)), status)
        if status == 429 or (status == 403 and (resp.headers.get("retry-after")
                                                or resp.headers.get("x-ratelimit-remaining") == "0")) or (
                status < 500 and rate_limited is not None and _says_rate_limited(rate_limited, resp)):
            wait = _rate_limit_wait(resp)
            if wait is not None and wait > self.max_retry_after_s:
                self._blocked_until = time.monotonic() + wait
                raise HttpError(self.mask(f"{method} {self._where(url)}: rate limited (HTTP {status}); the server asks "
                                          f"for {wait:.0f} s, more than max_retry_after_s {self.max_retry_after_s:g}"),
                                status=status)
            raise _Retry(f"rate limited (HTTP {status})", wait_s=wait, status=status)
        if status >= 500:
            wait = parse_retry_after(resp.headers.get("retry-after"))
            raise _Retry(f"HTTP {status} {_reason(resp)}", wait_s=min(wait, self.max_retry_after_s)
                         if wait is not None else None, status=status)
        return resp


def _says_rate_limited(test: Callable[[httpx.Response], bool], resp: httpx.Response) -> bool:
    try:
        return bool(test(resp))
    except ValueError:  # an unreadable body is no rate-limit answer
        return False


def _reason(resp: httpx.Response) -> str:
    """The tracker's own error message, short."""
    text = ""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = []
        for key in ("message", "error", "errorMessages", "errors"):
            value = data.get(key)
            if value:
                parts.append(value if isinstance(value, str) else orjson.dumps(value).decode())
        text = "; ".join(parts)
    if not text:
        text = resp.reason_phrase or resp.text
    text = " ".join(str(text).split())
    return text[:300]
