"""Budgets and usage accounting for LLM summarisation (calls, input tokens, dollars).

A :class:`Budget` is checked *before* a call with the prompt about to be sent: when the call would take
a budget past its limit, :meth:`Budget.reserve` raises :class:`BudgetExceeded` and no call is made (the
caller falls back to an offline summary). Once one limit has been hit the budget stays exhausted, so the
rest of a run goes straight to the fallback. Reservations make the check safe when several threads
share one budget: the reserved call and prompt tokens are counted at once, then settled with the
provider's figures when the response arrives.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


class SummariseError(Exception):
    """Base of the errors the recursive walk catches and turns into a fallback summary.

    ``reason`` is a short, stable label (``budget reached``, ``call failed``, ``invalid output``) used for
    ``Summary.summariser`` (``offline (fallback: <reason>)``) and for the fallback counts.
    """

    reason = "error"


class BudgetExceeded(SummariseError):
    """A call was not made because it would exceed a budget. ``limit`` names it: ``max_calls``,
    ``max_input_tokens`` or ``max_cost_usd``."""

    reason = "budget reached"

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(slots=True)
class Reservation:
    """What :meth:`Budget.reserve` counted for one call, settled by :meth:`Budget.settle`."""

    input_tokens: int
    cost_usd: float
    settled: bool = False


class Budget:
    """Limits for one run and the usage counted against them. ``None`` means no limit; ``0`` means no
    call at all."""

    def __init__(
        self,
        max_calls: int | None = None,
        max_input_tokens: int | None = None,
        max_cost_usd: float | None = None,
    ) -> None:
        self.max_calls = max_calls
        self.max_input_tokens = max_input_tokens
        self.max_cost_usd = max_cost_usd
        self.calls = 0
        self.attempts = 0
        self.failed_calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.exhausted: str | None = None
        """The limit that stopped the run (``max_calls`` …), or ``None``."""
        self._lock = threading.Lock()

    def reserve(self, prompt_tokens: int, estimated_cost_usd: float = 0.0) -> Reservation:
        """Count one call of ``prompt_tokens`` (and its estimated cost) or raise :class:`BudgetExceeded`
        without counting anything."""
        with self._lock:
            if self.exhausted is None:
                if self.max_calls is not None and self.calls + 1 > self.max_calls:
                    self.exhausted = "max_calls"
                elif (
                    self.max_input_tokens is not None
                    and self.input_tokens + prompt_tokens > self.max_input_tokens
                ):
                    self.exhausted = "max_input_tokens"
                elif self.max_cost_usd is not None and (
                    self.cost_usd >= self.max_cost_usd
                    or self.cost_usd + estimated_cost_usd > self.max_cost_usd
                ):
                    self.exhausted = "max_cost_usd"
            if self.exhausted is not None:
                raise BudgetExceeded(self.exhausted, self._describe(self.exhausted))
            self.calls += 1
            self.input_tokens += prompt_tokens
            self.cost_usd += estimated_cost_usd
            return Reservation(prompt_tokens, estimated_cost_usd)

    def settle(
        self,
        reservation: Reservation,
        input_tokens: int | None,
        output_tokens: int,
        cost_usd: float | None,
    ) -> None:
        """Replace a reservation's estimates with the provider's figures (``None`` keeps the estimate)."""
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            if input_tokens is not None:
                self.input_tokens += input_tokens - reservation.input_tokens
            self.output_tokens += max(0, int(output_tokens))
            if cost_usd is not None:
                self.cost_usd += cost_usd - reservation.cost_usd

    def record_attempt(self, failed: bool = False) -> None:
        with self._lock:
            self.attempts += 1
            if failed:
                self.failed_calls += 1

    def usage(self) -> dict[str, float | int | str | None]:
        with self._lock:
            return {
                "calls": self.calls,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cost_usd": round(self.cost_usd, 6),
                "attempts": self.attempts,
                "failed_attempts": self.failed_calls,
                "budget_reached": self.exhausted,
            }

    def _describe(self, limit: str) -> str:
        if limit == "max_calls":
            return f"LLM budget reached: max_calls={self.max_calls} ({self.calls} made)"
        if limit == "max_input_tokens":
            return f"LLM budget reached: max_input_tokens={self.max_input_tokens} ({self.input_tokens} used)"
        return f"LLM budget reached: max_cost_usd={self.max_cost_usd} (${self.cost_usd:.4f} spent)"
