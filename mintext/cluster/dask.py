"""Tasks on a Dask cluster: :func:`connect` to a scheduler (or start a local cluster) and get a :class:`DaskExecutor`.

``connect("tcp://host:8786")`` joins a running ``dask scheduler`` (its
workers started with ``dask worker tcp://host:8786``); ``connect("local:N")``
starts a cluster of N worker processes on this machine and shuts it down on
every way out. Either way the workers are checked first: at least one must be
there, and every worker must import the same version of mintext as this
process. Problems are :class:`ClusterError` (one line, exit status 1); a
malformed address is a :class:`~mintext.errors.UsageError` (exit status 2).

Fault tolerance is Dask's: a task whose worker dies is run again elsewhere;
a task that has killed :data:`ALLOWED_FAILURES` workers is given up on with a
:class:`ClusterError`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mintext.cluster.executor import ClusterError
from mintext.errors import MintextError, UsageError, first_line

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler
WORKERS_TIMEOUT = 30.0  # seconds to wait for its first worker
ALLOWED_FAILURES = 3  # Dask's default: deaths of workers running one task before it is given up
_LOCAL = re.compile(r"local:(\d{1,3})")
_ADDRESS = re.compile(r"(tcp|tls|inproc|ucx|ws|wss)://\S+|[\w.\-]+:\d{1,5}")
QUIET_LOGGERS = ("distributed", "tornado")


def parse_scheduler(value: str) -> int | None:
    """The number of local workers of ``local:N``, or ``None`` for a scheduler address; :class:`UsageError` otherwise."""
    local = _LOCAL.fullmatch(value)
    if local:
        workers = int(local.group(1))
        if not 1 <= workers <= 256:
            raise UsageError(f"--scheduler local:N needs N between 1 and 256, got {workers}")
        return workers
    if not _ADDRESS.fullmatch(value):
        raise UsageError(
            f"--scheduler {value!r} is neither a scheduler address (tcp://host:8786) nor local:N (N worker processes here)"
        )
    return None


def worker_version() -> str:
    """mintext's version, as a worker sees it (run on every worker by :func:`check_workers`)."""
    from mintext import __version__

    return __version__


def expected_version() -> str:
    """The version every worker must run: this process's."""
    return worker_version()


def check_versions(versions: dict[str, str], expected: str) -> None:
    """:class:`ClusterError` naming a worker whose mintext version is not ``expected``."""
    for worker, version in sorted(versions.items()):
        if version != expected:
            raise ClusterError(
                f"the Dask worker {worker} runs mintext {version}, this is mintext {expected}; "
                f"install mintext {expected} on every worker"
            )


def check_workers(client: Any, address: str) -> None:
    """Wait for a worker, then check that every worker imports this version of mintext."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except (TimeoutError, OSError):
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers after {WORKERS_TIMEOUT:.0f} s; "
            f"start some with 'dask worker {address}'"
        ) from None
    try:
        versions = client.run(worker_version)
    except (ImportError, AttributeError) as err:
        raise ClusterError(
            f"a Dask worker of {address} cannot import mintext ({first_line(err)}); install mintext "
            f"{expected_version()} on every worker"
        ) from None
    check_versions(versions, expected_version())


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator[DaskExecutor]:
    """A :class:`DaskExecutor` on the cluster of ``scheduler`` (an address or ``local:N``), closed on leaving.

    ``local:N`` starts N worker processes (one thread each) with their scratch
    space in a temporary folder; the cluster and the folder are removed on
    every way out.
    """
    local_workers = parse_scheduler(scheduler)
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            "--scheduler needs Dask: pip install 'mintext[cluster]' (dask[distributed]) here and on every worker"
        ) from None
    with contextlib.ExitStack() as stack:
        _quiet_logs(stack)
        if local_workers is not None:
            cluster = stack.enter_context(_local_cluster(local_workers))
            address, target = scheduler, cluster
        else:
            address = target = scheduler
        try:
            client = distributed.Client(target, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {scheduler} ({first_line(err)}); start one with 'dask scheduler' "
                "and workers with 'dask worker ADDRESS', or use --scheduler local:N"
            ) from None
        stack.callback(client.close)
        if local_workers is not None:
            from mintext.cluster.plugins import IgnoreInterrupts

            client.register_plugin(IgnoreInterrupts(), name=IgnoreInterrupts.name)
        check_workers(client, address)
        yield DaskExecutor(client)


@contextlib.contextmanager
def _local_cluster(workers: int) -> Iterator[Any]:
    """A ``distributed.LocalCluster`` of ``workers`` processes, its scratch space in a temporary folder removed after.

    Its workers ignore SIGINT once they have joined (:class:`~mintext.cluster.plugins.IgnoreInterrupts`, registered by :func:`connect`);
    SIGTERM and SIGHUP end them at once.
    """
    import dask
    import distributed

    scratch = tempfile.mkdtemp(prefix="mintext-dask-")
    try:
        with dask.config.set({"temporary-directory": scratch}), distributed.LocalCluster(
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=":0", scheduler_port=0,
            host="127.0.0.1", silence_logs=logging.CRITICAL, local_directory=scratch,
        ) as cluster:
            yield cluster
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _quiet_logs(stack: contextlib.ExitStack) -> None:
    """Dask's own logging silenced while connected: what matters comes back as an exception (one line), and
    a worker restarted, or the noise of a cluster stopped by a signal, is Dask's business."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        stack.callback(logger.setLevel, logger.level)
        logger.setLevel(logging.CRITICAL)


