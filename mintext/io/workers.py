"""Worker processes that never hang a run: an ordered map over a few processes, one pipe each.

:class:`WorkerPool` starts ``jobs`` processes (forked where the platform
allows it, so that they share the parent's read-only data; spawned
elsewhere). Each worker talks to the parent over its own pipe, one task at a
time, so no lock is shared between processes and none can be left held by a
worker that dies. A worker:

- ignores SIGINT (Ctrl-C reaches the whole process group; the parent decides
  what it means) and dies at once, with no traceback, on SIGTERM and SIGHUP;
- dies with the parent (``PR_SET_PDEATHSIG`` on Linux, end of file on its pipe
  elsewhere) and leaves with ``os._exit``, never flushing buffers it inherited.

Closing the pool asks each worker to leave and kills any that has not left
after :data:`JOIN_TIMEOUT` seconds; leaving it on an exception (the run
stopped or failed) kills the workers at once. A task that raises in a worker
raises the same exception in the parent; a worker that dies makes the pool
raise :class:`WorkerDied` (or :class:`~mintext.io.stopping.Stopped` when a stop
signal killed it, as when the signal went to the whole group).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, NoReturn

from mintext.errors import MintextError
from mintext.io.stopping import STOP_SIGNALS, signals_deferred, stop

JOIN_TIMEOUT = 2.0
FATAL_IN_WORKERS = tuple(s for s in STOP_SIGNALS if s != signal.SIGINT)  # SIGTERM, SIGHUP: die at once
PR_SET_PDEATHSIG = 1


class WorkerDied(MintextError):
    """A worker process ended without finishing its task (killed, out of memory...)."""


def can_fork() -> bool:
    """Whether workers are forked (Linux): they then share the parent's memory instead of a pickled copy."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class WorkerPool:
    """``jobs`` worker processes running module-level functions on items, results in order.

    ``initializer(*initargs)`` runs once in each worker before its first task
    (forked workers get ``initargs`` without pickling). Use as a context
    manager; :meth:`close` stops the workers.
    """

    def __init__(self, jobs: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> None:
        if jobs < 1:
            raise ValueError(f"a worker pool needs at least one job, got {jobs}")
        context = multiprocessing.get_context("fork" if can_fork() else "spawn")
        self._workers: list[_Worker] = []
        try:
            for _ in range(jobs):
                _Worker.start(context, initializer, initargs, self._workers)
        except BaseException:
            self.kill()
            raise

    @property
    def jobs(self) -> int:
        """Number of workers running (0 once closed or killed)."""
        return len(self._workers)

    def imap(self, function: Callable[[Any], Any], items: Iterable[Any], window: int | None = None) -> Iterator[Any]:
        """``function(item)`` for each item, in the order of ``items``, with at most ``window``
        (default: twice the workers) items handed out and not yet yielded. Leaving the iteration
        early or on an error kills the workers (the pool cannot be used again)."""
        if not self._workers:
            raise ValueError("the worker pool is closed")
        window = max(1, window or 2 * len(self._workers))
        pending = iter(items)
        idle = deque(self._workers)
        busy: dict[_Worker, int] = {}
        done: dict[int, Any] = {}
        sent = given = 0
        exhausted = finished = False
        try:
            while True:
                while idle and not exhausted and sent - given < window:
                    item = next(pending, _END)
                    if item is _END:
                        exhausted = True
                        break
                    worker = idle.popleft()
                    worker.send((function, item))
                    busy[worker] = sent
                    sent += 1
                if given in done:
                    yield done.pop(given)
                    given += 1
                    continue
                if not busy:
                    finished = True
                    return
                for worker in _ready(busy):
                    done[busy.pop(worker)] = worker.receive()
                    idle.append(worker)
        finally:
            if not finished:
                self.kill()

    def map(self, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``list(imap(function, items))`` with every item handed out at once."""
        items = list(items)
        return list(self.imap(function, items, window=len(items)))

    def close(self) -> None:
        """Ask every worker to leave; kill those still there :data:`JOIN_TIMEOUT` seconds later."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.ask_to_leave()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            worker.kill()

    def kill(self) -> None:
        """Kill every worker now and reap it."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.kill()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()


_END = object()


def _ready(busy: dict[_Worker, int]) -> list[_Worker]:
    """The busy workers with a reply waiting (or that died), after waiting for at least one."""
    by_handle: dict[object, _Worker] = {}
    for worker in busy:
        by_handle[worker.connection] = worker
        by_handle[worker.process.sentinel] = worker
    return list(dict.fromkeys(by_handle[handle] for handle in wait(list(by_handle))))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, process: multiprocessing.process.BaseProcess, connection: Connection) -> None:
        self.process, self.connection = process, connection

    @classmethod
    def start(
        cls, context: multiprocessing.context.BaseContext, initializer: Callable[..., None] | None, initargs: tuple,
        started: list[_Worker],
    ) -> None:
        """Start one worker and append it to ``started`` (the workers started before it)."""
        parent_end, child_end = context.Pipe(duplex=True)
        forked = context.get_start_method() == "fork"
        # a forked worker closes the parent's ends it inherits, so that each pipe ends when the parent goes
        inherited = [parent_end, *(w.connection for w in started)] if forked else []
        process = context.Process(
            target=_serve, args=(child_end, inherited, os.getpid(), initializer, initargs), daemon=True,
            name="mintext-worker",
        )
        try:
            # the worker starts with stop signals held back until it has set its own handlers, and is
            # listed before a signal that arrived meanwhile can stop this process
            with signals_deferred():
                process.start()
                started.append(cls(process, parent_end))
        finally:
            child_end.close()

    def send(self, task: tuple) -> None:
        try:
            self.connection.send(task)
        except OSError:  # its end of the pipe is gone: it died
            self._died()

    def receive(self) -> Any:
        try:
            ok, value = self.connection.recv()
        except (EOFError, OSError):
            self._died()
        if not ok:
            raise value
        return value

    def _died(self) -> NoReturn:
        self.process.join(JOIN_TIMEOUT)
        code = self.process.exitcode
        if code is not None and -code in STOP_SIGNALS:
            stop(-code)  # a stop signal sent to the whole group: stop as if it had come here first
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        raise WorkerDied(f"a worker process ended unexpectedly ({how}); if memory ran out, try fewer --jobs")

    def ask_to_leave(self) -> None:
        try:
            self.connection.send(None)
        except OSError:
            pass

    def join(self, timeout: float) -> None:
        self.process.join(timeout)

    def kill(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(JOIN_TIMEOUT)
        self.connection.close()


def _serve(
    connection: Connection, inherited: list[Connection], parent: int, initializer: Callable[..., None] | None,
    initargs: tuple,
) -> None:
    """A worker's life: signals set, initializer run, then ``(function, item)`` tasks answered
    with ``(True, result)`` or ``(False, exception)`` until ``None`` or the end of the pipe."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in FATAL_IN_WORKERS:
            signal.signal(signum, signal.SIG_DFL)
        _die_with(parent)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        for other in inherited:
            other.close()
        failure = None
        try:
            if initializer is not None:
                initializer(*initargs)
        except Exception as err:  # reported with the first task
            failure = err
        code = _answer(connection, failure)
    finally:
        os._exit(code)


def _answer(connection: Connection, failure: Exception | None) -> int:
    """Answer tasks until told to leave (exit status 0) or the parent is gone (1)."""
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return 1
        if task is None:
            return 0
        if failure is not None:
            reply = (False, failure)
        else:
            function, item = task
            try:
                reply = (True, function(item))
            except Exception as err:
                reply = (False, err)
        try:
            connection.send(reply)
        except (OSError, ValueError):
            return 1
        except Exception as err:  # a result or an exception that cannot be pickled
            connection.send((False, RuntimeError(f"{type(err).__name__}: {err}")))


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux); leave now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
