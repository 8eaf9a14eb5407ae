"""Going through Dask: ``--scheduler local:2`` against the same run without Dask, and a scaling model.

``python -m bench cluster [--chars=25000000] [--repeat=1] [--skip-runs] [--skip-model]``

1. Whole commands, each in its own process, the local run and the cluster run
   alternating: ``mintext discover CORPUS`` (the shared novels repeated to
   ``--chars`` characters, as in ``bench discover``) and ``mintext apriori
   retail x5 --itemsets -s 0.001`` (the workers read the baskets in byte
   ranges), and ``mintext parse --task seg`` of ``--sentences`` sentences of
   the novels with a random 4 x 256 BERT (skipped without TensorFlow). Reported: wall times and their ratio (the
   overhead of Dask), the peak RSS of the client and of each worker (sampled
   every 50 ms with psutil), and whether the outputs are byte-identical.
2. The scaling model: one discover run in this process through an executor
   that runs each task here and records its time and the pickled size of what
   it sends and returns; from those, the wall time to discover the words of
   10 G characters on 1, 8 and 64 workers (see docs/cluster.md for the model).
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import REPO, book_text, find_shared, mib, table, write_repeated

SAMPLE_S = 0.05
TARGET_CHARS = 10e9
WORKERS = (1, 8, 64)
BANDWIDTH = 1.0e9  # bytes/s a worker or the client moves (10 GbE, about 1.25 GB/s, less overheads)
TASK_OVERHEAD = 0.002  # seconds of the Dask scheduler per task (its documented order: 1 ms or less)
TABLE_GROWTH = 0.5  # the n-gram table (and the model) grows as N ** this on real text (Heaps-like; an assumption)


def monitored(command: list[str]) -> dict:
    """Run ``command``; wall time, the peak RSS of the process and of each Dask worker below it."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main = psutil.Process(process.pid)
    peaks: dict[int, int] = defaultdict(int)
    workers: set[int] = set()
    while process.poll() is None:
        try:
            peaks[main.pid] = max(peaks[main.pid], main.memory_info().rss)
            for child in main.children(recursive=True):
                try:
                    if "spawn_main" in " ".join(child.cmdline()) and "resource_tracker" not in " ".join(child.cmdline()):
                        workers.add(child.pid)
                        peaks[child.pid] = max(peaks[child.pid], child.memory_info().rss)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(SAMPLE_S)
    wall = time.perf_counter() - started
    err = process.stderr.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {err.strip()[-500:]}")
    return {"wall": wall, "client": peaks[main.pid], "workers": sorted(peaks[p] for p in workers)}


def compare(name: str, command: list[str], output: Path, repeat: int) -> list[str]:
    """The command without and with ``--scheduler local:2``, alternating ``repeat`` times; one table row."""
    runs: dict[str, list[dict]] = {"local": [], "dask": []}
    outputs = {}
    for _ in range(repeat):
        for kind in ("local", "dask"):
            target = output.with_suffix(f".{kind}")
            extra = ["--scheduler", "local:2"] if kind == "dask" else []
            runs[kind].append(monitored([*command, *extra, "-o", str(target)]))
            outputs[kind] = target.read_bytes()
    local = statistics.median(r["wall"] for r in runs["local"])
    dask = statistics.median(r["wall"] for r in runs["dask"])
    workers = max((r["workers"] for r in runs["dask"]), key=len)
    return [
        name, f"{local:.1f}", f"{dask:.1f}", f"{dask / local:.2f}x", mib(max(r["client"] for r in runs["local"])),
        mib(max(r["client"] for r in runs["dask"])), " / ".join(mib(w) for w in workers) or "-",
        "yes" if outputs["local"] == outputs["dask"] else "NO",
    ]


