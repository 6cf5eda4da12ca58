"""The evidence of an ``unrecovered_error`` signal: failed units of one tool, model or sub-agent, or a run
ending in ERROR with no failing step (``run_error``); keys of one case only are optional."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class UnrecoveredErrorEvidence(BaseModel):
    """``unrecovered_error`` evidence (validated, never rewritten: the signal keeps the detector's dict)."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None = Field(description="the failing tool (None for a model, sub-agent or run)")
    llm: str | None = Field(None, description="failing LLM calls: the model (or span name)")
    agent: str | None = Field(None, description="a failing sub-agent, or the run that ended in ERROR")
    step_kind: str = Field(description="tool, llm or agent")
    error: str = Field(description="the last failure's description")
    span_ids: list[str] = Field(description="the failed spans (and the root when the run failed)")
    failed_attempts: int = Field(description="failed calls of the unit")
    steps_after: int = Field(description="steps after the last failure")
    steps: int | None = Field(None, description="run errors: the run's steps")
    retried: bool = Field(description="more than one attempt failed")
    recovered: bool = Field(description="always false: a recovered error is not flagged")
    final_status: str = Field(description="the root's reported status: ok, unset, error or unknown")
    run_failed: bool = Field(description="the run itself ended in ERROR")
    final_answer_admits_failure: bool = Field(description="the final answer says the task failed")
    final_answer_excerpt: str = Field(description="the final answer (cut)")
    write: bool = Field(description="the failing tool writes")
    fix_mechanism: str = Field(description="<step kind>_failure_unrecovered or run_error")
