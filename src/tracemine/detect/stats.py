"""Robust statistics for window baselines: medians and MADs over mergeable samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# 1.4826 × MAD estimates the standard deviation of a normal distribution
MAD_SCALE = 1.4826


@dataclass
class Sample:
    """A mergeable bag of numbers with robust location/scale once finalised."""

    values: list[float] = field(default_factory=list)
    median: float = float("nan")
    mad: float = float("nan")

    def add(self, value: float | int | None) -> None:
        if value is not None:
            self.values.append(float(value))

    def merge(self, other: Sample) -> None:
        self.values.extend(other.values)

    def finalize(self) -> None:
        if self.values:
            array = np.asarray(self.values, dtype=float)
            self.median = float(np.median(array))
            self.mad = float(np.median(np.abs(array - self.median))) * MAD_SCALE

    def __len__(self) -> int:
        return len(self.values)

    def robust_z(self, value: float) -> float:
        """How many robust standard deviations ``value`` lies above the median (log scale not applied)."""
        if not self.values or self.mad != self.mad:
            return 0.0
        scale = self.mad if self.mad > 0 else max(abs(self.median) * 0.05, 1e-9)
        return (value - self.median) / scale
