"""``python -m devgen OUT_DIR --traces N --seed S [--days D] [--formats F1,F2,F3 | --formats F]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from devgen import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devgen", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--formats", default=None,
                        help="one format for all agents, or one per agent (comma-separated, AGENTS order); "
                             "default: rotate by seed")
    args = parser.parse_args(argv)
    formats = None if args.formats is None else (args.formats.split(",") if "," in args.formats else args.formats)
    began = time.perf_counter()
    summary = generate(args.out_dir, traces=args.traces, seed=args.seed, days=args.days, formats=formats)
    summary["seconds"] = round(time.perf_counter() - began, 2)
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
