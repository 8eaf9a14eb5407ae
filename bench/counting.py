"""N-gram counting (orders 1..4): speed, peak memory, spilling, and a plain-Python Counter for scale.

``python -m bench counting [--chars=25000000] [--spill-memory=32M] [--jobs=2]`` (options in
``--name=value`` form: ``python -m bench`` passes on only the arguments that start with ``-``).

The corpus repeats the shared xiyouji.txt + hongloumeng.txt until it holds at
least ``--chars`` Han characters; it is written to a temporary file that is
removed afterwards. Every configuration runs in its own subprocess, which
reports its own peak RSS (``ru_maxrss``), so runs do not pollute each other.
Times are wall-clock and CPU (the machine may be shared; CPU time is the
steadier measure of the work done; the pool's workers are other processes,
so their CPU time is not shown).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import BOOKS, REPO, book_text, find_shared, main_or_child, mib, rate, verdict

COUNTER_SLICE_CHARS = 2_000_000
TARGET_CHARS_PER_S = 5e6
TARGET_RSS_BYTES = 2e9
TARGET_RSS_GROWTH = 1.2




def parse_size(text: str) -> int:
    """Bytes from ``64M``, ``2G``, ``512K`` or a plain number."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise SystemExit(f"cannot read size {text!r}; use e.g. 64M or 2G")
    return int(float(match.group(1)) * 1024 ** " KMG".index(match.group(2).upper() or " "))


# --------------------------------------------------------------------------- corpus




def han_count(text: str) -> int:
    """Number of Han characters of ``text`` (as counting sees them)."""
    from mintext.io.chars import han_stream

    return int((han_stream(text) != 0).sum())


