"""The detector interface.

A detector sees the window twice. In the first pass ``observe`` accumulates window statistics (per-tool
result shapes, inferred argument schemas, latency distributions); instances built over different trace
shards are combined with ``merge``, so both passes parallelise by shard. In the second pass ``detect``
judges one trace at a time against those statistics and returns :class:`Signal` objects with
structured evidence. Detectors never raise on odd traces: the runner turns an exception into a counted
detector error and goes on.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from tracemine.detect.textmask import mask
from tracemine.detect.view import TraceView
from tracemine.model import Severity, Signal
from tracemine.redact import redact_cut

log = logging.getLogger(__name__)

STRICT_EVIDENCE_ENV = "TRACEMINE_STRICT_EVIDENCE"
"""Set to ``1`` (the test suite does) and evidence that does not validate against the detector's
:attr:`Detector.evidence_model` raises; otherwise it is counted in :data:`EVIDENCE_ERRORS`, logged once per
detector, and the signal is kept."""
EVIDENCE_ERRORS: Counter[str] = Counter()
"""Signals (per detector name) whose evidence did not validate, in this process."""


class Detector:
    """Base class. Subclasses set ``name`` and ``kinds`` and implement :meth:`detect`; they declare their
    settings as a pydantic ``params_model`` (validated at construction, read as ``self.params.<field>``)."""

    name: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ()
    uses_window_stats: ClassVar[bool] = False
    # names of detectors whose settings this one also reads (passed under that name)
    reads_settings_of: ClassVar[tuple[str, ...]] = ()
    params_model: ClassVar[type[BaseModel] | None] = None
    """The detector's typed settings (``detect.<name>`` in the configuration): a pydantic model with
    ``extra="forbid"``, defaults and bounds; a section it ``reads_settings_of`` is a field holding that
    detector's model. ``None``: the settings stay an untyped mapping read with :meth:`setting`."""
    explains: ClassVar[tuple[str, ...]] = ()
    """Detectors whose signal on a span this detector flagged tells the same failure less precisely: the
    runner keeps this detector's account (one failure, one finding; :func:`one_account_per_span`)."""

    # -- what its signals mean downstream (findings read these; they name no detector) ------------------
    explained_level: ClassVar[int] = 0
    """0: its findings judge a failure. 1: they are correlations (an outlier, a contrast) that a level-0
    finding of the same agent and traces explains — fixing the failure fixes them. 2: correlations that
    level-1 findings explain as well (trajectories)."""
    error_families: ClassVar[bool] = False
    """Whether the class of the error (availability, access, input, tool bug) splits its findings: the fix
    depends on the error itself (retries for an outage, a credential for a denial)."""

    evidence_model: ClassVar[type[BaseModel] | None] = None
    """The pydantic model of its signals' ``evidence`` (``extra="forbid"``): :meth:`signal` validates each
    evidence dict against it and stores the dict unchanged (see :data:`STRICT_EVIDENCE_ENV`). ``None``: a
    free dict."""

    wording: ClassVar[str | None] = None
    """Its offline wording: a Jinja2 template (title, what, why, fix; see
    :mod:`tracemine.summarise.wording`) at this path relative to the folder of the class's module, shipped
    as package data. ``None``: the generic wording."""

    @classmethod
    def waste(cls, signal: Signal, spans: Mapping[tuple[str, str], Any]) -> tuple[int, float, float]:
        """Tokens, milliseconds and dollars the failure wasted: by default what the cited spans cost
        (``spans``: (trace id, span id) → facts with ``tokens``, ``duration_ms``, ``cost_usd``)."""
        return cited_waste(signal, signal.span_ids, spans)

    facts_order: ClassVar[int] = 100
    """Where its facts come among other detectors' in a group of several kinds (lower first; ties in
    registry order): the order an LLM prompt lists them in."""

    @classmethod
    def facts(cls, evidences: list[Mapping[str, Any]], texts: Any, top: int) -> dict[str, Any]:
        """Facts about a group of signals from the evidence fields this detector writes, for the summaries
        (:func:`tracemine.summarise.facts.collect_facts`): JSON-ready keys to add, e.g. ``{"loops": {…}}``.
        ``evidences`` are every member's evidence of the group (of any detector: select by field),
        ``texts`` a :class:`tracemine.summarise.aggregate.Texts` (redact, trim, mask every text through
        it), ``top`` the longest list to keep. By default none."""
        return {}

    @classmethod
    def fix_family(cls, signal: Signal) -> str:
        """What splits this detector's findings beyond the tool and mechanism when its evidence declares no
        ``family`` and shows no violated constraint (``""``: nothing)."""
        return ""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = dict(settings or {})
        self.params: Any = None
        """The settings validated by :attr:`params_model` (``None`` without one)."""
        if self.params_model is not None:
            from tracemine.config import validate_params

            self.params = validate_params(self.params_model, self.settings, self.name, self.reads_settings_of)

    def setting(self, key: str, default: Any) -> Any:
        """The raw setting ``key`` (for detectors without a :attr:`params_model`)."""
        return self.settings.get(key, default)

    def observe(self, view: TraceView) -> None:
        """First pass: accumulate window statistics (no-op unless ``uses_window_stats``)."""

    def merge(self, other: Detector) -> None:
        """Fold another shard's first-pass statistics into this instance."""

    def finalize(self) -> None:
        """Called once between the passes, after every observe/merge."""

    def detect(self, view: TraceView) -> Iterable[Signal]:  # pragma: no cover - interface
        raise NotImplementedError

    def signal(
        self,
        view: TraceView,
        kind: str,
        span_ids: list[str],
        severity: str,
        evidence: dict[str, Any],
        text: str,
    ) -> Signal:
        """A :class:`Signal` of this detector; ``text`` is redacted, then masked for embedding here."""
        if Severity.rank(severity) < 0:
            raise ValueError(f"unknown severity {severity!r}; one of {', '.join(Severity)}")
        if self.evidence_model is not None:
            check_evidence(self.name, self.evidence_model, evidence)
        unique = list(dict.fromkeys(span_ids))
        return Signal(
            detector=self.name, kind=kind, trace_id=view.trace_id, span_ids=unique, severity=severity,
            evidence=evidence, text=mask(redact_cut(text, 2000, ellipsis="")),
        )


