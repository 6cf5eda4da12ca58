"""The LLM summariser: one litellm chat completion per :class:`~tracemine.summarise.base.Brief`.

:class:`LLMSummariser` builds a bounded, fenced prompt (:mod:`tracemine.summarise.prompts`), checks the
run's budgets (:mod:`tracemine.summarise.budget`: calls, tokens, cost, the overall deadline, the circuit
breaker) *before* calling, calls ``litellm.completion`` with retries (exponential backoff with jitter,
bounded by the deadline) on rate limits, timeouts, connection and server errors — never on
authentication, missing credentials, bad requests, unknown models or context-window errors
(:func:`is_transient_error`) — and validates the JSON answer with pydantic. Each attempt runs in a
daemon thread and is abandoned after ``timeout_s`` (or what is left of ``deadline_s``), so an endpoint
that never answers cannot hang the run. Exemplar refs the
answer cites are kept only when they were shown in the prompt; the text of the answer is redacted again
and id-like hex strings in it are masked (citations never come from summariser text).

Failures raise subclasses of :class:`~tracemine.summarise.budget.SummariseError`
(:class:`~tracemine.summarise.budget.BudgetExceeded`, :class:`LLMCallError`, :class:`LLMOutputError`);
:func:`tracemine.summarise.recursive.summarise_tree` catches them and falls back to the offline summary.

litellm is imported lazily (importing it costs ~5 s), with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first
so it never fetches a price list. The API key is read from the environment variable named by
``api_key_env`` and is never logged or shown.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from tracemine.redact import Redactor
from tracemine.summarise.base import Brief, Summary
from tracemine.summarise.budget import Budget, BudgetExceeded, CircuitOpen, DeadlinePassed, SummariseError
from tracemine.summarise.llm_output import check_summary
from tracemine.summarise.prompts import Prompt, build_prompt, mask_ids, token_counter_for

__all__ = [
    "BudgetExceeded",
    "CircuitOpen",
    "DeadlinePassed",
    "LLMAnswer",
    "LLMCallError",
    "LLMOutputError",
    "LLMSettings",
    "LLMSettingsError",
    "LLMSummariser",
    "SummariseError",
    "import_litellm",
    "is_transient_error",
    "mask_ids",
    "parse_json_object",
]

log = logging.getLogger(__name__)

_litellm: Any = None
_litellm_lock = threading.Lock()


def import_litellm() -> Any:
    """Import litellm on first use (``LITELLM_LOCAL_MODEL_COST_MAP=True`` set before, unless the
    environment already says otherwise). Raises :class:`LLMCallError` when the ``llm`` extra is missing."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _litellm_lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            try:
                import litellm
            except ImportError as exc:  # pragma: no cover - the dev install has it
                raise LLMCallError(
                    "litellm is not installed: pip install 'tracemine[llm]'", cause="ImportError"
                ) from exc
            litellm.suppress_debug_info = True
            if hasattr(litellm, "telemetry"):
                litellm.telemetry = False
            _litellm = litellm
    return _litellm


# ------------------------------------------------------------------------------------------ errors


class LLMSettingsError(ValueError):
    """The ``summarise.llm`` settings do not validate (or the key's environment variable is unset)."""


