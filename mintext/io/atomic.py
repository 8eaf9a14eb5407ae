"""Outputs: checked before the work, then written whole or not at all.

- :func:`check_outputs` refuses, before a command reads anything, an output
  that cannot be written (missing or read-only directory, a directory, a
  socket) or that is the same file as an input or as another output.
- :func:`atomic_output` writes a regular file through a temporary file beside
  it, renamed over it on success: the target is either untouched or complete.
  A symlink is followed (the target is replaced, the link stays a link); a
  file being replaced keeps its permission bits (and its owner where that
  can be set); a file with other hard links is replaced under this name
  only, the other names keep the old content. A FIFO, a device or a file
  descriptor path (``/dev/stdout``, ``/dev/fd/N``) is written straight into:
  it cannot be renamed over.

``-`` (or ``None``) means standard output. A write that fails (disk full, I/O
error) raises a one-line :class:`~mintext.errors.MintextError` naming the
output, and leaves no temporary file.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO

from mintext.errors import MintextError, UsageError
from mintext.io.sources import resolve_inputs

STDOUT = "-"
MAX_SYMLINKS = 40  # as Linux's path resolution


@dataclass(frozen=True)
class OutputTarget:
    """Where an output path writes once symlinks are followed.

    ``name`` is the path as given (for messages), ``path`` the file written.
    ``direct`` is true for a FIFO, a device or a file descriptor path: those are
    opened and written in place, with no temporary file.
    """

    name: str
    path: str
    direct: bool
    status: os.stat_result | None  # None: the file does not exist yet

    @property
    def regular(self) -> bool:
        """Whether the target is an existing regular file."""
        return self.status is not None and stat.S_ISREG(self.status.st_mode)


def output_target(path: str | os.PathLike, option: str = "") -> OutputTarget:
    """Follow ``path``'s symlinks to the file it writes; :class:`UsageError` for a loop, a directory or a socket.

    ``option`` (such as ``"-o"``) goes before the path in messages.
    """
    name = os.fspath(path)
    shown = f"{option} {name}" if option else name
    if name.endswith(os.sep) or (os.altsep and name.endswith(os.altsep)):
        raise UsageError(f"cannot write {shown}: it names a directory; name a file (e.g. {os.path.join(name, 'out.txt')})")
    real, descriptor = _follow_symlinks(name, shown)
    try:
        status = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        status = None  # a new file; whether its directory takes it is checked later
    except OSError as err:
        raise UsageError(f"cannot write {shown}: {_reason(err)}") from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise UsageError(f"cannot write {shown}: it is a directory; name a file (e.g. {os.path.join(name, 'out.txt')})")
    if status is not None and stat.S_ISSOCK(status.st_mode):
        raise UsageError(f"cannot write {shown}: it is a socket; name a file, a FIFO or - for stdout")
    direct = descriptor or (status is not None and not stat.S_ISREG(status.st_mode))
    return OutputTarget(name, real, direct, status)


def _follow_symlinks(path: str, shown: str) -> tuple[str, bool]:
    """The absolute path ``path`` leads to, and whether it is a process's file descriptor (under /proc)."""
    current = os.path.abspath(path)
    for _ in range(MAX_SYMLINKS):
        directory = os.path.realpath(os.path.dirname(current))
        current = os.path.join(directory, os.path.basename(current))
        if directory == "/proc" or directory.startswith("/proc/"):
            return current, True  # /dev/stdout -> /proc/self/fd/1: a descriptor, not a name to rename over
        if not os.path.islink(current):
            return current, False
        current = os.path.join(directory, os.readlink(current))
    raise UsageError(f"cannot write {shown}: more than {MAX_SYMLINKS} symbolic links (a symlink loop?); name a file")


# --------------------------------------------------------------------------- checking before the work


