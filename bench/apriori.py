"""Frequent itemsets: mintext against pyfim, mlxtend and efficient-apriori, time and peak memory.

``python -m bench apriori [--timeout=60] [--repeat=3] [--rows=retail,chess] [--peers=pyfim,mlxtend]``
(``python -m bench`` passes on only the arguments that start with ``-``: write ``--option=value``.)

Each (tool, data set) runs in a fresh interpreter that imports its libraries,
then times the work from the file name to the tool's result (reading
included: every tool parses the file itself) and reports its own peak RSS
(``ru_maxrss``), so tools do not pollute each other's numbers. Every tool's
interpreter starts with the C allocator's thresholds that the ``mintext``
command sets for itself (:mod:`mintext.io.allocator`, through glibc's
``MALLOC_*_`` variables): the peers run under the same settings (pyfim's times
do not move with them; mintext's small dense rows take a quarter less).

Runs are interleaved, so that a burst of load on a shared machine hits
mintext and its peers alike: a data set is measured in ``--repeat`` rounds,
and in each round mintext runs right before every peer run (and once on its
own when no peer runs). A peer runs again in later rounds only while its
runs take under ``FAST_S``; one that exceeds ``--timeout`` is stopped, shown
as ``>T s``, and its ratio is then a lower bound. Every tool's time is the
best of its runs (wall clock and CPU apart); mintext, which runs most often,
gets the best of more runs, and the report says how many each had.

Times are wall clock and CPU (the process's user + system time): on a shared
machine the CPU time is the steadier measure of the work done; every tool
here computes in one thread.

mintext's time is ``mintext.apriori(path, min_support=..., itemsets=True)``:
read the file into baskets, mine, build the DataFrame (itemsets as tuples of
names). Separate runs measure its phases, including writing the CLI's CSV
and single-consequent rules. The last line repeats retail 5 times (memory
target: under 1.5 GB).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import REPO, find_shared, table
from mintext.io.allocator import ENVIRONMENT

CHILD_ENV = {**os.environ, **ENVIRONMENT}  # every child: the allocator settings of the mintext command

ROWS = [  # (data set, min support, frequent itemsets per ../shared/baskets/README.md)
    ("retail.dat", 0.0005, 19_242),
    ("T10I4D100K.dat", 0.001, 27_532),
    ("chess.dat", 0.6, 254_944),
    ("mushroom.dat", 0.1, 574_431),
]
MEMORY_ROW = ("retail.dat", 5, 0.001)  # retail repeated 5 times
TOOLS = ["mintext", "pyfim-apriori", "pyfim-fpgrowth", "mlxtend-fpgrowth", "mlxtend-apriori", "efficient-apriori"]
PEER_GROUPS = {"pyfim": TOOLS[1:3], "mlxtend": TOOLS[3:5], "efficient-apriori": TOOLS[5:]}
FAST_S = 10.0
TARGET_PEER_RATIO = 10.0  # at least this much faster than mlxtend and efficient-apriori
TARGET_PYFIM_RATIO = 3.0  # at most this much slower than pyfim
TARGET_RSS = 1 << 30
TARGET_RSS_REPEATED = 1.5 * (1 << 30)
CLOCKS = {"seconds": "wall clock", "cpu": "CPU"}


# --------------------------------------------------------------------------- child runs


def read_transactions(path: str) -> list[list[str]]:
    """How a Python user reads a FIMI file for the peers: one list of item strings per line."""
    with open(path, encoding="utf-8") as lines:
        return [line.split() for line in lines]


def work_of(tool: str) -> Callable[[str, float], int]:
    """Import what ``tool`` needs (outside the clock) and return its work: (path, support) -> itemsets found.

    ``tool:closed`` and ``tool:maximal`` (mintext, pyfim-fpgrowth, pyfim-eclat) find those itemsets instead.
    """
    if ":" in tool:
        return _condensed_work(*tool.split(":"))
    if tool == "mintext":
        import pandas  # noqa: F401

        import mintext

        apriori = mintext.apriori  # loads mintext's modules now, as the imports below do for the peers
        return lambda path, support: len(apriori(path, min_support=support, itemsets=True))
    if tool.startswith("pyfim"):
        import fim

        from mintext.association.itemsets import support_threshold

        algorithm = fim.apriori if tool == "pyfim-apriori" else fim.fpgrowth

        def pyfim(path: str, support: float) -> int:
            transactions = read_transactions(path)
            count = support_threshold(len(transactions), min_support=support)  # negative supp: a basket count
            return len(algorithm(transactions, target="s", supp=-count, zmin=1, report="a"))

        return pyfim
    if tool.startswith("mlxtend"):
        import pandas as pd
        from mlxtend.frequent_patterns import apriori, fpgrowth
        from mlxtend.preprocessing import TransactionEncoder

        def mlxtend(path: str, support: float) -> int:
            transactions = read_transactions(path)
            encoder = TransactionEncoder()
            table = encoder.fit(transactions).transform(transactions, sparse=True)
            frame = pd.DataFrame.sparse.from_spmatrix(table, columns=encoder.columns_)
            if tool == "mlxtend-fpgrowth":
                return len(fpgrowth(frame, min_support=support, use_colnames=True))
            return len(apriori(frame, min_support=support, use_colnames=True, low_memory=True))

        return mlxtend
    if tool == "efficient-apriori":
        from efficient_apriori import itemsets_from_transactions

        def efficient(path: str, support: float) -> int:
            transactions = [tuple(t) for t in read_transactions(path)]
            found, _ = itemsets_from_transactions(transactions, min_support=support, max_length=1_000)
            return sum(len(level) for level in found.values())

        return efficient
    raise SystemExit(f"unknown tool {tool!r}")


def _condensed_work(tool: str, target: str) -> Callable[[str, float], int]:
    """Closed or maximal (``target``) itemsets: mintext's apriori(closed=/maximal=), or pyfim with target c/m."""
    if tool == "mintext":
        import pandas  # noqa: F401

        import mintext

        apriori = mintext.apriori
        return lambda path, support: len(apriori(path, min_support=support, itemsets=True, **{target: True}))
    import fim

    from mintext.association.itemsets import support_threshold

    algorithm = {"pyfim-fpgrowth": fim.fpgrowth, "pyfim-eclat": fim.eclat}[tool]

    def pyfim(path: str, support: float) -> int:
        transactions = read_transactions(path)
        count = support_threshold(len(transactions), min_support=support)
        return len(algorithm(transactions, target=target[0], supp=-count, zmin=1, report="a"))

    return pyfim


