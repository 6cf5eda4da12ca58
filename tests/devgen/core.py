"""Format-neutral trace building: a run is a list of actions (tool calls, model turns, user messages),
rendered into timed spans that the format writers then serialise.

An agent module describes *segments* (one user request handled end to end). A bug or look-alike is a
segment variant (or a run-level transform) that tags the spans it concerns, so the labels can name
their ids after rendering.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

BASE_NS = 1_740_960_000 * 1_000_000_000  # 2025-03-03T00:00:00Z


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def hex_id(rng: random.Random, bits: int) -> str:
    return format(rng.getrandbits(bits), f"0{bits // 4}x")


def uuid_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Action:
    """One step of a run: ``tool`` (a call, preceded by a model turn unless ``batched``), ``llm`` (a
    model turn without a call), ``user`` (a user message inserted mid-run), ``event``."""

    type: str
    tool: str | None = None
    args: Any = None
    result: Any = None
    error: str | None = None
    ms: int | None = None
    tags: tuple[str, ...] = ()
    text: str | None = None
    batched: bool = False
    in_tok: int | None = None
    out_tok: int | None = None
    llm_tags: tuple[str, ...] = ()
    llm_ms: int | None = None
    llm_in_tok: int | None = None


@dataclass
class Span:
    """A rendered span, format-neutral (ids as written in the file)."""

    sid: str
    parent: str | None
    role: str  # agent | llm | tool | segment | event
    name: str
    start: int
    end: int
    error: str | None = None
    tool: str | None = None
    call_id: str | None = None
    args: Any = None
    result: Any = None
    model: str | None = None
    in_tok: int | None = None
    out_tok: int | None = None
    input: Any = None
    output: Any = None
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Issue:
    kind: str
    mode: str
    tool: str | None
    detail: str
    tools: tuple[str, ...] = ()


@dataclass
class Variant:
    """A bug or look-alike: ``fn(run)`` appends a segment (``run_level``: transforms the whole run)."""

    mode: str
    kind: str
    tool: str | None
    fn: Callable[[Run], str]
    terminal: bool = False
    run_level: bool = False
    tools: tuple[str, ...] = ()


class Run:
    """What an agent's segment functions write into."""

    def __init__(self, rng: random.Random, agent: Any) -> None:
        self.rng = rng
        self.agent = agent
        self.actions: list[Action] = []
        self.requests: list[str] = []
        self.summary: list[str] = []
        self.replies: dict[int, list[str]] = {}  # segment index → what the agent told the user about it
        self.stopped: str | None = None  # final text when the run gave up
        self.root_extra: dict[str, Any] = {}
        self.root_tags: list[str] = []
        self.root_error: str | None = None
        self.segments: list[tuple[str, int]] = []  # (segment name, index of its first action)
        self.call_seq = 0

    # -- writing actions ------------------------------------------------------------------------
    def begin(self, name: str, request: str) -> None:
        self.segments.append((name, len(self.actions)))
        self.requests.append(request)

    def call(self, tool: str, args: Any, result: Any, *, error: str | None = None, ms: int | None = None,
             tag: str | None = None, batched: bool = False, think: str | None = None,
             llm_tag: str | None = None) -> Action:
        action = Action("tool", tool=tool, args=args, result=result, error=error, ms=ms,
                        tags=(tag,) if tag else (), batched=batched, text=think,
                        llm_tags=(llm_tag,) if llm_tag else ())
        self.actions.append(action)
        return action

    def think(self, text: str, tag: str | None = None, in_tok: int | None = None, out_tok: int | None = None,
              ms: int | None = None) -> Action:
        action = Action("llm", text=text, tags=(tag,) if tag else (), in_tok=in_tok, out_tok=out_tok, ms=ms)
        self.actions.append(action)
        return action

    def user(self, text: str) -> None:
        self.actions.append(Action("user", text=text))

    def event(self, name: str, payload: Any) -> None:
        self.actions.append(Action("event", tool=name, args=payload))

    def say(self, text: str) -> None:
        self.summary.append(text)
        self.replies.setdefault(len(self.segments) - 1, []).append(text)

    def stop(self, text: str) -> None:
        self.stopped = text

    def pick(self, options: Any) -> Any:
        return self.rng.choice(options)


