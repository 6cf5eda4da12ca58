"""The deterministic summariser and the evidence facts it reads: real detector signals from a small
synthetic archive, plus hand-made signals for planted secrets, masking and odd input."""

from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import pytest

from tracemine.model import Signal
from tracemine.redact import Redactor
from tracemine.summarise.base import Brief, ExemplarBrief, Summariser, Summary
from tracemine.summarise.facts import collect_facts
from tracemine.summarise.offline import OfflineSummariser

WINDOW = 500
API_KEY = "sk-live-4f9Qz8LmN2xR7vT1bK6pW3yH5cJ0dA9e"
EMAIL = "jane.doe@corp-mail.example.com"
CODE_SPAN = re.compile(r"`([^`]*)`")


# --- helpers -------------------------------------------------------------------------------------------


def brief_of(signals: Sequence[Signal], level: str = "finding", window: int = WINDOW,
             redactor: Redactor | None = None) -> Brief:
    """A brief as the pipeline builds one: counts, tools/models/agents, facts and three exemplars."""
    redactor = redactor or Redactor()
    tools: Counter[str] = Counter()
    models: Counter[str] = Counter()
    agents: Counter[str] = Counter()
    mechanisms: Counter[str] = Counter()
    for s in signals:
        ev = s.evidence
        for key, counter in (("tool", tools), ("model", models), ("agent", agents), ("mechanism", mechanisms)):
            if isinstance(ev.get(key), str) and ev[key]:
                counter[ev[key]] += 1
    exemplars = [ExemplarBrief(ref=f"E{i}", trace_id=s.trace_id, span_ids=list(s.span_ids),
                               tool=s.evidence.get("tool"), text=redactor.redact(s.text))
                 for i, s in enumerate(signals[:3], start=1)]
    return Brief(node_id="n1", level=level, kinds=sorted({s.kind for s in signals}), signals=len(signals),
                 traces=len({s.trace_id for s in signals}), window_traces=window, severity="medium",
                 mechanisms=mechanisms.most_common(), tools=tools.most_common(), models=models.most_common(),
                 agents=agents.most_common(), facts=collect_facts(signals, redactor), exemplars=exemplars)


def code_spans_ok(text: str, limit: int = 121) -> bool:
    """Backticks balanced and every quoted span at most ``limit`` characters."""
    return text.count("`") % 2 == 0 and all(len(m) <= limit for m in CODE_SPAN.findall(text))


def all_text(summary: Summary) -> str:
    return " ".join([summary.title, summary.summary, summary.mechanism, summary.recommended_fix])


def sig(kind: str, evidence: dict[str, Any], trace: str = "t1", text: str = "") -> Signal:
    return Signal(detector=kind, kind=kind, trace_id=trace, span_ids=["s1"], severity="medium",
                  evidence=evidence, text=text or f"{kind} signal")


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> list[Signal]:
    from tracemine.detect.runner import run_detection
    from tracemine.ingest.loader import ingest_paths
    from tracemine.store import Store
    from tracemine.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("offline")
    generate(SynthConfig(traces=WINDOW, seed=3, fmt="jsonl"), root / "traces")
    with Store(str(root / "a.duckdb")) as store:
        ingest_paths([str(root / "traces")], store)
        report = run_detection(store, None, None, {}, save=False)
    assert not report.errors
    return report.signals


def by_mechanism(signals: list[Signal]) -> dict[tuple[str, str | None], list[Signal]]:
    out: dict[tuple[str, str | None], list[Signal]] = defaultdict(list)
    for s in signals:
        out[(s.kind, s.evidence.get("mechanism"))].append(s)
    return out


# --- real signals -----------------------------------------------------------------------------------------

EXPECTED = {
    ("silent_failure", "success_false"), ("silent_failure", "http_status"), ("silent_failure", "status_field"),
    ("silent_failure", "error_in_result"), ("silent_failure", "error_text"), ("silent_failure", "exception_event"),
    ("silent_failure", "swallowed_child_error"),
    ("silent_failure", "max_turns_exit"), ("silent_failure", "timeout_exit"),
    ("loop", "tool_repeat"), ("loop", "tool_cycle"), ("loop", "llm_repeat"),
    ("duplicate_call", None), ("argument_error", "schema_violation"), ("argument_error", "unknown_tool"),
    ("argument_error", "validation_error_result"), ("unrecovered_error", None), ("outlier", None),
}