def child(tool: str, path: str, support: float) -> dict:
    """Run one tool once in this process; return its times, result size and peak RSS."""
    if tool == "mintext-phases":
        return phases(path, support)
    work = work_of(tool)
    wall, cpu = time.perf_counter(), time.process_time()
    found = work(path, support)
    return {
        "seconds": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "itemsets": found,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def phases(path: str, support: float) -> dict:
    """mintext phase by phase (CPU seconds): read, mine, DataFrame, the CLI's CSV, single-consequent rules
    (generated, then written as the CLI's CSV)."""
    import pandas  # noqa: F401

    from mintext.association.baskets import read_baskets
    from mintext.association.itemsets import frequent_itemsets
    from mintext.association.rules import association_rules
    from mintext.association.tables import TableWriter

    times = {}
    clock = time.process_time()
    baskets = read_baskets(path)
    times["read"], clock = time.process_time() - clock, time.process_time()
    found = frequent_itemsets(baskets, min_support=support)
    times["mine"], clock = time.process_time() - clock, time.process_time()
    found.to_frame()
    times["frame"], clock = time.process_time() - clock, time.process_time()
    with open(os.devnull, "w", encoding="utf-8") as out:
        TableWriter(out, baskets.items).itemsets(found)
    times["write csv"], clock = time.process_time() - clock, time.process_time()
    blocks = list(association_rules(found, min_confidence=0.5, max_consequent=1))
    times["rules"], clock = time.process_time() - clock, time.process_time()
    with open(os.devnull, "w", encoding="utf-8") as out:
        TableWriter(out, baskets.items).rules(blocks)
    times["write rules"] = time.process_time() - clock
    return {"phases": times, "rules": sum(len(block) for block in blocks), "itemsets": len(found)}


def run_child(tool: str, path: str, support: float, timeout: float) -> dict:
    """One run in a fresh interpreter; {"timeout": True} when it exceeds ``timeout`` seconds."""
    command = [sys.executable, "-m", "bench.apriori", "--child", tool, path, repr(support)]
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
                              env=CHILD_ENV)
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(tool: str, path: str, support: float, timeout: float, repeat: int) -> dict:
    """Best wall and best CPU time of ``repeat`` runs when a run is fast, else one run; the largest peak RSS."""
    best = run_child(tool, path, support, timeout)
    runs = 1
    while "seconds" in best and best["seconds"] < FAST_S and runs < repeat:
        best = merge(best, run_child(tool, path, support, timeout))
        runs += 1
    return {**best, "runs": runs}