def render(run: Run, trace_id: str, start_ns: int, new_id: Callable[[], str], models: tuple[str, str],
           lat: dict[str, tuple[int, int]], sys_prompt: str, segment_spans: bool = False) -> list[Span]:
    """Timed spans for ``run``: a root agent span, a model turn before each call, the final answer."""
    rng = run.rng
    root_id = new_id()
    spans: list[Span] = []
    clock = start_ns + rng.randint(2, 30) * 1_000_000
    turn = 0
    history_tokens = 900 + rng.randint(0, 600)
    last_result: Any = None
    pending_user: str | None = run.requests[0] if run.requests else None
    seg_starts = {index: name for name, index in run.segments}
    seg_parent = root_id
    seg_span: Span | None = None
    req_index = 0

    def model_turn(text: Any, calls: list[dict[str, Any]], tags: tuple[str, ...], in_tok: int | None,
                   out_tok: int | None, ms: int | None, parent: str) -> None:
        nonlocal clock, turn, history_tokens, pending_user
        turn += 1
        model = models[1] if (turn % 7 == 0 and rng.random() < 0.5) else models[0]
        inp = in_tok if in_tok is not None else history_tokens + rng.randint(0, 220)
        out = out_tok if out_tok is not None else (rng.randint(18, 60) + 35 * len(calls) if calls else
                                                   rng.randint(60, 320))
        dur = ms if ms is not None else int(rng.lognormvariate(7.0, 0.45) + out * 9)
        messages: list[dict[str, Any]] = [{"role": "system", "content": sys_prompt}]
        if pending_user:
            messages.append({"role": "user", "content": pending_user})
            pending_user = None
        if last_result is not None:
            content = last_result if isinstance(last_result, str) else dumps(last_result)
            messages.append({"role": "tool", "content": content[:600]})
        output = {"role": "assistant", "content": text, "tool_calls": calls or None}
        spans.append(Span(new_id(), parent, "llm", f"chat {model}", clock, clock + dur * 1_000_000,
                          model=model, in_tok=inp, out_tok=out, input=messages, output=output, tags=tags,
                          extra={"finish_reason": "tool_calls" if calls else "stop"}))
        clock += dur * 1_000_000 + rng.randint(1, 12) * 1_000_000
        history_tokens = inp + out + rng.randint(40, 400)

    i = 0
    actions = run.actions
    while i < len(actions):
        if i in seg_starts and i > 0:
            # the agent answers each request before the next one arrives
            reply = run.replies.get(req_index)
            if reply:
                model_turn(" ".join(reply), [], (), None, None, None, seg_parent)
        if segment_spans and i in seg_starts:
            if seg_span is not None:
                seg_span.end = clock
            seg_span = Span(new_id(), root_id, "segment", seg_starts[i], clock, clock)
            spans.append(seg_span)
            seg_parent = seg_span.sid
        if i in seg_starts and i > 0:
            req_index += 1
            if req_index < len(run.requests):
                pending_user = run.requests[req_index]
        action = actions[i]
        if action.type == "user":
            pending_user = action.text
            i += 1
            continue
        if action.type == "event":
            spans.append(Span(new_id(), seg_parent, "event", action.tool or "event", clock, clock,
                              input=action.args))
            i += 1
            continue
        if action.type == "llm":
            model_turn(action.text, [], action.tags, action.in_tok, action.out_tok, action.ms, seg_parent)
            i += 1
            continue
        # a model turn issuing this call and any batched calls right after it
        group = [action]
        j = i + 1
        while j < len(actions) and actions[j].type == "tool" and actions[j].batched:
            group.append(actions[j])
            j += 1
        calls = []
        for a in group:
            run.call_seq += 1
            call_id = run.agent.call_id(rng, run.call_seq)
            calls.append({"id": call_id, "type": "function",
                          "function": {"name": a.tool,
                                       "arguments": a.args if isinstance(a.args, str) else dumps(a.args)}})
        llm_tags = tuple(t for a in group for t in a.llm_tags)
        model_turn(action.text, calls, llm_tags, action.llm_in_tok, None, action.llm_ms, seg_parent)
        tool_start = clock
        longest = 0
        for a, call in zip(group, calls, strict=True):
            lo, hi = lat.get(a.tool or "", (80, 900))
            dur = a.ms if a.ms is not None else int(rng.uniform(lo, hi))
            longest = max(longest, dur)
            spans.append(Span(new_id(), seg_parent, "tool", a.tool or "tool", tool_start,
                              tool_start + dur * 1_000_000, error=a.error, tool=a.tool, call_id=call["id"],
                              args=a.args, result=a.result, tags=a.tags))
            last_result = a.result if a.error is None else {"error": a.error}
            if len(group) == 1:
                break
            tool_start += rng.randint(1, 4) * 1_000_000
        clock = tool_start + longest * 1_000_000 + rng.randint(2, 20) * 1_000_000
        i = j
    # the final answer
    final = run.stopped or " ".join(run.replies.get(req_index, [])) or "Done."
    model_turn(final, [], (), None, None, None, seg_parent)
    if seg_span is not None:
        seg_span.end = clock
    root = Span(root_id, None, "agent", run.agent.ROOT_NAME, start_ns, clock + rng.randint(1, 9) * 1_000_000,
                input=" ".join(run.requests), output=final, tags=tuple(run.root_tags), extra=dict(run.root_extra))
    return [root, *spans]
