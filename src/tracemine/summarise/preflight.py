"""Preflight for LLM summaries: checked before a run starts, so a wrong model name or a missing key fails
at once with one line instead of failing every call later.

:func:`preflight` checks that the ``summarise.llm`` settings validate, that litellm knows the model (it can
tell its provider: ``litellm.get_llm_provider``) and that the provider's credentials are present
(``litellm.validate_environment``, or the variable named by ``api_key_env``). With ``api_base`` set (a
local or custom endpoint) credentials are not required: such servers often take none. Missing endpoint
variables (``OLLAMA_API_BASE`` …) are not credentials and do not fail the check. A model missing from
litellm's price list only warns: its cost counts as $0, so ``max_cost_usd`` cannot stop it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from tracemine.summarise.llm import LLMSettings, LLMSettingsError, import_litellm

__all__ = ["PreflightError", "preflight"]

log = logging.getLogger(__name__)

_ENDPOINT_SUFFIXES = ("_API_BASE", "_BASE_URL", "_ENDPOINT")
_EXAMPLES = "e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama/llama3.1"


class PreflightError(ValueError):
    """The LLM cannot be used as configured; the message is one line naming the fix."""


def preflight(settings: Any, *, check_credentials: bool = True) -> LLMSettings | None:
    """Check the ``summarise.llm`` settings (anything :meth:`LLMSettings.from_settings` takes) before a
    run. Returns the validated settings, or ``None`` when no model is set (offline summaries). Raises
    :class:`PreflightError`. ``check_credentials=False`` skips the key check (a completion hook or a
    ``mock_response`` makes no real call)."""
    try:
        llm = LLMSettings.from_settings(settings)
    except LLMSettingsError as exc:
        raise PreflightError(str(exc)) from None
    if not llm.model:
        return None
    model = llm.model
    if llm.api_key_env and not os.environ.get(llm.api_key_env):
        raise PreflightError(f"summarise.llm.api_key_env names ${llm.api_key_env}, which is not set")
    try:
        litellm = import_litellm()
    except Exception as exc:  # pragma: no cover - the dev install has litellm
        raise PreflightError(str(exc)) from None
    try:
        _name, provider, _key, _base = litellm.get_llm_provider(model=model, api_base=llm.api_base)
    except Exception:
        raise PreflightError(
            f"LLM model {model!r} is not known to litellm: name it with its provider ({_EXAMPLES}; "
            "see https://docs.litellm.ai/docs/providers)"
        ) from None
    if check_credentials and not llm.api_base and not llm.api_key_env:
        missing = _missing_credentials(litellm, model)
        if missing:
            raise PreflightError(
                f"no credentials for LLM model {model!r} ({provider}): set {' or '.join(missing)}, name the "
                "variable holding the key in summarise.llm.api_key_env, or set summarise.llm.api_base for a "
                "local endpoint"
            )
    if not llm.api_base and llm.max_cost_usd is not None and not _priced(litellm, model):
        log.warning(
            "LLM model %r is not in litellm's price list: its cost counts as $0, so summarise.llm.max_cost_usd "
            "cannot stop it (max_calls and max_input_tokens still do)",
            model,
        )
    return llm


def _missing_credentials(litellm: Any, model: str) -> list[str]:
    """The credential variables litellm says the provider needs and the environment lacks."""
    try:
        env = litellm.validate_environment(model=model)
    except Exception:  # litellm cannot tell: let the first call say
        return []
    if env.get("keys_in_environment", True):
        return []
    return [k for k in env.get("missing_keys") or [] if not str(k).endswith(_ENDPOINT_SUFFIXES)]


def _priced(litellm: Any, model: str) -> bool:
    try:
        litellm.get_model_info(model=model)
    except Exception:
        return False
    return True