# what each kind's title and fix must say (the mechanism-specific wording, not a generic template)
TITLE_WORDS = {
    "silent_failure": ("OK", "unset", "success", "empty result"),
    "loop": ("×",),
    "duplicate_call": ("identical arguments",),
    "argument_error": ("violating", "undeclared tool", "reject"),
    "unrecovered_error": ("fail",),
    "outlier": ("above usual",),
}
FIX_WORDS = {
    "silent_failure": ("status to ERROR",),
    "loop": ("repetition guard", "tool call", "deadline"),
    "duplicate_call": ("idempotency key", "Cache results"),
    "argument_error": ("validat", "tool names"),
    "unrecovered_error": ("retry",),
    "outlier": ("max_tokens", "timeouts", "context"),
}


def test_synthetic_run_covers_every_mechanism(signals: list[Signal]) -> None:
    assert set(by_mechanism(signals)) >= EXPECTED


def test_every_mechanism_gets_a_specific_title_naming_tool_and_message(signals: list[Signal]) -> None:
    summariser = OfflineSummariser()
    assert isinstance(summariser, Summariser) and summariser.name == "offline"
    for (kind, mechanism), members in by_mechanism(signals).items():
        # one tool per brief, as cluster leaves are: the title must name it and the top message
        by_tool = Counter(s.evidence.get("tool") or s.evidence.get("model") for s in members)
        subject, _ = by_tool.most_common(1)[0]
        group = [s for s in members if (s.evidence.get("tool") or s.evidence.get("model")) == subject]
        brief = brief_of(group)
        out = summariser.summarise(brief)
        where = (kind, mechanism, out.title)
        assert any(w in out.title for w in TITLE_WORDS[kind]), where
        assert any(w in out.recommended_fix for w in FIX_WORDS[kind]), (where, out.recommended_fix)
        n = len({s.trace_id for s in group})
        assert f"({n} trace{'s' if n > 1 else ''}, " in out.title and " %)" in out.title, where
        if mechanism == "tool_cycle":
            assert f"`{subject} -> " in out.title, where  # the cycle, starting at the tool
        elif subject and mechanism not in ("max_turns_exit", "timeout_exit", "unknown_tool"):
            assert f"`{subject}`" in out.title, where  # the one tool (or model) is named
        if kind == "argument_error" and mechanism == "unknown_tool":
            assert f"`{group[0].evidence['tool']}`" in out.title and "closest" in out.title, where
            assert f"`{group[0].evidence['closest_tool']}`" in out.title, where
        messages = brief.facts.get("messages") or []
        if kind == "silent_failure" and mechanism != "empty_result":
            top = messages[0]
            quoted = top["example"] if top["variants"] == 1 else top["text"]
            assert f"`{quoted[:40]}" in out.title or f"`{quoted[:40]}" in out.summary, where
        if mechanism == "schema_violation":
            v = brief.facts["violations"][0]
            assert f"`{v['validator']}` at `{v['path']}`" in out.title, where
        assert code_spans_ok(out.title, 61) and code_spans_ok(out.summary), where
        assert out.mechanism.endswith(".") and len(out.mechanism) > 40, where
        assert out.exemplar_refs and out.exemplar_refs[0] == "E1", where
        assert set(out.exemplar_refs) <= brief.exemplar_refs(), where
        assert all(f"{ref}" in out.summary for ref in out.exemplar_refs), where


def test_mechanism_specific_wording(signals: list[Signal]) -> None:
    s = OfflineSummariser()
    mech = by_mechanism(signals)
    silent = s.summarise(brief_of(mech[("silent_failure", "http_status")]))
    assert "HTTP" in silent.title and "wrapper" in silent.recommended_fix
    turns = s.summarise(brief_of(mech[("silent_failure", "max_turns_exit")]))
    assert "turn limit" in turns.title and "Runs ended at `" in turns.summary
    llm = s.summarise(brief_of(mech[("loop", "llm_repeat")]))
    assert "same message" in llm.title and "tool_choice" in llm.recommended_fix
    cycle = s.summarise(brief_of(mech[("loop", "tool_cycle")]))
    assert " -> " in cycle.title
    outlier = s.summarise(brief_of(mech[("outlier", None)]))
    assert "median" in outlier.title and re.search(r"\d+(\.\d)?× above usual", outlier.title)
    writes = [x for x in mech[("duplicate_call", None)] if x.evidence.get("is_write")]
    reads = [x for x in mech[("duplicate_call", None)] if not x.evidence.get("is_write")]
    assert writes and reads
    dup_w = s.summarise(brief_of(writes))
    assert "duplicate side effects" in dup_w.title and "idempotency key" in dup_w.recommended_fix
    dup_r = s.summarise(brief_of(reads))
    assert "after a successful result" in dup_r.title and "idempotency" not in dup_r.recommended_fix
    unrec = s.summarise(brief_of(mech[("unrecovered_error", None)]))
    assert "no retry or recovery" in unrec.title and "retry" in unrec.recommended_fix
    assert "Error classes: " in unrec.summary


