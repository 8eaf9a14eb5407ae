"""Signals, closed pipes and closed streams, with real processes: every run ends, cleanly.

Each test starts ``mintext discover`` as a real process in its own process
group (``start_new_session``) with ``TMPDIR`` pointed at a fresh folder, sends
what a terminal or a pipeline would send to the whole group (``os.killpg``),
and checks, each bounded by a timeout: the exit status (130 SIGINT, 143
SIGTERM, 129 SIGHUP, 141 closed pipe), stderr (no traceback; empty for a
signal), nothing left in ``TMPDIR`` or beside the outputs, no process left in
the group, and outputs that are either absent or byte-identical to those of an
undisturbed run. The corpus is refined on three chunks with ``--jobs 2``, so
the runs go through forked workers (checked by the first test).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.synthetic import make_corpus

REPO = Path(__file__).resolve().parents[1]
MINTEXT = [sys.executable, "-m", "cli.main"]
# --sample 140000 on 340,000 characters: refinement on three chunks of 65,536, in two forked workers
POOLED = ["--sample", "140000", "-j", "2", "-q"]
RUN_TIMEOUT = 60  # seconds; an undisturbed run takes 2-4 s here

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads process groups from /proc")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw, _ = make_corpus(14_000, seed=3)
    path = tmp_path_factory.mktemp("signals") / "corpus.txt"
    path.write_text("\n".join(raw) + "\n", encoding="utf-8")
    return path


class Run:
    """One ``mintext`` process in its own group, with its own TMPDIR and output folder."""

    def __init__(self, folder: Path, args: list[str], **popen) -> None:
        self.tmp, self.out = folder / "tmp", folder / "out"
        self.tmp.mkdir(parents=True)
        self.out.mkdir()
        popen.setdefault("stdout", subprocess.PIPE)
        self.process = subprocess.Popen(
            [*MINTEXT, *[str(a) for a in args]], cwd=REPO, env=dict(os.environ, TMPDIR=str(self.tmp)),
            start_new_session=True, stderr=subprocess.PIPE, **popen,
        )
        self.group = self.process.pid

    def members(self) -> list[int]:
        """Processes of the group still in the process table."""
        found = []
        for entry in os.listdir("/proc"):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except (OSError, ValueError):
                continue
            if entry.isdigit() and int(stat.rpartition(")")[2].split()[2]) == self.group:
                found.append(int(entry))
        return found

    def wait_for_handlers(self, timeout: float = RUN_TIMEOUT) -> None:
        """Wait until mintext's stop handlers are installed (SIGTERM caught): a signal that comes sooner,
        while Python starts and imports the command line, meets Python's defaults, before any file exists."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                status = Path(f"/proc/{self.process.pid}/status").read_text()
            except OSError:
                return
            caught = int(status.partition("SigCgt:")[2].split()[0], 16)
            if caught & (1 << (signal.SIGTERM - 1)):
                return
            time.sleep(0.005)

    def wait_for_workers(self, timeout: float = RUN_TIMEOUT) -> bool:
        """Wait until the group holds the main process and a worker (False if the run ended first)."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if len(self.members()) >= 2:
                return True
            time.sleep(0.01)
        return False

    def signal(self, signum: int) -> None:
        os.killpg(self.group, signum)

    def finish(self, timeout: float = RUN_TIMEOUT) -> tuple[int, bytes, str]:
        """Exit status, stdout and stderr; fails the test (after killing the group) if the run hangs."""
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.group, signal.SIGKILL)
            self.process.communicate()
            pytest.fail(f"the run did not end within {timeout} s")
        deadline = time.monotonic() + 5
        while self.members() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.members() == [], "processes left in the group after the run"
        return self.process.returncode, out or b"", err.decode("utf-8", "replace")

    def leftovers(self) -> list[str]:
        """Anything in TMPDIR, and any temporary file beside the outputs."""
        left = [str(p) for p in self.tmp.rglob("*")]
        return left + [str(p) for p in self.out.iterdir() if p.name not in ("lex.tsv", "seg.txt")]


def outputs(folder: Path) -> list[str]:
    return ["-o", str(folder / "out" / "lex.tsv"), "--segment", str(folder / "out" / "seg.txt")]


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, bytes]:
    """The outputs of an undisturbed run (forked workers checked), to compare interrupted runs with."""
    folder = tmp_path_factory.mktemp("reference")
    run = Run(folder, ["discover", corpus, *POOLED, *outputs(folder)])
    assert run.wait_for_workers(), "the corpus is too small for --jobs 2 to start workers"
    status, _, err = run.finish()
    assert status == 0 and err == "", err
    assert run.leftovers() == []
    return {name: (run.out / name).read_bytes() for name in ("lex.tsv", "seg.txt")}


def assert_outputs_absent_or_whole(run: Run, reference: dict[str, bytes]) -> None:
    for path in run.out.iterdir():
        assert path.read_bytes() == reference[path.name], f"{path.name} differs from an undisturbed run's"


def test_an_undisturbed_pooled_run_ends_clean(reference):
    assert reference["lex.tsv"].count(b"\n") > 100 and reference["seg.txt"]


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_to_the_group_while_workers_run_stops_it_cleanly(corpus, tmp_path, reference, signum, status):
    run = Run(tmp_path, ["discover", corpus, *POOLED, *outputs(tmp_path)])
    assert run.wait_for_workers()
    run.signal(signum)
    assert run.finish() == (status, b"", "")
    assert run.leftovers() == []
    assert_outputs_absent_or_whole(run, reference)


def test_more_signals_during_the_clean_up_change_nothing(corpus, tmp_path, reference):
    run = Run(tmp_path, ["discover", corpus, *POOLED, *outputs(tmp_path)])
    assert run.wait_for_workers()
    run.signal(signal.SIGINT)
    for later in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        time.sleep(0.005)
        try:
            run.signal(later)
        except ProcessLookupError:  # already gone
            break
    assert run.finish() == (130, b"", "")
    assert run.leftovers() == []


def test_stress_signals_at_random_moments_always_end_cleanly(corpus, tmp_path, reference):
    """20 pooled runs, each sent SIGINT, SIGTERM or SIGHUP (sometimes two) at a random moment once
    mintext's handlers are in place: while it imports, counts, refines in the workers or writes."""
    rng = random.Random(9)
    for k in range(20):
        folder = tmp_path / f"run{k}"
        run = Run(folder, ["discover", corpus, *POOLED, *outputs(folder)])
        run.wait_for_handlers()
        if k % 2:
            run.wait_for_workers()
            time.sleep(rng.uniform(0, 0.3))
        else:
            time.sleep(rng.uniform(0, 2.0))
        sent = []
        for _ in range(rng.choice([1, 1, 2])):
            if run.process.poll() is None:
                signum = rng.choice([signal.SIGINT, signal.SIGINT, signal.SIGTERM, signal.SIGTERM, signal.SIGHUP])
                run.signal(signum)
                sent.append(signum)
                time.sleep(rng.uniform(0, 0.05))
        status, _, err = run.finish()
        what = f"run {k}, signals {[signal.Signals(s).name for s in sent]}"
        # signals that arrive together are handled in the order of their numbers: any of them may be the one
        assert status in {0, *(128 + s for s in sent)}, f"{what}: exit status {status}, stderr {err!r}"
        assert err == "", f"{what}: {err}"
        assert run.leftovers() == [], what
        assert_outputs_absent_or_whole(run, reference)
        if status == 0:
            assert sorted(p.name for p in run.out.iterdir()) == ["lex.tsv", "seg.txt"], what


