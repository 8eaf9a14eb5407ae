"""mintext.io.atomic: outputs written whole or not at all, in place where they cannot be renamed over,
and checked (writable, not an input) before any work."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mintext.errors import MintextError, UsageError
from mintext.io.atomic import atomic_output, check_outputs, output_target
from tests.special_files import private_device, read_only_dir, stdout_link, tmpfs

REPO = Path(__file__).resolve().parents[1]


def leftovers(directory: Path) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- regular files


def test_new_file_is_complete_with_the_default_mode(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target) as out:
        out.write("一\n二\r\n")
        assert not target.exists()  # nothing under the name until the block finishes
    assert target.read_bytes() == "一\n二\r\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask()
    assert leftovers(tmp_path) == []


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_output(target) as out:
        out.write("new\n" * 1000)
        raise RuntimeError("the computation failed")
    assert target.read_text() == "old\n"
    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "new.txt") as out:
        out.write("x")
        raise KeyboardInterrupt
    assert not (tmp_path / "new.txt").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_replacing_keeps_the_permission_bits(tmp_path, mode):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(mode)
    with atomic_output(target) as out:
        out.write("new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_replacing_keeps_the_owner_where_it_can(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    target = tmp_path / "theirs.txt"
    target.write_text("old\n")
    os.chown(target, 4321, 4322)
    target.chmod(0o640)
    with atomic_output(target) as out:
        out.write("new\n")
    status = target.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (4321, 4322, 0o640)
    assert target.read_text() == "new\n"


def test_symlink_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "data.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to("real/data.txt")  # relative, resolved from the link's directory
    chain = tmp_path / "chain.txt"
    chain.symlink_to(link)
    with atomic_output(chain) as out:
        out.write("new\n")
    assert chain.is_symlink() and link.is_symlink() and os.readlink(link) == "real/data.txt"
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    with atomic_output(link) as out:
        out.write("made\n")
    assert link.is_symlink() and (tmp_path / "made.txt").read_text() == "made\n"


def test_symlinked_directory_in_the_path(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    with atomic_output(tmp_path / "alias" / "x.txt") as out:
        out.write("x\n")
    assert (tmp_path / "real" / "x.txt").read_text() == "x\n"
    assert output_target(tmp_path / "alias" / "x.txt").path == str((tmp_path / "real" / "x.txt").resolve())


def test_symlink_loop_and_directory_are_one_line_usage_errors(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(UsageError, match=r"a symlink loop") as loop:
        atomic_output(tmp_path / "a").__enter__()
    with pytest.raises(UsageError, match=r"it is a directory") as directory:
        atomic_output(tmp_path).__enter__()
    assert "\n" not in str(loop.value) + str(directory.value)
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- disk full


def test_disk_full_on_a_small_tmpfs(tmp_path):
    with tmpfs(tmp_path / "small", "size=64k") as small:
        (small / "old.txt").write_text("old\n")
        for name in ("new.txt", "old.txt"):
            with pytest.raises(MintextError) as caught, atomic_output(small / name) as out:
                for _ in range(100):
                    out.write("字" * 10_000)  # 3 MB in all, far past 64 KiB
            message = str(caught.value)
            assert "\n" not in message and f"cannot write {small / name}: No space left on device" in message
            assert "free some space" in message
        assert os.listdir(small) == ["old.txt"]  # no partial file, no temporary
        assert (small / "old.txt").read_text() == "old\n"


def test_deferred_write_error_at_sync(tmp_path, monkeypatch):
    """A filesystem that reports ENOSPC only when the data is synced (delayed allocation, NFS)."""

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "out.txt"
    with pytest.raises(MintextError, match=r"^cannot write .*out.txt: No space left on device; free some space"):
        with atomic_output(target) as out:
            out.write("text\n")
    assert os.listdir(tmp_path) == []


def test_dev_full_is_written_in_place_and_fails_in_one_line(tmp_path):
    full = private_device(tmp_path / "full", "full")
    with pytest.raises(MintextError, match=rf"^cannot write {full}: No space left on device") as caught:
        with atomic_output(full) as out:
            out.write("x" * 100_000)
    assert "\n" not in str(caught.value)
    assert stat.S_ISCHR(os.lstat(full).st_mode)  # still the device, not a regular file
    assert os.listdir(tmp_path) == ["full"]


# --------------------------------------------------------------------------- FIFOs, devices, descriptors


def test_dev_null_stays_a_device(tmp_path):
    null = private_device(tmp_path / "null", "null")
    assert output_target(null).direct
    with atomic_output(null) as out:
        out.write("gone\n")
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.listdir(tmp_path) == ["null"]


def test_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # a writer thread too, so that a regression (blocking open, a rename) fails the test instead of hanging it
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with atomic_output(fifo) as out:
                out.write("通过管道\n" * 1000)
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            errors.append(err)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(timeout=20)
    if reader.is_alive():  # a writer that never opened the FIFO: let the reader go
        with open(fifo, "wb"):
            pass
    reader.join(timeout=20)
    assert not writer.is_alive(), "the FIFO write hung"
    assert errors == []
    assert received == ["通过管道\n".encode() * 1000]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and os.listdir(tmp_path) == ["pipe"]


def run_python(code: str, stdout, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], stdout=stdout, stderr=subprocess.PIPE, text=True,
                          cwd=REPO, timeout=timeout)


def write_through(link: Path) -> str:
    return (
        "from mintext.io.atomic import atomic_output\n"
        f"with atomic_output({str(link)!r}) as out:\n"
        "    out.write('written\\n')\n"
    )


def test_dev_stdout_into_a_pipe(tmp_path):
    link = stdout_link(tmp_path / "stdout")
    done = run_python(write_through(link), subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "written\n"
    assert link.is_symlink() and os.listdir(tmp_path) == ["stdout"]


def test_dev_stdout_appended_to_a_redirected_file(tmp_path):
    """``>> file`` keeps what is there, and the file is not replaced behind the shell's back."""
    link = stdout_link(tmp_path / "stdout")
    target = tmp_path / "log.txt"
    target.write_text("before\n")
    inode = target.stat().st_ino
    with open(target, "a") as stdout:
        done = run_python(write_through(link), stdout)
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "before\nwritten\n" and target.stat().st_ino == inode
    assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["log.txt", "stdout"]