def merge(best: dict | None, again: dict) -> dict:
    """Two runs of one tool: the best wall and the best CPU time, the largest peak RSS, the number of runs.

    A run that failed or timed out counts only when no run succeeded.
    """
    runs = (best or {}).get("runs", 0) + 1
    if best is None or "seconds" not in best:
        return {**again, "runs": runs}
    if "seconds" not in again:
        return {**best, "runs": runs}
    return {**best, **{k: min(best[k], again[k]) for k in CLOCKS}, "rss": max(best["rss"], again["rss"]), "runs": runs}


def measure_interleaved(tools: list[str], path: str, support: float, timeout: float, repeat: int) -> dict[str, dict]:
    """Every tool on one data set, runs interleaved (see the module docstring): tool -> its merged runs."""
    results: dict[str, dict | None] = dict.fromkeys(tools)
    peers = tools[1:]

    def again(peer: str) -> bool:
        done = results[peer]
        return done is None or ("seconds" in done and done["seconds"] < FAST_S)

    for _ in range(repeat):
        due = [peer for peer in peers if again(peer)]
        for peer in due or [None]:
            results["mintext"] = merge(results["mintext"], run_child("mintext", path, support, timeout))
            if peer is not None:
                results[peer] = merge(results[peer], run_child(peer, path, support, timeout))
    return results


# --------------------------------------------------------------------------- report


def show_time(result: dict, timeout: float) -> str:
    if result.get("timeout"):
        return f">{timeout:.0f} s"
    if "error" in result:
        return "failed"
    return f"{result['seconds']:.2f} s ({result['cpu']:.2f})"


def show_rss(result: dict) -> str:
    return f"{result['rss'] / 2**20:.0f} MB" if "rss" in result else "-"


def ratio(peer: dict, ours: dict, clock: str, timeout: float) -> tuple[float, bool] | None:
    """Peer time / mintext time on ``clock``, and whether it is a lower bound (the peer timed out)."""
    if clock not in ours:
        return None
    if peer.get("timeout"):
        return (timeout / ours[clock], True) if clock == "seconds" else None
    return (peer[clock] / ours[clock], False) if clock in peer else None


