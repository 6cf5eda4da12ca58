"""LangSmith runs: read-API run objects (one per record or in lists), webhook payloads ``{"runs": [...]}``
and ingest batches ``{"post": [...], "patch": [...]}``.

Runs are buffered for the whole file and merged by ``id`` (post halves, then patch halves: non-null patch
fields override whatever the file order), because a run's halves may sit in different records or batches,
and ids are compared normalised (UUID spelling does not matter). Parents
come from ``parent_run_id``, else ``dotted_order``, else ``parent_run_ids``; times without a zone are UTC.
A tool run's call id comes from its ``ToolMessage`` output, else ``inputs.tool_call_id``, else
``extra.tool_call_id`` (langchain-core 1.x; the only place it is when the tool raised).
Outcome-like data becomes attributes: ``feedback_stats`` (``langsmith.feedback_stats.<key>.avg``/``.n``),
``extra.metadata`` scalars (``langsmith.metadata.<key>``) and outcome-named scalars of ``outputs``
(``langsmith.outputs.<key>``, e.g. ``score``); :mod:`tracemine.ingest.outcome` reads them on the root run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.decode import as_text, decode_value
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.mappers.common import (
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
)
from tracemine.ingest.normalize import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    normalize_id,
    raw_id,
    to_float,
    to_int,
    to_ns,
    to_text,
)
from tracemine.ingest.otel import flatten_attributes
from tracemine.ingest.outcome import key_tier
from tracemine.model import Span, SpanKind, Status, StatusSource

_RUN_TYPES = frozenset({"llm", "tool", "chain", "retriever", "prompt", "parser", "embedding"})
_SESSION_KEYS = ("thread_id", "session_id", "conversation_id")


def _is_run(obj: Any) -> bool:
    return isinstance(obj, dict) and "id" in obj and obj.get("run_type") in _RUN_TYPES


def _dotted_ids(dotted: Any) -> list[str]:
    """Run ids along a ``dotted_order`` (``<time>Z<uuid>.<time>Z<uuid>…``), root first."""
    if not isinstance(dotted, str) or not dotted:
        return []
    ids = []
    for segment in dotted.split("."):
        _, sep, run = segment.partition("Z")
        if sep and run:
            ids.append(run)
    return ids


def _key(value: Any) -> str | None:
    """A run id normalised (UUIDs → 32 hex) so post/patch halves and parent links always agree."""
    return normalize_id(value, SPAN_ID_HEX_LEN)


def _unwrap(value: Any, key: str) -> Any:
    """``{"input": x}`` / ``{"output": x}`` envelopes → ``x``."""
    if isinstance(value, dict) and len(value) == 1 and key in value:
        return value[key]
    return value


def _message_fields(value: Any) -> dict[str, Any] | None:
    """A serialised LangChain message (``{"lc": 1, "kwargs": {...}}`` or plain ``{"content", ...}``)."""
    if not isinstance(value, dict):
        return None
    kwargs = value.get("kwargs")
    if isinstance(kwargs, dict) and "content" in kwargs:
        return kwargs
    if "content" in value and ("tool_call_id" in value or value.get("type") == "tool"):
        return value
    return None


def _usage(run: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    outputs = run.get("outputs") if isinstance(run.get("outputs"), dict) else {}
    candidates: list[Any] = [outputs.get("usage_metadata")]
    llm_output = outputs.get("llm_output")
    if isinstance(llm_output, dict):
        candidates.append(llm_output.get("token_usage") or llm_output.get("usage"))
    candidates.append(outputs.get("usage"))
    generations = outputs.get("generations")
    if isinstance(generations, list) and generations:
        first = generations[0][0] if isinstance(generations[0], list) and generations[0] else generations[0]
        if isinstance(first, dict):
            message = first.get("message")
            fields = message.get("kwargs", message) if isinstance(message, dict) else None
            if isinstance(fields, dict):
                candidates.append(fields.get("usage_metadata"))
    for usage in candidates:
        if isinstance(usage, dict):
            inp = to_int(usage.get("input_tokens", usage.get("prompt_tokens")))
            out = to_int(usage.get("output_tokens", usage.get("completion_tokens")))
            if inp is not None or out is not None:
                return inp, out, to_int(usage.get("total_tokens"))
    return (
        to_int(run.get("prompt_tokens")),
        to_int(run.get("completion_tokens")),
        to_int(run.get("total_tokens")),
    )


def _model(run: dict[str, Any], extra: dict[str, Any]) -> str | None:
    metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    params = extra.get("invocation_params") if isinstance(extra.get("invocation_params"), dict) else {}
    outputs = run.get("outputs") if isinstance(run.get("outputs"), dict) else {}
    inputs = run.get("inputs") if isinstance(run.get("inputs"), dict) else {}
    for value in (
        metadata.get("ls_model_name"),
        params.get("model"),
        params.get("model_name"),
        outputs.get("model"),
        inputs.get("model"),
    ):
        text = to_text(value)
        if text:
            return text
    return None


def _tool_definitions(run: dict[str, Any], extra: dict[str, Any]) -> list[dict[str, Any]] | None:
    params = extra.get("invocation_params") if isinstance(extra.get("invocation_params"), dict) else {}
    inputs = run.get("inputs") if isinstance(run.get("inputs"), dict) else {}
    found: list[dict[str, Any]] = []
    for value in (params.get("tools"), params.get("functions"), inputs.get("tools"), inputs.get("functions")):
        found.extend(normalize_tool_definitions(value) or ())
    return found or None


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update``'s fields win unless they are null (a patch's ``"error": null`` keeps nothing away)."""
    merged = dict(base)
    for key, value in update.items():
        if value is not None or key not in merged:
            merged[key] = value
    return merged


