"""devgen's ``langsmith`` format: LangSmith read-API run objects of a LangGraph ReAct agent traced by
LangChain's ``LangChainTracer``, one run per JSON line.

A trace is one graph invocation: a root ``chain`` run (the compiled graph: ``LangGraph``, or the agent's
own graph name) whose children are LangGraph node runs, ``agent`` (a ``chain`` run holding the chat
model's ``llm`` run) and ``tools`` (a ``chain`` run holding the ``tool`` runs ToolNode started); guardrail
events are ``chain`` runs of their own node. Reproduced tracer / SDK behaviours:

* ids are UUIDs (``trace_id`` is the root run's id); ``dotted_order`` is ``<%Y%m%dT%H%M%S%f>Z<uuid>``
  per ancestor joined by ``.``; ``parent_run_id``, ``parent_run_ids``, ``session_id`` (the project),
  ``status``, ``events`` (``start``/``end``) and the read API's summed token fields on every run;
  times are ISO with microseconds, without a zone or with ``+00:00`` (one habit per agent; agent habits
  follow its provider: zone, langchain-core version, graph name, how the graph is invoked, feedback key);
* ``llm`` runs: ``inputs.messages`` is a batch (list of lists) of serialised LangChain messages
  (``{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "HumanMessage"],
  "kwargs": {...}}``) holding the whole conversation so far; ``outputs`` is an ``LLMResult``
  (``generations[[{"text", "message": AIMessage}]]``, ``llm_output``); the ``AIMessage`` carries
  ``tool_calls`` (``{"name", "args": dict, "id", "type": "tool_call"}``), ``usage_metadata`` and
  ``response_metadata.model_name``; provider details follow the chat model class (ChatOpenAI /
  ChatMistralAI: OpenAI-format ``additional_kwargs.tool_calls``; ChatAnthropic: ``content`` is a list of
  ``text`` and ``tool_use`` blocks when the model calls tools, tools bound as ``input_schema``;
  ChatGoogleGenerativeAI: no ``llm_output`` usage). ``extra.invocation_params`` holds ``model`` and the
  bound ``tools``; ``extra.metadata`` the ``ls_*`` keys and LangGraph's ``langgraph_*`` / ``thread_id``;
* ``tool`` runs: ``inputs`` is the arguments dict, or ``{"input": str(args)}`` (a Python repr, older
  tracer) for some (agent, tool) pairs of agents on langchain-core 0.3; on langchain-core 1.x (one habit
  per agent) ``extra.tool_call_id`` holds the model's call id; ``outputs`` is ``{"output": ToolMessage}`` whose ``content`` is
  ``json.dumps(result, ensure_ascii=False)`` (LangChain's ``_stringify``), or the tool's own ``str()``
  of a dict for tools that return text, with ``tool_call_id``, ``name`` and ``status``;
* a failing tool, by (agent, tool) habit, either raises (the tool run gets ``error`` =
  ``repr(exc)`` + traceback as ``BaseTracer._get_stacktrace`` writes it, no ``outputs``; ToolNode turns the
  exception into ``ToolMessage(status="error", content="Error: ValueError('…')\\n Please fix your
  mistakes.")`` in the ``tools`` node's outputs and the model's next input), or raises a ``ToolException``
  the tool handles itself (``handle_tool_error=True``: no ``error``, ``ToolMessage`` with
  ``status="error"`` and the exception text as content). The exception class is the one the error text
  names (``PlaidError: …``), ``httpx.HTTPStatusError`` for an HTTP status, ``TimeoutError`` for a timeout,
  else ``ValueError``/``RuntimeError``/``ToolException`` by (agent, tool);
* the root run's ``outputs`` is the final graph state (``{"messages": [...]}``), its ``extra.metadata``
  the invocation's config metadata (thread id, user, run-level attributes) and its ``feedback_stats``
  the outcome, one feedback key per agent (``user_score``, ``correctness`` or ``helpfulness``).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devgen.core import Span

_MESSAGES = ["langchain", "schema", "messages"]
CHAT_MODELS = {  # provider -> (chat model class, invocation_params._type, ls_provider)
    "openai": ("ChatOpenAI", "openai-chat", "openai"),
    "anthropic": ("ChatAnthropic", "anthropic-chat", "anthropic"),
    "google": ("ChatGoogleGenerativeAI", "chat-google-generative-ai", "google_genai"),
    "mistral": ("ChatMistralAI", "mistralai-chat", "mistral"),
}
FEEDBACK_KEYS = ("user_score", "correctness", "helpfulness")
EXCEPTIONS = ("ValueError", "RuntimeError", "ToolException")  # for error text that names no class
_NAMED = re.compile(r"((?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Timeout)): (.*)", re.S)
_HTTP = re.compile(r"(?:HTTP )?[45]\d\d\b")
_TIMEOUT = re.compile(r"time(?:d)? ?out", re.I)
TOOLNODE_ERROR = "Error: {error}\n Please fix your mistakes."  # langgraph.prebuilt.tool_node template
RUNTIME = {"sdk": "langsmith-py", "sdk_version": "0.3.45", "library": "langsmith", "platform": "Linux-6.8.0-x86_64",
           "runtime": "python", "py_implementation": "CPython", "runtime_version": "3.12.9",
           "langchain_version": "0.3.25", "langchain_core_version": "0.3.63"}
RUNTIME_CORE_1 = {**RUNTIME, "sdk_version": "0.4.41", "langchain_version": "1.0.5", "langchain_core_version": "1.0.4"}


def _habit(agent: Any, tool: str | None, salt: str, share: float) -> bool:
    """A fixed per (agent, tool) coding habit, true for about ``share`` of the tools."""
    return zlib.crc32(f"{agent.NAME}/{tool}/{salt}".encode()) % 1000 < share * 1000


def _pick(agent: Any, tool: str | None, salt: str, options: tuple[Any, ...]) -> Any:
    return options[zlib.crc32(f"{agent.NAME}/{tool}/{salt}".encode()) % len(options)]


def _derived_uuid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32], version=4))


def lc_message(kind: str, **kwargs: Any) -> dict[str, Any]:
    """A LangChain message as ``langchain_core.load.dumpd`` serialises it."""
    return {"lc": 1, "type": "constructor", "id": [*_MESSAGES, kind], "kwargs": kwargs}


def _stamp(ns: int, zoned: bool) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // 1000)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text + "+00:00" if zoned else text


def _dotted(ns: int, run_id: str) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // 1000)
    return moment.strftime("%Y%m%dT%H%M%S%fZ") + run_id


def _args_dict(call: dict[str, Any]) -> dict[str, Any] | None:
    try:
        args = json.loads(call["function"]["arguments"])
    except ValueError:
        return None
    return args if isinstance(args, dict) else None


def _tool_content(agent: Any, s: Span) -> str:
    """A successful tool's ``ToolMessage.content``."""
    result = s.result
    if isinstance(result, str):
        return result
    if result is not None and _habit(agent, s.tool, "returns-str", 0.3):  # the tool returns str(its dict)
        return repr(result)
    return json.dumps(result, ensure_ascii=False)  # langchain_core.tools.base._stringify


