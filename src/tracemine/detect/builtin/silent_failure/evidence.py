"""The evidence of a ``silent_failure`` signal: a tool or agent span reporting a failure under an OK/unset
status, an empty result (``empty_result``), a looked-up value used after the lookup found nothing
(``ignored_not_found``), or a run exit on a turn limit or timeout (``max_turns_exit``, ``timeout_exit``);
keys of one mechanism only are optional."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SilentFailureEvidence(BaseModel):
    """``silent_failure`` evidence (validated, never rewritten: the signal keeps the detector's dict)."""

    model_config = ConfigDict(extra="forbid")

    mechanism: str = Field(description="the first failure's mechanism (success_false, empty_result, …)")
    mechanisms: list[str] | None = Field(None, description="every failure's mechanism, first first (not exits)")
    tool: str | None = Field(description="the tool (None for an agent span; exits: the last tool called)")
    agent: str | None = Field(None, description="agent spans and exits: the agent")
    reason: str = Field(description="what said it failed")
    span_ids: list[str] = Field(description="the failing span, then the spans that belong to the failure")
    status: str = Field(description="the span's reported status: ok or unset")
    result_excerpt: str = Field(description="the result or output (cut)")
    write: bool | None = Field(None, description="the tool writes (not exits)")
    fix_mechanism: str | None = Field(None, description="reported_failure or the mechanism (not exits)")
    later_success: bool | None = Field(None, description="tool calls: a later call of the tool succeeded")
    child_span_ids: list[str] | None = Field(None, description="swallowed child errors: the failed children")
    child_names: list[str] | None = Field(None, description="swallowed child errors: their names")
    child_error: str | None = Field(None, description="swallowed child errors: the first child's error")
    baseline_nonempty_share: float | None = Field(None, description="empty results: share of the tool's other "
                                                  "calls with data")
    baseline_calls: int | None = Field(None, description="empty results: the tool's other calls judged")
    empty_level: str | None = Field(None, description="empty results: strict (no data) or loose (empty "
                                    "collections)")
    usual_shape: bool | None = Field(None, description="empty results: in the tool's usual shape")
    corroboration: str | None = Field(None, description="empty results: what else says it was a failure")
    lookup_span_id: str | None = Field(None, description="ignored not-found: the lookup that found nothing")
    later_span_id: str | None = Field(None, description="ignored not-found: the call that used the value")
    later_tool: str | None = Field(None, description="ignored not-found: that call's tool")
    value: str | None = Field(None, description="ignored not-found: the looked-up value (cut)")
    field: str | None = Field(None, description="ignored not-found: the lookup's argument holding it")
    later_field: str | None = Field(None, description="ignored not-found: the later call's argument holding it")
    miss: str | None = Field(None, description="ignored not-found: how the lookup said nothing was there")
    later_is_write: bool | None = Field(None, description="ignored not-found: the later call writes")
    bare: bool | None = Field(None, description="ignored not-found: the lookup's body was bare empty")
    last_step_span_id: str | None = Field(None, description="exits: the run's last step")
    last_step: str | None = Field(None, description="exits: its tool, or \"llm\"")
    steps: int | None = Field(None, description="exits: the run's steps")
