"""Importing TensorFlow and bert4keras quietly, only when a model is needed.

bert4keras reads ``TF_KERAS`` when it is imported and TensorFlow reads
``TF_USE_LEGACY_KERAS`` and ``TF_CPP_MIN_LOG_LEVEL`` when it is imported, so
they are set here, before the first import; values the user set win.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType

from mintext.errors import UsageError


def _set_environment() -> None:
    os.environ.setdefault("TF_KERAS", "1")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ INFO/WARNING lines on stderr


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (Python's ``sys.stderr`` is flushed first).

    TensorFlow's C++ start-up lines ("oneDNN custom operations are on...") are
    written before its log level is read, straight to file descriptor 2.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2: nothing to protect
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_keras_3: bool | None = None  # decided on the first call of import_tensorflow


def _legacy_keras_requested() -> bool:
    return os.environ.get("TF_USE_LEGACY_KERAS") in ("true", "True", "1")  # as TensorFlow reads it


def import_tensorflow() -> ModuleType:
    """``tensorflow``, imported with mintext's environment and its Python logging set to errors only."""
    global _keras_3
    if _keras_3 is None:  # TensorFlow imported earlier without TF_USE_LEGACY_KERAS has Keras 3 as tf.keras
        if "tensorflow" not in sys.modules:
            _set_environment()
        _keras_3 = not _legacy_keras_requested()
    _set_environment()  # TF_KERAS too, which bert4keras reads when it is imported
    quiet = quiet_native_stderr() if "tensorflow" not in sys.modules else contextlib.nullcontext()
    with warnings.catch_warnings(), quiet:
        warnings.simplefilter("ignore")
        import tensorflow as tf
    tf.get_logger().setLevel(logging.ERROR)
    try:  # absl's "warning: ..." lines (retracing notices and the like)
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl comes with TensorFlow
        pass
    return tf


def import_bert4keras() -> tuple[ModuleType, ModuleType]:
    """``(bert4keras.models, bert4keras.tokenizers)``, imported after :func:`import_tensorflow`.

    Raises :class:`UsageError` when TensorFlow has Keras 3 as ``tf.keras``
    (imported before mintext set ``TF_USE_LEGACY_KERAS``, or the user set it
    to 0), with which bert4keras cannot build models.
    """
    import_tensorflow()
    if _keras_3:
        raise UsageError("TensorFlow runs with Keras 3 here (it was imported before mintext.parse, or "
                         "TF_USE_LEGACY_KERAS is not 1) and bert4keras needs tf-keras: set TF_USE_LEGACY_KERAS=1 "
                         "before tensorflow is imported")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distutils and keras deprecation notices
        import bert4keras.models as models
        import bert4keras.tokenizers as tokenizers
    return models, tokenizers