def parse_rows(work: Path, shared: Path, mintext: list[str], sentences: int, repeat: int) -> list[list[str]]:
    """The parse row: ``--task seg`` of the first ``sentences`` sentences of 8 to 60 characters of the novels
    (cut after 。！？), a random BERT of bench parse's size; none without TensorFlow."""
    import re

    try:
        from mintext.parse.checkpoint import chinese_vocabulary, write_random_model
    except ImportError:
        print("(parse row skipped: the parse extra is not installed)")
        return []
    from bench.parse import BENCH_MODEL

    model = work / "bert"
    write_random_model(model, chinese_vocabulary(), seed=0, **BENCH_MODEL)
    found = [s.strip() for s in re.split(r"(?<=[。！？])", book_text(shared))]
    chosen = [s for s in found if 8 <= len(s) <= 60 and "\n" not in s][:sentences]
    source = work / "sentences.txt"
    source.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    name = f"parse --task seg, {len(chosen)} sentences, 4 x 256"
    return [compare(name, [*mintext, "parse", "--bert", str(model), str(source), "-q"], work / "parsed", repeat)]


# --------------------------------------------------------------------------- the scaling model


class RecordingExecutor:
    """The executor protocol run here, recording per task function: seconds, bytes in (items) and out (results),
    and the bytes of every shared value."""

    workers = 1

    def __init__(self) -> None:
        self.tasks: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
        self.consumer: dict[str, float] = defaultdict(float)  # seconds the client spends on each function's results
        self.shared: list[tuple[str, int]] = []

    def share(self, value):
        self.shared.append((type(value).__name__, len(pickle.dumps(value, protocol=5))))
        return value

    def _run(self, function, item, shared, done=None):
        started = time.perf_counter()
        result = function(item, *shared)
        if done is not None:
            done()
        seconds = time.perf_counter() - started
        size_in = len(pickle.dumps(item, protocol=5)) if not hasattr(item, "rows") else 0  # kept chunks stay put
        self.tasks[function.__name__].append((seconds, size_in, len(pickle.dumps(result, protocol=5))))
        return result

    def keep(self, function, items, *shared, done=None):
        return [self._run(function, item, shared, done) for item in items]

    def imap(self, function, items, *shared, window=None, done=None):
        for item in items:
            result = self._run(function, item, shared, done)
            handed = time.perf_counter()
            yield result
            self.consumer[function.__name__] += time.perf_counter() - handed


def record(corpus: str) -> tuple[RecordingExecutor, dict[str, float], int]:
    """One discover run through a :class:`RecordingExecutor`; its phases' wall times and the Han characters."""
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.pipeline import run_discovery
    from mintext.io.pieces import corpus_pieces
    from mintext.io.sources import Corpus
    from mintext.ngrams.hanstream import HanStream

    executor = RecordingExecutor()
    started = time.perf_counter()
    pieces = list(corpus_pieces(Corpus([corpus])))  # what the client reads itself: the bytes near each cut
    plan = time.perf_counter() - started
    with HanStream(Corpus([corpus])) as han:
        characters = han.characters
    started = time.perf_counter()
    result = run_discovery(Corpus([corpus]), DiscoveryOptions(), executor=executor)
    total = time.perf_counter() - started
    assert result is not None and pieces
    return executor, {"plan": plan, "total": total}, characters


