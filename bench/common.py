"""Helpers shared by the benchmarks: shared data, corpora, child processes with their own peak RSS."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOKS = ("xiyouji.txt", "hongloumeng.txt")


def find_shared(needs: str = "corpora") -> Path | None:
    """The shared data folder ($MINTEXT_SHARED, ../shared beside the repo, /work/shared) holding ``needs``."""
    for candidate in (os.environ.get("MINTEXT_SHARED"), REPO.parent / "shared", "/work/shared"):
        if candidate and (Path(candidate) / needs).exists():
            return Path(candidate)
    return None


def book_text(shared: Path) -> str:
    """The two shared novels, one after the other."""
    return "".join((shared / "corpora" / name).read_text(encoding="utf-8") for name in BOOKS)


def write_repeated(path: Path, text: str, min_chars: int) -> int:
    """Write ``text`` repeated until the file holds at least ``min_chars`` characters; return how many."""
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < min_chars:
            out.write(text)
            written += len(text)
    return written


class RunTimeout(RuntimeError):
    """A command ran past its time limit (it and its children were killed)."""


def timed_run(command: list[str], limit: float | None = None, **kwargs: object) -> dict:
    """Run ``command``; its wall time, CPU time (user + system) and peak RSS, measured for that process alone.

    ``limit``: seconds after which the command's whole process group is killed and :class:`RunTimeout` raised.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=limit is not None, **kwargs)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:  # it ended just now
            pass

    timer = threading.Timer(limit, kill) if limit is not None else None
    if timer is not None:
        timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        if timer is not None:
            timer.cancel()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    out, err = ("", "") if killed.is_set() else (process.stdout.read(), process.stderr.read())
    process.stdout.close()
    process.stderr.close()
    if killed.is_set():
        raise RunTimeout(f"{' '.join(command)} ran past {limit:.0f} s and was killed")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {err.strip()[-500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024, "stdout": out, "stderr": err}


def python_child(module: str, config: dict) -> dict:
    """Run ``python -m module --child CONFIG`` and return its JSON report plus its own wall/CPU/RSS."""
    run = timed_run([sys.executable, "-m", module, "--child", json.dumps(config)])
    report = json.loads(run["stdout"].strip().splitlines()[-1])
    return {**report, "wall": run["wall"], "cpu": run["cpu"], "rss": run["rss"]}


def self_rss() -> int:
    """Peak RSS of this process so far, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def rate(chars: int, seconds: float) -> str:
    return f"{chars / seconds / 1e6:.2f} M chars/s" if seconds > 0 else "-"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def table(header: list[str], rows: list[list[str]], right: bool = False) -> str:
    """A plain text table with aligned columns (with ``right``, all but the first aligned right)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).rjust(w) if right and i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main_or_child(main: Callable[[list[str]], None], child: Callable[[dict], dict]) -> None:
    """A benchmark module's entry: ``--child CONFIG`` runs one measurement and prints its JSON, else ``main(args)``."""
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--child":
        print(json.dumps(child(json.loads(args[1]))))
    else:
        main(args)
