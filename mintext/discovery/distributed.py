"""The refinement rounds on a cluster: each sample chunk prepared once on a worker and kept there.

:class:`ClusterChunkPool` is :class:`~mintext.discovery.passes.ChunkPool` for an
:class:`~mintext.cluster.executor.Executor`: the n-gram statistics and the gap
evidence are shared once, each refinement chunk is read from the Han stream
file and prepared by a worker (the same function as here) and stays there, and
a round shares the model's costs once and segments every chunk where it lives.
Only per-row counts of the words used come back (sparse), and they are added
in chunk order, so the counts are those of the local pool.
"""

from __future__ import annotations

import numpy as np

from mintext.cluster.executor import Executor, check_visible
from mintext.discovery.gaps import GapEvidence
from mintext.discovery.lattice import sorted_by_length
from mintext.discovery.ngramstats import NgramStats
from mintext.discovery.passes import (
    Chunk,
    SparseCounts,
    Unlisted,
    _merge_unlisted,
    add_counts,
    prepare_chunk,
    segment_with_sentinels,
    sparse,
    with_sentinels,
)
from mintext.discovery.wordmodel import Spelling
from mintext.io.progress import progress_bar
from mintext.ngrams.hanstream import HanStream, StreamFiles, read_ids


def remote_chunk(
    span: tuple[int, int], files: StreamFiles, lookup_table: np.ndarray, stats: NgramStats, evidence: GapEvidence,
    max_order: int,
) -> Chunk:
    """A worker's refinement chunk: the ids ``start:end`` of the Han stream, prepared as the local pipeline
    prepares its sample chunks (runs sorted by length, table rows up to ``max_order``, gap scores)."""
    ids = read_ids(files, span[0], span[1], lookup_table)
    return prepare_chunk(stats.position_rows(sorted_by_length(ids), max_order), evidence)


def remote_counts(
    chunk: Chunk, model: tuple[dict[int, np.ndarray], Spelling | None, bool], stats: NgramStats,
    evidence: GapEvidence,
) -> tuple[dict[int, SparseCounts], Unlisted]:
    """A worker's share of a round: one kept chunk segmented under the shared ``(costs, spelling, with_evidence)``."""
    row_costs, spelling, with_evidence = model
    counts, unlisted = segment_with_sentinels([chunk], row_costs, stats, evidence if with_evidence else None, spelling)
    return sparse(counts), unlisted


class ClusterChunkPool:
    """The refinement chunks (``chunks`` here, the same ones from ``spans`` on the workers), segmented on ``executor``.

    ``chunks`` stay available to the caller (the initial counts read them);
    :meth:`counts` is :meth:`ChunkPool.counts <mintext.discovery.passes.ChunkPool.counts>`. With
    ``progress``, each round shows a bar of the chunks segmented.
    """

    def __init__(
        self, executor: Executor, chunks: list[Chunk], spans: list[tuple[int, int]], han: HanStream, stats: NgramStats,
        evidence: GapEvidence, max_order: int, progress: bool = False,
    ) -> None:
        if len(spans) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(spans)} spans")
        self.chunks, self.stats, self.executor, self.progress = chunks, stats, executor, progress
        check_visible(executor, han.files.paths[0])
        self._stats, self._evidence = executor.share(stats), executor.share(evidence)
        lookup = executor.share(han.vocabulary.lookup_table)
        self._kept = executor.keep(remote_chunk, spans, han.files, lookup, self._stats, self._evidence, max_order)
        self.rounds = 0

    def counts(
        self, row_costs: dict[int, np.ndarray], spelling: Spelling | None, with_evidence: bool = True
    ) -> tuple[dict[int, np.ndarray], Unlisted]:
        """Word counts per order and table row over every chunk, and the words the table does not hold."""
        model = self.executor.share((with_sentinels(row_costs), spelling, with_evidence))
        total = {n: np.zeros(self.stats.codes[n].size) for n in row_costs}
        unlisted = []
        self.rounds += 1
        with progress_bar(self.progress, total=len(self._kept), desc=f"round {self.rounds}", unit="task") as bar:
            parts = self.executor.imap(remote_counts, self._kept, model, self._stats, self._evidence, done=bar.update)
            for part, missing in parts:
                add_counts(total, part)
                unlisted.append(missing)
        return total, _merge_unlisted(unlisted)

    def close(self) -> None:
        """Let go of the kept chunks."""
        self._kept = []

    def __enter__(self) -> ClusterChunkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
