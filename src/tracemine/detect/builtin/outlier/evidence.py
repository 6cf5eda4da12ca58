"""The evidence of an ``outlier`` signal: the metric deviating most, its group, and the other deviating
metrics of the same span."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OutlierHit(BaseModel):
    """One metric far above its usual value."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="latency, cost or a token count")
    value: float = Field(description="the span's value")
    median: float = Field(description="the population's median")
    ratio: float = Field(description="value / median")
    robust_z: float = Field(description="robust z-score of the log value")
    log_scale: float = Field(description="the log scale (MAD, floored) the z-score divides by")
    samples: int = Field(description="values in the population")
    excess: float = Field(description="value − median")
    population: str = Field(description="the population judged against (agent-specific or the group)")


class OutlierEvidence(OutlierHit):
    """``outlier`` evidence: the top :class:`OutlierHit` and where it was found (validated, never
    rewritten: the signal keeps the detector's dict)."""

    group: str = Field(description="tool:<name> or the model group")
    tool: str | None = Field(None, description="tool outliers: the tool")
    model: str | None = Field(None, description="LLM outliers: the model")
    span_ids: list[str] = Field(description="the outlying span")
    metrics: list[str] = Field(description="every deviating metric, most deviating first")
    others: list[OutlierHit] = Field(description="the other deviating metrics")
    family: str = Field(description="latency, cost or tokens")
    fix_mechanism: str = Field(description="tool_<measure> or llm_<measure>")
    fix_subject: str | None = Field(None, description="LLM token or cost outliers: empty, the fix is the agent's")
