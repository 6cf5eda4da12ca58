"""``python -m holdout OUT_DIR --traces N --seed S [--days D]`` (with tests/ on sys.path)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from holdout import generate


def main() -> None:
    parser = argparse.ArgumentParser(prog="holdout", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args()
    counts = generate(args.out_dir, traces=args.traces, seed=args.seed, days=args.days)
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