def check_outputs(outputs: Mapping[str, str | os.PathLike | None], inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse outputs that cannot be written or would overwrite an input; call it before any work.

    ``outputs`` maps each output's option as messages show it (``"-o"``,
    ``"--segment"``) to its path; ``-`` and ``None`` (standard output, or an
    output not asked for) are skipped. ``inputs`` are every file the command
    reads, as given (files, directories, globs, ``-``): they are expanded as
    :func:`~mintext.io.sources.resolve_inputs` does. Files are the same when
    their real paths or their (device, inode) are (hard links count); that
    holds for regular files and FIFOs (a FIFO read and written by one command
    would wait for itself forever), not for devices. Standard input counts
    when it is a redirected file or a FIFO.

    Raises :class:`UsageError` (exit status 2) with one line naming the paths
    and the fix; returns ``None`` when every output can be written.
    """
    for option, path in outputs.items():
        if path is not None and os.fspath(path) == STDOUT and sys.stdout is None:
            raise UsageError(f"{option} -: standard output is closed; give {option} FILE or open it (not >&-)")
    targets = {
        option: output_target(path, option)
        for option, path in outputs.items()
        if path is not None and os.fspath(path) != STDOUT
    }
    for option, target in targets.items():
        _check_writable(option, target)
    _check_distinct_outputs(targets)
    files = [identity for pattern in inputs for identity in _input_identities(os.fspath(pattern))]
    for option, target in targets.items():
        if not _is_data(target.status):
            continue  # a new file is no input; reading and writing one device (a terminal) is the user's plan
        for name, key in files:
            if key == _file_key(target.status):
                raise UsageError(
                    f"{option} {target.name} and the input {name} are the same file: writing it would destroy the "
                    "input; write the output to another file"
                )


def _check_writable(option: str, target: OutputTarget) -> None:
    """The output's directory exists and takes a new file (tried for real: root ignores permission bits)."""
    if target.direct:
        if not os.access(target.path, os.W_OK):
            raise UsageError(f"cannot write {option} {target.name}: permission denied")
        return
    directory = os.path.dirname(target.path)
    if not os.path.exists(directory):
        raise UsageError(f"cannot write {option} {target.name}: directory {_shown_dir(target)} does not exist; create it first")
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {option} {target.name}: {_shown_dir(target)} is not a directory")
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target.path)}.", suffix=".tmp")
    except OSError as err:
        raise UsageError(
            f"cannot write {option} {target.name}: directory {_shown_dir(target)} does not take new files "
            f"({_reason(err)}); write somewhere else"
        ) from None
    os.close(handle)
    os.unlink(probe)


def _shown_dir(target: OutputTarget) -> str:
    """The output's directory as the user wrote it (``.`` for a bare name), or its real path after a symlink."""
    given = os.path.dirname(target.name) or "."
    return given if os.path.realpath(given) == os.path.dirname(target.path) else os.path.dirname(target.path)


def _check_distinct_outputs(targets: Mapping[str, OutputTarget]) -> None:
    seen: dict[object, tuple[str, OutputTarget]] = {}
    for option, target in targets.items():
        if target.status is not None and not _is_data(target.status):
            continue  # -o /dev/null --segment /dev/null is fine
        key = _file_key(target.status) if target.status is not None else target.path
        if key in seen:
            other_option, other = seen[key]
            raise UsageError(
                f"{other_option} {other.name} and {option} {target.name} are the same file; give each output its own file"
            )
        seen[key] = (option, target)


def _input_identities(pattern: str) -> Iterator[tuple[str, tuple[int, int]]]:
    """(name, (device, inode)) of each regular file that ``pattern`` reads."""
    for source in resolve_inputs([pattern]):
        if source.path is None:
            status = _stdin_status()
            name = "<stdin>"
        else:
            name = source.path
            try:
                status = os.stat(source.path)
            except OSError:
                continue  # the command reports an unreadable input itself
        if _is_data(status):
            yield name, _file_key(status)


def _is_data(status: os.stat_result | None) -> bool:
    """A regular file or a FIFO: one that an output must not share with an input or another output.

    Over a regular file the input is lost; on one FIFO the command waits for
    itself forever (or two outputs interleave). Devices are left alone.
    """
    return status is not None and (stat.S_ISREG(status.st_mode) or stat.S_ISFIFO(status.st_mode))


