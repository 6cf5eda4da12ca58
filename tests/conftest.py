"""Shared test helpers: paths to ../shared (tests skip when it is absent) and small readers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# evidence a built-in (or plugin) detector writes outside its evidence_model raises here (counted and logged in runs)
os.environ.setdefault("TRACEMINE_STRICT_EVIDENCE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRACEMINE_SHARED", REPO.parent / "shared"))
SAMPLES = SHARED / "samples" / "formats"
DATASETS = SHARED / "datasets"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def sample(name_prefix: str) -> Path:
    """The sample file in ../shared/samples/formats whose name starts with ``name_prefix`` (or skip)."""
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples/formats is not available")
    matches = sorted(SAMPLES.glob(f"{name_prefix}*"))
    if not matches:
        pytest.skip(f"no sample file {name_prefix}*")
    return matches[0]


def read_all(path: Path) -> tuple[list, list]:
    """All records of ``path`` and the rejections ``(file, locator, reason, excerpt)``."""
    from tracemine.ingest.read import read_file

    rejected: list[tuple] = []
    records = list(read_file(path, lambda *args: rejected.append(args)))
    return records, rejected


def spans_of(records: list) -> list:
    from tracemine.model import Span

    return [r for r in records if isinstance(r, Span)]