def exception(agent: Any, tool: str, error: str) -> tuple[str, str]:
    """``(exception class, its message)`` a tool raising ``error`` would raise: the class the text names
    (``PlaidError: …``), ``httpx.HTTPStatusError`` for an HTTP status, ``TimeoutError`` for a timeout, else
    one class per (agent, tool)."""
    named = _NAMED.fullmatch(error)
    if named:
        return named.group(1), named.group(2)
    if _HTTP.match(error):
        return "httpx.HTTPStatusError", error
    if _TIMEOUT.search(error):
        return "TimeoutError", error
    return _pick(agent, tool, "exception", EXCEPTIONS), error


def _stacktrace(exc: str, message: str, agent: Any, tool: str) -> str:
    """``BaseTracer._get_stacktrace``: ``repr(error)`` glued to the ``"\\n\\n"``-joined traceback lines."""
    short = exc.rsplit(".", 1)[-1]
    lines = ["Traceback (most recent call last):\n",
             '  File "/usr/local/lib/python3.12/site-packages/langchain_core/tools/base.py", line 848, in run\n'
             "    response = context.run(self._run, *tool_args, **tool_kwargs)\n"
             "               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n",
             '  File "/usr/local/lib/python3.12/site-packages/langchain_core/tools/structured.py", line 93, in _run\n'
             "    return self.func(*args, **kwargs)\n           ^^^^^^^^^^^^^^^^^^^^^^^^^^\n",
             f'  File "/app/{agent.DIRNAME}/tools.py", line {100 + zlib.crc32(tool.encode()) % 400}, in {tool}\n'
             f"    raise {short}(detail)\n",
             f"{exc}: {message}\n"]
    return (f"{short}({message!r})" + "\n\n".join(lines)).strip()


