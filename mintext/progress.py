"""Progress bars on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(enabled: bool = True, **kwargs: Any):
    """A ``tqdm`` bar on stderr; disabled unless ``enabled`` and stderr is a terminal.

    Keyword arguments go to ``tqdm`` (``total``, ``desc``, ``unit``...). The
    import is deferred so that commands that never show a bar do not pay for it.
    """
    from tqdm.auto import tqdm

    show = enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(file=sys.stderr, disable=not show, **kwargs)