def test_tool_dominance_in_titles(signals: list[Signal]) -> None:
    members = by_mechanism(signals)[("silent_failure", "http_status")]
    brief = brief_of(members)
    brief.tools = [("lookup_weather", 9), ("other_tool", 1)]
    assert OfflineSummariser().summarise(brief).title.startswith("`lookup_weather` ")
    brief.tools = [("lookup_weather", 5), ("other_tool", 3), ("third", 2)]
    title = OfflineSummariser().summarise(brief).title
    assert title.startswith(("3 tools (mostly `lookup_weather`) report OK",  # plural verb, whichever status
                             "3 tools (mostly `lookup_weather`) leave their span status unset"))
    assert "`lookup_weather`" in OfflineSummariser().summarise(brief).recommended_fix


def test_facts_on_real_signals(signals: list[Signal]) -> None:
    mech = by_mechanism(signals)
    every = collect_facts(signals, top=10)
    assert every["signals"] == len(signals) and every["traces"] == len({s.trace_id for s in signals})
    assert dict(every["kinds"])["outlier"] == len(mech[("outlier", None)])
    json.dumps(every)  # JSON-ready

    outliers = collect_facts(mech[("outlier", None)])
    first = outliers["metrics"][0]
    assert first["primary"] == max(m["primary"] for m in outliers["metrics"])
    assert first["median_ratio"] >= 2 and first["median_value"] > first["median_baseline"]
    assert first["unit"] in ("ms", "tokens", "usd")

    loops = collect_facts(mech[("loop", "tool_cycle")])["loops"]
    assert loops["median_period"] >= 2 and all(" -> " in c for c, _ in loops["cycles"])
    dups = collect_facts(mech[("duplicate_call", None)])
    assert dups["duplicates"]["median_calls"] >= 2
    assert 0 < dups["writes"]["share"] < 1 and dups["writes"]["of"] == len(mech[("duplicate_call", None)])
    unrec = collect_facts(mech[("unrecovered_error", None)])
    assert unrec["recovered_later"]["count"] == 0 and "admits_failure" in unrec and unrec["error_classes"]
    unknown = collect_facts(mech[("argument_error", "unknown_tool")])["unknown_tools"]
    assert all(u["closest"] for u in unknown)
    exits = collect_facts(mech[("silent_failure", "timeout_exit")])
    assert exits["ended_at"] and exits["runs"]["median_steps"] > 0


def test_facts_do_not_depend_on_member_order(signals: list[Signal]) -> None:
    members = [s for s in signals if s.kind in ("silent_failure", "unrecovered_error", "argument_error")]
    shuffled = members[:]
    random.Random(7).shuffle(shuffled)
    assert collect_facts(members) == collect_facts(shuffled)


def test_deterministic(signals: list[Signal]) -> None:
    for members in by_mechanism(signals).values():
        a = OfflineSummariser().summarise(brief_of(members))
        b = OfflineSummariser().summarise(brief_of(copy.deepcopy(members)))
        assert a == b