def scaling_rows(executor: RecordingExecutor, phases: dict[str, float], characters: int) -> tuple[list[list[str]], list[list[str]]]:
    """Measured per-task figures, and the model's wall time for 10 G characters per worker count."""
    measured, per = [], {}
    for name, tasks in executor.tasks.items():
        seconds = sum(t[0] for t in tasks)
        size_in, size_out = sum(t[1] for t in tasks), sum(t[2] for t in tasks)
        per[name] = (len(tasks), seconds, size_in, size_out)
        measured.append([name, str(len(tasks)), f"{seconds:.2f}", f"{seconds / len(tasks) * 1000:.1f}", mib(size_in), mib(size_out)])
    shared = sum(size for _, size in executor.shared)
    measured.append(["(shared values)", str(len(executor.shared)), "-", "-", mib(shared), "-"])
    task_seconds = sum(p[1] for p in per.values())
    # linear in the corpus, on the workers: reading the pieces, finding the span cuts, counting, the final pass
    linear = ("read_piece", "segment_ends", "count_group", "_sparse_span_counts")
    table_sized = ("merge_group", "merge_root")  # the tree of merges on the workers: as large as the table
    merging = sum(executor.consumer[n] for n in linear)  # the client adding the final pass's counts
    fixed_client = phases["total"] - task_seconds - merging  # statistics, gaps, model: table-sized
    measured.append(["(client: planning the pieces)", "-", f"{phases['plan']:.2f}", "-", "-", "-"])
    measured.append(["(client: merging results)", "-", f"{merging:.2f}", "-", "-", "-"])
    measured.append(["(client: the rest)", "-", f"{fixed_client:.2f}", "-", "-", "-"])
    scale = TARGET_CHARS / characters
    growth = scale**TABLE_GROWTH
    # what grows with the corpus: the pieces' cuts (client), reading, counting and the final pass (workers),
    # their results (network, the final counts merged on the client); what grows as the table: the merges
    # on the workers, the client's statistics and model work, the shared values; what does not: the
    # refinement on the sample
    work_linear = sum(per[n][1] for n in linear if n in per) * scale
    work_table = sum(per[n][1] for n in table_sized if n in per) * growth
    work_fixed = sum(p[1] for n, p in per.items() if n not in linear and n not in table_sized)
    bytes_back = sum(per[n][3] for n in linear if n in per) * scale
    tasks_linear = sum(per[n][0] for n in linear if n in per) * scale
    rows = []
    for workers in WORKERS:
        read = phases["plan"] * scale
        compute = (work_linear + work_fixed) / workers + work_table
        client_merge = merging * scale + fixed_client * growth
        network = (bytes_back + shared * growth * workers) / BANDWIDTH
        scheduler = tasks_linear * TASK_OVERHEAD
        wall = read + max(compute, network, scheduler) + client_merge
        bound = max([("client planning", read), ("workers", compute), ("network", network), ("client merge", client_merge),
                     ("scheduler", scheduler)], key=lambda kv: kv[1])[0]
        rows.append([str(workers), f"{read / 60:.0f}", f"{compute / 60:.1f}", f"{client_merge / 60:.0f}",
                     f"{network / 60:.1f}", f"{wall / 60:.0f}", bound])
    return measured, rows


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench cluster")
    parser.add_argument("--chars", type=int, default=25_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-runs", action="store_true")
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--sentences", type=int, default=400, help="sentences parsed in the parse row (0: none)")
    options = parser.parse_args(args)
    shared = find_shared("corpora")
    if shared is None:
        print("(skipped: the shared corpora are not found; set MINTEXT_SHARED)")
        return
    mintext = [sys.executable, "-m", "cli.main"]
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as tmp:
        corpus = Path(tmp) / "corpus.txt"
        chars = write_repeated(corpus, book_text(shared), options.chars)
        if not options.skip_runs:
            rows = [compare(f"discover {chars / 1e6:.1f} M chars", [*mintext, "discover", str(corpus), "-q"],
                            Path(tmp) / "lexicon", options.repeat)]
            retail = shared / "baskets" / "retail.dat"
            if retail.exists():
                baskets = Path(tmp) / "retail5.dat"
                baskets.write_bytes(retail.read_bytes() * 5)
                rows.append(compare("apriori retail x5 @0.001 --itemsets",
                                    [*mintext, "apriori", str(baskets), "--itemsets", "-s", "0.001", "-q"],
                                    Path(tmp) / "itemsets", options.repeat))
            if options.sentences:
                rows.extend(parse_rows(Path(tmp), shared, mintext, options.sentences, options.repeat))
            print(table(["run", "local s", "local:2 s", "ratio", "client RSS (local)", "client RSS (dask)",
                         "worker RSS", "same bytes"], rows))
        if not options.skip_model:
            executor, phases, characters = record(str(corpus))
            measured, model = scaling_rows(executor, phases, characters)
            print(f"\nper-task measurements, discover on {characters / 1e6:.1f} M Han characters "
                  f"(pieces planned in {phases['plan']:.2f} s, whole run {phases['total']:.1f} s, one process):")
            print(table(["task", "tasks", "seconds", "ms/task", "bytes in", "bytes out"], measured))
            print(f"\nmodel: 10 G characters, {BANDWIDTH / 1e9:.0f} GB/s per link, minutes:")
            print(table(["workers", "client planning", "worker compute", "client merge", "network", "wall", "bound by"], model))
    if os.environ.get("MINTEXT_BENCH_KEEP"):
        print(tmp)
