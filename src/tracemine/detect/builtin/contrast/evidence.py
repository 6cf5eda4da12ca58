"""The evidence of a ``contrast`` signal: one tool-call feature over-represented in failed traces."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ContrastEvidence(BaseModel):
    """``contrast`` evidence (validated, never rewritten: the signal keeps the detector's dict)."""

    model_config = ConfigDict(extra="forbid")

    feature: str = Field(description="the feature, e.g. \"search(limit=number)\"")
    feature_type: str = Field(description="tool, argument, value or result")
    traces_with: int = Field(description="known-outcome traces carrying the feature")
    failed_with: int = Field(description="of which failed")
    known: int = Field(description="traces of the window with a known outcome")
    failed: int = Field(description="of which failed")
    rate_with: float = Field(description="failure rate with the feature")
    rate_without: float = Field(description="failure rate without it")
    base_rate: float = Field(description="the window's failure rate")
    p_value: float = Field(description="one-sided Fisher exact p-value")
    q_value: float = Field(description="Benjamini–Hochberg adjusted p-value")
    tool: str = Field(description="the tool of the first call carrying the feature")
    family: str = Field(description="the feature (one finding per feature)")
    mechanism: str = Field(description="the feature type")
    difference: float = Field(description="rate_with − rate_without")
    span_ids: list[str] = Field(description="the calls carrying the feature (first 20)")