def test_overview_names_the_top_ranked_findings(signals: list[Signal]) -> None:
    """The overview's children come in rank order: it names #1, #2, #3 as ranked (not re-sorted by size,
    which named the 18th finding "the biggest")."""
    s = OfflineSummariser()
    children = [brief_of(m) for m in by_mechanism(signals).values()]
    summaries = [s.summarise(c) for c in children]
    overview = Brief(node_id="all", level="overview", kinds=sorted({x.kind for x in signals}),
                     signals=len(signals), traces=len({x.trace_id for x in signals}), window_traces=WINDOW,
                     severity="high", facts=collect_facts(signals), children=children,
                     child_summaries=summaries)
    out = s.summarise(overview)
    assert out.title.startswith(f"{len(children)} failure modes in ")
    children[0].traces, children[-1].traces = 1, 10_000  # the top-ranked finding is not the largest
    out = s.summarise(overview)
    assert f"top-ranked findings: #1 {summaries[0].title}; #2 {summaries[1].title}" in out.summary
    assert summaries[-1].title not in out.summary or len(children) <= 3
    assert "Fix in order of impact: #1 " in out.recommended_fix
    assert s.summarise(overview) == out


# --- secrets and masking --------------------------------------------------------------------------------


def planted() -> list[Signal]:
    return [
        sig("silent_failure", {"mechanism": "error_in_result", "tool": "lookup_weather", "status": "ok",
                               "reason": f"upstream timeout for {EMAIL} using key {API_KEY}",
                               "result_excerpt": json.dumps({"error": "timeout", "api_key": API_KEY}),
                               "write": False, "later_success": False}, trace="t1",
            text=f"tool lookup_weather returned an error: key {API_KEY}"),
        sig("silent_failure", {"mechanism": "error_in_result", "tool": "lookup_weather", "status": "ok",
                               "reason": f"upstream timeout for {EMAIL} using key {API_KEY}",
                               "arguments": f'{{"email": "{EMAIL}", "token": "{API_KEY}"}}',
                               "write": True, "later_success": True}, trace="t2"),
        sig("argument_error", {"mechanism": "schema_violation", "tool": "send_mail",
                               "violations": [{"path": "$.to", "validator": "format",
                                               "message": f"'{EMAIL}' is not a 'uuid' ({API_KEY})"}]},
            trace="t3"),
        sig("unrecovered_error", {"tool": "charge", "error": f"401 Unauthorized: bad key {API_KEY}",
                                  "final_answer_excerpt": f"Contact {EMAIL}", "retried": False,
                                  "final_answer_admits_failure": False}, trace="t4"),
    ]


def test_planted_secrets_never_reach_facts_or_summaries() -> None:
    members = planted()
    facts = collect_facts(members)
    dumped = json.dumps(facts)
    assert "REDACTED" in dumped
    for secret in (API_KEY, API_KEY[8:24], EMAIL, "jane.doe"):
        assert secret not in dumped
    s = OfflineSummariser()
    briefs = [brief_of(members)] + [brief_of([m]) for m in members]
    for brief in briefs:
        text = all_text(s.summarise(brief))
        for secret in (API_KEY, API_KEY[8:24], EMAIL, "jane.doe"):
            assert secret not in text
    # the summariser also redacts what a careless brief builder left in
    raw = brief_of(members[:2])
    raw.tools = [(f"tool {API_KEY}", 2)]
    raw.facts["messages"] = [{"text": f"boom {EMAIL}", "example": f"boom {EMAIL}", "count": 2, "variants": 1}]
    text = all_text(s.summarise(raw))
    assert API_KEY not in text and EMAIL not in text and "boom" in text


def test_same_message_from_different_traces_counts_once() -> None:
    members = [
        sig("silent_failure", {"mechanism": "http_status", "tool": "api", "status": "ok",
                               "reason": f"HTTP 503 for request req_{n:06d} at 2026-01-0{n}T10:00:00Z"},
            trace=f"t{n}")
        for n in range(1, 6)
    ] + [sig("silent_failure", {"mechanism": "http_status", "tool": "api", "status": "unset",
                                "reason": "HTTP 404: Not Found"}, trace="t9")]
    facts = collect_facts(members)
    top = facts["messages"][0]
    assert top["count"] == 5 and top["variants"] == 5 and "<id>" in top["text"] and "<time>" in top["text"]
    assert top["error_class"] == "server error"
    assert facts["error_classes"] == [["server error", 5], ["not found", 1]]
    assert facts["statuses"] == [["ok", 5], ["unset", 1]]
    out = OfflineSummariser().summarise(brief_of(members))
    # masked (the traces disagree on the ids), the placeholders worded for a reader
    assert "`HTTP N for request ID at TIME`" in out.title and "<" not in out.title + out.summary
    assert out.title.startswith("`api` reports OK while returning an HTTP error")


