"""Run the benchmarks: ``python -m bench [NAME ...]`` (default: all of them).

Each benchmark module has a ``main(args)`` and prints a table with ratios
against peers measured in the same run; absolute times on shared machines
mean little, ratios do.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["counting", "discover", "segment", "longline", "apriori", "parse", "pretrain", "outputs", "cluster"]


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or BENCHMARKS
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"bench.{name}":
                print(f"(benchmark {name} not written yet)")
                continue
            raise
        print(f"\n===== bench {name} =====", flush=True)
        module.main([a for a in argv if a.startswith("-")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