def _stdin_status() -> os.stat_result | None:
    try:
        return os.fstat(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None  # no real descriptor (a test runner's stdin, or closed)


def _file_key(status: os.stat_result | None) -> tuple[int, int] | None:
    return None if status is None else (status.st_dev, status.st_ino)


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


# --------------------------------------------------------------------------- writing


class OutputFile(io.FileIO):
    """A descriptor open for writing whose write errors become one-line :class:`MintextError` naming the output.

    Errors are caught here, below the buffer, where writes come 8 KiB at a
    time: the text stream above stays Python's own. A broken pipe (the reader
    went away) is left as :class:`BrokenPipeError`: it is not a failure of the
    output, and the command's top level decides how to end.
    """

    def __init__(self, descriptor: int, name: str, kept: str, *, closefd: bool = True) -> None:
        super().__init__(descriptor, "wb", closefd=closefd)
        self.shown = name
        self.kept = kept  # what became of the output when a write fails

    def write(self, data) -> int | None:  # type: ignore[override]
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise self.failure(err) from None

    def failure(self, err: OSError) -> MintextError:
        """The one-line error for a failed write, with what to do about it."""
        fix = "free some space or write it elsewhere" if err.errno in (errno.ENOSPC, errno.EDQUOT) else "write it elsewhere"
        return MintextError(f"cannot write {self.shown}: {_reason(err)}; {fix} ({self.kept})")


def _text_stream(raw: IO[bytes]) -> io.TextIOWrapper:
    """UTF-8 with ``\\n`` line ends over ``raw``, always valid: a lone surrogate (what Python makes of a file
    name that is not UTF-8, e.g. in a lexicon's header) is written as a ``\\udcXX`` escape instead of failing."""
    buffered = raw if isinstance(raw, io.BufferedIOBase) else io.BufferedWriter(raw)  # type: ignore[arg-type]
    return io.TextIOWrapper(buffered, encoding="utf-8", errors="backslashreplace", newline="\n")


@contextmanager
def atomic_output(path: str | os.PathLike | None) -> Iterator[IO[str]]:
    """Yield a UTF-8 text stream (``\\n`` line ends) for ``path``.

    A regular file (new, existing, or a symlink's target) is written to
    ``.<name>.<random>.tmp`` in its directory, synced and renamed over it only
    when the block finishes without an exception; an existing file keeps its
    permission bits. A FIFO, a device or a file descriptor path is opened and
    written in place. ``-``/``None`` is standard output (always UTF-8). A
    failed write raises :class:`MintextError` (one line naming ``path``); any
    exception removes the temporary file.
    """
    if path is None or os.fspath(path) == STDOUT:
        yield from _stdout()
        return
    target = output_target(path)
    if target.direct:
        yield from _write_in_place(target)
    else:
        yield from _write_replacing(target)


def _write_replacing(target: OutputTarget) -> Iterator[IO[str]]:
    directory, base = os.path.split(target.path)
    try:
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".tmp")
    except OSError as err:
        raise MintextError(f"cannot write {target.name}: {_reason(err)} (in {directory}); write it elsewhere") from None
    kept = f"{target.name} was left as it was" if target.status is not None else f"no {target.name} was written"
    raw = OutputFile(handle, target.name, kept)
    text = _text_stream(raw)
    try:
        _set_mode(handle, target.status)
        yield text
        text.flush()
        _finish(raw, os.fsync, handle)
        _finish(raw, text.close)
        _finish(raw, os.replace, tmp, target.path)
    except BaseException:
        with suppress(OSError, MintextError):
            text.close()
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_in_place(target: OutputTarget) -> Iterator[IO[str]]:
    try:  # O_APPEND: /dev/stdout redirected with >> keeps what is there; FIFOs and devices do not care
        handle = os.open(target.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise MintextError(f"cannot write {target.name}: {_reason(err)}") from None
    yield from _written_through(OutputFile(handle, target.name, "what was written so far stays written"))


def _finish(raw: OutputFile, operation, *args) -> None:
    """Run a last step of writing (sync, close, rename) with its OSError as the output's one-line failure."""
    try:
        operation(*args)
    except OSError as err:
        raise raw.failure(err) from None


def _set_mode(handle: int, replaced: os.stat_result | None) -> None:
    """The permission bits of the file being replaced, or those a new file gets (0666 less the umask).

    The replaced file's owner and group are kept where this process may set
    them (root may; others only their own groups): root rewriting a user's
    file must not leave it owned by root.
    """
    if replaced is None:
        os.fchmod(handle, 0o666 & ~_umask())
        return
    if (replaced.st_uid, replaced.st_gid) != (os.geteuid(), os.getegid()):
        with suppress(PermissionError):
            os.fchown(handle, replaced.st_uid, replaced.st_gid)
    os.fchmod(handle, stat.S_IMODE(replaced.st_mode) & 0o777)  # after chown, which clears set-id bits


def _stdout() -> Iterator[IO[str]]:
    if sys.stdout is None:
        raise MintextError("cannot write <stdout>: standard output is closed; give -o FILE or open it (not >&-)")
    sys.stdout.flush()  # what Python buffered goes first; ours writes the descriptor directly
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # no real descriptor (a test runner's capture): write its buffer
        text = _text_stream(sys.stdout.buffer)
        try:
            yield text
            text.flush()
        finally:
            text.detach()
        return
    yield from _written_through(OutputFile(descriptor, "<stdout>", "what was written so far stays written", closefd=False))


def _written_through(raw: OutputFile) -> Iterator[IO[str]]:
    """A text stream straight into ``raw`` (no temporary file), flushed and closed at the end, with a
    failure to do so as the output's one-line error."""
    text = _text_stream(raw)
    try:
        yield text
        text.flush()
        _finish(raw, text.close)
    except BaseException:
        with suppress(OSError, MintextError):
            text.close()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