def test_hand_built_facts_for_each_evidence_family() -> None:
    members = [
        sig("loop", {"mechanism": "tool_repeat", "cycle": ["poll_job"], "period": 1, "repeats": r,
                     "tool": "poll_job", "exact_arguments": r != 6, "failing": False,
                     "stuck_state": "running", "write_tools": []}, trace=f"l{r}")
        for r in (3, 4, 6)
    ]
    facts = collect_facts(members)
    loops = facts["loops"]
    assert loops["median_repeats"] == 4 and loops["max_repeats"] == 6 and loops["stuck_polls"] == 3
    assert loops["stuck_states"] == [["running", 3]] and loops["reformatted"]["count"] == 1
    assert facts["writes"] == {"count": 0, "of": 3, "share": 0.0}
    out = OfflineSummariser().summarise(brief_of(members))
    assert out.title == "`poll_job` polled 4× with no progress (stuck in `running`) (3 traces, 0.6 %)"
    assert "deadline" in out.recommended_fix

    dup = [sig("duplicate_call", {"tool": "charge_card", "calls": c, "is_write": True, "adjacent": True,
                                  "exact_arguments": c == 2, "same_result": False, "failed_before_span_ids": []},
               trace=f"d{c}") for c in (2, 3)]
    facts = collect_facts(dup)
    assert facts["duplicates"]["median_calls"] == 2.5 and facts["duplicates"]["reformatted"]["count"] == 1
    assert facts["writes"]["share"] == 1.0
    out = OfflineSummariser().summarise(brief_of(dup))
    assert out.title.startswith("Writes through `charge_card` repeated") and "idempotency key" in out.recommended_fix
    assert "took effect twice" in out.summary

    outl = [sig("outlier", {"metric": "latency", "value": v, "median": 100.0, "ratio": v / 100, "group": "tool:x",
                            "tool": "slow_api", "metrics": ["latency", "cost"],
                            "others": [{"metric": "cost", "value": 0.5, "median": 0.01, "ratio": 50.0}]},
                trace=f"o{v}") for v in (1000.0, 3000.0)]
    facts = collect_facts(outl)
    assert facts["metrics"][0] == {"metric": "latency", "unit": "ms", "count": 2, "primary": 2,
                                   "median_value": 2000.0, "median_baseline": 100.0, "median_ratio": 20.0,
                                   "max_ratio": 30.0}
    assert facts["metrics"][1]["metric"] == "cost" and facts["metrics"][1]["primary"] == 0
    out = OfflineSummariser().summarise(brief_of(outl))
    assert out.title == "`slow_api`: latency 20× above usual (median 2.0 s vs 100 ms) (2 traces, 0.4 %)"


def test_trace_text_stays_inside_short_code_spans() -> None:
    long = "x" * 500
    members = [sig("silent_failure", {"mechanism": "error_text", "tool": "t`ool", "status": "ok",
                                      "reason": f"Error: `rm -rf` failed\n\n{long}"}, trace=f"b{i}")
               for i in range(3)]
    out = OfflineSummariser().summarise(brief_of(members))
    for text in (out.title, out.summary, out.recommended_fix):
        assert code_spans_ok(text), text
    assert code_spans_ok(out.title, 61) and len(out.title) < 200
    assert "`t'ool`" in out.title and "\n" not in out.title


# --- odd input -------------------------------------------------------------------------------------------