def show_ratio(value: tuple[float, bool] | None) -> str:
    if value is None:
        return "-"
    return f">{value[0]:.0f}x" if value[1] else f"{value[0]:.1f}x"


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench apriori", description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "PATH", "SUPPORT"), help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per peer run (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of fast tools, best kept (default 3)")
    parser.add_argument("--rows", default="", help="comma-separated data set names (default: all)")
    parser.add_argument("--peers", default="pyfim,mlxtend,efficient-apriori", help="comma-separated peer groups")
    parser.add_argument("--only", choices=["limits", "large", "stream", "huge"],
                        help="run only this part (limits: runs past --memory; large: larger work against pyfim; "
                        "stream: a streamed run against pyfim writing the same file; huge: over 100 million "
                        "itemsets streamed to a file, about 10 minutes, not part of the whole run)")
    parser.add_argument("--stream-support", type=float, default=STREAM_SUPPORT,
                        help=f"support of the streamed run on {STREAM_DATA} (default {STREAM_SUPPORT})")
    parser.add_argument("--pyfim-file", nargs=3, metavar=("PATH", "SUPPORT", "OUT"), help=argparse.SUPPRESS)
    options = parser.parse_args(args)
    if options.child:
        tool, path, support = options.child
        print(json.dumps(child(tool, path, float(support))))
        return
    if options.pyfim_file:
        path, support, out = options.pyfim_file
        print(json.dumps(pyfim_to_file(path, float(support), out)))
        return
    shared = find_shared("baskets")
    if shared is None:
        print("bench apriori: ../shared/baskets not found (set MINTEXT_SHARED); nothing measured")
        return
    if options.only == "limits":
        limit_report(shared)
        return
    wanted = {w for w in options.rows.split(",") if w}
    if options.only == "large":
        large_report(shared, options.timeout, options.repeat, wanted)
        return
    if options.only == "stream":
        stream_report(shared, options.stream_support)
        return
    if options.only == "huge":
        huge_report(shared)
        return
    rows = [r for r in ROWS if not wanted or r[0].split(".")[0] in wanted]
    tools = ["mintext"]
    for group in (g for g in options.peers.split(",") if g):
        if group not in PEER_GROUPS:
            raise SystemExit(f"unknown peer group {group!r}; choose from {', '.join(PEER_GROUPS)}")
        tools.extend(PEER_GROUPS[group])
    skipped = _unavailable(tools)
    tools = [t for t in tools if t not in skipped]
    print(
        f"data: {shared / 'baskets'}; timeout {options.timeout:.0f} s per run; {options.repeat} rounds per data set, "
        f"mintext run right before every peer run; a peer runs again only while under {FAST_S:.0f} s; "
        "best run of each tool; reading included, imports excluded",
        flush=True,
    )
    for tool, why in skipped.items():
        print(f"skipped {tool}: {why}")

    results: dict[tuple[str, str], dict] = {}
    for name, support, expected in rows:
        path = str(shared / "baskets" / name)
        for tool, result in measure_interleaved(tools, path, support, options.timeout, options.repeat).items():
            results[(name, tool)] = result
            note = result.get("error", "")
            if "itemsets" in result and result["itemsets"] != expected:
                note = f"{result['itemsets']:,} itemsets, expected {expected:,}"
                if tool.startswith("pyfim") and name == "mushroom.dat":
                    note += " (pyfim leaves out item 85, which is in every basket)"
            runs = f"best of {result['runs']}" if result["runs"] > 1 else "1 run"
            print(f"  {name} @{support}: {tool:18} {show_time(result, options.timeout):>16}  {show_rss(result):>8}"
                  f"  {runs:>10}  {note}", flush=True)
    report(rows, tools, results, options.timeout)
    phase_report(shared, rows, options.repeat)
    memory_report(shared, options.timeout)
    if "pyfim-fpgrowth" in tools:
        large_report(shared, options.timeout, options.repeat)
    limit_report(shared)
    stream_report(shared, options.stream_support)
    print(f"\n(The streamed run with over 100 million itemsets, {STREAM_DATA} @{HUGE_SUPPORT}: "
          "python -m bench apriori --only=huge, about 10 minutes.)")


def _unavailable(tools: list[str]) -> dict[str, str]:
    modules = {"pyfim": "fim", "mlxtend": "mlxtend", "efficient-apriori": "efficient_apriori"}
    missing = {}
    for tool in tools:
        module = next((m for prefix, m in modules.items() if tool.startswith(prefix)), None)
        if module is None:
            continue
        probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            hint = " (pip install pyfim compiles it from source; did it fail to build?)" if module == "fim" else ""
            missing[tool] = f"cannot import {module}{hint}"
    return missing


