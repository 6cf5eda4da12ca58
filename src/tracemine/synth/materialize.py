"""Turn a trace plan into spans: ids, nested timestamps, token counts, costs and LLM output messages."""

from __future__ import annotations

import math

import orjson

from tracemine.synth.catalog import MODELS
from tracemine.synth.plan import HTTP, LLM, NO_RESULT, TOOL, SpanRec, TraceBuilder

MS = 1_000_000


def materialize(b: TraceBuilder, start_ns: int, end_limit_ns: int) -> list[SpanRec]:
    """Assign ids and times to ``b``'s root and steps; return every span (root first).

    The trace starts at ``start_ns`` unless it would end after ``end_limit_ns``, in which case it is
    shifted back so that it ends exactly there.
    """
    rng = b.rng
    bits = rng.getrandbits
    gauss = rng.gauss
    randint = rng.randint
    agent = b.agent
    model = MODELS[b.model]
    root = b.root
    root_id = f"{bits(64) or 1:016x}"
    root.span_id = root_id
    root.name = f"invoke_agent {agent.name}"
    steps = b.steps
    prefix = "toolu_" if model.provider == "anthropic" else "call_"
    for s in steps:
        if s.kind == TOOL:
            s.call_id = f"{prefix}{bits(96):024x}"
    ctx_tok = agent.system_tokens + 90 * len(agent.tools) + len(b.user_text) // 4 + randint(-30, 30)
    chat_name = f"chat {b.model}"
    spans = [root]
    t = start_ns + randint(3 * MS, 25 * MS)
    n = len(steps)
    for idx in range(n):
        s = steps[idx]
        s.span_id = f"{bits(64) or 1:016x}"
        s.parent_id = root_id
        if s.kind == LLM:
            calls = []
            j = idx + 1
            while j < n and steps[j].kind == TOOL:
                calls.append(steps[j])
                j += 1
            parts: list[dict[str, object]] = [{"type": "text", "content": s.text}] if s.text else []
            if calls:
                out_tok = len(s.text) // 4 + randint(0, 12)
                for c in calls:
                    out_tok += 14 + len(c.args_text) // 3
                    parts.append({"type": "tool_call", "id": c.call_id, "name": c.tool_name,
                                  "arguments": orjson.Fragment(c.args_text)})
                finish = "tool_call"
            else:
                out_tok = len(s.text) // 4 + (randint(20, 260) if s.final else randint(2, 12))
                finish = "length" if s.out_mult > 3 else "stop"
            plain = s.out_mult == 1.0 and s.in_mult == 1.0
            out_tok = int(out_tok * s.out_mult)
            in_tok = int(ctx_tok * s.in_mult)
            s.in_tok = in_tok
            s.out_tok = out_tok
            s.cost = round((in_tok * model.usd_in + out_tok * model.usd_out) / 1e6, 6)
            s.messages = orjson.dumps([{"role": "assistant", "parts": parts, "finish_reason": finish}]).decode()
            s.name = chat_name
            ms = (model.ttft_ms + out_tok * model.ms_per_token + in_tok * 0.012) * math.exp(gauss(0.0, 0.2))
            if plain:
                ms = _soft_clamp(rng.random(), ms, 300.0, 6000.0)
            ms *= s.lat_mult
            ctx_tok += out_tok + 4
        else:
            spec = s.tool
            if s.fixed_ms:
                ms = s.fixed_ms * (1.0 + rng.random() * 0.02)
            elif spec is None:
                ms = 1.0 + rng.random() * 4.0
            else:
                ms = _soft_clamp(rng.random(), spec.latency_ms * math.exp(gauss(0.0, 0.4)), 20.0, 2000.0) * s.lat_mult
            if s.result_text is None and s.result is not NO_RESULT:
                r = s.result
                s.result_text = r if isinstance(r, str) else orjson.dumps(r).decode()
            ctx_tok += len(s.result_text or "") // 4 + 10
            s.name = f"execute_tool {s.tool_name}"
        dur = int(ms * MS)
        s.start = t
        s.end = end = t + dur
        if s.exc is not None:
            s.events = [(end - min(randint(0, 2 * MS), dur), s.exc[0], s.exc[1])]
        spans.append(s)
        if s.http is not None:
            spans.append(_child(b, s, dur))
        t = end + randint(MS // 5, 6 * MS)
    root.start = start_ns
    root.end = t + randint(MS, 8 * MS)
    root.status = b.root_status
    root.status_msg = b.root_msg
    if b.root_exc is not None:
        root.events = [(root.end - randint(0, MS), b.root_exc[0], b.root_exc[1])]
    shift = root.end - end_limit_ns
    if shift > 0:
        for s in spans:
            s.start -= shift
            s.end -= shift
            if s.events:
                s.events = [(et - shift, ty, msg) for et, ty, msg in s.events]
    return spans


def _soft_clamp(u: float, ms: float, lo: float, hi: float) -> float:
    """Keep ``ms`` within [lo, hi] without piling values up on the bounds."""
    if ms > hi:
        return hi * (0.8 + 0.2 * u)
    if ms < lo:
        return lo * (1.0 + 0.5 * u)
    return ms


def _child(b: TraceBuilder, s: SpanRec, dur: int) -> SpanRec:
    """The HTTP client span a tool made, nested inside the tool span."""
    assert s.http is not None
    rng = b.rng
    method, url, code, exc = s.http
    c = s.child if s.child is not None else SpanRec(HTTP)
    s.child = c
    c.span_id = f"{rng.getrandbits(64) or 1:016x}"
    c.parent_id = s.span_id
    c.name = method
    c.text = url
    c.in_tok = code
    margin = dur // 4
    c.start = s.start + min(rng.randint(MS // 5, 3 * MS), margin)
    c.end = max(c.start, s.end - min(rng.randint(MS // 5, 2 * MS), margin))
    if code >= 400:
        c.status = 2
        c.status_msg = exc[1] if exc else str(code)
    if exc is not None:
        c.events = [(c.end, exc[0], exc[1])]
    return c