def random_han(path: Path, lines: int, seed: int) -> Path:
    """Lines of 60 characters drawn from 6,000 Han characters: many distinct n-grams, a long lexicon."""
    rng = random.Random(seed)
    alphabet = [chr(0x4E00 + k) for k in range(6000)]
    path.write_text("\n".join("".join(rng.choices(alphabet, k=60)) for _ in range(lines)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_counts_are_spilled_to_disk_leaves_no_spill_folder(tmp_path, signum, status):
    corpus = random_han(tmp_path / "many.txt", 20_000, seed=4)  # 1.2 M characters: --memory 16M spills
    run = Run(tmp_path, ["discover", corpus, "-q", "--memory", "16M", "-o", tmp_path / "out" / "lex.tsv"])
    deadline = time.monotonic() + RUN_TIMEOUT
    while not list(run.tmp.glob("mintext-ngrams-*/run-*")) and run.process.poll() is None:
        assert time.monotonic() < deadline, "no spill folder appeared"
        time.sleep(0.005)
    assert run.process.poll() is None, "the run ended before it spilled"
    run.signal(signum)
    assert run.finish() == (status, b"", "")
    assert run.leftovers() == [] and list(run.out.iterdir()) == []


def test_a_signal_while_stdin_is_copied_leaves_no_copy(tmp_path):
    run = Run(tmp_path, ["discover", "-", "-q", "-o", tmp_path / "out" / "lex.tsv"], stdin=subprocess.PIPE)
    run.process.stdin.write(("天地玄黄宇宙洪荒" * 100 + "\n").encode() * 200)
    run.process.stdin.flush()  # and more is still to come: the copy waits
    deadline = time.monotonic() + RUN_TIMEOUT
    while not list(run.tmp.glob("mintext-stdin-*")):
        assert time.monotonic() < deadline and run.process.poll() is None, "standard input was not copied"
        time.sleep(0.005)
    run.signal(signal.SIGINT)
    assert run.finish() == (130, b"", "")
    assert run.leftovers() == [] and list(run.out.iterdir()) == []


def test_a_closed_pipe_exits_141_without_a_word(corpus, tmp_path, reference):
    """``mintext discover ... --segment - | head -1``: the reader leaves while the run streams."""
    run = Run(tmp_path, ["discover", corpus, *POOLED, "-o", tmp_path / "out" / "lex.tsv", "--segment", "-"])
    assert run.process.stdout.readline()
    run.process.stdout.close()
    status, _, err = run.finish()
    assert (status, err) == (141, "")
    assert run.leftovers() == []
    assert_outputs_absent_or_whole(run, reference)  # the lexicon is written after the segmented text


def test_a_lexicon_into_a_closed_pipe_exits_141(tmp_path):
    """``mintext discover big.txt | head -1`` with a lexicon far larger than a pipe's buffer."""
    run = Run(tmp_path, ["discover", random_han(tmp_path / "many.txt", 3000, seed=4), "-q"])
    assert run.process.stdout.readline().startswith(b"# mintext=")
    run.process.stdout.close()
    status, _, err = run.finish()
    assert (status, err) == (141, "")
    assert run.leftovers() == []


def shell_run(tmp_path: Path, redirect: str, args: list[str]) -> tuple[int, str]:
    """``mintext ARGS REDIRECT`` through sh (to close a standard descriptor): exit status and stderr."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    done = subprocess.run(
        ["sh", "-c", f'exec "$@" {redirect}', "sh", *MINTEXT, *[str(a) for a in args]], cwd=REPO,
        env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")), stderr=subprocess.PIPE, timeout=RUN_TIMEOUT,
        stdout=None if ">" in redirect else subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )
    return done.returncode, done.stderr


def test_closed_standard_input_is_one_line(tmp_path):
    assert shell_run(tmp_path, "<&-", ["discover", "-", "-q"]) == (
        1, "Error: standard input is closed; name the input files instead of -\n",
    )


@pytest.mark.parametrize("redirect", ["<&-", "<&- >&- 2>&-"])
def test_closed_descriptors_the_run_does_not_use_change_nothing(corpus, tmp_path, reference, redirect):
    """A file the run opens must not take a closed descriptor's number (and then be read or written as it)."""
    status, err = shell_run(tmp_path, redirect, ["discover", corpus, *POOLED, "-o", tmp_path / "lex.tsv"])
    assert (status, err) == (0, "")
    assert (tmp_path / "lex.tsv").read_bytes() == reference["lex.tsv"]
    assert list((tmp_path / "tmp").iterdir()) == []
