"""Segmentation speed: `mintext segment` against jieba (HMM off) with the same lexicon as its dictionary.

``python -m bench segment [--chars=3000000]``

A lexicon is discovered from the shared novels; both tools then segment the
novels repeated to at least ``--chars`` characters. jieba loads the lexicon
(written with ``--format jieba``) as its dictionary and cuts with ``HMM=False``;
its dictionary loading is timed separately. Each tool runs in its own process.
Target (issue 2): at least 5x jieba.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    book_text,
    find_shared,
    main_or_child,
    python_child,
    rate,
    table,
    timed_run,
    verdict,
    write_repeated,
)


def child(config: dict) -> dict:
    """Load one tool's model, then segment ``config['text']`` into ``config['out']``; times for both."""
    if config["tool"] == "jieba":
        return _jieba(config)
    return _mintext(config)


def _jieba(config: dict) -> dict:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    started = time.perf_counter()
    tokenizer = jieba.Tokenizer(dictionary=config["dictionary"])
    tokenizer.initialize()
    loaded = time.perf_counter()
    with open(config["text"], encoding="utf-8") as lines, open(config["out"], "w", encoding="utf-8") as out:
        for line in lines:
            out.write(" ".join(t for t in tokenizer.cut(line.rstrip("\n"), HMM=False) if not t.isspace()) + "\n")
    return {"load": loaded - started, "segment": time.perf_counter() - loaded}


def _mintext(config: dict) -> dict:
    from mintext.discovery.lexicon import read_lexicon_columns, segmenter_for
    from mintext.io.sources import Corpus

    started = time.perf_counter()
    segmenter = segmenter_for(read_lexicon_columns(config["lexicon"]))  # as `mintext segment` reads it
    loaded = time.perf_counter()
    with open(config["out"], "w", encoding="utf-8") as out:
        for batch in segmenter.segment_text(Corpus([config["text"]]).line_pieces()):
            out.write(batch.text)
    return {"load": loaded - started, "segment": time.perf_counter() - loaded}


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench segment")
    parser.add_argument("--chars", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args(args)
    shared = find_shared()
    if shared is None:
        print("shared corpora not found (set MINTEXT_SHARED); skipping the segment benchmark")
        return
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as tmp:
        folder = Path(tmp)
        books = folder / "books.txt"
        books.write_text(book_text(shared), encoding="utf-8")
        lexicon, dictionary = folder / "lexicon.tsv", folder / "dict.txt"
        mintext = [sys.executable, "-m", "cli.main"]
        timed_run([*mintext, "discover", str(books), "-q", "-o", str(lexicon)])
        timed_run([*mintext, "discover", str(books), "-q", "--format", "jieba", "-o", str(dictionary)])
        corpus = folder / "corpus.txt"
        chars = write_repeated(corpus, book_text(shared), options.chars)
        config = {"lexicon": str(lexicon), "dictionary": str(dictionary), "text": str(corpus)}
        results: dict[str, list[dict]] = {"mintext": [], "jieba": []}
        for _ in range(options.repeat):  # alternate the tools so that load on the machine hits both alike
            for tool in results:
                results[tool].append(python_child("bench.segment", {**config, "tool": tool, "out": str(folder / f"{tool}.txt")}))
        command = timed_run([*mintext, "segment", "-q", "-l", str(lexicon), str(corpus), "-o", str(folder / "command.txt")])
        same = _agreement(folder / "mintext.txt", folder / "jieba.txt")
    best = {tool: min(runs, key=lambda r: r["segment"]) for tool, runs in results.items()}
    report(chars, best, command, same)


def _agreement(ours: Path, theirs: Path) -> float:
    """Share of jieba's words that mintext also produced (same spans), as a sanity check."""
    from mintext.discovery.scoring import score_segmentation

    with open(ours, encoding="utf-8") as a, open(theirs, encoding="utf-8") as b:
        return score_segmentation(b, a).recall


def report(chars: int, best: dict[str, dict], command: dict, same: float) -> None:
    ours, theirs = best["mintext"], best["jieba"]
    print(f"segmenting {chars:,} characters (the shared novels repeated) with a lexicon discovered from them")
    print("(each tool in its own process; best of the alternating runs)\n")
    print(table(
        ["tool", "load s", "segment s", "rate", "speed-up"],
        [
            ["mintext", f"{ours['load']:.2f}", f"{ours['segment']:.2f}", rate(chars, ours["segment"]), f"{theirs['segment'] / ours['segment']:.1f}x"],
            ["jieba (HMM=False)", f"{theirs['load']:.2f}", f"{theirs['segment']:.2f}", rate(chars, theirs["segment"]), "1x"],
        ],
    ))
    print(f"whole `mintext segment` command, start-up and lexicon included: {command['wall']:.2f} s ({rate(chars, command['wall'])})")
    print(f"(jieba and mintext agree on {same:.1%} of jieba's words)")
    ratio = theirs["segment"] / ours["segment"]
    print(f"target: segmentation at least 5x jieba: {ratio:.1f}x {verdict(ratio >= 5)}")


if __name__ == "__main__":
    main_or_child(main, child)