def report(rows, tools, results, timeout: float) -> None:
    print("\nTime: wall clock (CPU) seconds, best run (xN: of N runs); peak RSS, the largest of the runs")
    lines = []
    for name, support, expected in rows:
        cells = [f"{show_time(results[(name, t)], timeout)} x{results[(name, t)]['runs']} / "
                 f"{show_rss(results[(name, t)])}" for t in tools]
        lines.append([f"{name.split('.')[0]} @{support}", f"{expected:,}", *cells])
    print(table(["data @ support", "itemsets", *tools], lines, right=True))
    peers = tools[1:]
    misses = [f"{name} @{support}: peak RSS {show_rss(results[(name, 'mintext')])} (target: under 1 GB)"
              for name, support, _ in rows if results[(name, "mintext")].get("rss", 0) > TARGET_RSS]
    for clock, clock_name in CLOCKS.items():
        if not peers:
            break
        print(f"\nRatios, {clock_name}: peer time / mintext time (higher is better for mintext)")
        lines = []
        for name, support, _ in rows:
            ours = results[(name, "mintext")]
            cells = []
            for peer in peers:
                value = ratio(results[(name, peer)], ours, clock, timeout)
                cells.append(show_ratio(value))
                if value is None:
                    if not results[(name, peer)].get("timeout"):
                        misses.append(f"{name} @{support} ({clock_name}): not measured against {peer} (a run failed)")
                    continue
                if peer.startswith("pyfim") and value[0] < 1 / TARGET_PYFIM_RATIO:
                    misses.append(f"{name} @{support} ({clock_name}): {1 / value[0]:.1f}x slower than {peer}")
                if not peer.startswith("pyfim") and value[0] < TARGET_PEER_RATIO:
                    misses.append(f"{name} @{support} ({clock_name}): {value[0]:.1f}x faster than {peer}, not 10x")
            lines.append([f"{name.split('.')[0]} @{support}", *cells])
        print(table(["data @ support", *peers], lines, right=True))
    for peer in peers:
        stopped = [name.split(".")[0] for name, _, _ in rows if results[(name, peer)].get("timeout")]
        if stopped:
            print(f"  {peer} was stopped at the {timeout:.0f} s timeout on {', '.join(stopped)}: its wall-clock "
                  "ratio is a lower bound, its CPU ratio unknown")
    if not peers:
        print("\nTargets: peak RSS < 1 GB (no peers measured, so no speed targets)")
    else:
        print("\nTargets: >= 10x faster than mlxtend and efficient-apriori, within 3x of pyfim, peak RSS < 1 GB")
    print("\n".join(f"  MISSED {m}" for m in misses) if misses else "  all met")


def phase_report(shared: Path, rows, repeat: int) -> None:
    print(f"\nmintext phases: CPU seconds, best of {repeat}; rules = single-consequent rules at confidence 0.5")
    names = ["read", "mine", "frame", "write csv", "rules", "write rules"]
    lines = []
    for name, support, _ in rows:
        runs = [run_child("mintext-phases", str(shared / "baskets" / name), support, 600) for _ in range(repeat)]
        runs = [r for r in runs if "phases" in r]
        if not runs:
            lines.append([f"{name.split('.')[0]} @{support}"] + ["-"] * 7)
            continue
        best = {p: min(r["phases"][p] for r in runs) for p in names}
        lines.append([f"{name.split('.')[0]} @{support}", *(f"{best[p]:.2f}" for p in names), f"{runs[0]['rules']:,}"])
    print(table(["data @ support", *names, "rules found"], lines, right=True))


LIMIT_ROWS = [  # (what, how to make the input, command-line options): runs that pass --memory 2G and must stop
    ("groceries @1e-7", "groceries", ["-s", "1e-7"]),
    ("2 baskets x 50,000 items -l 2", "two-long-baskets", ["-n", "1", "-l", "2"]),
]
LIMIT_MEMORY = 2 << 30
LIMIT_SLACK = 4 << 30  # address space allowed past --memory, so that a regression fails instead of swapping