# --------------------------------------------------------------------------- checks before the work


def test_check_accepts_new_files_stdout_and_devices(tmp_path):
    (tmp_path / "in.txt").write_text("x\n")
    check_outputs({"-o": tmp_path / "new.txt", "--segment": "-", "--x": None}, [tmp_path / "in.txt"])
    null = private_device(tmp_path / "null", "null")
    check_outputs({"-o": null, "--segment": null}, [tmp_path / "in.txt"])
    assert leftovers(tmp_path) == []  # the writability probe cleans up after itself


def test_check_refuses_an_input_however_it_is_named(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = corpus / "a.txt"
    text.write_text("x\n")
    (tmp_path / "hard.txt").hardlink_to(text)
    (tmp_path / "soft.txt").symlink_to(text)
    for output, inputs in [
        (text, [text]),  # the same name
        (tmp_path / "corpus" / ".." / "corpus" / "a.txt", [text]),  # another spelling
        (tmp_path / "hard.txt", [text]),  # a hard link
        (tmp_path / "soft.txt", [text]),  # a symlink to it
        (text, [tmp_path / "soft.txt"]),  # the input given through a symlink
        (text, [corpus]),  # found under a directory
        (text, [str(tmp_path / "*" / "*.txt")]),  # matched by a glob
        (text, [tmp_path / "other.txt", text]),  # any of several inputs
    ]:
        (tmp_path / "other.txt").write_text("y\n")
        with pytest.raises(UsageError) as caught:
            check_outputs({"-o": output}, inputs)
        message = str(caught.value)
        assert message.startswith(f"-o {output} and the input ") and "are the same file" in message, message
        assert "\n" not in message
    assert text.read_text() == "x\n"


def test_check_refuses_stdin_redirected_from_the_output(tmp_path, monkeypatch):
    text = tmp_path / "a.txt"
    text.write_text("x\n")
    with open(text) as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        with pytest.raises(UsageError, match=r"^-o .*a.txt and the input <stdin> are the same file"):
            check_outputs({"-o": text}, ["-"])
        check_outputs({"-o": tmp_path / "b.txt"}, ["-"])


def test_check_refuses_one_fifo_as_input_and_output_or_as_both_outputs(tmp_path):
    """Reading and writing one FIFO, the command would wait for itself forever; two outputs would interleave."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=r"^-o .*pipe and the input .*pipe are the same file"):
        check_outputs({"-o": fifo}, [fifo])
    with pytest.raises(UsageError, match=r"^-o .*pipe and --segment .*pipe are the same file"):
        check_outputs({"-o": fifo, "--segment": fifo})
    check_outputs({"-o": fifo}, [])  # and nothing opened it: no reader needed for the check


def test_check_refuses_two_outputs_in_one_file(tmp_path):
    (tmp_path / "alias").symlink_to(tmp_path)
    for second in (tmp_path / "out.txt", tmp_path / "alias" / "out.txt"):
        with pytest.raises(UsageError, match=r"^-o .*out.txt and --segment .*out.txt are the same file"):
            check_outputs({"-o": tmp_path / "out.txt", "--segment": second})
    (tmp_path / "out.txt").write_text("x\n")
    (tmp_path / "hard.txt").hardlink_to(tmp_path / "out.txt")
    with pytest.raises(UsageError, match=r"are the same file"):
        check_outputs({"-o": tmp_path / "out.txt", "--segment": tmp_path / "hard.txt"})


def test_check_refuses_unwritable_places(tmp_path):
    (tmp_path / "file").write_text("x\n")
    cases = {
        tmp_path / "missing" / "out.txt": r"directory .*missing does not exist; create it first",
        tmp_path / "file" / "out.txt": r".*file is not a directory",
        tmp_path: r"it is a directory; name a file",
        f"{tmp_path}/new/": r"it names a directory; name a file",  # not a file 'new'
    }
    for output, expected in cases.items():
        with pytest.raises(UsageError, match=rf"^cannot write (-o )?{output}: {expected}") as caught:
            check_outputs({"-o": output})
        assert "\n" not in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_check_refuses_a_fifo_without_write_permission(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write any FIFO whatever its mode")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o444)
    with pytest.raises(UsageError, match=r"^cannot write -o .*pipe: permission denied$"):
        check_outputs({"-o": fifo})


def test_check_refuses_a_read_only_directory(tmp_path):
    with read_only_dir(tmp_path / "ro") as ro:
        with pytest.raises(UsageError, match=r"^cannot write -o .*ro/out.txt: directory .*ro does not take new files"):
            check_outputs({"-o": ro / "out.txt"})
        with pytest.raises(MintextError, match=r"^cannot write .*ro/out.txt: "):
            atomic_output(ro / "out.txt").__enter__()  # without the check: still one line, at the start
        assert os.listdir(ro) == []
