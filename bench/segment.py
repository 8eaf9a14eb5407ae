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
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.common import book_text, find_shared, python_child, rate, table, timed_run, verdict, write_repeated


def child(config: dict) -> dict:
    """Segment ``config['text']`` with jieba (HMM off) using ``config['dictionary']``."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    started = time.perf_counter()
    tokenizer = jieba.Tokenizer(dictionary=config["dictionary"])
    tokenizer.initialize()
    loaded = time.perf_counter()
    words = 0
    with open(config["text"], encoding="utf-8") as lines, open(config["out"], "w", encoding="utf-8") as out:
        for line in lines:
            tokens = [t for t in tokenizer.cut(line.rstrip("\n"), HMM=False) if not t.isspace()]
            words += len(tokens)
            out.write(" ".join(tokens) + "\n")
    done = time.perf_counter()
    return {"load": loaded - started, "cut": done - loaded, "words": words}


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench segment")
    parser.add_argument("--chars", type=int, default=3_000_000)
    options = parser.parse_args(args)
    shared = find_shared()
    if shared is None:
        print("shared corpora not found (set MINTEXT_SHARED); skipping the segment benchmark")
        return
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as tmp:
        books = Path(tmp) / "books.txt"
        books.write_text(book_text(shared), encoding="utf-8")
        lexicon, dictionary = Path(tmp) / "lexicon.tsv", Path(tmp) / "dict.txt"
        mintext = [sys.executable, "-m", "cli.main"]
        timed_run([*mintext, "discover", str(books), "-q", "-o", str(lexicon)])
        timed_run([*mintext, "discover", str(books), "-q", "--format", "jieba", "-o", str(dictionary)])
        corpus = Path(tmp) / "corpus.txt"
        chars = write_repeated(corpus, book_text(shared), options.chars)
        ours = timed_run([*mintext, "segment", "-q", "-l", str(lexicon), str(corpus), "-o", str(Path(tmp) / "ours.txt")])
        theirs = python_child("bench.segment", {"dictionary": str(dictionary), "text": str(corpus), "out": str(Path(tmp) / "jieba.txt")})
        same = _agreement(Path(tmp) / "ours.txt", Path(tmp) / "jieba.txt")
    report(chars, ours, theirs, same)


def _agreement(ours: Path, theirs: Path) -> float:
    """Share of jieba's words that mintext also produced (same spans), as a sanity check."""
    from mintext.scoring import score_segmentation

    with open(ours, encoding="utf-8") as a, open(theirs, encoding="utf-8") as b:
        return score_segmentation(b, a).recall


def report(chars: int, ours: dict, theirs: dict, same: float) -> None:
    jieba_total = theirs["load"] + theirs["cut"]
    print(f"segmenting {chars:,} characters (the shared novels repeated) with a lexicon discovered from them\n")
    print(table(
        ["tool", "seconds", "rate", "jieba / mintext"],
        [
            ["mintext segment (whole command)", f"{ours['wall']:.2f}", rate(chars, ours["wall"]), f"{theirs['cut'] / ours['wall']:.1f}x"],
            ["jieba cut, HMM=False", f"{theirs['cut']:.2f}", rate(chars, theirs["cut"]), "1x"],
            ["jieba dictionary loading", f"{theirs['load']:.2f}", "", ""],
        ],
    ))
    print(f"(jieba and mintext agree on {same:.1%} of jieba's words)")
    print(f"target: at least 5x jieba (its cutting alone vs mintext's whole command): {verdict(theirs['cut'] / ours['wall'] >= 5)}")
    print(f"      including jieba's dictionary loading: {jieba_total / ours['wall']:.1f}x")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        main(sys.argv[1:])
