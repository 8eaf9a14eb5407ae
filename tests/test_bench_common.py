"""bench.common.timed_run: what it measures, and its time limit (a hung run is killed with its children)."""

from __future__ import annotations

import os
import sys
import time

import pytest

from bench.common import RunTimeout, timed_run


def test_a_run_reports_its_own_times_and_output():
    run = timed_run([sys.executable, "-c", "import time; time.sleep(0.2); print('done')"], limit=60)
    assert run["stdout"] == "done\n" and run["wall"] >= 0.2 and run["rss"] > 0


def test_a_failed_run_raises_with_its_exit_code():
    with pytest.raises(RuntimeError, match=r"failed \(3\)"):
        timed_run([sys.executable, "-c", "raise SystemExit(3)"])


def test_a_hung_run_is_killed_with_its_children(tmp_path):
    # the child forks a grandchild that would outlive it, then both sleep: the limit kills the whole group
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        f"    open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid())); time.sleep(60); os._exit(0)\n"
        "time.sleep(60)\n"
    )
    started = time.perf_counter()
    with pytest.raises(RunTimeout, match="ran past 1 s"):
        timed_run([sys.executable, "-c", code], limit=1.0)
    assert time.perf_counter() - started < 30
    grandchild = int((tmp_path / "pid").read_text())
    for _ in range(100):  # killed: gone once init reaps it
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        with open(f"/proc/{grandchild}/stat") as stat:
            assert stat.read().split()[2] == "Z"  # a zombie waiting for its reaper is dead too
