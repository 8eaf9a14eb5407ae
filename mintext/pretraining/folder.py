"""A pretrain output folder: a Google-format model plus the run's state, replaced atomically.

The folder holds ``bert_config.json``, ``bert_model.ckpt.index`` and
``.data-00000-of-00001``, ``checkpoint``, ``vocab.txt`` (what ``mintext parse
--bert`` and bert4keras read), and the run's own files: ``pretrain.json`` (the
options, the step, the data position, the time spent), ``optimizer.npz`` (the
Adam moments) and ``training.tsv`` (the held-out curve).

:func:`save_folder` writes a complete new folder beside the old one
(``.NAME.tmp-*``) and swaps the two in one ``renameat2(RENAME_EXCHANGE)``
call where Linux offers it (else two renames), then removes the old one: an
interrupted or failed save (Ctrl-C, disk full) leaves the last complete
checkpoint in place and no temporary folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence

import numpy as np

from mintext.errors import InputError, first_line, shown_name
from mintext.io.stopping import signals_deferred
from mintext.parse.checkpoint import write_checkpoint, write_vocab

STATE_FILE = "pretrain.json"
OPTIMIZER_FILE = "optimizer.npz"
CURVE_FILE = "training.tsv"
CONFIG_FILE = "bert_config.json"
VOCAB_FILE = "vocab.txt"
CHECKPOINT_PREFIX = "bert_model.ckpt"
CURVE_COLUMNS = ("step", "epoch", "tokens", "seconds", "learning_rate", "train_loss", "held_out_loss",
                 "held_out_accuracy")
MODEL_FILES = (CONFIG_FILE, VOCAB_FILE, f"{CHECKPOINT_PREFIX}.index")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def is_model_folder(path: str) -> bool:
    """A folder that already holds a model (a config, a vocabulary or a checkpoint index)."""
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, name)) for name in MODEL_FILES)


def read_state(path: str) -> dict:
    """The ``pretrain.json`` of a pretrain output folder; :class:`InputError` when it is not one."""
    state_path = os.path.join(path, STATE_FILE)
    if not os.path.isdir(path):
        raise InputError(f"--resume {shown_name(path)}: no such folder; give the -o folder of an earlier mintext pretrain")
    if not os.path.isfile(state_path) or not os.path.isfile(os.path.join(path, OPTIMIZER_FILE)):
        raise InputError(f"--resume {shown_name(path)} is not a mintext pretrain output (no {STATE_FILE} and "
                         f"{OPTIMIZER_FILE}); give the -o folder of an earlier mintext pretrain")
    try:
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
        if not isinstance(state, dict) or not {"config", "options", "run"} <= set(state):
            raise ValueError("missing fields")
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise InputError(f"--resume {shown_name(path)}: {STATE_FILE} is damaged ({err}); resume from another "
                         "checkpoint or start again") from None
    return state


def read_optimizer(path: str) -> dict[str, np.ndarray]:
    with np.load(os.path.join(path, OPTIMIZER_FILE)) as data:
        return {name: data[name] for name in data.files}


def read_weights(path: str) -> dict[str, np.ndarray]:
    """The weights of the folder's checkpoint, by name."""
    from mintext.parse.tfenv import import_tensorflow

    tf = import_tensorflow()
    prefix = os.path.join(path, CHECKPOINT_PREFIX)
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def read_curve(path: str) -> list[list[str]]:
    """The rows of ``training.tsv`` (without its header), as strings."""
    curve = os.path.join(path, CURVE_FILE)
    if not os.path.isfile(curve):
        return []
    with open(curve, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    return rows[1:]


def _write_files(directory: str, config: Mapping, vocab: Sequence[str], weights: Mapping[str, np.ndarray],
                 optimizer: Mapping[str, np.ndarray], state: Mapping, curve: Sequence[Sequence[object]]) -> None:
    with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(dict(config), f, indent=2, sort_keys=True)
        f.write("\n")
    write_vocab(os.path.join(directory, VOCAB_FILE), vocab)
    try:
        write_checkpoint(os.path.join(directory, CHECKPOINT_PREFIX), weights)
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001 - TensorFlow's own errors (a full disk is ResourceExhaustedError...)
        raise OSError(errno.EIO, first_line(err)) from None
    with open(os.path.join(directory, OPTIMIZER_FILE), "wb") as f:
        np.savez(f, **optimizer)
    with open(os.path.join(directory, CURVE_FILE), "w", encoding="utf-8") as f:
        f.write("\t".join(CURVE_COLUMNS) + "\n")
        f.writelines("\t".join(str(v) for v in row) + "\n" for row in curve)
    with open(os.path.join(directory, STATE_FILE), "w", encoding="utf-8") as f:
        json.dump(dict(state), f, indent=2, sort_keys=True)
        f.write("\n")
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as f:
            os.fsync(f.fileno())


def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    result = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


def _replace_folder(new: str, target: str) -> None:
    """Put the complete folder ``new`` at ``target``; the old ``target`` is removed after."""
    if not os.path.exists(target):
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now names the old folder
        return
    old = new + ".old"
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def save_folder(target: str, config: Mapping, vocab: Sequence[str], weights: Mapping[str, np.ndarray],
                optimizer: Mapping[str, np.ndarray], state: Mapping, curve: Sequence[Sequence[object]],
                keep_copy: str | None = None) -> None:
    """Write a complete pretrain folder at ``target``, atomically (see the module's docstring).

    ``keep_copy``: also leave a copy of this checkpoint at that path (a
    snapshot along the curve). A failed write raises :class:`InputError`
    naming the folder; the previous checkpoint stays.
    """
    target = os.path.abspath(target)
    parent, name = os.path.split(target)
    with signals_deferred():
        temporary = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
    try:
        _write_files(temporary, config, vocab, weights, optimizer, state, curve)
        if keep_copy is not None:
            copy = tempfile.mkdtemp(prefix=f".{os.path.basename(keep_copy)}.tmp-", dir=os.path.dirname(keep_copy))
            try:
                for entry in os.listdir(temporary):
                    shutil.copy2(os.path.join(temporary, entry), os.path.join(copy, entry))
                _replace_folder(copy, keep_copy)
            except BaseException:
                shutil.rmtree(copy, ignore_errors=True)
                raise
        with signals_deferred():
            _replace_folder(temporary, target)
    except OSError as err:
        shutil.rmtree(temporary, ignore_errors=True)
        reason = err.strerror or str(err)
        raise InputError(f"cannot save the checkpoint in {shown_name(target)}: {reason}; the previous checkpoint "
                         "there is intact (free some space and --resume from it)") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def remove_stale_temporaries(target: str) -> None:
    """Remove ``.NAME.tmp-*`` folders a killed run (SIGKILL) left beside ``target``."""
    target = os.path.abspath(target)
    parent, name = os.path.split(target)
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        if entry.startswith(f".{name}.tmp-"):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
