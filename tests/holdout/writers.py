"""Episodes → LangSmith runs (agent ``claims``) and OpenAI Agents SDK trace/span export (agent ``oncall``).

Each writer assigns ids, fills ``span_id`` (as tracemine normalises it) on every turn and call of the
episode, and returns the records to write plus the normalised trace id.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from datetime import UTC, datetime
from typing import Any

from holdout import catalog as cat
from holdout.episode import Call, Episode, Turn
from holdout.oncall import render_output

_ALNUM = string.ascii_letters + string.digits


def _call_id(ids: random.Random) -> str:
    return "call_" + "".join(ids.choice(_ALNUM) for _ in range(24))


def _iso(ns: int, zone: bool) -> str:
    dt = datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns // 1000) % 1_000_000)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text + "+00:00" if zone else text


def _stamp(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns // 1000) % 1_000_000)
    return dt.strftime("%Y%m%dT%H%M%S%f")


def _tokens(text_chars: int) -> int:
    return max(1, text_chars // 4)


def _final_turns(ep: Episode) -> list[Turn]:
    """The episode's turns plus the closing answer (none when the run aborted)."""
    turns = list(ep.turns)
    if not ep.meta.get("aborted"):
        turns.append(Turn([], content=" ".join(ep.notes) or "Done.", ms=ep.rng.randint(700, 3500)))
    return turns


# -- LangSmith --------------------------------------------------------------------------------------------

_MS = 1_000_000


