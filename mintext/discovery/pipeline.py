"""Minimal-entropy word discovery: from raw text to a lexicon, with no dictionary and no labels.

The pipeline (see README "How discovery works"):

1. Read the corpus once; keep its Han runs on disk (:mod:`mintext.ngrams.hanstream`).
2. Count all n-grams of orders 1..K+1 (:mod:`mintext.ngrams.counting`), K = the
   maximum word length; derive branching entropies and solidity.
3. Score every gap between two characters for boundary evidence
   (:mod:`mintext.discovery.gaps`).
4. Initial lexicon: the threshold pipeline (solidity per order, rough cut,
   candidate counting, backtracking; :mod:`mintext.discovery.threshold`) and the
   segmentation cut at boundary-like gaps, their word counts averaged.
5. Minimal-entropy refinement (:mod:`mintext.discovery.refinement` with the word model
   of :mod:`mintext.discovery.wordmodel`): segment the corpus with the current model,
   re-estimate the counts, drop free-form compounds; repeat while the code
   length of the corpus keeps falling.
6. Final pass over the whole corpus with the final model (:mod:`mintext.discovery.passes`):
   word frequencies, and the segmented corpus if asked for.

The result is a :class:`~mintext.discovery.lexicon.Lexicon` (:func:`discover_lexicon`,
NumPy columns: the command writes it without importing pandas) or a
:class:`pandas.DataFrame` (:func:`discover`).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import IO, TYPE_CHECKING

import numpy as np

from mintext.cluster.executor import Executor
from mintext.discovery.distributed import ClusterChunkPool
from mintext.discovery.gaps import GapEvidence, GapScorer, GapSites, GapTable
from mintext.discovery.lattice import sorted_by_length
from mintext.discovery.lexicon import COLUMNS, Lexicon, segmenter_for
from mintext.discovery.ngramstats import NgramStats
from mintext.discovery.options import DEFAULT_MAX_WORD_LENGTH, DiscoveryOptions, derived_min_count
from mintext.discovery.passes import ChunkPool, FinalPass, Unlisted, prepare_chunk
from mintext.discovery.refinement import initial_counts, refine
from mintext.discovery.segmenter import Segmenter
from mintext.discovery.wordmodel import WordModel
from mintext.io.pieces import DEFAULT_RANGE_BYTES
from mintext.io.progress import progress_bar
from mintext.io.sources import Corpus
from mintext.ngrams.counting import DEFAULT_MEMORY, count_ngrams, id_batches
from mintext.ngrams.hanstream import ClusterHanStream, HanStream, count_on
from mintext.ngrams.vocabulary import pack_rows, unpack_codes

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("mintext")

# --------------------------------------------------------------------------- the run


@dataclass
class Discovery:
    """Everything a discovery run produced: the model, statistics and diagnostics."""

    stats: NgramStats
    model: WordModel
    evidence: GapEvidence
    options: DiscoveryOptions
    code_lengths: list[float]
    min_count: int
    characters: int
    sample_characters: int
    final: dict[int, np.ndarray] | None = None
    unlisted: Unlisted = field(default_factory=dict)

    @property
    def bits_per_char(self) -> float:
        """Code length of the refinement sample under the kept model's word costs, in bits per character
        (the criterion refinement minimises; nan before any round)."""
        if not self.code_lengths:
            return float("nan")
        return min(self.code_lengths) / max(self.sample_characters, 1) / float(np.log(2))

    def word_table(self, max_len: int | None = None) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per length: ``(ids, counts, banned)`` of the model's words (counts > 0 or banned)."""
        out = {}
        for n in range(1, (max_len or self.model.max_len) + 1):
            keep = (self.model.counts[n] > 0) | self.model.banned[n]
            ids = unpack_codes(self.stats.codes[n][keep], n, self.stats.bits)
            out[n] = (ids, self.model.counts[n][keep], self.model.banned[n][keep])
        return out


def run_discovery(
    corpus: Corpus,
    options: DiscoveryOptions = DiscoveryOptions(),
    *,
    memory: int = DEFAULT_MEMORY,
    jobs: int = 1,
    tmpdir: str | os.PathLike | None = None,
    progress: bool = False,
    count_all: bool = True,
    executor: Executor | None = None,
    range_bytes: int = DEFAULT_RANGE_BYTES,
) -> Discovery | None:
    """Discovery over ``corpus`` (``None`` if it has no Han characters).

    Steps 1-5 always; with ``count_all``, also step 6's word counts over the
    whole corpus (``Discovery.final``) from the Han runs kept on disk. See
    :func:`discover` for the friendly entry point. With ``executor`` (a
    cluster), the workers read the corpus in pieces (plain files in byte ranges
    of about ``range_bytes``) and write its Han runs under ``tmpdir`` (which
    they must all see), and the n-gram counting (map and merges), the
    refinement rounds and the final pass run there; the result is the same.
    """
    options.check()
    if executor is None:
        stream = HanStream(corpus, tmpdir=tmpdir, progress=progress)
    else:
        stream = ClusterHanStream(corpus, executor, tmpdir=tmpdir, progress=progress, range_bytes=range_bytes)
    with stream as han:
        if han.characters == 0:
            return None
        return _discover_in(han, options, memory, jobs, tmpdir, progress, count_all, executor)


