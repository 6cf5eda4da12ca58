"""The built-in summarisers: offline (deterministic templates) and an LLM through litellm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracemine.hookspecs import hookimpl


def _offline(settings: Mapping[str, Any], redactor: Any, **options: Any) -> Any:
    from tracemine.summarise.offline import OfflineSummariser

    return OfflineSummariser(redactor)


def _llm(settings: Mapping[str, Any], redactor: Any, **options: Any) -> Any:
    from tracemine.summarise.llm import LLMSummariser

    return LLMSummariser.from_settings(dict(settings), redactor=redactor, **options)


@hookimpl
def register_summarisers() -> list[Any]:
    from tracemine.summarise.spec import LLM, OFFLINE, SummariserSpec

    return [SummariserSpec(OFFLINE, _offline, "tracemine.summarise.offline:OfflineSummariser"),
            SummariserSpec(LLM, _llm, "tracemine.summarise.llm:LLMSummariser")]
