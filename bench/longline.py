"""Memory on one huge line: peak RSS of `discover --segment`, `discover` and `segment` against many lines.

``python -m bench longline [--chars=16000000] [--memory=2G,256M]``

The corpus is the start of the shared laws corpus (laws_zh.txt.gz, else the
shared novels repeated) with its line breaks removed, ``--chars`` characters:
once as a single line without a newline (a whole corpus in one line), once in
lines of 1,000 characters. Each command runs in its own process (its own peak
RSS, wait4), on both files, with each ``--memory`` of discover; segment uses
the lexicon discovered from the many-lines file.

Target (issue 9, item 4): on one line, peak RSS within 1.25x of the same text
in lines (the README: memory does not grow with line size). The ratio of the
one-line peak to ``--memory`` is shown too: ``--memory`` caps the counting
tables, and the n-gram statistics discovery keeps come on top of it.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from pathlib import Path

from bench.common import book_text, find_shared, mib, table, timed_run, verdict

LAWS = "corpora/laws_zh.txt.gz"
LINE_CHARS = 1000
TARGET_RATIO = 1.25


def corpus_text(shared: Path, chars: int) -> str:
    """``chars`` characters of the laws corpus (else the novels, repeated), line breaks removed."""
    if (shared / LAWS).exists():
        parts, held = [], 0
        with gzip.open(shared / LAWS, "rt", encoding="utf-8") as laws:
            while held < chars and (block := laws.read(1 << 20)):
                block = block.replace("\n", "")
                parts.append(block)
                held += len(block)
        text = "".join(parts)
    else:
        books = book_text(shared).replace("\n", "")
        text = books * (chars // len(books) + 1)
    return text[:chars]


def byte_size(text: str) -> int:
    """``2G``, ``256M``, ... as bytes, read as ``--memory`` reads them."""
    from cli.options import ByteSize

    return ByteSize().convert(text, None, None)


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench longline")
    parser.add_argument("--chars", type=int, default=16_000_000)
    parser.add_argument("--memory", default="2G,256M", help="discover --memory values, comma-separated")
    options = parser.parse_args(args)
    shared = find_shared()
    if shared is None:
        print("shared corpora not found (set MINTEXT_SHARED); skipping the long-line benchmark")
        return
    text = corpus_text(shared, options.chars)
    memories = options.memory.split(",")
    mintext = [sys.executable, "-m", "cli.main"]
    rows: list[tuple[str, str | None, dict, dict]] = []
    with tempfile.TemporaryDirectory(prefix="mintext-bench-") as tmp:
        folder = Path(tmp)
        files = {"one line": folder / "one-line.txt", "lines": folder / "lines.txt"}
        files["one line"].write_text(text, encoding="utf-8")
        files["lines"].write_text(
            "".join(text[k : k + LINE_CHARS] + "\n" for k in range(0, len(text), LINE_CHARS)), encoding="utf-8"
        )
        del text
        lexicon = folder / "lexicon.tsv"

        def both(args: list[str]) -> tuple[dict, dict]:
            """The command on the many-lines file, then on the one-line file (``{}`` is the input)."""
            return tuple(  # type: ignore[return-value]
                timed_run([*mintext, *[str(path) if a == "{}" else a for a in args]])
                for path in (files["lines"], files["one line"])
            )

        for memory in memories:
            runs = both(["discover", "{}", "-q", "--memory", memory, "-o", str(lexicon), "--segment", str(folder / "seg.txt")])
            rows.append((f"discover --segment FILE --memory {memory}", memory, *runs))
        runs = both(["discover", "{}", "-q", "--memory", memories[0], "-o", str(folder / "lexicon2.tsv")])
        rows.append((f"discover FILE --memory {memories[0]} (final pass)", memories[0], *runs))
        timed_run([*mintext, "discover", str(files["lines"]), "-q", "-o", str(lexicon)])
        runs = both(["segment", "-q", "-l", str(lexicon), "{}", "-o", str(folder / "out.txt")])
        rows.append(("segment -l LEXICON FILE", None, *runs))
    report(options.chars, rows)


def report(chars: int, rows: list[tuple[str, str | None, dict, dict]]) -> None:
    print(f"{chars:,} characters of laws_zh without line breaks: in one line, and in {LINE_CHARS:,}-character lines")
    print("(each run in its own process; peak RSS of that process and its workers, jobs = the default)\n")
    body = []
    worst = 0.0
    for name, memory, lines, one in rows:
        ratio = one["rss"] / lines["rss"]
        worst = max(worst, ratio)
        share = "-"
        if memory is not None:
            share = f"{one['rss'] / byte_size(memory):.2f}"
        body.append([
            name, mib(lines["rss"]), mib(one["rss"]), f"{ratio:.2f}x", share, f"{lines['wall']:.1f}", f"{one['wall']:.1f}",
        ])
    print(table(["command", "lines: peak", "one line: peak", "one / lines", "one / --memory", "lines s", "one line s"], body))
    print("(--memory caps discover's n-gram counting tables; the n-gram statistics kept afterwards come on top, the same")
    print(" for both files: they grow with the corpus, not with its lines)")
    print(f"target: one line within {TARGET_RATIO}x of many lines: worst {worst:.2f}x {verdict(worst <= TARGET_RATIO)}")


if __name__ == "__main__":
    main(sys.argv[1:])