def _discover_in(
    han: HanStream, options: DiscoveryOptions, memory: int, jobs: int, tmpdir: str | os.PathLike | None,
    progress: bool, count_all: bool, executor: Executor | None = None,
) -> Discovery:
    characters = han.characters
    vocabulary = han.vocabulary
    # a word's code holds max_len ids of `bits` bits in 64 bits; one order more gives the branching
    # entropies of the longest words, when it fits (otherwise theirs are left empty)
    fits = max(1, 64 // vocabulary.bits)
    max_len = min(options.max_word_length, fits)
    max_order = min(max_len + 1, fits)
    if max_len < options.max_word_length:
        log.warning(
            "warning: words are at most %d characters long here (%d distinct characters take %d bits each)",
            max_len, vocabulary.size, vocabulary.bits,
        )
    # counted in this process: shipping id batches and tables to workers costs more than it saves;
    # n-grams of three or more characters seen once are dropped: they change no branching entropy
    # (n log n = 0), pass no threshold, and as words cost their spelling (see SPELLED)
    min_counts = [1, 1, *[2] * max_order][:max_order]
    if executor is None:
        table = count_ngrams(
            han.chunks(), max_order, bits=vocabulary.bits, memory=memory, min_count=min_counts, progress=progress,
            tmpdir=tmpdir,
        )
    else:
        table = count_on(executor, han, max_order, memory=memory, min_count=min_counts, progress=progress)
    stats = NgramStats(table, vocabulary)
    min_count = options.min_count or derived_min_count(characters)
    # refinement only counts words, so each chunk's runs can be sorted by length (see sorted_by_length)
    rows = [stats.position_rows(sorted_by_length(ids), max_order) for ids in sample_chunks(han, options.sample, jobs, executor)]
    sample_characters = int(sum(np.count_nonzero(r.ids) for r in rows))
    scorer = GapScorer.fit(stats, [GapSites.of(r.rows[1], r.rows[2]) for r in rows])
    evidence = GapEvidence(stats.row_finder(2), scorer, options.gap_weight)
    chunks = [prepare_chunk(r, evidence) for r in rows]
    del rows
    if executor is None:
        pool = ChunkPool(chunks, stats, max_len, evidence, jobs)
    else:
        spans = han.sample_spans(options.sample)
        pool = ClusterChunkPool(executor, chunks, spans, han, stats, evidence, max_order, progress)
    with pool:
        counts, initial_share = initial_counts(pool, stats, max_len, min_count)
        model = WordModel(stats, counts, max_len, options.model)
        lengths = refine(model, pool, options, initial_share, progress)
        final, unlisted = pool.counts(model.costs, model.spelling()) if count_all and sample_characters == characters else (None, {})
    if count_all and final is None:
        del chunks
        final, unlisted = FinalPass(model, evidence, han).run(stats, han.spans(), jobs, progress, executor)
    return Discovery(stats, model, evidence, options, lengths, min_count, characters, sample_characters, final, unlisted)


def sample_chunks(han: HanStream, sample: int, jobs: int, executor: Executor | None) -> list[np.ndarray]:
    """The id chunks of the refinement sample (:meth:`HanStream.chunks` with ``limit=sample``).

    Here they are joined into ``jobs`` chunks (one per worker of the :class:`ChunkPool`): the passes
    only count words, which no run's place changes, and a few large chunks cost far fewer NumPy calls
    per round than many small ones. On a cluster each chunk stays as it is, one per span, as the workers
    read them.
    """
    chunks = list(han.chunks(limit=sample))
    if executor is not None:
        return chunks
    positions = sum(c.size for c in chunks)
    return list(id_batches(chunks, -(-positions // max(1, min(jobs, len(chunks))))))


def describe_options(options: DiscoveryOptions) -> dict[str, object]:
    """The options as a flat dict (for the lexicon header)."""
    flat = asdict(options)
    flat.update({f"model.{k}": v for k, v in flat.pop("model").items()})
    return flat




# --------------------------------------------------------------------------- final pass and lexicon

WordCounts = dict[int, tuple[np.ndarray, np.ndarray]]  # per length: (ids matrix, counts)
ModelWords = dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]  # per length: (ids matrix, counts, banned)


def segmenter_of(result: Discovery) -> Segmenter:
    """The segmenter of a discovery run: the final word model (same costs) plus the corpus's gap evidence."""
    table = result.word_table()
    return Segmenter(
        result.stats.vocabulary,
        {n: v[0] for n, v in table.items()},
        {n: v[1] for n, v in table.items()},
        banned={n: v[2] for n, v in table.items()},
        params=result.options.model,
        evidence=result.evidence,
        base=result.model.base,
    )


def text_counts(corpus: Corpus, segmenter: Segmenter, segmented: IO[str], progress: bool = False) -> WordCounts:
    """Segment the corpus text, writing it to ``segmented``; per length, the words used and their counts."""
    found: dict[int, list[np.ndarray]] = {}
    with progress_bar(progress, desc="segmenting", unit="char", unit_scale=True) as bar:
        for batch in segmenter.segment_text(corpus.line_pieces()):
            segmented.write(batch.text)
            bar.update(len(batch.text))
            for length, ids in batch.words.items():
                if len(ids):
                    codes = pack_rows(ids, segmenter.bits)
                    found.setdefault(length, []).append(codes)
    result = {}
    for length, parts in found.items():
        codes, counts = np.unique(np.concatenate(parts), return_counts=True)
        result[length] = (unpack_codes(codes, length, segmenter.bits), counts)
    return result


def row_counts(result: Discovery) -> WordCounts:
    """The words of ``result.final`` (counts per table row) as id matrices and counts."""
    out = {}
    for length, counts in (result.final or {}).items():
        used = np.flatnonzero(counts > 0)
        ids = unpack_codes(result.stats.codes[length][used], length, result.stats.bits)
        freq = counts[used]
        codes, extra = result.unlisted.get(length, (np.zeros(0, np.uint64), np.zeros(0)))
        if codes.size:
            ids = np.concatenate([ids, unpack_codes(codes, length, result.stats.bits)])
            freq = np.concatenate([freq, extra])
        out[length] = (ids, freq)
    return out


def lexicon_table(stats: NgramStats, words: WordCounts, model: ModelWords | None = None) -> Lexicon:
    """The lexicon (see :mod:`mintext.discovery.lexicon`), sorted, of words given as id matrices with counts.

    ``model`` (per length: ids, counts, banned of the word model, as :meth:`Discovery.word_table`)
    fills ``count`` and ``banned`` and adds its words missing from ``words`` with ``freq`` 0.
    """
    parts = []
    for length in sorted(set(words) | set(model or {})):
        ids, freq, count, banned = _merged(stats.bits, length, words.get(length), (model or {}).get(length))
        if len(ids) == 0:
            continue
        text = stats.vocabulary.codepoints[ids.astype(np.int64) - 1].astype(np.uint32).tobytes().decode("utf-32-le")
        codes = pack_rows(ids, stats.bits)
        left, right = stats.entropies_of(codes, length)
        word = np.empty(len(ids), dtype=object)
        word[:] = [text[k : k + length] for k in range(0, len(text), length)]
        parts.append(
            {
                "word": word,
                "freq": freq,
                "length": np.full(len(ids), length, dtype=np.int64),
                "pmi": np.asarray(stats.solidity(codes, length), dtype=np.float64),
                "left_entropy": np.asarray(left, dtype=np.float64),
                "right_entropy": np.asarray(right, dtype=np.float64),
                "count": count,
                "banned": banned,
            }
        )
    if not parts:
        return empty_lexicon()
    return Lexicon({name: np.concatenate([part[name] for part in parts]) for name in COLUMNS}).sorted()


def _merged(
    bits: int, length: int, found: tuple[np.ndarray, np.ndarray] | None, model: tuple[np.ndarray, np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The union of the words found (ids, freq) and the model's (ids, counts, banned): ids, freq, count, banned (int)."""
    empty = np.zeros((0, length), np.uint32)
    found_ids, freq = found if found is not None else (empty, np.zeros(0))
    model_ids, counts, banned = model if model is not None else (empty, np.zeros(0), np.zeros(0, bool))
    found_codes, model_codes = pack_rows(found_ids, bits), pack_rows(model_ids, bits)
    codes = np.union1d(found_codes, model_codes)
    ids = unpack_codes(codes, length, bits)
    out_freq, out_count, out_banned = np.zeros(codes.size, np.int64), np.zeros(codes.size), np.zeros(codes.size, np.int64)
    out_freq[np.searchsorted(codes, found_codes)] = np.asarray(freq, dtype=np.int64)
    at = np.searchsorted(codes, model_codes)
    out_count[at], out_banned[at] = counts, banned
    return ids, out_freq, out_count, out_banned


def empty_lexicon() -> Lexicon:
    """A lexicon with no rows (and the right columns and types)."""
    types = {"word": object, "freq": np.int64, "length": np.int64, "banned": np.int64}
    return Lexicon({name: np.zeros(0, dtype=types.get(name, np.float64)) for name in COLUMNS})


def discover_lexicon(
    paths: Sequence[str] | str,
    *,
    max_word_length: int = DEFAULT_MAX_WORD_LENGTH,
    min_count: int | None = None,
    rounds: int = 6,
    encoding: str = "utf-8",
    errors: str = "strict",
    nfkc: bool = False,
    memory: int = DEFAULT_MEMORY,
    jobs: int = 1,
    segmented: IO[str] | None = None,
    gaps: IO[str] | None = None,
    progress: bool = False,
    tmpdir: str | os.PathLike | None = None,
    executor: Executor | None = None,
    range_bytes: int = DEFAULT_RANGE_BYTES,
    **expert: object,
) -> Lexicon:
    """Discover the words of a corpus; return its lexicon (NumPy columns, see :func:`discover` for the arguments)."""
    options = DiscoveryOptions(max_word_length=max_word_length, min_count=min_count, rounds=rounds, **expert)
    options.check()
    corpus = Corpus(paths, encoding, errors, normalize=nfkc)
    try:
        result = run_discovery(
            corpus, options, memory=memory, jobs=jobs, tmpdir=tmpdir, progress=progress, count_all=segmented is None,
            executor=executor, range_bytes=range_bytes,
        )
        if result is None:
            if segmented is not None:
                text_counts(corpus, segmenter_for(empty_lexicon()), segmented, progress)
            lexicon = empty_lexicon()
            if gaps is not None:
                GapTable.empty(options.gap_weight).write(gaps, "# mintext gap table")
            # nothing to threshold or refine: record the threshold such a corpus gets, and no rounds
            facts: dict[str, object] = {"characters": 0, "min_count": min_count or derived_min_count(0), "rounds": 0}
        else:
            words = row_counts(result) if segmented is None else text_counts(corpus, segmenter_of(result), segmented, progress)
            lexicon = lexicon_table(result.stats, words, result.word_table())
            if gaps is not None:
                GapTable.of(result.evidence, result.stats).write(gaps, "# mintext gap table")
            facts = {"characters": result.characters, "min_count": result.min_count, "rounds": len(result.code_lengths)}
            if result.code_lengths:
                facts["bits_per_char"] = round(result.bits_per_char, 4)
    finally:
        corpus.close()
    if corpus.stats.replaced:
        log.warning("warning: %s", corpus.stats.summary(errors))
    options_made = {**describe_options(options), **facts, "encoding": encoding, "errors": errors, "nfkc": nfkc}
    return replace(lexicon, options=options_made)


def discover(paths: Sequence[str] | str, **options: object) -> pd.DataFrame:
    """Discover the words of a corpus; return its lexicon as a DataFrame.

    ``paths``: files, directories, globs or ``-`` (read as by
    :class:`~mintext.io.sources.Corpus`). ``max_word_length``: longest word (1..6).
    ``min_count``: count threshold of the threshold stage (default: derived
    from the corpus size). ``segmented``: a text stream that receives the
    corpus segmented with the lexicon (one line per input line; the lexicon's
    ``freq`` are then the counts in exactly that text). ``memory``: bytes for
    n-gram counting before spilling to disk. ``jobs``: processes for the
    refinement rounds and the final segmentation pass of corpora over 4 million
    characters (results do not depend on it). ``executor``: a cluster
    (:func:`mintext.cluster.dask.connect`) for the counting, refinement and
    final pass; ``tmpdir`` must then be a folder every worker sees (the
    result is the same); the workers read plain files in byte ranges of
    about ``range_bytes``. Expert options (``gap_weight``,
    ``autonomy``, ``free_share``, ``sample``) are those of :class:`DiscoveryOptions`.

    The DataFrame has the columns of :mod:`mintext.discovery.lexicon`, sorted by
    frequency; ``df.attrs["options"]`` records the options and corpus size.
    A corpus without Han characters gives an empty table.
    """
    return discover_lexicon(paths, **options).to_frame()


# the arguments of discover are those of discover_lexicon (help() and IDEs show them)
discover.__signature__ = inspect.signature(discover_lexicon).replace(return_annotation="pd.DataFrame")
