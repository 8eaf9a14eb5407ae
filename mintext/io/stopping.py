"""How a mintext process stops: signals, exit codes, closed standard streams.

The command line (:func:`cli.main.main`) calls :func:`install_stop_handlers`
and :func:`guard_standard_streams` once at start. Then:

- the first SIGINT, SIGTERM or SIGHUP raises :class:`Stopped` (a
  :class:`SystemExit` with status 128 + the signal number: 130, 143, 129) in
  the main thread, so every ``with`` block and ``finally`` clause on the way out
  runs and removes its temporary files; later ones are ignored, so that this
  clean-up is not cut short, nor the exit after it (:func:`ignore_stop_signals`);
  a signal inherited as ignored, as under ``nohup``, stays ignored;
- a standard descriptor that was closed when the process started (``<&-``,
  ``>&-``, ``2>&-``) is held on ``/dev/null``, so that no file the run opens
  takes its number, and a closed standard input becomes a :class:`ClosedStream`
  that turns any use into one :class:`~mintext.errors.MintextError` line;
- a run that met a closed pipe (``| head``: a ``BrokenPipeError``, or a reader
  found gone by :func:`stdout_reader_gone` at the end) exits 141;
  :func:`silence_stdout` spares it a second error when Python flushes standard
  output at exit.

:func:`signals_deferred` holds these signals back around the few steps that
must not be split (creating a temporary directory and registering its removal,
forking a worker); :func:`temporary_directory` is such a directory, removed
on every way out that Python sees (exception, signal, interpreter exit), even
when its owner never reached its clean-up.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from mintext.errors import MintextError

# SIGHUP and SIGPIPE are POSIX signals (absent on Windows, where the rest degrades to no-ops)
STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)
BROKEN_PIPE_STATUS = 128 + getattr(signal, "SIGPIPE", 13)


class Stopped(SystemExit):
    """The run was stopped by a signal; exit status 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def install_stop_handlers() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise :class:`Stopped` in the main thread (signals
    that were inherited as ignored stay ignored)."""
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _on_stop_signal)


_stopping = False


def _on_stop_signal(signum: int, frame: object) -> None:
    if not _stopping:  # the handler stays in place: replacing it here races with a signal already caught
        stop(signum)


def stop(signum: int) -> NoReturn:
    """Raise :class:`Stopped` for ``signum``; from now on the handlers of :func:`install_stop_handlers`
    ignore stop signals, so that the clean-up the exception sets off runs to its end."""
    global _stopping
    _stopping = True
    raise Stopped(signum)


def ignore_stop_signals() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP from now on where :func:`install_stop_handlers` set them: for a
    process about to exit, whose handlers Python resets to the defaults as it finishes (a late signal
    would then kill it in the middle of its exit clean-up)."""
    global _stopping
    _stopping = True  # a signal already caught is then dropped by the handler
    with signals_deferred():  # none caught while the handlers change (Python would call that a race)
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is _on_stop_signal:
                signal.signal(signum, signal.SIG_IGN)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back in the calling thread for the block; one that arrived
    meanwhile is acted on when it ends. A process forked inside inherits them held back."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def temporary_directory(owner: object, prefix: str, parent: str | os.PathLike | None = None) -> tuple[str, weakref.finalize]:
    """A new directory (``tempfile.mkdtemp(prefix=prefix, dir=parent)``) and the finalizer that removes
    it: call it to remove the directory now; otherwise it runs when ``owner`` is garbage collected or
    when Python exits (forked workers, which leave with ``os._exit``, never run it)."""
    with signals_deferred():  # no signal between creating the directory and registering its removal
        path = tempfile.mkdtemp(prefix=prefix, dir=parent)
        return path, weakref.finalize(owner, shutil.rmtree, path, ignore_errors=True)


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe or socket whose reader has gone (``poll`` reports an error
    or a hang-up): what a run that ended well checks, since the last write into a pipe whose reader
    leaves in the middle of it can come back short without an error."""
    if sys.__stdout__ is None:
        return False
    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno(), 0)  # POLLERR and POLLHUP are always reported
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def silence_stdout() -> None:
    """Point standard output at ``/dev/null`` (after its reader went away): what is still buffered
    is then flushed without a second ``BrokenPipeError`` when Python exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ is not None else 1)
        os.close(devnull)
    except (OSError, ValueError):
        pass


class ClosedStream:
    """Stands for standard input when it was closed at start: any use but ``close`` (what a
    starting worker process does with its standard input) is one error line."""

    closed = True

    def __init__(self, name: str, fix: str) -> None:
        self._message = f"{name} is closed; {fix}"

    def close(self) -> None:
        pass

    def __getattr__(self, attribute: str) -> Any:
        raise MintextError(self._message)

    def __iter__(self) -> Iterator[str]:
        raise MintextError(self._message)


def guard_standard_streams() -> list[int]:
    """Hold every closed standard descriptor (0, 1, 2) on ``/dev/null``, so that no file the run opens
    takes its number, and make a closed ``sys.stdin`` a :class:`ClosedStream`; returns the descriptors
    that were closed. ``sys.stdout`` and ``sys.stderr`` stay ``None`` (outputs check for that before the
    work; messages to a closed stderr are dropped)."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
    for fd in closed:  # the lowest free number first: each open lands on the closed descriptor
        held = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if held != fd:
            os.dup2(held, fd)
            os.close(held)
    if 0 in closed:
        sys.stdin = ClosedStream("standard input", "name the input files instead of -")  # type: ignore[assignment]
    return closed
