"""Errors shared across stages (kept apart so that no stage imports the pipeline for them)."""

from __future__ import annotations


class MineError(RuntimeError):
    """A run cannot proceed (bad settings, unreadable input paths, an empty archive)."""
