"""Budgets and usage accounting for LLM summarisation (calls, input tokens, dollars).

A :class:`Budget` is checked *before* a call with the prompt about to be sent: when the call would take
a budget past its limit, :meth:`Budget.reserve` raises :class:`BudgetExceeded` and no call is made (the
caller falls back to an offline summary). Once one limit has been hit the budget stays exhausted, so the
rest of a run goes straight to the fallback. Reservations make the check safe when several threads
share one budget: the reserved call and prompt tokens are counted at once, then settled with the
provider's figures when the response arrives, or released when the call fails (only successful calls
are counted).

Two more limits stop calls for the rest of a run: an overall deadline (``deadline_s``, counted from the
first reservation; :class:`DeadlinePassed`) and a circuit breaker that opens after
``max_consecutive_failures`` failed calls in a row (:class:`CircuitOpen`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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


class DeadlinePassed(BudgetExceeded):
    """The run's overall LLM deadline (``deadline_s``) has passed: no more calls."""

    reason = "deadline passed"


class CircuitOpen(BudgetExceeded):
    """``max_consecutive_failures`` calls failed in a row: the endpoint is taken to be down, no more calls."""

    reason = "circuit open"


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
        *,
        deadline_s: float | None = None,
        max_consecutive_failures: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_calls = max_calls
        self.max_input_tokens = max_input_tokens
        self.max_cost_usd = max_cost_usd
        self.deadline_s = deadline_s
        self.max_consecutive_failures = max_consecutive_failures
        self._clock = clock
        self._deadline: float | None = None
        self.consecutive_failures = 0
        self.last_failure = ""
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
            if self._deadline is None and self.deadline_s is not None:
                self._deadline = self._clock() + self.deadline_s
            if self.exhausted is None:
                if self._deadline is not None and self._clock() >= self._deadline:
                    self.exhausted = "deadline_s"
                elif self.max_calls is not None and self.calls + 1 > self.max_calls:
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
                raise self._stop()
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

    def release(self, reservation: Reservation) -> None:
        """Un-count a reservation whose call failed: tokens and cost are counted only for calls that
        returned (``attempts``/``failed_attempts`` still count every try)."""
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            self.calls -= 1
            self.input_tokens -= reservation.input_tokens
            self.cost_usd -= reservation.cost_usd

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline; the clock starts at the first
        reservation)."""
        with self._lock:
            if self._deadline is None:
                return None if self.deadline_s is None else self.deadline_s
            return self._deadline - self._clock()

    def check_deadline(self) -> None:
        """Raise :class:`DeadlinePassed` once the deadline has passed."""
        with self._lock:
            if self._deadline is not None and self.exhausted is None and self._clock() >= self._deadline:
                self.exhausted = "deadline_s"
            if self.exhausted == "deadline_s":
                raise self._stop()

    def record_call(self, ok: bool, failure: str = "") -> bool:
        """Count one call's outcome for the circuit breaker (a call that returned resets it). Returns
        ``True`` when this failure opened the breaker."""
        with self._lock:
            if ok:
                self.consecutive_failures = 0
                return False
            self.consecutive_failures += 1
            self.last_failure = failure
            limit = self.max_consecutive_failures
            if limit is not None and self.consecutive_failures >= limit and self.exhausted is None:
                self.exhausted = "max_consecutive_failures"
                return True
            return False

    def _stop(self) -> BudgetExceeded:
        limit = self.exhausted or "?"
        cls = {"deadline_s": DeadlinePassed, "max_consecutive_failures": CircuitOpen}.get(limit, BudgetExceeded)
        return cls(limit, self._describe(limit))

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
        if limit == "deadline_s":
            return f"LLM deadline passed: deadline_s={self.deadline_s:g} ({self.attempts} attempt(s) made)"
        if limit == "max_consecutive_failures":
            last = f" (last: {self.last_failure})" if self.last_failure else ""
            return (f"LLM circuit breaker open: {self.consecutive_failures} calls failed in a row "
                    f"(max_consecutive_failures={self.max_consecutive_failures}){last}")
        return f"LLM budget reached: max_cost_usd={self.max_cost_usd} (${self.cost_usd:.4f} spent)"
