"""What safe outputs cost: ``atomic_output`` (with ``check_outputs`` first) against a plain ``open()``.

``python -m bench outputs [--rows=1000000] [--repeats=3]``

Both write the same lexicon-like rows, one ``write`` call a row, into a file
in a temporary directory (the system's, or ``$TMPDIR``); the plain side is
``open(path, "w", encoding="utf-8")``, the safe side checks the output, writes
a temporary file beside it, syncs it to disk and renames it over the target.
The sides alternate, best of ``--repeats`` each. Target (issue 9): the safe
side within 1.5x of the plain one (the sync is most of the difference, and
what makes the result survive a crash).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.common import table, verdict

ROW = "孙悟空\t1234\t3\t12.3456\t2.3456\t3.4567\n"
TARGET = 1.5


def plain(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for _ in range(rows):
            out.write(ROW)


def safe(path: Path, rows: int) -> None:
    from mintext.io.atomic import atomic_output, check_outputs

    check_outputs({"-o": path})
    with atomic_output(path) as out:
        for _ in range(rows):
            out.write(ROW)


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench outputs")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(args)
    best = {"plain open()": float("inf"), "atomic_output": float("inf")}
    with tempfile.TemporaryDirectory(prefix="mintext-bench-outputs-") as directory:
        path = Path(directory) / "lexicon.tsv"
        for _ in range(options.repeats):
            for name, write in (("plain open()", plain), ("atomic_output", safe)):
                started = time.perf_counter()
                write(path, options.rows)
                best[name] = min(best[name], time.perf_counter() - started)
                assert path.stat().st_size == options.rows * len(ROW.encode()), name
        assert os.listdir(directory) == ["lexicon.tsv"]  # no temporary left
    size = options.rows * len(ROW.encode()) / 2**20
    ratio = best["atomic_output"] / best["plain open()"]
    print(f"{options.rows:,} rows ({size:,.0f} MiB), best of {options.repeats}, in {tempfile.gettempdir()}")
    print(table(["writer", "seconds", "MiB/s"], [[n, f"{t:.3f}", f"{size / t:,.0f}"] for n, t in best.items()]))
    print(f"atomic_output / plain: {ratio:.2f}x (target <= {TARGET}x): {verdict(ratio <= TARGET)}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
