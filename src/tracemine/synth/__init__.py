"""Synthetic agent traces with known, injected and labelled failures, for scoring detectors and clustering.

>>> from tracemine.synth import SynthConfig, generate
>>> result = generate(SynthConfig(traces=1000, seed=7, fmt="otlp"), "out/")  # doctest: +SKIP
"""

from tracemine.synth.generator import DEFAULT_END_TIME, FORMATS, SynthConfig, SynthResult, generate
from tracemine.synth.scenarios import DEFAULT_RATES, KINDS, MODES

__all__ = [
    "DEFAULT_END_TIME",
    "DEFAULT_RATES",
    "FORMATS",
    "KINDS",
    "MODES",
    "SynthConfig",
    "SynthResult",
    "generate",
]