def on_langchain_core_1(agent: Any) -> bool:
    """The agent runs langchain-core 1.x, which passes the tool call id to ``on_tool_start`` (the tracer
    keeps it in the tool run's ``extra``); the others run 0.3."""
    return agent.PROVIDER in ("anthropic", "google")


class _Writer:
    """Builds one trace's runs (module docstring)."""

    def __init__(self, agent: Any, meta: dict[str, Any], new_id: Callable[[], str], root: Span) -> None:
        self.agent = agent
        self.meta = meta
        self.new_id = new_id
        self.zoned = agent.PROVIDER in ("openai", "google")
        self.core_1 = on_langchain_core_1(agent)
        self.project = _derived_uuid("project", agent.NAME)
        self.root = root
        self.runs: list[dict[str, Any]] = []
        self.dotted: dict[str, str] = {}
        self.step = 0
        chat, kind, ls_provider = CHAT_MODELS[agent.PROVIDER]
        self.chat, self.kind, self.ls_provider = chat, kind, ls_provider

    def run(self, run_id: str, parent: str | None, name: str, run_type: str, start: int, end: int,
            inputs: Any, outputs: Any, *, error: str | None = None, metadata: dict[str, Any] | None = None,
            extra: dict[str, Any] | None = None, tags: list[str] | None = None,
            tokens: tuple[int, int] = (0, 0)) -> dict[str, Any]:
        dotted = _dotted(start, run_id) if parent is None else f"{self.dotted[parent]}.{_dotted(start, run_id)}"
        self.dotted[run_id] = dotted
        parents = [seg.partition("Z")[2] for seg in dotted.split(".")[:-1]]
        obj = {"id": run_id, "name": name, "run_type": run_type, "start_time": _stamp(start, self.zoned),
               "end_time": _stamp(end, self.zoned),
               "extra": {**(extra or {}), "metadata": metadata or {}, "runtime": RUNTIME_CORE_1 if self.core_1 else RUNTIME},
               "error": error, "serialized": None,
               "events": [{"name": "start", "time": _stamp(start, True)}, {"name": "end", "time": _stamp(end, True)}]
               if error is None else [{"name": "start", "time": _stamp(start, True)},
                                      {"name": "error", "time": _stamp(end, True)}],
               "inputs": inputs, "outputs": outputs, "reference_example_id": None, "parent_run_id": parent,
               "tags": tags or [], "session_id": self.project, "child_run_ids": None, "feedback_stats": None,
               "status": "error" if error else "success", "prompt_tokens": tokens[0],
               "completion_tokens": tokens[1], "total_tokens": tokens[0] + tokens[1], "first_token_time": None,
               "total_cost": None, "prompt_cost": None, "completion_cost": None, "parent_run_ids": parents,
               "trace_id": self.root.sid, "dotted_order": dotted, "in_dataset": False}
        self.runs.append(obj)
        return obj

    def node_meta(self, node: str) -> dict[str, Any]:
        checkpoint = f"{node}:{_derived_uuid(self.root.sid, node, str(self.step))}"
        return {"thread_id": self.meta["session"], "langgraph_step": self.step, "langgraph_node": node,
                "langgraph_triggers": [f"branch:to:{node}"] if self.step > 1 else ["branch:to:agent"],
                "langgraph_path": ["__pregel_pull", node], "langgraph_checkpoint_ns": checkpoint,
                "checkpoint_ns": checkpoint}

    # -- messages -------------------------------------------------------------------------------
    def ai_message(self, s: Span, llm_id: str) -> dict[str, Any]:
        out = s.output or {}
        text = out.get("content") or ""
        calls = out.get("tool_calls") or []
        tool_calls, invalid = [], []
        for c in calls:
            args = _args_dict(c)
            if args is None:
                invalid.append({"name": c["function"]["name"], "args": c["function"]["arguments"], "id": c["id"],
                                "error": None, "type": "invalid_tool_call"})
            else:
                tool_calls.append({"name": c["function"]["name"], "args": args, "id": c["id"], "type": "tool_call"})
        usage = {"input_tokens": s.in_tok or 0, "output_tokens": s.out_tok or 0,
                 "total_tokens": (s.in_tok or 0) + (s.out_tok or 0)}
        finish = s.extra.get("finish_reason")
        provider = self.agent.PROVIDER
        content: Any = text
        additional: dict[str, Any] = {}
        if provider == "anthropic":
            if calls:
                content = ([{"type": "text", "text": text}] if text else []) + [
                    {"type": "tool_use", "id": c["id"], "name": c["function"]["name"],
                     "input": _args_dict(c) or {}} for c in calls]
            response = {"id": "msg_" + hashlib.sha256(llm_id.encode()).hexdigest()[:24], "model": s.model,
                        "stop_reason": "tool_use" if calls else "end_turn", "stop_sequence": None,
                        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]},
                        "model_name": s.model}
        elif provider == "google":
            if calls:
                additional = {"function_call": {"name": calls[0]["function"]["name"],
                                                "arguments": calls[0]["function"]["arguments"]}}
            response = {"prompt_feedback": {"block_reason": 0, "safety_ratings": []},
                        "finish_reason": "STOP", "model_name": s.model, "safety_ratings": []}
        else:
            if calls:
                additional = {"tool_calls": calls}
            if provider == "openai":
                additional["refusal"] = None
            response = {"token_usage": {"completion_tokens": usage["output_tokens"],
                                        "prompt_tokens": usage["input_tokens"], "total_tokens": usage["total_tokens"]},
                        "model_name": s.model, "finish_reason": finish}
            if provider == "openai":
                response["system_fingerprint"] = "fp_" + hashlib.sha256(s.model.encode()).hexdigest()[:10]
        return lc_message("AIMessage", content=content, additional_kwargs=additional, response_metadata=response,
                          type="ai", id=f"run-{llm_id}-0", tool_calls=tool_calls, invalid_tool_calls=invalid,
                          usage_metadata=usage)

    def llm_output(self, s: Span) -> dict[str, Any] | None:
        provider = self.agent.PROVIDER
        inp, out = s.in_tok or 0, s.out_tok or 0
        if provider == "google":
            return None
        if provider == "anthropic":
            return {"id": "msg_" + hashlib.sha256(s.sid.encode()).hexdigest()[:24], "model": s.model,
                    "stop_reason": "tool_use" if s.extra.get("finish_reason") == "tool_calls" else "end_turn",
                    "usage": {"input_tokens": inp, "output_tokens": out}}
        usage = {"completion_tokens": out, "prompt_tokens": inp, "total_tokens": inp + out}
        if provider == "openai":
            return {"token_usage": usage, "model_name": s.model, "system_fingerprint": None, "id": None}
        return {"token_usage": usage, "model": s.model}

    def bound_tools(self) -> list[dict[str, Any]]:
        """The tools as ``bind_tools`` converts them; a tool declared without a schema has a bare
        ``{"type": "object"}`` ``args_schema`` (LangChain always sends one)."""
        def schema(t: dict[str, Any]) -> dict[str, Any]:
            return t.get("parameters") or {"type": "object"}

        if self.agent.PROVIDER == "anthropic":  # ChatAnthropic.bind_tools -> convert_to_anthropic_tool
            return [{"name": t["name"], "description": t.get("description", ""), "input_schema": schema(t)}
                    for t in self.agent.TOOLS]
        return [{"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                                  "parameters": schema(t)}} for t in self.agent.TOOLS]


def langsmith_runs(spans: list[Span], agent: Any, meta: dict[str, Any],
                   new_id: Callable[[], str]) -> list[dict[str, Any]]:
    """The runs of one trace (module docstring), newest first as ``Client.list_runs`` returns them.

    ``meta`` keys used: ``session`` (the LangGraph ``thread_id``), ``user``, ``channel``, ``tags``,
    ``feedback_stats``. The root run's id is ``spans[0].sid``, which is also the trace id."""
    root = spans[0]
    w = _Writer(agent, meta, new_id, root)
    graph = "LangGraph" if agent.PROVIDER in ("openai", "mistral") else agent.NAME.replace("-", "_") + "_graph"
    system = next((m["content"] for s in spans if s.role == "llm" for m in s.input or () if m["role"] == "system"),
                  agent.SYSTEM)
    history: list[dict[str, Any]] = [lc_message("SystemMessage", content=system, type="system")]
    first_user = next((m["content"] for s in spans if s.role == "llm" for m in s.input or () if m["role"] == "user"),
                      root.input)
    if agent.PROVIDER in ("openai", "anthropic"):  # graph.invoke({"messages": [("user", text)]})
        root_inputs: dict[str, Any] = {"messages": [["user", first_user]]}
    else:
        root_inputs = {"messages": [lc_message("HumanMessage", content=first_user, type="human")]}
    root_meta = {"thread_id": meta["session"], "user_id": meta["user"], "channel": meta["channel"],
                 "app_version": agent.VERSION, **root.extra}
    root_run = w.run(root.sid, None, graph, "chain", root.start, root.end, root_inputs, None,
                     error=_root_error(root.error), metadata=root_meta, tags=list(meta["tags"]))
    rest = spans[1:]
    totals = [0, 0]
    i = 0
    while i < len(rest):
        s = rest[i]
        if s.role == "event":
            w.step += 1
            payload = s.input if isinstance(s.input, dict) else {"input": s.input}
            node = s.name.split(".", 1)[-1]
            w.run(s.sid, root.sid, node, "chain", s.start, s.end + 150_000, payload, None,
                  metadata=w.node_meta(node), tags=[f"graph:step:{w.step}"])
            i += 1
            continue
        if s.role != "llm":  # a tool run without a model turn before it does not occur in devgen's renders
            raise AssertionError(f"unexpected {s.role} span at the top of a LangGraph step")
        for m in s.input or ():  # each user message reaches the model once, in the turn after it arrived
            if m["role"] == "user":
                history.append(lc_message("HumanMessage", content=m["content"], type="human"))
        w.step += 1
        node_id = new_id()
        tokens = (s.in_tok or 0, s.out_tok or 0)
        totals[0] += tokens[0]
        totals[1] += tokens[1]
        ai = w.ai_message(s, s.sid)
        state_in = {"messages": list(history)}
        w.run(node_id, root.sid, "agent", "chain", s.start - 1_200_000, s.end + 900_000, state_in,
              {"messages": [ai]}, metadata=w.node_meta("agent"), tags=[f"graph:step:{w.step}"], tokens=tokens)
        llm_meta = {**w.node_meta("agent"), "ls_provider": w.ls_provider, "ls_model_name": s.model,
                    "ls_model_type": "chat", "ls_temperature": 0.1}
        params = {"model": s.model, "model_name": s.model, "stream": False, "temperature": 0.1, "_type": w.kind,
                  "stop": None, "tools": w.bound_tools()}
        text = ai["kwargs"]["content"] if isinstance(ai["kwargs"]["content"], str) else ""
        generation = {"text": text, "generation_info": {"finish_reason": s.extra.get("finish_reason"),
                                                         "logprobs": None},
                      "type": "ChatGeneration", "message": ai}
        w.run(s.sid, node_id, w.chat, "llm", s.start, s.end, {"messages": [list(history)]},
              {"generations": [[generation]], "llm_output": w.llm_output(s), "run": None, "type": "LLMResult"},
              metadata=llm_meta, extra={"invocation_params": params, "options": {"stop": None}, "batch_size": 1},
              tags=["seq:step:1"], tokens=tokens)
        history.append(ai)
        j = i + 1
        tools = []
        while j < len(rest) and rest[j].role == "tool":
            tools.append(rest[j])
            j += 1
        if tools:
            w.step += 1
            tools_id = new_id()
            state = {"messages": list(history)}
            node_messages: list[dict[str, Any]] = []
            tools_meta = w.node_meta("tools")
            start = min(t.start for t in tools) - 800_000
            end = max(t.end for t in tools) + 1_100_000
            w.run(tools_id, root.sid, "tools", "chain", start, end, state, {"messages": node_messages},
                  metadata=tools_meta, tags=[f"graph:step:{w.step}"])
            for t in tools:
                message, run_error, outputs = _tool_outcome(agent, t)
                node_messages.append(message)
                inputs: dict[str, Any]
                if not isinstance(t.args, dict):
                    inputs = {"input": t.args if isinstance(t.args, str) else json.dumps(t.args)}
                elif not w.core_1 and _habit(agent, t.tool, "input-str", 0.4):  # older: {"input": str(args)}
                    inputs = {"input": str(t.args)}
                else:
                    inputs = dict(t.args)
                w.run(t.sid, tools_id, t.tool or "tool", "tool", t.start, t.end, inputs, outputs, error=run_error,
                      metadata=tools_meta, tags=["seq:step:1"],
                      extra={"color": "green", **({"tool_call_id": t.call_id} if w.core_1 else {})})
            history.extend(node_messages)
        i = j
    root_run["outputs"] = {"messages": history[1:]}
    root_run["prompt_tokens"], root_run["completion_tokens"] = totals
    root_run["total_tokens"] = sum(totals)
    root_run["feedback_stats"] = meta.get("feedback_stats")
    w.runs.sort(key=lambda r: r["dotted_order"], reverse=True)
    return w.runs


def _root_error(error: str | None) -> str | None:
    if not error:
        return None
    return (f"GraphRecursionError({error!r})Traceback (most recent call last):\n\n\n"
            '  File "/usr/local/lib/python3.12/site-packages/langgraph/pregel/main.py", line 2719, in invoke\n'
            "    for chunk in self.stream(\n\n\n"
            f"langgraph.errors.GraphRecursionError: {error}")


def _tool_outcome(agent: Any, s: Span) -> tuple[dict[str, Any], str | None, dict[str, Any] | None]:
    """``(ToolMessage for the model, tool run error, tool run outputs)``."""
    name = s.tool or "tool"
    if s.error:
        exc, text = exception(agent, name, s.error)
        if _habit(agent, s.tool, "raises", 0.6):  # the tool raises; ToolNode(handle_tool_errors=True) answers
            short = exc.rsplit(".", 1)[-1]
            content = TOOLNODE_ERROR.format(error=f"{short}({text!r})")
            message = lc_message("ToolMessage", content=content, type="tool", name=name, tool_call_id=s.call_id,
                                 status="error")
            return message, _stacktrace(exc, text, agent, name), None
        message = lc_message("ToolMessage", content=s.error, type="tool", name=name, tool_call_id=s.call_id,
                             status="error")  # ToolException with handle_tool_error=True
        return message, None, {"output": message}
    message = lc_message("ToolMessage", content=_tool_content(agent, s), type="tool", name=name,
                         tool_call_id=s.call_id, status="success")
    return message, None, {"output": message}


def feedback_stats(agent: Any, failed: bool, score: float) -> dict[str, Any]:
    """The root run's ``feedback_stats``: one feedback key per agent, as the read API aggregates it."""
    key = FEEDBACK_KEYS[("openai", "anthropic", "google", "mistral").index(agent.PROVIDER) % len(FEEDBACK_KEYS)]
    avg = (0.0 if failed else 1.0) if key != "helpfulness" else score
    return {key: {"n": 1, "avg": avg, "stdev": 0.0, "errors": 0, "values": {}, "show_feedback_arrow": key != "user_score",
                  "contains_thread_feedback": False}}