def check_evidence(name: str, model: type[BaseModel], evidence: Mapping[str, Any]) -> bool:
    """Whether ``evidence`` validates against ``model`` (it is read, never rewritten). A failure raises
    :class:`~pydantic.ValidationError` under :data:`STRICT_EVIDENCE_ENV`; otherwise it is counted in
    :data:`EVIDENCE_ERRORS` and logged on the detector's first one, and the run goes on."""
    try:
        model.model_validate(evidence)
    except ValidationError as exc:
        if os.environ.get(STRICT_EVIDENCE_ENV) == "1":
            raise
        EVIDENCE_ERRORS[name] += 1
        if EVIDENCE_ERRORS[name] == 1:
            # where and what, never the values (trace text)
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors()[:5])
            log.warning("detector %s wrote evidence its %s does not declare (%s)", name, model.__name__, problems)
        return False
    return True


def one_account_per_span(signals: list[Signal], detectors: Iterable[Detector]) -> list[Signal]:
    """One trace's signals without those another detector's signal on the same span ``explains`` (its
    first span, where the failure shows: a call whose arguments broke the tool's schema and whose body then
    said it failed is one argument error, not also a silent failure)."""
    explained_by = {d.name: d.explains for d in detectors if d.explains}
    if not explained_by:
        return signals
    claimed: dict[str, set[str]] = {}
    for signal in signals:
        for name in explained_by.get(signal.detector, ()):
            claimed.setdefault(name, set()).add(signal.span_ids[0])
    if not claimed:
        return signals
    return [s for s in signals if not (s.span_ids and s.span_ids[0] in claimed.get(s.detector, ()))]


def cited_waste(signal: Signal, span_ids: Iterable[str],
                spans: Mapping[tuple[str, str], Any]) -> tuple[int, float, float]:
    """What ``span_ids`` of ``signal``'s trace cost: tokens, milliseconds, dollars (unknown spans: nothing)."""
    tokens, ms, usd = 0, 0.0, 0.0
    for span_id in span_ids:
        facts = spans.get((signal.trace_id, span_id))
        if facts is not None:
            tokens += facts.tokens
            ms += facts.duration_ms
            usd += facts.cost_usd
    return tokens, ms, usd
