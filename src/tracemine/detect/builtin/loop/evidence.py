"""The evidence of a ``loop`` signal: a tool loop (``tool_repeat``, ``tool_cycle``, ``tool_recurring``) or
an LLM loop (``llm_repeat``); keys of one mechanism only are optional."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoopEvidence(BaseModel):
    """``loop`` evidence (validated, never rewritten: the signal keeps the detector's dict)."""

    model_config = ConfigDict(extra="forbid")

    mechanism: str = Field(description="tool_repeat, tool_cycle, tool_recurring or llm_repeat")
    fix_mechanism: str | None = Field(None, description="tool loops: tool_repeat or tool_cycle (one fix per tool)")
    fix_subject: str | None = Field(None, description="LLM loops: empty, the fix is the agent's whatever the model")
    cycle: list[str] = Field(description="the tools of one repetition, in order (\"llm\" per turn of an LLM loop)")
    period: int = Field(description="steps in one repetition")
    repeats: int = Field(description="repetitions in a row")
    tool: str | None = Field(description="the first tool of the cycle (None for an LLM loop)")
    span_ids: list[str] = Field(description="every repeated step's span")
    repetitions: list[list[str]] = Field(description="the spans of each repetition")
    llm_span_ids: list[str] | None = Field(None, description="tool loops: the LLM turns inside the loop")
    arguments: list[str] | None = Field(None, description="tool loops: the first repetition's arguments (cut)")
    exact_arguments: bool | None = Field(None, description="tool loops: every repetition's arguments identical")
    arguments_match: str | None = Field(None, description="tool loops: exact or paraphrased")
    argument_similarity: float | None = Field(None, description="tool loops: least similarity to the first call")
    repetition_arguments: list[list[str]] | None = Field(None, description="tool loops: arguments per repetition "
                                                         "(first 10)")
    result_excerpt: str | None = Field(None, description="tool loops: the first result (cut)")
    failing: bool | None = Field(None, description="tool loops: a repeated call failed or returned an error")
    error: str | None = Field(None, description="tool loops: the error of the first failing call")
    stuck_state: str | None = Field(None, description="tool loops on a poll: the state that did not change")
    write_tools: list[str] | None = Field(None, description="tool loops: write tools in the cycle")
    output_excerpt: str | None = Field(None, description="LLM loops: the repeated output (cut)")
    exact_output: bool | None = Field(None, description="LLM loops: every output identical")
    model: str | None = Field(None, description="LLM loops: the model of the first turn")
    tokens: int = Field(description="tokens the loop's spans spent")
    duration_ms: float = Field(description="milliseconds the loop's spans took")
    cost_usd: float = Field(description="dollars the loop's spans cost")
    first_step: int = Field(description="step index of the loop's first call")
    last_step: int = Field(description="step index of the loop's last call")