class LLMCallError(SummariseError):
    """The completion call failed (after retries for transient errors; at once for auth/bad request).
    ``cause`` is the exception class name (``RateLimitError``, ``AuthenticationError`` …)."""

    reason = "call failed"

    def __init__(self, message: str, cause: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.cause = cause
        self.retryable = retryable


class LLMOutputError(SummariseError):
    """The answer was not one JSON object with the required fields."""

    reason = "invalid output"


class LLMTimeout(TimeoutError):
    """An attempt gave no answer within its time (``timeout_s``, or what was left of ``deadline_s``)."""


# ---------------------------------------------------------------------------------------- settings

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LLMSettings(BaseModel):
    """The ``summarise.llm`` section of the configuration (see ``configs/default.yaml``).

    Budgets: ``None`` means no limit, ``0`` means no call. ``model: null`` means no LLM (offline only).
    ``timeout_s`` bounds one attempt, ``deadline_s`` the whole LLM stage of a run (``None``: no deadline);
    after ``max_consecutive_failures`` failed calls in a row (``None``: never) the rest are offline.
    """

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    timeout_s: float = Field(60.0, gt=0.0, le=3600.0)
    deadline_s: float | None = Field(900.0, gt=0.0)
    max_consecutive_failures: int | None = Field(3, ge=1)
    retries: int = Field(4, ge=0, le=20)
    max_output_tokens: int = Field(700, ge=64, le=64_000)
    max_calls: int | None = Field(80, ge=0)
    max_input_tokens: int | None = Field(200_000, ge=0)
    max_cost_usd: float | None = Field(2.0, ge=0.0)
    prompt_tokens: int = Field(1800, ge=500, le=1_000_000)
    leaf_exemplars: int = Field(4, ge=1, le=50)
    exemplar_chars: int = Field(400, ge=60, le=20_000)
    summarise_leaves: bool = True
    overview: bool = True

    @field_validator("model", "api_base", "api_key_env", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            return None
        return v.strip() if isinstance(v, str) else v

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_NAME.match(v):
            # never echo the value: it may be a key pasted into the wrong setting
            raise ValueError(
                "must be the NAME of an environment variable holding the key (letters, digits, _), "
                "not the key itself"
            )
        return v

    @classmethod
    def from_settings(cls, settings: Any = None) -> LLMSettings:
        """Build from ``None`` (defaults), an :class:`LLMSettings`, the whole configuration
        (:class:`tracemine.config.Settings` or a mapping with ``summarise.llm``), the ``summarise`` section
        or the ``llm`` section itself. Raises :class:`LLMSettingsError` with every problem, by key."""
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        data: Any = settings
        if hasattr(data, "model_dump"):
            data = data.model_dump()
        elif not isinstance(data, Mapping) and hasattr(data, "summarise"):
            data = {"summarise": data.summarise}
        if not isinstance(data, Mapping):
            raise LLMSettingsError(f"summarise.llm settings: expected a mapping, got {type(data).__name__}")
        prefix = "summarise.llm"
        if isinstance(data.get("summarise"), Mapping):
            data = data["summarise"]
        elif "summarise" in data and data.get("summarise") is None:
            data = {}
        if isinstance(data.get("llm"), Mapping):
            data = data["llm"]
        elif "llm" in data and data.get("llm") is None:
            data = {}
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{prefix}.{'.'.join(str(p) for p in err['loc']) or '?'}: {err['msg']}"
                for err in exc.errors()
            )
            raise LLMSettingsError(f"invalid settings: {problems}") from None


# ------------------------------------------------------------------------------------------ answer

_TITLE_MAX, _SUMMARY_MAX, _MECH_MAX, _FIX_MAX, _REFS_MAX = 160, 2000, 1200, 1200, 20


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


class LLMAnswer(BaseModel):
    """The JSON object an LLM must answer. Over-long texts are truncated; missing or empty required
    fields are invalid."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=3)
    summary: str = Field(min_length=10)
    mechanism: str = Field(min_length=1)
    recommended_fix: str = Field(
        min_length=1,
        validation_alias=AliasChoices("recommended_fix", "recommendedFix", "fix", "recommendation"),
    )
    exemplar_refs: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("exemplar_refs", "exemplarRefs", "refs")
    )

    @field_validator("title")
    @classmethod
    def _t(cls, v: str) -> str:
        return _truncate(" ".join(v.split()), _TITLE_MAX)

    @field_validator("summary")
    @classmethod
    def _s(cls, v: str) -> str:
        return _truncate(v, _SUMMARY_MAX)

    @field_validator("mechanism")
    @classmethod
    def _m(cls, v: str) -> str:
        return _truncate(v, _MECH_MAX)

    @field_validator("recommended_fix")
    @classmethod
    def _f(cls, v: str) -> str:
        return _truncate(v, _FIX_MAX)

    @field_validator("exemplar_refs", mode="before")
    @classmethod
    def _refs(cls, v: Any) -> list[str]:
        if v is None:
            return []
        if isinstance(v, str):
            v = re.split(r"[\s,;]+", v)
        if not isinstance(v, list | tuple):
            raise ValueError("exemplar_refs must be a list of refs")
        return [str(x).strip(" []()\"'") for x in list(v)[:_REFS_MAX] if isinstance(x, str | int)]


_FENCED = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.S)
_MAX_ANSWER_CHARS = 100_000


def parse_json_object(text: str | None) -> dict[str, Any]:
    """The first JSON object in ``text``: inside a code fence when there is one, else anywhere.
    Raises ``ValueError`` when there is none."""
    if not text or not text.strip():
        raise ValueError("empty answer")
    text = text[:_MAX_ANSWER_CHARS]
    candidates = [m.group(1) for m in _FENCED.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for cand in candidates:
        tries = 0
        for m in re.finditer(r"\{", cand):
            tries += 1
            if tries > 50:
                break
            try:
                obj, _ = decoder.raw_decode(cand, m.start())
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(obj, dict):
                return obj
    raise ValueError("no JSON object in the answer")


# ---------------------------------------------------------------------------------------- summariser

_TRANSIENT = (
    "RateLimitError",
    "Timeout",
    "APIConnectionError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
)
_PERMANENT = (
    "AuthenticationError",
    "PermissionDeniedError",
    "BadRequestError",
    "NotFoundError",
    "UnprocessableEntityError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
)
_PERMANENT_TEXT = re.compile(
    r"missing (?:credentials|[\w ]{0,30}api[ _-]?key)|api[ _-]?key (?:client option )?must be set"
    r"|no api[ _-]?key|(?:invalid|incorrect) api[ _-]?key|llm provider not provided",
    re.I,
)
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_GRACE_S = 0.5
"""How long past an attempt's own timeout the watchdog waits for the provider SDK to give up by itself."""


def is_transient_error(exc: BaseException) -> bool:
    """Whether a failed attempt is worth retrying: timeouts, rate limits, connection and server errors
    (5xx, 408/409/425/429) — not authentication, permission, bad requests, unknown models or
    context-window errors, and not a missing key that a provider reports as a server error."""
    if isinstance(exc, LLMTimeout):
        return True
    if isinstance(exc, SummariseError):
        return False
    litellm = import_litellm()
    permanent = tuple(c for n in _PERMANENT if isinstance(c := getattr(litellm, n, None), type))
    if isinstance(exc, permanent) or _PERMANENT_TEXT.search(str(exc)[:2000]):
        return False
    transient = tuple(c for n in _TRANSIENT if isinstance(c := getattr(litellm, n, None), type))
    if isinstance(exc, transient):
        return True
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in _TRANSIENT_STATUS or status >= 500
    return isinstance(exc, TimeoutError | ConnectionError)


def _bounded_call(fn: Callable[..., Any], kwargs: Mapping[str, Any], seconds: float) -> Any:
    """``fn(**kwargs)`` in a daemon thread, abandoned with :class:`LLMTimeout` after ``seconds``: a call
    that blocks (a server that never answers) cannot hold the run, its lock or the interpreter's exit."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["result"] = fn(**kwargs)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="tracemine-llm-call", daemon=True).start()
    if not done.wait(seconds):
        raise LLMTimeout(f"no answer within {seconds:.1f}s")
    if "error" in box:
        raise box["error"]
    return box["result"]


class LLMSummariser:
    """Summarises a :class:`Brief` with one litellm completion. ``name`` is ``llm:<model>``.

    Parameters
    ----------
    settings:
        Anything :meth:`LLMSettings.from_settings` accepts. ``model`` must be set.
    redactor:
        Redacts the answer's text again before it is returned (default: :class:`Redactor` defaults).
    budget:
        A shared :class:`Budget`; by default one is made from the settings' limits. ``usage`` reads it.
    completion:
        Test hook: the function called instead of ``litellm.completion`` (same keyword arguments).
    completion_kwargs:
        Extra keyword arguments for every completion call (tests: ``{"mock_response": "..."}``).
    backoff_initial_s, backoff_max_s, sleep:
        Retry backoff (exponential with full jitter, ``backoff_initial_s·2^n`` capped at
        ``backoff_max_s``) and the sleep function tenacity uses.
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        redactor: Redactor | None = None,
        budget: Budget | None = None,
        completion: Callable[..., Any] | None = None,
        completion_kwargs: Mapping[str, Any] | None = None,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 30.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = LLMSettings.from_settings(settings)
        if not self.settings.model:
            raise LLMSettingsError("summarise.llm.model is not set: there is no LLM to call")
        self.model: str = self.settings.model
        self.name = f"llm:{self.model}"
        self._api_key: str | None = None
        if self.settings.api_key_env:
            key = os.environ.get(self.settings.api_key_env)
            if not key:
                raise LLMSettingsError(
                    f"summarise.llm.api_key_env names ${self.settings.api_key_env}, which is not set"
                )
            self._api_key = key
        self.redactor = redactor or Redactor()
        self.budget = budget or Budget(
            max_calls=self.settings.max_calls,
            max_input_tokens=self.settings.max_input_tokens,
            max_cost_usd=self.settings.max_cost_usd,
            deadline_s=self.settings.deadline_s,
            max_consecutive_failures=self.settings.max_consecutive_failures,
        )
        self._completion = completion
        self._completion_kwargs = dict(completion_kwargs or {})
        self._backoff = (float(backoff_initial_s), float(backoff_max_s))
        self._sleep = sleep
        self._count_tokens = token_counter_for(self.model)
        self._json_mode: bool | None = None
        self._placeholder_key: bool | None = None

    @classmethod
    def from_settings(
        cls, settings: Any, *, redactor: Redactor | None = None, **kwargs: Any
    ) -> LLMSummariser:
        """From the whole configuration (or its ``summarise.llm`` section). Without ``redactor``, one is
        built from the configuration's ``redact`` section when it has one."""
        if redactor is None:
            section = None
            if hasattr(settings, "model_dump"):
                section = settings.model_dump().get("redact")
            elif isinstance(settings, Mapping):
                section = settings.get("redact")
            redactor = Redactor.from_settings(section) if isinstance(section, Mapping) else Redactor()
        return cls(settings, redactor=redactor, **kwargs)

    def __repr__(self) -> str:  # never shows the key
        return f"LLMSummariser(model={self.model!r}, api_base={self.settings.api_base!r})"

    # ------------------------------------------------------------------------------ accounting

    @property
    def usage(self) -> dict[str, Any]:
        """``calls``, ``input_tokens``, ``output_tokens``, ``cost_usd`` so far (plus ``attempts``,
        ``failed_attempts`` and ``budget_reached``: the limit that stopped calls, or ``None``)."""
        return self.budget.usage()

    # ------------------------------------------------------------------------------ summarise

    def build_prompt(self, brief: Brief) -> Prompt:
        """The bounded messages for ``brief`` (no call)."""
        s = self.settings
        return build_prompt(
            brief,
            prompt_tokens=s.prompt_tokens,
            leaf_exemplars=s.leaf_exemplars,
            exemplar_chars=s.exemplar_chars,
            count_tokens=self._count_tokens,
        )

    def summarise(self, brief: Brief) -> Summary:
        """One completion for ``brief``. Raises :class:`BudgetExceeded` (no call made; also
        :class:`DeadlinePassed` and :class:`CircuitOpen`), :class:`LLMCallError` or :class:`LLMOutputError`.
        A failed call counts no tokens and no cost, and counts towards the circuit breaker."""
        prompt = self.build_prompt(brief)
        reservation = self.budget.reserve(prompt.tokens, self._estimate_cost(prompt.tokens))
        log.debug(
            "LLM call for a %s node: %d prompt tokens%s",
            brief.level,
            prompt.tokens,
            f" (trimmed: {', '.join(prompt.trimmed)})" if prompt.trimmed else "",
        )
        try:
            response = self._call(prompt.messages)
        except BaseException as exc:
            self.budget.release(reservation)
            if isinstance(exc, LLMCallError):
                self.budget.record_call(ok=False, failure=str(exc)[:160])
            raise
        self.budget.record_call(ok=True)
        in_tok, out_tok = _usage_tokens(response)
        self.budget.settle(reservation, in_tok, out_tok or 0, self._cost(response))
        content = _content(response)
        try:
            answer = LLMAnswer.model_validate(parse_json_object(content))
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) if e["loc"] else "?" for e in exc.errors()}))
            raise LLMOutputError(f"the answer does not match the schema (fields: {fields})") from None
        except ValueError as exc:
            raise LLMOutputError(f"the answer is not JSON: {exc}") from None
        return check_summary(self._to_summary(answer, prompt), brief)  # ids it does not cite: removed

    def _to_summary(self, answer: LLMAnswer, prompt: Prompt) -> Summary:
        allowed = {r.upper(): r for r in prompt.refs}
        refs: list[str] = []
        for ref in answer.exemplar_refs:
            known = allowed.get(ref.upper())
            if known is not None and known not in refs:
                refs.append(known)
        dropped = len(answer.exemplar_refs) - len(refs)
        if dropped:
            log.debug("dropped %d unknown or repeated exemplar refs from an LLM answer", dropped)

        def clean(text: str) -> str:
            return self.redactor.redact(text)  # ids are checked against the brief by check_summary

        return Summary(
            title=clean(answer.title),
            summary=clean(answer.summary),
            mechanism=clean(answer.mechanism),
            recommended_fix=clean(answer.recommended_fix),
            exemplar_refs=refs,
            summariser=self.name,
        )

    # ------------------------------------------------------------------------------ the call

    def _kwargs(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": s.max_output_tokens,
            "timeout": s.timeout_s,
            "max_retries": 0,  # retries are ours (tenacity), not the provider SDK's
            "drop_params": True,
        }
        if s.api_base:
            kwargs["api_base"] = s.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        elif s.api_base and self._needs_placeholder_key():
            kwargs["api_key"] = "none"  # a local endpoint: the provider SDK insists on some key
        if self._supports_json_mode():
            kwargs["response_format"] = {"type": "json_object"}
        kwargs.update(self._completion_kwargs)
        return kwargs

    def _supports_json_mode(self) -> bool:
        if self._json_mode is None:
            try:
                params = import_litellm().get_supported_openai_params(model=self.model) or []
                self._json_mode = "response_format" in params
            except Exception:
                self._json_mode = False
        return self._json_mode

    def _needs_placeholder_key(self) -> bool:
        """With ``api_base`` and no key anywhere (a local OpenAI-compatible server), send a placeholder."""
        if self._placeholder_key is None:
            try:
                env = import_litellm().validate_environment(model=self.model, api_base=self.settings.api_base)
                self._placeholder_key = not env.get("keys_in_environment", True)
            except Exception:
                self._placeholder_key = False
        return self._placeholder_key

    def _attempt_seconds(self) -> float:
        """This attempt's time: ``timeout_s``, or less when the deadline is nearer."""
        remaining = self.budget.remaining_s()
        if remaining is None:
            return self.settings.timeout_s
        return max(0.01, min(self.settings.timeout_s, remaining))

    def _pause(self, seconds: float) -> None:
        """Backoff between attempts, never past the deadline."""
        remaining = self.budget.remaining_s()
        if remaining is not None:
            seconds = max(0.0, min(seconds, remaining))
        (self._sleep or time.sleep)(seconds)

    def _call(self, messages: list[dict[str, str]]) -> Any:
        import tenacity

        litellm = import_litellm()
        completion = self._completion or litellm.completion
        kwargs = self._kwargs(messages)
        override = "timeout" in self._completion_kwargs

        def attempt() -> Any:
            self.budget.check_deadline()
            seconds = self._attempt_seconds()
            if not override:
                kwargs["timeout"] = seconds
            try:
                result = _bounded_call(completion, kwargs, seconds + _GRACE_S)
            except Exception:
                self.budget.record_attempt(failed=True)
                raise
            self.budget.record_attempt()
            return result

        initial, cap = self._backoff
        retrying_kwargs: dict[str, Any] = {
            "stop": tenacity.stop_after_attempt(self.settings.retries + 1),
            "wait": tenacity.wait_random_exponential(multiplier=initial, max=cap),
            "retry": tenacity.retry_if_exception(is_transient_error),
            "reraise": True,
            "before_sleep": lambda rs: log.info(
                "LLM call failed (%s), retry %d of %d",
                type(rs.outcome.exception()).__name__ if rs.outcome else "?",
                rs.attempt_number,
                self.settings.retries,
            ),
        }
        retrying_kwargs["sleep"] = self._pause
        try:
            return tenacity.Retrying(**retrying_kwargs)(attempt)
        except BudgetExceeded:
            raise  # the deadline passed between attempts
        except Exception as exc:
            name = type(exc).__name__
            detail = self.redactor.redact(" ".join(str(exc).split()))[:300]
            if self._api_key and self._api_key in detail:  # pragma: no cover - belt and braces
                detail = detail.replace(self._api_key, "[REDACTED:api_key]")
            raise LLMCallError(f"{name}: {detail}", cause=name, retryable=is_transient_error(exc)) from None

    # ------------------------------------------------------------------------------ cost

    def _estimate_cost(self, prompt_tokens: int) -> float:
        """Worst-case cost of a call (prompt plus ``max_output_tokens``), 0 when the price is unknown."""
        try:
            inp, out = import_litellm().cost_per_token(
                model=self.model,
                prompt_tokens=prompt_tokens,
                completion_tokens=self.settings.max_output_tokens,
            )
            return float(inp) + float(out)
        except Exception:
            return 0.0

    def _cost(self, response: Any) -> float:
        try:
            return float(import_litellm().completion_cost(completion_response=response) or 0.0)
        except Exception:
            return 0.0


def _usage_tokens(response: Any) -> tuple[int | None, int | None]:
    usage = getattr(response, "usage", None)
    if usage is None and isinstance(response, Mapping):
        usage = response.get("usage")
    if usage is None:
        return None, None

    def get(name: str) -> int | None:
        v = usage.get(name) if isinstance(usage, Mapping) else getattr(usage, name, None)
        return int(v) if isinstance(v, int | float) else None

    return get("prompt_tokens"), get("completion_tokens")


def _content(response: Any) -> str:
    try:
        choices = response["choices"] if isinstance(response, Mapping) else response.choices
        first = choices[0]
        message = first["message"] if isinstance(first, Mapping) else first.message
        content = message["content"] if isinstance(message, Mapping) else message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        raise LLMOutputError("the response has no message content") from None
    if not isinstance(content, str):
        raise LLMOutputError("the response has no text content")
    return content