class DaskExecutor:
    """The executor protocol (:mod:`mintext.cluster.executor`) on a ``distributed.Client``.

    Handles are Dask futures: ``share`` scatters to every worker, ``keep``
    leaves results on the worker that computed them (Dask recomputes them if
    that worker dies), ``imap`` yields in submission order with a bounded
    number of tasks in flight.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def workers(self) -> int:
        """Threads the cluster's workers offer (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def share(self, value: Any) -> Any:
        """A future for ``value``: a task that returns it, so that Dask can compute it again wherever it is
        lost (data scattered to workers that all die cannot be recomputed); workers fetch it from each other."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Sending large graph ...": here the value is the task
            return self.client.submit(shared_value, value, pure=False)

    def keep(
        self, function: Callable[..., Any], items: Iterable[Any], *shared: Any, done: Callable[[], Any] | None = None
    ) -> list[Any]:
        """Futures of ``function(item, *shared)``, computed and kept on the workers (an item may be a list of
        futures: the task gets their results)."""
        return [self._submit(function, item, shared, done) for item in items]

    def _submit(self, function: Callable[..., Any], item: Any, shared: tuple[Any, ...], done: Callable[[], Any] | None) -> Any:
        """The future of ``function(item, *shared)``; ``done()`` is called when it finishes (on Dask's thread)."""
        future = self.client.submit(function, item, *shared, pure=False)
        if done is not None:
            future.add_done_callback(lambda _: done())
        return future

    def imap(
        self, function: Callable[..., Any], items: Iterable[Any], *shared: Any, window: int | None = None,
        done: Callable[[], Any] | None = None,
    ) -> Iterator[Any]:
        """``function(item, *shared)`` for each item, in order; at most ``window`` (default: four per
        worker thread) submitted and not yet yielded. Leaving early cancels what is still in flight."""
        window = max(1, window or 4 * self.workers)
        pending: deque[Any] = deque()
        try:
            for item in items:
                pending.append(self._submit(function, item, shared, done))
                if len(pending) >= window:
                    yield result_of(pending.popleft())
            while pending:
                yield result_of(pending.popleft())
        finally:
            if pending:
                self.client.cancel(list(pending))


def shared_value(value: Any) -> Any:
    """The task behind :meth:`DaskExecutor.share`: the value itself."""
    return value


def result_of(future: Any) -> Any:
    """The result of a Dask future; a task given up on, or a lost scheduler, as one :class:`ClusterError`."""
    import distributed

    try:
        return future.result()
    except distributed.KilledWorker as err:
        raise ClusterError(
            f"a task killed {ALLOWED_FAILURES} Dask workers in turn ({first_line(err)}); if memory ran out, "
            "give the workers more or lower --memory"
        ) from None
    except (distributed.comm.CommClosedError, distributed.client.FutureCancelledError, OSError) as err:
        if isinstance(err, MintextError):
            raise
        raise ClusterError(f"the Dask cluster went away mid-run ({first_line(err)}); run again") from None
