"""LLM spend of ``tracemine mine --llm``: calls and input/output tokens, measured offline with litellm's
``mock_response`` and litellm's token counter on every prompt actually built.

    python benchmarks/llm_tokens.py                                  # HALO medium file + 1 M synthetic spans
    python benchmarks/llm_tokens.py --spans 200000 --skip-halo
    python benchmarks/llm_tokens.py --db existing.duckdb --skip-halo # an archive already ingested

Targets (issue 5): at most 50,000 input tokens on HALO's 500-trace ``medium_traces.jsonl`` (HALO documents
about 1.06 M input tokens on it) and at most 200,000 on a 1,000,000-span synthetic archive. The mock
answer is a valid JSON summary of realistic length, so output tokens are counted as a real model would
spend them; the model name (``gpt-4o-mini`` by default) sets the tokenizer and the price table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import synth_spans
from tracemine.pipeline import mine
from tracemine.summarise.llm import import_litellm

SHARED = Path(__file__).resolve().parents[2] / "shared"
HALO_MEDIUM = SHARED / "samples" / "formats" / "halo_jsonl__context-labs_HALO__tests_fixtures_medium_traces.jsonl"
ANSWER = json.dumps({
    "title": "search_orders leaves its span unset while returning an upstream timeout error in 34 traces",
    "summary": "In 34 traces (1.7 % of the window) the order lookup returned an error payload while its span "
               "status stayed unset; the agent read the error as data and answered from stale context.",
    "mechanism": "The tool wrapper catches the upstream exception and serialises it into the result body "
                 "instead of raising, so neither the span status nor the agent loop sees a failure.",
    "recommended_fix": "Raise or set the span status to ERROR in the wrapper when the upstream call fails, and "
                       "have the agent retry once with backoff before telling the user it could not look it up.",
    "exemplar_refs": ["E1", "E2"],
})


def measure(label: str, paths: list[str], db: Path, model: str, max_findings: int) -> dict:
    litellm = import_litellm()
    prompts: list[int] = []

    def completion(**kwargs: object) -> object:
        prompts.append(litellm.token_counter(model=model, messages=kwargs["messages"]))
        return litellm.completion(**kwargs, mock_response=ANSWER)

    started = time.perf_counter()
    result = mine(paths, db=db, llm=model, max_findings=max_findings, llm_options={"completion": completion})
    seconds = time.perf_counter() - started
    usage = result.stats["llm_usage"] or {}
    summaries = result.stats["summaries"]
    figures = {
        "label": label, "traces": result.context.traces, "spans": result.context.spans,
        "signals": result.stats["signals"], "findings": result.stats["findings"], "reported": len(result),
        "calls": len(prompts), "input_tokens": sum(prompts), "largest_prompt": max(prompts, default=0),
        # a real model answers about as long as the mock answer on every call
        "output_tokens": len(prompts) * litellm.token_counter(model=model, text=ANSWER),
        "cost_usd": usage.get("cost_usd", 0.0),
        "fallbacks": summaries.get("fallbacks", {}), "seconds": round(seconds, 1),
        "stages": result.stats["stages"],
    }
    print(f"\n== {label}: {figures['traces']:,} traces, {figures['spans']:,} spans, {figures['signals']:,} signals "
          f"→ {figures['findings']} findings, {figures['reported']} reported")
    print(f"   LLM calls {figures['calls']}, input tokens {figures['input_tokens']:,} "
          f"(largest prompt {figures['largest_prompt']:,}), output tokens {figures['output_tokens']:,}, "
          f"litellm's cost estimate ${figures['cost_usd']:.4f} ({model}); fallbacks {figures['fallbacks'] or 'none'}; "
          f"whole run {figures['seconds']}s")
    print("   stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in figures["stages"].items()))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--max-findings", type=int, default=20)
    parser.add_argument("--db", type=Path, help="Mine this archive instead of generating synthetic spans.")
    parser.add_argument("--skip-halo", action="store_true")
    parser.add_argument("--skip-synth", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_halo:
            if HALO_MEDIUM.exists():
                halo = measure("HALO medium_traces.jsonl", [str(HALO_MEDIUM)], work / "halo.duckdb", args.model,
                               args.max_findings)
                ok &= halo["input_tokens"] <= 50_000
            else:
                print("HALO medium file not found (../shared/samples/formats): skipped")
        if not args.skip_synth:
            if args.db:
                synth = measure(f"archive {args.db}", [], args.db, args.model, args.max_findings)
            else:
                data = work / "synth"
                synth_spans(data, args.spans, seed=1)
                synth = measure(f"synthetic ~{args.spans:,} spans", [str(data)], work / "synth.duckdb", args.model,
                                args.max_findings)
            ok &= synth["input_tokens"] <= 200_000
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
