"""The executor protocol: the pipelines' tasks run here or on a cluster, with the same results.

A pipeline that takes an ``executor`` hands it module-level (picklable)
functions and their inputs and gets the results back in the order it gave the
inputs, so the output does not depend on where, or in what order, the tasks
ran. Three operations cover the pipelines:

- ``share(value)``: ship a value once (a model, a table); the handle it returns
  stands for the value in later calls.
- ``keep(function, items, *shared)``: ``function(item, *shared)`` for each item,
  the results left where they were computed; the handles stand for them.
- ``imap(function, items, *shared)``: ``function(item, *shared)`` for each item,
  the results yielded in the order of ``items``.

Handles may be items or shared arguments of later calls (or lists of handles, as items), never looked into.
``keep`` and ``imap`` take ``done``, a function called with no argument as each task finishes (in any
order, possibly from another thread): what a progress bar of finished tasks counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from mintext.errors import MintextError, shown_name


class ClusterError(MintextError):
    """The cluster cannot run the task: unreachable scheduler, no workers, a worker without mintext..."""

    exit_code = 1


class Executor(Protocol):
    """Where a pipeline's tasks run (see the module docstring)."""

    @property
    def workers(self) -> int:
        """How many tasks can run at once."""

    def share(self, value: Any) -> Any:
        """A handle for ``value``, shipped once to wherever tasks run."""

    def keep(
        self, function: Callable[..., Any], items: Iterable[Any], *shared: Any, done: Callable[[], Any] | None = None
    ) -> list[Any]:
        """Handles of ``function(item, *shared)`` for each item, the results kept where they were computed."""

    def imap(
        self, function: Callable[..., Any], items: Iterable[Any], *shared: Any, window: int | None = None,
        done: Callable[[], Any] | None = None,
    ) -> Iterator[Any]:
        """``function(item, *shared)`` for each item, in the order of ``items``, at most ``window`` in flight."""


class SerialExecutor:
    """The executor protocol in this process, one task at a time: handles are the values themselves."""

    workers = 1

    def share(self, value: Any) -> Any:
        """``value`` itself."""
        return value

    def keep(
        self, function: Callable[..., Any], items: Iterable[Any], *shared: Any, done: Callable[[], Any] | None = None
    ) -> list[Any]:
        """``[function(item, *shared) for item in items]``."""
        return [_finished(function(item, *shared), done) for item in items]

    def imap(
        self, function: Callable[..., Any], items: Iterable[Any], *shared: Any, window: int | None = None,
        done: Callable[[], Any] | None = None,
    ) -> Iterator[Any]:
        """``function(item, *shared)`` for each item, computed as they are asked for."""
        for item in items:
            yield _finished(function(item, *shared), done)


def _finished(result: Any, done: Callable[[], Any] | None) -> Any:
    """``result``, once ``done`` (if any) has been told that its task finished."""
    if done is not None:
        done()
    return result


def workers_see(executor: Executor, path: str) -> bool:
    """Whether the workers see ``path`` (one check per worker thread; Dask places them)."""
    return all(executor.imap(os.path.exists, [path] * executor.workers))


def check_visible(executor: Executor, path: str) -> None:
    """:class:`ClusterError` unless the workers see ``path`` (a file this process wrote for them to read)."""
    if not workers_see(executor, path):
        folder = shown_name(os.path.dirname(path))
        raise ClusterError(
            f"the workers cannot see {folder}, where this process keeps what they read; set TMPDIR to a folder "
            "on a file system every worker mounts at the same path"
        )