LARGE_ROWS = [  # (data set, times repeated, min support): work large enough that start-up does not dominate
    ("retail.dat", 5, 0.0005),
    ("T10I4D100K.dat", 1, 0.0005),
    ("chess.dat", 1, 0.5),
    ("mushroom.dat", 1, 0.05),
]
LARGE_KINDS = ("all", "closed", "maximal")
LARGE_PEERS = ("pyfim-fpgrowth", "pyfim-eclat")


def large_report(shared: Path, timeout: float, repeat: int, wanted: set[str] = frozenset()) -> None:
    """mintext against pyfim's fpgrowth and eclat (the faster per row) on larger work: all, closed and maximal
    itemsets, runs interleaved as above (``repeat`` rounds, best run of each); ``wanted``: data set names
    (``--rows``; default all)."""
    print(f"\nLarger work: mintext.apriori(itemsets=True, closed=/maximal=) against pyfim fpgrowth and eclat "
          f"(target s/c/m), best of {repeat} interleaved rounds; ratio = faster pyfim / mintext")
    lines, misses = [], []
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as folder:
        for name, times, support in LARGE_ROWS:
            if wanted and name.split(".")[0] not in wanted:
                continue
            path = shared / "baskets" / name
            if times > 1:
                text = path.read_text(encoding="utf-8")
                path = Path(folder) / f"{name.split('.')[0]}x{times}.dat"
                path.write_text((text if text.endswith("\n") else text + "\n") * times, encoding="utf-8")
            for kind in LARGE_KINDS:
                suffix = "" if kind == "all" else f":{kind}"
                peers = [("pyfim-fpgrowth" if kind == "all" else f"pyfim-fpgrowth{suffix}"),
                         ("pyfim-eclat" if kind == "all" else f"pyfim-eclat{suffix}")]
                tools = [f"mintext{suffix}", *peers]
                results: dict[str, dict | None] = dict.fromkeys(tools)
                for _ in range(repeat):
                    for tool in tools:
                        results[tool] = merge(results[tool], run_child(tool, str(path), support, timeout))
                ours = results[tools[0]]
                best_peer = min((results[p] for p in peers if "seconds" in results[p]),
                                key=lambda r: r["seconds"], default={})
                value = ratio(best_peer, ours, "seconds", timeout) if best_peer else None
                cpu = ratio(best_peer, ours, "cpu", timeout) if best_peer else None
                row = f"{name.split('.')[0]}{f' x{times}' if times > 1 else ''} @{support}"
                if value is None:
                    misses.append(f"{row} {kind}: not measured (no pyfim run finished)")
                elif value[0] < 1:
                    misses.append(f"{row} {kind}: {1 / value[0]:.2f}x slower than pyfim")
                counts = {t: results[t].get("itemsets") for t in tools}
                agree = "" if len({c for c in counts.values() if c is not None}) == 1 else f" counts {counts}"
                lines.append([row, kind, f"{ours.get('itemsets', 0):,}", show_time(ours, timeout), show_rss(ours),
                              *(f"{show_time(results[p], timeout)} / {show_rss(results[p])}" for p in peers),
                              show_ratio(value), show_ratio(cpu), agree.strip()])
    print(table(["data @ support", "itemsets", "count", "mintext", "RSS", *LARGE_PEERS, "wall ratio", "CPU ratio",
                 "note"], lines))
    print("Target: no slower than pyfim on any row (wall clock)")
    print("\n".join(f"  MISSED {m}" for m in misses) if misses else "  all met")


STREAM_DATA = "chess.dat"
STREAM_SUPPORT = 0.4  # 6,439,702 frequent itemsets: pyfim can still hold them (1.4 GB) to write the file
HUGE_SUPPORT = 0.24  # 120,979,411 frequent itemsets (pyfim's pattern spectrum); pyfim would need some 26 GB
STREAM_MEMORY = "512M"
STREAM_PEER_CAP = 8 << 30  # address space for pyfim, which holds every itemset as a Python tuple


