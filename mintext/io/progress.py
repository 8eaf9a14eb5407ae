"""Progress bars on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from typing import Any


class _Silent:
    """Stands in for a tqdm bar that is not shown (no tqdm import, no monitor thread)."""

    def update(self, n: float = 1) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(enabled: bool = True, **kwargs: Any):
    """A ``tqdm`` bar on stderr, or a silent stand-in unless ``enabled`` and stderr is a terminal.

    Keyword arguments go to ``tqdm`` (``total``, ``desc``, ``unit``...). Use it
    as a context manager and call ``update(n)``. tqdm is imported only when a
    bar is actually shown.
    """
    if not (enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return _Silent()
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: discovery forks worker processes
    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(file=sys.stderr, **kwargs)
