"""Dask worker plugins (this module imports ``distributed``: only :func:`mintext.cluster.dask.connect` loads it)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from distributed import WorkerPlugin


class IgnoreInterrupts(WorkerPlugin):
    """For the workers of ``local:N``: SIGINT ignored, as in :class:`~mintext.io.workers.WorkerPool`
    (Ctrl-C reaches the whole process group; the process that started them decides what it means)."""

    name = "mintext-ignore-sigint"

    def setup(self, worker: Any) -> None:
        """Run by each worker as it joins, restarted ones too (in its main thread, where handlers are set)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