def test_odd_briefs_do_not_raise() -> None:
    s = OfflineSummariser()
    odd = [
        Brief(node_id="", level="leaf", kinds=[], signals=0, traces=0, window_traces=0, severity=""),
        Brief(node_id="x", level="finding", kinds=["custom_detector"], signals=3, traces=2, window_traces=100,
              severity="low", frame="tool <tool> did <value>", keywords=["alpha", "beta`"],
              tools=[("my_tool", 3)], facts=collect_facts([sig("custom_detector", {"reason": "weird thing"})]),
              exemplars=[ExemplarBrief(ref="E1", trace_id="t", span_ids=["s"], tool=None, text="hi")]),
        Brief(node_id="y", level="finding", kinds=["loop"], signals=1, traces=1, window_traces=10,
              severity="high", facts={"messages": "nope", "kinds": [["loop"]], "metrics": [1, 2],
                                      "loops": {"cycles": "x", "median_repeats": "many"}, "writes": {"share": "a"}},
              tools=[(None, 1)], mechanisms=[("tool_cycle", "x")]),  # type: ignore[list-item]
        Brief(node_id="z", level="overview", kinds=[], signals=0, traces=0, window_traces=0, severity="low"),
        Brief(node_id="w", level="overview", kinds=["loop"], signals=2, traces=2, window_traces=50,
              severity="low", children=[Brief(node_id="c", level="finding", kinds=["loop"], signals=2, traces=2,
                                               window_traces=50, severity="low")]),
    ]
    for kind in ("silent_failure", "loop", "duplicate_call", "argument_error", "unrecovered_error", "outlier"):
        odd.append(Brief(node_id=kind, level="leaf", kinds=[kind], signals=0, traces=0, window_traces=0,
                         severity="low"))
    for brief in odd:
        out = s.summarise(brief)
        assert "unavailable" not in out.title, (brief.node_id, out)  # a template handled it, not the fallback
        assert out.title and out.summary and out.mechanism and out.recommended_fix
        assert code_spans_ok(all_text(out))
        assert set(out.exemplar_refs) <= brief.exemplar_refs()
    custom = s.summarise(odd[1])
    assert "`custom_detector`" in custom.title and "`weird thing`" in custom.title and "`my_tool`" in custom.title
    assert s.summarise(odd[3]).title == "No failures found"
    assert "1 failure mode" in s.summarise(odd[4]).title


def test_odd_signals_do_not_raise() -> None:
    weird: list[Any] = [
        Signal(detector="d", kind="k", trace_id="t", span_ids=[], severity="low", evidence=None, text=""),  # type: ignore[arg-type]
        sig("loop", {"cycle": "notalist", "repeats": "3", "period": None, "violations": ["x", {"path": 3}]}),
        sig("outlier", {"metric": 5, "others": "x", "value": float("nan")}),
        sig("argument_error", {"violations": [{"validator": None, "message": None}], "mechanisms": None,
                               "closest_tool": 7, "reason": b"bytes"}),
        sig("unrecovered_error", {"error": "", "retried": "yes", "steps": True, "final_answer_excerpt": 3}),
        "not a signal",
    ]
    facts = collect_facts(weird)
    json.dumps(facts)
    assert facts["signals"] == 5
    assert collect_facts([]) == {"signals": 0, "traces": 0}
    brief = brief_of([w for w in weird if isinstance(w, Signal) and isinstance(w.evidence, dict)])
    assert OfflineSummariser().summarise(brief).title


def test_finding_may_use_child_summaries_but_does_not_need_them(signals: list[Signal]) -> None:
    s = OfflineSummariser()
    members = by_mechanism(signals)[("silent_failure", "http_status")]
    parent = brief_of(members)
    alone = s.summarise(parent)
    by_tool: dict[str, list[Signal]] = defaultdict(list)
    for m in members:
        by_tool[m.evidence["tool"]].append(m)
    parent.children = [brief_of(g, level="leaf") for g in sorted(by_tool.values(), key=len)]  # smallest first
    parent.child_summaries = [s.summarise(c) for c in parent.children]
    with_children = s.summarise(parent)
    assert with_children.title == alone.title and with_children.recommended_fix == alone.recommended_fix
    if len(parent.children) >= 2:  # the largest child (the first of equals)
        largest = min(range(len(parent.children)), key=lambda i: (-parent.children[i].traces, i))
        # (a long child title is cut to fit the sentence)
        assert f"the largest: {parent.child_summaries[largest].title[:100]}" in with_children.summary


def test_llm_step_errors_name_the_model() -> None:
    members = [sig("unrecovered_error", {"tool": None, "step_kind": "llm", "llm": "gpt-x",
                                         "error": "RateLimitError: 429 Too Many Requests", "retried": True,
                                         "recovered": False, "steps_after": 0}, trace=f"r{i}")
               for i in range(4)]
    brief = brief_of(members)
    brief.models = [("gpt-x", 4)]
    assert collect_facts(members)["step_kinds"] == [["llm", 4]]
    out = OfflineSummariser().summarise(brief)
    assert out.title == "`gpt-x` fails with `RateLimitError: 429 Too Many Requests` after a failed retry (4 traces, 0.8 %)"
    assert "Retry-After" in out.recommended_fix and "retried and failed again" in out.recommended_fix
