"""Word discovery at scale: whole `mintext discover` runs, counting speed, memory, a plain-Python peer.

``python -m bench discover [--chars=25000000] [--jobs=1,2] [--against=DIR] [--repeat=N]``

The corpus repeats the shared novels (xiyouji.txt + hongloumeng.txt) until it
holds at least ``--chars`` characters, and again at twice that size, so that
memory can be compared. Every measured run is a separate process (its own
peak RSS). Reported:

- counting orders 1-4 (read + decode + Han runs + ids + count, and the counting
  step alone), against ``collections.Counter`` on a 2M-character slice (time
  extrapolated linearly to the whole corpus, as said in the output);
- the whole ``mintext discover FILE -o LEXICON`` command, start-up included,
  with each ``--jobs`` value;
- with ``--against DIR`` (a source tree of another version, e.g. ``git archive
  main | tar -x -C DIR``), the same whole command with that version's code,
  alternating with this one in the same run, ``--repeat`` times each (medians
  and their ratio).

Targets (issue 2): counting >= 5 M chars/s on one core; the whole run on 25 M
characters under 15 s; peak RSS under 2 GB and within 20% when the corpus doubles.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import (
    RunTimeout,
    book_text,
    find_shared,
    main_or_child,
    mib,
    python_child,
    rate,
    table,
    timed_run,
    verdict,
    write_repeated,
)

COUNTER_SLICE = 2_000_000


def child(config: dict) -> dict:
    """Counting only, in this process: read the corpus to a Han stream, then count orders 1-4."""
    from mintext.io.sources import Corpus
    from mintext.ngrams.counting import count_ngrams
    from mintext.ngrams.hanstream import HanStream

    started = time.perf_counter()
    with HanStream(Corpus([config["path"]])) as han:
        read = time.perf_counter()
        table = count_ngrams(han.chunks(), 4, bits=han.vocabulary.bits)
        done = time.perf_counter()
        return {"han": han.characters, "read": read - started, "count": done - read, "distinct": int(sum(table.distinct(n) for n in range(1, 5)))}


def counter_seconds(text: str) -> tuple[float, int]:
    """Seconds for a plain-Python Counter of all 1..4-grams inside the Han runs of ``text``; Han characters."""
    from mintext.io.chars import HAN, tokens

    started = time.perf_counter()
    counts: Counter = Counter()
    chars = 0
    for token, kind in tokens(text):
        if kind != HAN:
            continue
        chars += len(token)
        for n in range(1, 5):
            for i in range(len(token) - n + 1):
                counts[token[i : i + n]] += 1
    return time.perf_counter() - started, chars


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench discover")
    parser.add_argument("--chars", type=int, default=25_000_000)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--against", metavar="DIR", help="source tree of another version to compare the whole run with")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each version with --against (medians)")
    options = parser.parse_args(args)
    shared = find_shared()
    if shared is None:
        print("shared corpora not found (set MINTEXT_SHARED); skipping the discover benchmark")
        return
    text = book_text(shared)
    jobs = [int(j) for j in options.jobs.split(",")]
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as tmp:
        corpora = {}
        for factor in (1, 2):
            path = Path(tmp) / f"corpus{factor}.txt"
            corpora[factor] = (path, write_repeated(path, text, factor * options.chars))
        counted = python_child("bench.discover", {"path": str(corpora[1][0])})
        seconds, sliced = counter_seconds(text[:COUNTER_SLICE])
        counter_total = seconds * counted["han"] / sliced
        runs = []
        for factor, (path, chars) in corpora.items():
            for j in jobs:
                command = [sys.executable, "-m", "cli.main", "discover", str(path), "-q", "-j", str(j), "-o", str(Path(tmp) / "lexicon.tsv")]
                runs.append((factor, chars, j, timed_run(command)))
        versus = compare_versions(corpora[1][0], Path(options.against), max(jobs), options.repeat, Path(tmp)) if options.against else None
    report(counted, counter_total, sliced, runs)
    if versus:
        report_versions(*versus, max(jobs))


def version_command(tree: Path | None, path: Path, jobs: int, out: Path) -> list[str]:
    """The whole discover command, run with this checkout's code or (``tree``) another source tree's."""
    arguments = ["discover", str(path), "-q", "-j", str(jobs), "-o", str(out)]
    if tree is None:
        return [sys.executable, "-m", "cli.main", *arguments]
    # the tree's packages first on sys.path, ahead of this checkout's editable install
    loader = f"import sys; sys.path.insert(0, {str(tree)!r}); from cli.main import main; main()"
    return [sys.executable, "-c", loader, *arguments]


def compare_versions(path: Path, tree: Path, jobs: int, repeat: int, tmp: Path) -> tuple[list[dict], list[dict]]:
    """Whole runs of this checkout and of ``tree``, alternating (so both see the same machine load)."""
    if not (tree / "cli" / "main.py").is_file() or not (tree / "mintext").is_dir():
        raise SystemExit(f"--against {tree}: not a mintext source tree (no cli/main.py and mintext/)")
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(_run_once(version_command(None, path, jobs, tmp / "ours.tsv"), "this version", ours))
        theirs.append(_run_once(version_command(tree, path, jobs, tmp / "theirs.tsv"), "the other version", ours))
    return ours, theirs


HUNG_RETRIES = 2


def _run_once(command: list[str], name: str, ours: list[dict]) -> dict:
    """One timed run; a run that hangs (past 5x this version's first run, at least 60 s) is killed and
    run again, at most ``HUNG_RETRIES`` times (release 64f0207's worker pool can hang on a semaphore)."""
    limit = max(60.0, 5 * ours[0]["wall"]) if ours else 600.0
    for _ in range(HUNG_RETRIES):
        try:
            return timed_run(command, limit=limit)
        except RunTimeout:
            print(f"({name}'s run hung: killed after {limit:.0f} s, run again)", file=sys.stderr, flush=True)
    return timed_run(command, limit=limit)


def report_versions(ours: list[dict], theirs: list[dict], jobs: int) -> None:
    def median(runs: list[dict], key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    print(f"\nwhole run against the other version (-j {jobs}, {len(ours)} alternating runs each, medians)")
    print(table(
        ["version", "wall s", "cpu s", "peak RSS"],
        [[name, f"{median(r, 'wall'):.1f}", f"{median(r, 'cpu'):.1f}", mib(max(x["rss"] for x in r))] for name, r in (("this", ours), ("other", theirs))],
    ))
    ratio = median(ours, "wall") / median(theirs, "wall")
    print(f"wall time ratio this/other: {ratio:.2f}x; target (issue 13) <= 0.7x: {verdict(ratio <= 0.7)}")
    print(f"target: peak RSS under 1 GB: {verdict(max(r['rss'] for r in ours) < 1e9)}")


def report(counted: dict, counter_total: float, sliced: int, runs: list) -> None:
    han = counted["han"]
    end_to_end = counted["read"] + counted["count"]
    print(f"corpus: the shared novels repeated; {runs[0][1]:,} characters ({han:,} Han) and twice that\n")
    print("counting n-grams of orders 1-4 (one process, one core)")
    print(table(
        ["step", "seconds", "rate", "vs Counter"],
        [
            ["read + Han runs + count", f"{end_to_end:.2f}", rate(han, end_to_end), f"{counter_total / end_to_end:.0f}x"],
            ["count alone", f"{counted['count']:.2f}", rate(han, counted["count"]), f"{counter_total / counted['count']:.0f}x"],
            ["collections.Counter", f"{counter_total:.1f}", rate(han, counter_total), "1x"],
        ],
    ))
    print(f"(Counter measured on {sliced:,} Han characters, extrapolated linearly; {counted['distinct']:,} distinct n-grams)")
    print(f"target: counting >= 5 M chars/s on one core: {verdict(han / counted['count'] >= 5e6)}\n")
    print("whole `mintext discover FILE -o LEXICON` runs (start-up included)")
    rows = [[f"{chars / 1e6:.0f} M", str(j), f"{r['wall']:.1f}", f"{r['cpu']:.1f}", rate(chars, r["wall"]), mib(r["rss"])] for _, chars, j, r in runs]
    print(table(["chars", "jobs", "wall s", "cpu s", "rate", "peak RSS"], rows))
    base = [r for f, _, _, r in runs if f == 1]
    double = [r for f, _, _, r in runs if f == 2]
    best = min(r["wall"] for r in base)
    growth = max(r["rss"] for r in double) / max(r["rss"] for r in base)
    print(f"target: 25 M characters under 15 s: {best:.1f} s {verdict(best < 15)}")
    print(f"target: peak RSS under 2 GB: {mib(max(r['rss'] for _, _, _, r in runs))} {verdict(max(r['rss'] for _, _, _, r in runs) < 2e9)}")
    print(f"target: peak RSS within 20% when the corpus doubles: x{growth:.2f} {verdict(growth <= 1.2)}")


if __name__ == "__main__":
    main_or_child(main, child)