def pyfim_to_file(path: str, support: float, out: str) -> dict:
    """pyfim's fpgrowth, then its itemsets written as the CSV mintext writes (items joined by |, length, count,
    support): the way to get pyfim's itemsets into a file from Python."""
    import fim

    from mintext.association.itemsets import support_threshold

    transactions = read_transactions(path)
    n = len(transactions)
    count = support_threshold(n, min_support=support)
    found = fim.fpgrowth(transactions, target="s", supp=-count, zmin=1, report="a")
    with open(out, "w", encoding="utf-8") as file:
        file.write("itemset,length,count,support\n")
        file.writelines(f"{'|'.join(items)},{len(items)},{c},{c / n!r}\n" for items, c in found)
    return {"itemsets": len(found)}


def stream_report(shared: Path, support: float) -> None:
    """``mintext apriori --itemsets --stream`` on chess written to a file: time, itemsets per second and peak
    RSS, against pyfim writing the same file (its address space capped; it keeps every itemset in memory
    first)."""
    path = shared / "baskets" / STREAM_DATA
    print(f"\nStreamed: {STREAM_DATA} @{support}, --itemsets --stream --memory {STREAM_MEMORY} -o FILE, against "
          f"pyfim fpgrowth writing the same CSV from Python (address space capped at {STREAM_PEER_CAP >> 30} GiB)")
    lines = []
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as folder:
        out = Path(folder) / "itemsets.csv"
        command = [str(Path(sys.executable).parent / "mintext"), "apriori", str(path), "--itemsets", "--stream",
                   "-s", repr(support), "--memory", STREAM_MEMORY, "-q", "-o", str(out)]
        ours = _limited_run(command, 16 << 30)
        rows = _count_rows(out) if ours["code"] == 0 else 0
        out.unlink(missing_ok=True)
        peer = _limited_run([sys.executable, "-m", "bench.apriori", "--pyfim-file", str(path), repr(support),
                             str(out)], STREAM_PEER_CAP)
        peer_rows = _count_rows(out) if peer["code"] == 0 else 0
    for tool, run, found in (("mintext --stream", ours, rows), ("pyfim fpgrowth + write", peer, peer_rows)):
        status = "ok" if run["code"] == 0 else f"failed ({(run['stderr'].strip().splitlines() or ['?'])[-1][:60]})"
        rate = f"{found / run['wall']:,.0f}" if found else "-"
        lines.append([tool, f"{found:,}", f"{run['wall']:.1f} s", rate, f"{run['rss'] / 2**20:,.0f} MB", status])
    print(table(["tool", "itemsets written", "time", "itemsets/s", "peak RSS", "status"], lines))


def huge_report(shared: Path) -> None:
    """The issue's run: ``mintext apriori --itemsets --stream`` on chess @``HUGE_SUPPORT`` (over 100 million
    frequent itemsets) written to a file, with its time, rate (wall clock and CPU) and peak RSS (target: under
    1 GB). pyfim is not run: it would hold every itemset as a tuple first (the rate against it comes from
    ``--only=stream``)."""
    path = shared / "baskets" / STREAM_DATA
    print(f"\nStreamed, over 100 million itemsets: {STREAM_DATA} @{HUGE_SUPPORT}, --itemsets --stream --memory "
          f"{STREAM_MEMORY} -o FILE")
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as folder:
        out = Path(folder) / "itemsets.csv"
        command = [str(Path(sys.executable).parent / "mintext"), "apriori", str(path), "--itemsets", "--stream",
                   "-s", repr(HUGE_SUPPORT), "--memory", STREAM_MEMORY, "-q", "-o", str(out)]
        run = _limited_run(command, 16 << 30)
        rows = _count_rows(out) if run["code"] == 0 else 0
        size = out.stat().st_size if run["code"] == 0 else 0
    status = "ok" if run["code"] == 0 else f"failed ({(run['stderr'].strip().splitlines() or ['?'])[-1][:60]})"
    print(table(["itemsets written", "file", "wall", "CPU", "itemsets/s (wall)", "itemsets/s (CPU)", "peak RSS",
                 "status"],
                [[f"{rows:,}", f"{size / 1e9:.1f} GB", f"{run['wall']:.1f} s", f"{run['cpu']:.1f} s",
                  f"{rows / run['wall']:,.0f}" if rows else "-", f"{rows / run['cpu']:,.0f}" if rows else "-",
                  f"{run['rss'] / 2**20:,.0f} MB", status]]))
    met = run["code"] == 0 and rows > 100_000_000 and run["rss"] < 1 << 30
    print(f"Target: over 100 million itemsets written with peak RSS under 1 GB: {'met' if met else 'MISSED'}")