def write_corpus(path: Path, text: str, repeats: int) -> None:
    """``text`` repeated ``repeats`` times into ``path`` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(repeats):
            out.write(text)


# --------------------------------------------------------------------------- child runs


def run_child(config: dict) -> dict:
    """Run one configuration in a fresh interpreter; return what it reports (JSON on its last line)."""
    command = [sys.executable, "-m", "bench.counting", "--child", json.dumps(config)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark run {config} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(config: dict) -> dict:
    """One measured configuration (runs in the subprocess)."""
    import resource

    import numpy as np

    from mintext.io.sources import Corpus
    from mintext.ngrams.counting import count_ngrams, han_streams, split_chunks
    from mintext.ngrams.hanstream import count_corpus
    from mintext.ngrams.spill import SpillDir
    from mintext.ngrams.vocabulary import CharVocabulary

    spilled = {"runs": 0, "bytes": 0}
    write = SpillDir.write

    def counting_write(self, tables):
        spilled["runs"] += 1
        spilled["bytes"] += sum(k.nbytes + c.nbytes for k, c in tables)
        write(self, tables)

    SpillDir.write = counting_write
    report: dict = {}
    if config["kind"] == "end-to-end":
        wall, cpu = time.perf_counter(), time.process_time()
        _, table = count_corpus(Corpus([config["path"]]), 4, memory=config["memory"], jobs=config["jobs"])
    else:  # counting only: ids prepared in memory first, not timed
        wall, cpu = time.perf_counter(), time.process_time()
        corpus = Corpus([config["path"]])
        vocabulary = CharVocabulary.from_streams(han_streams(corpus.blocks()))
        ids = np.concatenate([vocabulary.to_ids(s) for s in han_streams(corpus.blocks())])
        report["prepare_wall"] = time.perf_counter() - wall
        report["prepare_cpu"] = time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        table = count_ngrams(split_chunks(ids, 1 << 20), 4, bits=vocabulary.bits, memory=config["memory"], jobs=config["jobs"])
    report.update(
        wall=time.perf_counter() - wall,
        cpu=time.process_time() - cpu if config["jobs"] == 1 else None,  # the pool workers' CPU time is not ours
        chars=table.N,
        distinct=[table.distinct(k) for k in range(1, 5)],
        table_bytes=table.nbytes,
        rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        spilled_runs=spilled["runs"],
        spilled_bytes=spilled["bytes"],
    )
    return report


# --------------------------------------------------------------------------- the Counter peer


def counter_ngrams(text: str, max_order: int = 4) -> Counter:
    """Plain Python: split into Han runs, count every substring of length 1..max_order."""
    from mintext.io.chars import HAN_RANGES

    han = "".join(f"{chr(lo)}-{chr(hi)}" if lo < hi else chr(lo) for lo, hi in HAN_RANGES)
    counts: Counter = Counter()
    for run in re.findall(f"[{han}]+", text):
        for n in range(1, max_order + 1):
            counts.update(run[i : i + n] for i in range(len(run) - n + 1))
    return counts


def measure_counter(text: str) -> tuple[float, int]:
    """Seconds (CPU) the Counter takes on ``text``, and the characters it counted."""
    start = time.process_time()
    counts = counter_ngrams(text)
    seconds = time.process_time() - start
    return seconds, sum(c for w, c in counts.items() if len(w) == 1)


# --------------------------------------------------------------------------- report








def print_row(label: str, r: dict) -> None:
    spill = f"{r['spilled_runs']} runs, {mib(r['spilled_bytes'])}" if r["spilled_runs"] else "-"
    cpu = f"{r['cpu']:7.2f}  {rate(r['chars'], r['cpu'])}" if r["cpu"] is not None else f"{'-':>7}  {'(workers)':>10}"
    print(
        f"{label:<34} {r['chars'] / 1e6:6.1f}M  {r['wall']:7.2f}  {rate(r['chars'], r['wall'])}  "
        f"{cpu}  {mib(r['rss']):>10}  {spill}"
    )


def main(args: list[str]) -> None:
    """Build the corpus, run every configuration, print the table and the targets."""
    parser = argparse.ArgumentParser(prog="python -m bench counting")
    parser.add_argument("--chars", type=int, default=25_000_000, help="Han characters in the base corpus (default 25M)")
    parser.add_argument("--spill-memory", default="32M", help="--memory of the run that must spill (default 32M)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the pool run (default 2)")
    options = parser.parse_args([a for a in args if a != "counting"])
    shared = find_shared()
    if shared is None:
        print("counting benchmark skipped: shared corpora not found (set MINTEXT_SHARED)")
        return
    text = book_text(shared)
    per_copy = han_count(text)
    repeats = -(-options.chars // per_copy)
    gigs = 2 << 30
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as tmp:
        base, double = Path(tmp) / "base.txt", Path(tmp) / "double.txt"
        write_corpus(base, text, repeats)
        write_corpus(double, text, 2 * repeats)
        print(f"corpus: {BOOKS[0]} + {BOOKS[1]} x {repeats} = {repeats * per_copy / 1e6:.1f}M Han characters "
              f"({base.stat().st_size / 2**20:.0f} MiB UTF-8); doubled: x {2 * repeats}", flush=True)
        runs = {
            "end-to-end, --memory 2G": {"kind": "end-to-end", "path": str(base), "memory": gigs, "jobs": 1},
            "end-to-end doubled, --memory 2G": {"kind": "end-to-end", "path": str(double), "memory": gigs, "jobs": 1},
            "counting only, --memory 2G": {"kind": "counting", "path": str(base), "memory": gigs, "jobs": 1},
            f"counting only, --jobs {options.jobs}": {"kind": "counting", "path": str(base), "memory": gigs, "jobs": options.jobs},
            f"end-to-end, --memory {options.spill_memory}": {
                "kind": "end-to-end", "path": str(base), "memory": parse_size(options.spill_memory), "jobs": 1},
        }
        results = {}
        for label, config in runs.items():
            print(f"  running {label} ...", flush=True)
            results[label] = run_child(config)
    counter_seconds, counter_chars = measure_counter((text * 2)[:COUNTER_SLICE_CHARS])
    report(results, counter_seconds, counter_chars, options)


def report(results: dict, counter_seconds: float, counter_chars: int, options: argparse.Namespace) -> None:
    """Print the table, the Counter comparison and the targets."""
    labels = list(results)
    e2e, doubled, counting, pooled, spill = (results[k] for k in labels)
    print()
    print(f"{'configuration':<34} {'chars':>7}  {'wall s':>7}  {'wall rate':>10}  {'CPU s':>7}  {'CPU rate':>10}  {'peak RSS':>10}  spilled")
    for label in labels:
        print_row(label, results[label])
    print(f"  (the --jobs {options.jobs} row: CPU and RSS of the main process; the workers are separate processes)")
    prepare = counting["prepare_cpu"]
    print(f"{'  (counting-only: read+decode+ids)':<34} {'':>7}  {counting['prepare_wall']:7.2f}  "
          f"{rate(counting['chars'], counting['prepare_wall'])}  {prepare:7.2f}  {rate(counting['chars'], prepare)}")
    counter_rate = counter_chars / counter_seconds
    extrapolated = e2e["chars"] / counter_rate
    print()
    print(f"Counter peer on the first {COUNTER_SLICE_CHARS / 1e6:.0f}M characters of the corpus: "
          f"{counter_chars / 1e6:.2f}M Han characters in {counter_seconds:.2f} s CPU "
          f"({counter_rate / 1e6:.2f} M/s); extrapolated linearly to {e2e['chars'] / 1e6:.1f}M: {extrapolated:.0f} s")
    print(f"  end-to-end is {extrapolated / e2e['cpu']:.0f}x the Counter (CPU), counting only {extrapolated / counting['cpu']:.0f}x")
    growth = doubled["rss"] / e2e["rss"]
    print()
    print("targets:")
    print(f"  counting >= 5M chars/s on one core: {rate(counting['chars'], counting['cpu']).strip()} CPU, "
          f"{rate(counting['chars'], counting['wall']).strip()} wall -> {verdict(counting['chars'] / counting['cpu'] >= TARGET_CHARS_PER_S)}")
    print(f"  peak RSS < 2 GB: {mib(e2e['rss'])} and {mib(doubled['rss'])} -> {verdict(max(e2e['rss'], doubled['rss']) < TARGET_RSS_BYTES)}")
    print(f"  RSS flat when the corpus doubles (within 20%): x{growth:.2f} -> {verdict(growth <= TARGET_RSS_GROWTH)}")
    print(f"  spilling (--memory {options.spill_memory}) costs x{spill['cpu'] / e2e['cpu']:.2f} CPU time of the in-memory run; "
          f"--jobs {options.jobs} counting takes x{pooled['wall'] / counting['wall']:.2f} the wall time of one job")
    same = [r["distinct"] for r in results.values()]
    print(f"  identical tables across configurations (distinct n-grams per order): "
          f"{verdict(all(d == same[0] for d in same))} {same[0]}")


if __name__ == "__main__":
    main_or_child(main, child)