def _lc(kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", kind], "kwargs": kwargs}


def _tool_content(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def _traceback(tool: str, msg: str) -> str:
    exc = msg if ":" in msg.split("\n", 1)[0] else f"ToolException({msg!r})"
    return (
        f"{exc}\n\nTraceback (most recent call last):\n"
        '  File "/app/.venv/lib/python3.12/site-packages/langchain_core/tools/base.py", line 884, in run\n'
        "    response = context.run(self._run, *tool_args, **tool_kwargs)\n"
        f'  File "/app/claims_copilot/tools/{tool}.py", line {40 + len(tool) * 3}, in _run\n'
        "    return self.client.call(payload)\n"
        f"{exc.splitlines()[0]}"
    )


def write_langsmith(ep: Episode, ids: random.Random) -> tuple[str, list[dict[str, Any]]]:
    def new_id() -> str:
        return str(uuid.UUID(int=ids.getrandbits(128), version=4))

    root = new_id()
    root_hex = uuid.UUID(root).hex
    root_dotted = f"{_stamp(ep.start_ns)}Z{root}"
    thread = ep.session
    runs: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = [_lc("SystemMessage", content=cat.CLAIMS_SYSTEM, type="system"),
                                     _lc("HumanMessage", content=ep.user, type="human")]
    history_chars = len(cat.CLAIMS_SYSTEM) + len(ep.user) + 2400  # tool schemas count toward the prompt
    t = ep.start_ns + ep.rng.randint(5, 40) * _MS
    step = 0
    totals = [0, 0]
    final_text = None
    root_error = None

    def child(run_id: str, start: int, end: int, name: str, run_type: str) -> dict[str, Any]:
        return {
            "id": run_id, "name": name, "run_type": run_type, "trace_id": root, "parent_run_id": root,
            "dotted_order": f"{root_dotted}.{_stamp(start)}Z{run_id}",
            "start_time": _iso(start, False), "end_time": _iso(end, False),
            "session_name": "claims-copilot-prod",
        }

    for turn in _final_turns(ep):
        step += 1
        run_id = new_id()
        turn.span_id = uuid.UUID(run_id).hex
        start, end = t, t + turn.ms * _MS
        tool_calls = []
        for call in turn.calls:
            call.call_id = _call_id(ids)
            tool_calls.append({"name": call.tool, "args": call.args, "id": call.call_id, "type": "tool_call"})
        content = turn.content
        prompt = _tokens(history_chars)
        completion = _tokens(len(content) + sum(len(json.dumps(c.args)) + 20 for c in turn.calls)) + 8
        totals[0] += prompt
        totals[1] += completion
        usage = {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}
        ai = _lc("AIMessage", content=content, additional_kwargs={}, response_metadata={
            "finish_reason": "tool_calls" if tool_calls else "stop", "model_name": ep.model}, type="ai",
            id=f"run-{run_id}-0", tool_calls=tool_calls, usage_metadata=usage, invalid_tool_calls=[])
        run = child(run_id, start, end, "ChatOpenAI", "llm")
        run.update({
            "inputs": {"messages": [list(history)]},
            "outputs": None if turn.error else {
                "generations": [[{"text": content, "generation_info": {"finish_reason": "tool_calls" if tool_calls else "stop"},
                                  "type": "ChatGeneration", "message": ai}]],
                "llm_output": {"token_usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                               "total_tokens": prompt + completion},
                               "model_name": ep.model, "system_fingerprint": ep.meta["fingerprint"]},
                "run": None, "type": "LLMResult"},
            "error": turn.error, "status": "error" if turn.error else "success",
            "extra": {"invocation_params": {"model": ep.model, "model_name": ep.model, "stream": False, "n": 1,
                                            "temperature": 0.0, "_type": "openai-chat", "stop": None,
                                            "tools": cat.CLAIMS_TOOLS, "parallel_tool_calls": True},
                      "options": {"stop": None}, "batch_size": 1,
                      "metadata": {"thread_id": thread, "langgraph_step": step, "langgraph_node": "agent",
                                   "ls_provider": "openai", "ls_model_name": ep.model, "ls_model_type": "chat",
                                   "ls_temperature": 0.0}},
            "events": [{"name": "start", "time": _iso(start, False)}, {"name": "end", "time": _iso(end, False)}],
            "tags": [f"seq:step:{step}"],
        })
        runs.append(run)
        t = end + ep.rng.randint(2, 30) * _MS
        if turn.error:
            root_error = turn.error
            break
        if not turn.calls:
            final_text = content
            break
        history.append(ai)
        history_chars += len(content) + sum(len(json.dumps(c.args)) + 40 for c in turn.calls)
        step += 1
        for call in turn.calls:
            run_id = new_id()
            call.span_id = uuid.UUID(run_id).hex
            start, end = t, t + call.ms * _MS
            run = child(run_id, start, end, call.tool, "tool")
            if call.error:
                seen = f"Error: {call.error}\n Please fix your mistakes."
                message = _lc("ToolMessage", content=seen, type="tool", name=call.tool, tool_call_id=call.call_id, status="error")
                run.update({"inputs": call.args, "outputs": None, "error": _traceback(call.tool, call.error), "status": "error"})
            else:
                seen = _tool_content(call.result)
                message = _lc("ToolMessage", content=seen, type="tool", name=call.tool, tool_call_id=call.call_id, status="success")
                run.update({"inputs": call.args, "outputs": {"output": message}, "error": None, "status": "success"})
            run.update({
                "extra": {"metadata": {"thread_id": thread, "langgraph_step": step, "langgraph_node": "tools"}, "color": "green"},
                "events": [{"name": "start", "time": _iso(start, False)}, {"name": "end", "time": _iso(end, False)}],
                "tags": [f"seq:step:{step}"],
                "serialized": {"name": call.tool, "description": ep.meta["descriptions"][call.tool]},
            })
            runs.append(run)
            history.append(message)
            history_chars += len(seen)
            t = end + ep.rng.randint(1, 12) * _MS
        if ep.meta.get("raise_after") is turn:
            root_error = ep.meta["raise_error"]
            break

    end_ns = t
    root_run = {
        "id": root, "name": "claims_copilot", "run_type": "chain", "trace_id": root, "parent_run_id": None,
        "dotted_order": root_dotted, "start_time": _iso(ep.start_ns, False), "end_time": _iso(end_ns, False),
        "inputs": {"messages": [{"role": "user", "content": ep.user}]},
        "outputs": None if root_error else {"messages": [{"role": "assistant", "content": final_text}]},
        "error": root_error, "status": "error" if root_error else "success",
        "extra": {"metadata": {"thread_id": thread, "channel": ep.meta["channel"], "app_version": "claims-copilot@2.14.1",
                               "ls_run_depth": 0}},
        "tags": ["claims-copilot", "prod"], "session_name": "claims-copilot-prod",
        "prompt_tokens": totals[0], "completion_tokens": totals[1], "total_tokens": sum(totals),
        "feedback_stats": {"task_success": {"n": 1, "avg": 1.0 if ep.success else 0.0, "values": {}}},
        "child_run_ids": [r["id"] for r in runs], "reference_example_id": None,
    }
    return root_hex, [root_run, *runs]


# -- OpenAI Agents SDK ------------------------------------------------------------------------------------


def write_openai_agents(ep: Episode, ids: random.Random) -> tuple[str, list[dict[str, Any]]]:
    def hexid(n: int) -> str:
        return "".join(ids.choice("0123456789abcdef") for _ in range(n))

    trace_id = f"trace_{hexid(32)}"
    agent_id = f"span_{hexid(24)}"
    spans: list[dict[str, Any]] = []

    def span(span_id: str, parent: str | None, start: int, end: int, data: dict[str, Any], error: Any = None) -> dict[str, Any]:
        record = {"object": "trace.span", "id": span_id, "trace_id": trace_id, "parent_id": parent,
                  "started_at": _iso(start, True), "ended_at": _iso(end, True), "span_data": data, "error": error}
        spans.append(record)
        return record

    messages: list[dict[str, Any]] = [{"role": "system", "content": cat.ONCALL_SYSTEM}, {"role": "user", "content": ep.user}]
    chars = len(cat.ONCALL_SYSTEM) + len(ep.user) + 1800
    t = ep.start_ns + ep.rng.randint(2, 20) * _MS
    if ep.meta.get("guardrail"):
        end = t + ep.rng.randint(80, 400) * _MS
        span(f"span_{hexid(24)}", agent_id, t, end, {"type": "guardrail", "name": "prod_change_guard", "triggered": False})
        t = end + _MS
    agent_error = None
    config = {"temperature": 0.1, "top_p": None, "frequency_penalty": None, "presence_penalty": None, "tool_choice": None,
              "parallel_tool_calls": None, "truncation": None, "max_tokens": None, "reasoning": None, "metadata": None,
              "store": None, "include_usage": None, "extra_query": None, "extra_body": None, "extra_headers": None,
              "extra_args": None, "base_url": "https://api.openai.com/v1/", "model_impl": "openai_chatcompletions"}
    for turn in _final_turns(ep):
        span_id = f"span_{hexid(24)}"
        turn.span_id = span_id
        start, end = t, t + turn.ms * _MS
        tool_calls = []
        for call in turn.calls:
            call.call_id = _call_id(ids)
            tool_calls.append({"id": call.call_id, "type": "function",
                               "function": {"name": call.tool, "arguments": json.dumps(call.args, separators=(",", ":"))}})
        assistant: dict[str, Any] = {"content": turn.content or None, "refusal": None, "role": "assistant",
                                     "annotations": [], "audio": None, "function_call": None,
                                     "tool_calls": tool_calls or None}
        prompt = _tokens(chars)
        completion = _tokens(len(turn.content) + sum(len(tc["function"]["arguments"]) + 20 for tc in tool_calls)) + 6
        data = {"type": "generation", "input": list(messages), "output": None if turn.error else [assistant],
                "model": ep.model, "model_config": config,
                "usage": None if turn.error else {"input_tokens": prompt, "output_tokens": completion}}
        error = None
        if turn.error:
            error = {"message": "Error getting response", "data": {"error": turn.error}}
            agent_error = {"message": "Error in agent run", "data": {"error": turn.error}}
        span(span_id, agent_id, start, end, data, error)
        t = end + ep.rng.randint(2, 25) * _MS
        if turn.error or not turn.calls:
            break
        messages.append({"role": "assistant", "content": turn.content or None, "tool_calls": tool_calls})
        chars += sum(len(tc["function"]["arguments"]) + 40 for tc in tool_calls)
        for call, tc in zip(turn.calls, tool_calls, strict=True):
            fid = f"span_{hexid(24)}"
            call.span_id = fid
            start, end = t, t + call.ms * _MS
            output = render_output(call.tool, call.result)
            error = None
            if call.error:
                error = {"message": "Error running tool (non-fatal)", "data": {"tool_name": call.tool, "error": call.error}}
            span(fid, agent_id, start, end, {"type": "function", "name": call.tool, "input": tc["function"]["arguments"],
                                             "output": output, "mcp_data": None}, error)
            messages.append({"role": "tool", "tool_call_id": call.call_id, "content": output})
            chars += len(output)
            t = end + ep.rng.randint(1, 10) * _MS
    end_ns = t
    agent = {"object": "trace.span", "id": agent_id, "trace_id": trace_id, "parent_id": None,
             "started_at": _iso(ep.start_ns, True), "ended_at": _iso(end_ns, True),
             "span_data": {"type": "agent", "name": "OnCall Copilot", "handoffs": [], "tools": cat.TOOL_NAMES[cat.ONCALL],
                           "output_type": "str"},
             "error": agent_error}
    trace = {"object": "trace", "id": trace_id, "workflow_name": "oncall-copilot", "group_id": ep.session,
             "metadata": {"eval_score": 1.0 if ep.success else 0.0, "env": "prod", "channel": ep.meta["channel"]}}
    spans.sort(key=lambda s: s["ended_at"])
    return trace_id, [trace, *spans, agent]


def label_rows(ep: Episode, trace_id: str) -> list[dict[str, Any]]:
    rows = []
    for label in ep.labels:
        span_ids = [ref.span_id for ref in label.refs]
        assert all(span_ids), (label.mode, span_ids)
        rows.append({"trace_id": trace_id, "kind": label.kind, "mode": label.mode, "span_ids": span_ids,
                     "tool": label.tool, "agent": ep.agent, "detail": label.detail})
    return rows


__all__ = ["Call", "label_rows", "write_langsmith", "write_openai_agents"]