class LangSmithReader(Reader):
    """LangSmith run objects, webhook payloads and post/patch ingest batches."""

    format = "langsmith"
    priority = 22

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        # run id -> (merged post/create halves, merged patch/update halves): patches win in any file order
        self._runs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._locators: dict[str, str] = {}

    @classmethod
    def match(cls, obj: Any) -> bool:
        if not isinstance(obj, dict):
            return False
        if _is_run(obj):
            return True
        if isinstance(obj.get("post"), list) or isinstance(obj.get("patch"), list):
            return set(obj) <= {"post", "patch", "pre_sampled"}
        runs = obj.get("runs")
        return isinstance(runs, list) and bool(runs) and _is_run(runs[0])

    def feed(self, obj: Any, locator: str) -> Iterable[Record]:
        """Buffer runs; everything is emitted by :meth:`finish` once post/patch halves are merged."""
        if _is_run(obj):
            self._add(obj, locator)
            return ()
        batches: list[tuple[str, Any]] = []
        if "runs" in obj and not ("post" in obj or "patch" in obj):
            batches.append(("runs", obj["runs"]))
        else:
            batches.extend((key, obj.get(key)) for key in ("post", "patch") if obj.get(key) is not None)
        for key, runs in batches:
            if not isinstance(runs, list):
                self.ctx.reject(f"{locator}.{key}", f"'{key}' is not a list", runs)
                continue
            for index, run in enumerate(runs):
                self._add(run, f"{locator}.{key}[{index}]", patch=key == "patch")
        return ()

    def _add(self, run: Any, locator: str, patch: bool = False) -> None:
        if not isinstance(run, dict):
            self.ctx.reject(locator, "run is not an object", run)
            return
        run_id = _key(run.get("id")) if isinstance(run.get("id"), str | int) else None
        if run_id is None:
            self.ctx.reject(locator, "run without id", run.get("name"))
            return
        for key in ("inputs", "outputs", "extra"):
            value = run.get(key)
            if value is not None and not isinstance(value, dict):
                decoded = decode_value(value)
                if not isinstance(decoded, dict):
                    self.ctx.reject(locator, f"run '{key}' is a {type(value).__name__}, not an object", value)
                    return
                run = {**run, key: decoded}
        posted, patched = self._runs.get(run_id, ({}, {}))
        if patch:
            patched = _merge(patched, run)
        else:
            posted = _merge(posted, run)
        self._runs[run_id] = (posted, patched)
        self._locators.setdefault(run_id, locator)

    def finish(self) -> Iterable[Record]:
        runs = {
            run_id: {**_merge(posted, patched), "id": posted.get("id", patched.get("id"))}  # raw id as posted
            for run_id, (posted, patched) in self._runs.items()
        }
        self._runs = {}
        locators, self._locators = self._locators, {}
        parents = {run_id: self._parent(run_id, run) for run_id, run in runs.items()}
        trace_ids: dict[str, str | None] = {}

        def trace_of(run_id: str) -> str | None:
            if run_id in trace_ids:
                return trace_ids[run_id]
            chain: list[str] = []
            current: str | None = run_id
            found: str | None = None
            while current is not None and current not in chain:
                if current in trace_ids:
                    found = trace_ids[current]
                    break
                chain.append(current)
                run = runs.get(current)
                if run is None:
                    found = current  # the missing ancestor is as far as we can see
                    break
                explicit = _key(run.get("trace_id"))
                dotted = _dotted_ids(run.get("dotted_order"))
                if explicit or dotted:
                    found = explicit or _key(dotted[0])
                    break
                parent = parents.get(current)
                if parent is None:
                    found = current
                    break
                current = parent
            for item in chain:
                trace_ids[item] = found
            return found

        spans: list[Span] = []
        for run_id, run in runs.items():
            span = self._span(run_id, run, trace_of(run_id), parents.get(run_id), locators[run_id])
            if span is not None:
                spans.append(span)
        by_trace: dict[str, list[Span]] = {}
        for span in spans:
            by_trace.setdefault(span.trace_id, []).append(span)
        for trace_spans in by_trace.values():
            ids = {s.span_id for s in trace_spans}
            roots = [s for s in trace_spans if s.parent_span_id not in ids]
            if len(roots) == 1:
                root = roots[0]
                for span in trace_spans:
                    if span is not root and span.tool_definitions:
                        merge_tool_definitions(root, normalize_tool_definitions(span.tool_definitions))
            trace_spans.sort(key=lambda s: (s.start_ns or 0, s.sequence or 0))
            yield from trace_spans

    def _parent(self, run_id: str, run: dict[str, Any]) -> str | None:
        if "parent_run_id" in run and run["parent_run_id"] is not None:
            return _key(run["parent_run_id"])
        dotted = _dotted_ids(run.get("dotted_order"))
        if len(dotted) >= 2:
            return _key(dotted[-2])
        if dotted:
            return None
        parents = run.get("parent_run_ids")
        if isinstance(parents, list) and parents:
            return _key(parents[-1])
        return None

    def _span(
        self, run_id: str, run: dict[str, Any], trace_key: str | None, parent: str | None, locator: str
    ) -> Span | None:
        trace_id = normalize_id(trace_key, TRACE_ID_HEX_LEN)
        if trace_id is None:
            self.ctx.reject(locator, "run without a usable trace id", run.get("name"))
            return None
        run_type = run.get("run_type")
        kind = kind_from_word(run_type) or SpanKind.OTHER
        extra = run.get("extra") if isinstance(run.get("extra"), dict) else {}
        metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
        inputs, outputs = run.get("inputs"), run.get("outputs")
        span = Span(
            trace_id=trace_id,
            span_id=run_id,
            parent_span_id=parent,
            name=to_text(run.get("name")) or str(run_type or "run"),
            kind=kind,
            start_ns=to_ns(run.get("start_time")),
            end_ns=to_ns(run.get("end_time")),
            input=as_text(inputs) if inputs else None,
            output=as_text(outputs) if outputs else None,
            raw_trace_id=raw_id(run.get("trace_id")) or trace_key,
            raw_span_id=raw_id(run.get("id")),
            source=self.src(locator),
        )
        error = run.get("error")
        status = str(run.get("status") or "").lower()
        if (isinstance(error, str) and error.strip()) or status == "error":
            span.status = Status.ERROR
            span.status_message = error.strip() if isinstance(error, str) and error.strip() else "error"
        elif status == "success":
            span.status = Status.OK
        span.status_source = StatusSource.EXPLICIT
        if kind in (SpanKind.LLM, SpanKind.EMBEDDING):
            # the read API's token and cost fields on chains/tools sum their children: keep them off those spans
            span.model = _model(run, extra)
            span.input_tokens, span.output_tokens, span.total_tokens = _usage(run)
            span.cost_usd = to_float(run.get("total_cost"))
        if kind == SpanKind.TOOL:
            self._tool(span, inputs, outputs, extra)
        definitions = _tool_definitions(run, extra)
        if definitions:
            merge_tool_definitions(span, definitions)
        for key in _SESSION_KEYS:
            if to_text(metadata.get(key)):
                span.session_id = to_text(metadata.get(key))
                break
        span.events = self._events(run.get("events"))
        span.attributes = self._attributes(run, metadata) or None
        finish_span(span)
        return span

    def _tool(self, span: Span, inputs: Any, outputs: Any, extra: dict[str, Any]) -> None:
        span.tool_name = span.name
        arguments = _unwrap(inputs, "input")
        span.tool_arguments = as_text(arguments) if arguments not in (None, {}) else None
        result = _unwrap(outputs, "output")
        message = _message_fields(result)
        if message is not None:
            span.tool_call_id = to_text(message.get("tool_call_id"))
            content = message.get("content")
            span.tool_result = as_text(content)
            if message.get("status") == "error" and span.status != Status.ERROR:
                span.status = Status.ERROR
                span.status_message = (as_text(content) or "error")[:2000]
        else:
            span.tool_result = as_text(result) if result not in (None, {}) else None
        if span.tool_call_id is None and isinstance(inputs, dict):
            span.tool_call_id = to_text(inputs.get("tool_call_id"))
        if span.tool_call_id is None:  # langchain-core 1.x: on_tool_start's tool_call_id, kept in ``extra``
            span.tool_call_id = to_text(extra.get("tool_call_id"))

    @staticmethod
    def _events(events: Any) -> list[dict[str, Any]] | None:
        if not isinstance(events, list):
            return None
        out = []
        for event in events:
            if isinstance(event, dict) and event.get("name") != "new_token":
                kwargs = event.get("kwargs")
                out.append(
                    {
                        "name": str(event.get("name") or ""),
                        "time_ns": to_ns(event.get("time")),
                        "attributes": flatten_attributes(kwargs) if isinstance(kwargs, dict) else {},
                    }
                )
        return out or None

    @staticmethod
    def _attributes(run: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {"langsmith.run_type": run.get("run_type")}
        for key in ("session_name", "session_id", "dotted_order", "status"):
            if run.get(key) is not None:
                attrs[f"langsmith.{key}"] = run[key]
        if run.get("tags"):
            attrs["langsmith.tags"] = run["tags"]
        for key, value in metadata.items():
            if isinstance(value, str | int | float | bool):
                attrs[f"langsmith.metadata.{key}"] = value
        # feedback on the run ({"correctness": {"n": 1, "avg": 0.0, ...}}): the average and count of each key
        feedback = decode_value(run.get("feedback_stats"))
        if isinstance(feedback, dict):
            for key, stats in feedback.items():
                stats = decode_value(stats)
                if isinstance(stats, dict):
                    for field in ("avg", "n"):
                        if isinstance(stats.get(field), int | float):
                            attrs[f"langsmith.feedback_stats.{key}.{field}"] = stats[field]
                elif isinstance(stats, int | float | str):
                    attrs[f"langsmith.feedback_stats.{key}"] = stats
        # scores an evaluator or the chain itself returned ({"score": 1, "passed": true})
        outputs = run.get("outputs")
        if isinstance(outputs, dict):
            for key, value in outputs.items():
                if isinstance(value, str | int | float | bool) and key_tier(key) is not None:
                    attrs[f"langsmith.outputs.{key}"] = value
        return {k: v for k, v in attrs.items() if v is not None}


READERS = [LangSmithReader]
