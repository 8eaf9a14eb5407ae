"""mintext.io.workers: the worker pool gives plain map's results, passes errors on, and never hangs.

Oracles: the built-in ``map`` for results; the process table (``os.kill(pid, 0)``)
for workers that must be gone; a subprocess for what a parent's exit does.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mintext.io.stopping import Stopped
from mintext.io.workers import JOIN_TIMEOUT, WorkerDied, WorkerPool, can_fork

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not can_fork(), reason="the pool's tests fork workers (Linux)")


def slow_square(item: tuple[int, float]) -> int:
    value, delay = item
    time.sleep(delay)
    return value * value


def fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError(f"three is not allowed, got {value}")
    return value


def sleep_then_pid(delay: float) -> int:
    time.sleep(delay)
    return os.getpid()


_STATE: dict[str, object] = {}


def remember(value: object) -> None:
    _STATE["value"] = value


def remembered(_: object) -> object:
    return _STATE["value"]


def refuse(value: object) -> None:
    raise RuntimeError(f"cannot start with {value}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def gone_soon(pids: list[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def worker_pids(pool: WorkerPool) -> list[int]:
    return [worker.process.pid for worker in pool._workers]


def test_results_come_in_order_whatever_order_they_finish():
    rng = random.Random(5)
    items = [(k, rng.choice([0, 0.001, 0.02])) for k in range(40)]
    with WorkerPool(3) as pool:
        for window in (1, 2, 7, None):
            assert list(pool.imap(slow_square, items, window=window)) == list(map(slow_square, items))
        assert pool.map(slow_square, items[:5]) == [0, 1, 4, 9, 16]
        assert list(pool.imap(slow_square, [])) == []


def test_initializer_state_reaches_every_worker_and_its_failure_the_first_task():
    shared = {"big": list(range(1000))}
    with WorkerPool(2, remember, (shared,)) as pool:
        assert pool.map(remembered, range(4)) == [shared] * 4
    with WorkerPool(2, refuse, ("this",)) as pool:
        with pytest.raises(RuntimeError, match="cannot start with this"):
            pool.map(remembered, range(2))


def test_an_error_in_a_task_is_raised_here_and_the_workers_are_gone():
    pool = WorkerPool(2)
    pids = worker_pids(pool)
    with pytest.raises(ValueError, match="three is not allowed, got 3"):
        list(pool.imap(fail_on_three, range(10)))
    assert gone_soon(pids)
    with pytest.raises(ValueError, match="closed"):
        list(pool.imap(fail_on_three, range(2)))


def test_leaving_the_iteration_early_kills_the_workers():
    pool = WorkerPool(2)
    pids = worker_pids(pool)
    results = pool.imap(sleep_then_pid, [0, 30, 30, 30])
    assert next(results) in pids
    results.close()  # the other workers are in the middle of a 30 s task
    assert gone_soon(pids, within=JOIN_TIMEOUT + 1)


def test_workers_ignore_sigint_and_finish_their_task():
    with WorkerPool(2) as pool:
        pids = worker_pids(pool)
        results = pool.imap(sleep_then_pid, [0.5, 0.5])
        time.sleep(0.2)
        for pid in pids:
            os.kill(pid, signal.SIGINT)
        assert sorted(results) == sorted(pids)


def test_a_killed_worker_is_one_error_and_a_stop_signal_stops_the_parent_too():
    with WorkerPool(2) as pool:
        results = pool.imap(sleep_then_pid, [30, 30])
        time.sleep(0.3)
        os.kill(worker_pids(pool)[0], signal.SIGKILL)
        with pytest.raises(WorkerDied, match=r"ended unexpectedly \(killed by signal 9\)"):
            list(results)
    with WorkerPool(2) as pool:
        results = pool.imap(sleep_then_pid, [30, 30])
        time.sleep(0.3)
        os.kill(worker_pids(pool)[1], signal.SIGTERM)
        with pytest.raises(Stopped) as stopped:
            list(results)
        assert stopped.value.code == 128 + signal.SIGTERM


def test_close_does_not_wait_for_workers_that_cannot_leave():
    pool = WorkerPool(3)
    pids = worker_pids(pool)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)  # stuck: none will read the request to leave
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < JOIN_TIMEOUT + 1  # one wait for all, not one each
    assert gone_soon(pids)


PARENT = """
import os, sys, time
from mintext.io.workers import WorkerPool
from tests.test_io_workers import sleep_then_pid
sys.stdout.write("written once\\n")  # in the buffer (stdout is a pipe) when the pool starts
pool = WorkerPool(2)
assert sorted(pool.map(sleep_then_pid, [0, 0])) == sorted(w.process.pid for w in pool._workers)
print(" ".join(str(w.process.pid) for w in pool._workers), file=sys.stderr, flush=True)
how = sys.argv[1]
if how == "close":
    pool.close()
elif how == "exit":
    os._exit(0)  # no clean-up at all: the workers must still go
else:
    time.sleep(60)  # killed from outside
"""


@pytest.mark.parametrize("how", ["close", "exit", "killed"])
def test_workers_die_with_the_parent_and_write_nothing(how):
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT), how], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    pids = [int(pid) for pid in parent.stderr.readline().split()]
    assert len(pids) == 2, parent.stderr.read()
    if how == "killed":
        parent.kill()
    out, err = parent.communicate(timeout=30)
    assert gone_soon(pids)
    assert err == ""
    assert out == "written once\n"  # flushed before the workers fork, never again by a worker


def test_spawned_workers_give_the_same_results(monkeypatch):
    """Where fork is not available (macOS, Windows) the workers are spawned and get a pickled copy."""
    import mintext.io.workers as workers

    monkeypatch.setattr(workers, "can_fork", lambda: False)
    items = [(k, 0) for k in range(12)]
    with WorkerPool(2, remember, ({"copied": True},)) as pool:
        assert pool._workers[0].process._start_method == "spawn"
        assert pool.map(remembered, range(3)) == [{"copied": True}] * 3
        assert list(pool.imap(slow_square, items)) == list(map(slow_square, items))