def _count_rows(path: Path) -> int:
    """Lines of a file less its header, counted in 16 MiB blocks."""
    lines = 0
    with open(path, "rb") as file:
        while block := file.read(1 << 24):
            lines += block.count(b"\n")
    return max(0, lines - 1)


def limit_report(shared: Path) -> None:
    """Peak RSS of ``mintext apriori --itemsets --memory 2G`` on inputs whose itemsets pass any memory: the run
    must stop with the memory error, its peak RSS near --memory (was 12.6 GB and 24 GB, killed)."""
    print(f"\nRuns past the memory limit: mintext apriori --itemsets --memory 2G (address space capped at "
          f"{(LIMIT_MEMORY + LIMIT_SLACK) >> 30} GiB)")
    lines = []
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as folder:
        for what, source, options in LIMIT_ROWS:
            if source == "groceries":
                path = shared / "baskets" / "groceries.csv"
            else:
                path = Path(folder) / "two.dat"
                path.write_text((" ".join(map(str, range(50_000))) + "\n") * 2, encoding="utf-8")
            command = [str(Path(sys.executable).parent / "mintext"), "apriori", str(path), "--itemsets",
                       "--memory", str(LIMIT_MEMORY), "-q", "-o", str(Path(folder) / "out.csv"), *options]
            run = _limited_run(command, LIMIT_MEMORY + LIMIT_SLACK)
            message = (run["stderr"].strip().splitlines() or [""])[-1]
            verdict = "met" if run["rss"] < LIMIT_MEMORY + (256 << 20) and run["code"] == 1 else "MISSED"
            lines.append([what, f"{run['wall']:.1f} s", f"{run['rss'] / 2**30:.2f} GiB",
                          f"{run['rss'] / LIMIT_MEMORY:.2f}", str(run["code"]), verdict, message[:90]])
    print(table(["input", "time", "peak RSS", "of --memory", "exit", "peak < --memory + 256 MiB", "message"], lines))


def _limited_run(command: list[str], address_space: int) -> dict:
    """Run ``command`` with its address space capped; its exit status, stderr, wall and CPU time, peak RSS."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=cap,
                               env=CHILD_ENV)
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.stderr.close()
    return {"code": os.waitstatus_to_exitcode(status), "stderr": err, "wall": time.perf_counter() - started,
            "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024}


def memory_report(shared: Path, timeout: float) -> None:
    name, times, support = MEMORY_ROW
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as folder:
        path = Path(folder) / f"{name.split('.')[0]}x{times}.dat"
        text = (shared / "baskets" / name).read_text(encoding="utf-8")
        path.write_text((text if text.endswith("\n") else text + "\n") * times, encoding="utf-8")
        ours = measure("mintext", str(path), support, max(timeout, 120), 1)
        pyfim = measure("pyfim-apriori", str(path), support, max(timeout, 120), 1)
    met = "met" if ours.get("rss", math.inf) < TARGET_RSS_REPEATED else "MISSED"
    print(f"\n{name} repeated {times} times @{support}: mintext {show_time(ours, timeout)}, peak RSS "
          f"{show_rss(ours)} (target under 1.5 GB: {met}); pyfim apriori {show_time(pyfim, timeout)}, "
          f"{show_rss(pyfim)}; {ours.get('itemsets', 0):,} itemsets")


if __name__ == "__main__":
    main(sys.argv[1:])
