"""``--scheduler``: discover on a Dask cluster gives the bytes of the local run (and the errors are one line).

A local cluster of two worker processes (ports chosen by the OS, one thread
each) serves the module; the oracle of every output is the same call without
an executor, in this process.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from mintext.cluster import dask as cluster_dask  # noqa: E402
from mintext.cluster.dask import DaskExecutor, check_versions, check_workers, parse_scheduler  # noqa: E402
from mintext.cluster.executor import ClusterError, SerialExecutor  # noqa: E402
from mintext.discovery.lexicon import write_lexicon  # noqa: E402
from mintext.discovery.pipeline import discover  # noqa: E402
from mintext.errors import UsageError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOVEL = os.path.join(REPO, "corpora", "xiyouji.txt.gz")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0", scheduler_port=0, host="127.0.0.1",
        silence_logs=40,
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    """A third of the shipped novel (about 200 thousand Han characters) as a plain file."""
    with gzip.open(NOVEL, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    path = tmp_path_factory.mktemp("corpus") / "novel.txt"
    path.write_text("\n".join(lines[: len(lines) // 3]) + "\n", encoding="utf-8")
    return str(path)


def lexicon_bytes(table) -> str:
    out = io.StringIO()
    write_lexicon(table, out, "tsv", "# header")
    return out.getvalue()


# a sample smaller than the corpus: refinement on kept chunks, then the final pass over every span
SMALL_SAMPLE = {"sample": 60_000, "rounds": 3}


def test_discover_on_the_cluster_gives_the_local_lexicon_with_counts_spilled(client, corpus, tmp_path):
    local = lexicon_bytes(discover([corpus], **SMALL_SAMPLE))
    remote = lexicon_bytes(discover([corpus], executor=DaskExecutor(client), memory=16 << 20, **SMALL_SAMPLE))
    assert remote == local
    assert local.count("\n") > 1000


def test_discover_refining_on_the_whole_corpus_gives_the_local_lexicon_and_segmentation(client, corpus):
    """Sample >= corpus: the last round's counts are the lexicon's (no separate final pass); --segment as well."""
    local_seg, remote_seg = io.StringIO(), io.StringIO()
    local = lexicon_bytes(discover([corpus], rounds=2, segmented=local_seg))
    remote = lexicon_bytes(discover([corpus], rounds=2, segmented=remote_seg, executor=DaskExecutor(client)))
    assert remote == local
    assert remote_seg.getvalue() == local_seg.getvalue()
    assert lexicon_bytes(discover([corpus], rounds=2, executor=DaskExecutor(client))) == lexicon_bytes(
        discover([corpus], rounds=2)
    )


def test_the_serial_executor_runs_the_cluster_path_with_the_same_result(corpus):
    assert lexicon_bytes(discover([corpus], executor=SerialExecutor(), **SMALL_SAMPLE)) == lexicon_bytes(
        discover([corpus], **SMALL_SAMPLE)
    )


class KillingExecutor(DaskExecutor):
    """Kills one worker process (SIGKILL) once the ``at``-th result of the run has come back."""

    def __init__(self, client, at: int) -> None:
        super().__init__(client)
        self.at, self.seen, self.killed = at, 0, None

    def imap(self, function, items, *shared, window=None, done=None):
        for result in super().imap(function, items, *shared, window=window, done=done):
            self.seen += 1
            if self.seen == self.at:
                pids = self.client.run(os.getpid)
                worker, pid = sorted(pids.items())[0]
                os.kill(pid, signal.SIGKILL)
                self.killed = worker
            yield result


def test_a_worker_killed_mid_run_changes_nothing(client, corpus):
    local = lexicon_bytes(discover([corpus], **SMALL_SAMPLE))
    executor = KillingExecutor(client, at=8)
    remote = lexicon_bytes(discover([corpus], executor=executor, **SMALL_SAMPLE))
    assert executor.killed is not None and executor.seen > executor.at  # killed in the middle, results after it
    assert remote == local
    client.wait_for_workers(2, timeout=300)  # the nanny restarts it for the next tests (slowly on a loaded machine)


def test_workers_with_another_mintext_are_refused(client, monkeypatch):
    check_workers(client, "local:2")  # the same version: fine
    monkeypatch.setattr(cluster_dask, "expected_version", lambda: "0.0.0-other")
    with pytest.raises(ClusterError, match=r"runs mintext .*, this is mintext 0\.0\.0-other; install mintext 0\.0\.0-other"):
        check_workers(client, "local:2")


def test_check_versions_names_the_odd_worker():
    check_versions({"tcp://a:1": "1.0", "tcp://b:2": "1.0"}, "1.0")
    with pytest.raises(ClusterError, match="tcp://b:2 runs mintext 0.9"):
        check_versions({"tcp://a:1": "1.0", "tcp://b:2": "0.9"}, "1.0")


def test_workers_that_cannot_see_the_files_are_refused(client, tmp_path):
    from mintext.cluster.executor import check_visible

    check_visible(DaskExecutor(client), __file__)
    with pytest.raises(ClusterError, match="the workers cannot see .*set TMPDIR"):
        check_visible(DaskExecutor(client), str(tmp_path / "nowhere" / "han.u32"))


@pytest.mark.parametrize("value", ["local:2", "local:16", "tcp://10.0.0.1:8786", "tls://host.example:8786", "host:8786"])
def test_scheduler_values(value):
    assert parse_scheduler(value) == (int(value[6:]) if value.startswith("local:") else None)


@pytest.mark.parametrize("value", ["local:0", "local:x", "local", "foo", "tcp://", ""])
def test_bad_scheduler_values_are_usage_errors(value):
    with pytest.raises(UsageError, match="--scheduler"):
        parse_scheduler(value)


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr(cluster_dask, "CONNECT_TIMEOUT", 1.0)
    with pytest.raises(ClusterError, match=r"^cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 .*use --scheduler local:N$"):
        with cluster_dask.connect("tcp://127.0.0.1:9"):
            pass


def mintext(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_the_command_with_local_workers_writes_the_local_lexicon_and_exits_cleanly(corpus, tmp_path):
    here, there = tmp_path / "here.tsv", tmp_path / "there.tsv"
    local = mintext("discover", corpus, "-q", "--sample", "60000", "-o", str(here))
    remote = mintext("discover", corpus, "-q", "--sample", "60000", "--scheduler", "local:2", "-o", str(there))
    assert (local.returncode, local.stderr) == (0, "")
    assert (remote.returncode, remote.stderr) == (0, "")
    assert there.read_bytes() == here.read_bytes()


def test_the_command_refuses_a_bad_address_and_an_unreachable_one_in_one_line(corpus):
    bad = mintext("discover", corpus, "--scheduler", "nonsense")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("Error: --scheduler 'nonsense' is neither")
    gone = mintext("discover", corpus, "--scheduler", "tcp://127.0.0.1:9")
    assert gone.returncode == 1
    assert gone.stderr.count("\n") == 1 and gone.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def test_nothing_imports_dask_without_a_scheduler(corpus, tmp_path):
    code = (
        "import sys\nfrom cli.main import cli\n"
        f"try:\n    cli.main(['discover', {corpus!r}, '-q', '-o', {str(tmp_path / 'l.tsv')!r}], prog_name='mintext')\n"
        "except SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = set(done.stderr.split())
    assert "mintext.discovery.pipeline" in loaded
    assert not {"dask", "distributed", "mintext.cluster.dask"} & loaded


def ignoring_sigint(run) -> int:
    """Processes of the run's group that ignore SIGINT (the resource tracker, and each Dask worker once joined)."""
    count = 0
    for pid in run.members():
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        if int(status.partition("SigIgn:")[2].split()[0], 16) & (1 << (signal.SIGINT - 1)):
            count += 1
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads process groups from /proc")
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_group_stops_a_local_cluster_run_cleanly(corpus, tmp_path, signum, status):
    """Ctrl-C (or SIGTERM) to the whole group while two local workers run: the shell's status, nothing on
    stderr, no process left in the group, nothing left in TMPDIR (the Dask scratch space included)."""
    from tests.test_cli_signals import Run

    run = Run(tmp_path, ["discover", corpus, "--scheduler", "local:2", "-q", "--sample", "60000", "-o", tmp_path / "out" / "l.tsv"])
    deadline = time.monotonic() + 120
    while ignoring_sigint(run) < 3 and run.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.process.poll() is None, "the run ended before its workers joined"
    run.signal(signum)
    assert run.finish(timeout=60) == (status, b"", "")
    assert run.leftovers() == []


# --------------------------------------------------------------------------- apriori: Count Distribution

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mintext.association.baskets import Baskets, read_baskets  # noqa: E402
from mintext.association.cluster_baskets import partitions, read_baskets_on  # noqa: E402
from mintext.association.distributed import next_candidates  # noqa: E402
from mintext.association.pipeline import apriori  # noqa: E402
from tests.conftest import SHARED, needs_shared  # noqa: E402

SHARED_ROWS = [("chess.dat", 0.8), ("mushroom.dat", 0.2), ("retail.dat", 0.001), ("T10I4D100K.dat", 0.002),
               ("groceries.csv", 0.002)]


@needs_shared
@pytest.mark.parametrize(("name", "support"), SHARED_ROWS)
def test_apriori_on_the_cluster_gives_the_local_itemsets_and_rules(client, name, support):
    baskets = read_baskets(str(SHARED / "baskets" / name))
    executor = DaskExecutor(client)
    local = apriori(baskets, min_support=support, itemsets=True)
    remote = apriori(baskets, min_support=support, itemsets=True, executor=executor)
    assert len(local) > 1000
    assert remote.equals(local)
    if name != "mushroom.dat":  # its rules take minutes to make (here, the same way for both)
        rules = apriori(baskets, min_support=support, min_confidence=0.8, executor=executor)
        assert len(rules) and rules.equals(apriori(baskets, min_support=support, min_confidence=0.8))


@needs_shared
def test_closed_maximal_and_max_len_on_the_cluster(client):
    baskets = read_baskets(str(SHARED / "baskets" / "mushroom.dat"))
    executor = DaskExecutor(client)
    for options in ({"closed": True}, {"maximal": True}, {"max_len": 3}, {"max_len": 1}):
        local = apriori(baskets, min_support=0.2, itemsets=True, **options)
        assert apriori(baskets, min_support=0.2, itemsets=True, executor=executor, **options).equals(local), options


baskets_strategy = st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=8), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(rows=baskets_strategy, min_count=st.integers(1, 4), max_len=st.sampled_from([None, 1, 2, 3]))
def test_count_distribution_matches_the_local_miner_on_random_baskets(rows, min_count, max_len):
    baskets = Baskets.from_iterable(rows)
    min_count = min(min_count, len(rows))
    local = apriori(baskets, min_count=min_count, max_len=max_len, itemsets=True)
    serial = apriori(baskets, min_count=min_count, max_len=max_len, itemsets=True, executor=SerialExecutor())
    assert serial.equals(local)
    rules = apriori(baskets, min_count=min_count, max_len=max_len, min_confidence=0.3, executor=SerialExecutor())
    assert rules.equals(apriori(baskets, min_count=min_count, max_len=max_len, min_confidence=0.3))


def test_random_baskets_on_the_cluster(client):
    import random

    rng = random.Random(5)
    rows = [rng.sample("abcdefghijklmnopqrst", rng.randint(0, 9)) for _ in range(3000)]
    baskets = Baskets.from_iterable(rows)
    assert apriori(baskets, min_count=40, itemsets=True, executor=DaskExecutor(client)).equals(
        apriori(baskets, min_count=40, itemsets=True)
    )


@needs_shared
@pytest.mark.parametrize(("name", "support"), [("retail.dat", 0.001), ("groceries.csv", 0.002)])
def test_baskets_read_on_the_workers_give_the_local_itemsets_and_rules(client, name, support):
    """The workers read the file in byte ranges and keep the baskets; the client never reads them."""
    path = str(SHARED / "baskets" / name)
    executor = DaskExecutor(client)
    baskets = read_baskets_on(executor, [path], range_bytes=64 << 10)
    local = read_baskets(path)
    assert len(baskets.partitions) > 4 and baskets.n_baskets == local.n_baskets
    itemsets = apriori(baskets, min_support=support, itemsets=True, executor=executor)
    assert len(itemsets) > 100 and itemsets.equals(apriori(local, min_support=support, itemsets=True))
    rules = apriori(path, min_support=support, min_confidence=0.5, executor=executor)  # a path: read there too
    assert len(rules) and rules.equals(apriori(local, min_support=support, min_confidence=0.5))


def test_a_worker_killed_while_it_keeps_baskets_changes_nothing(client, tmp_path):
    """Its partitions are lost with it; Dask reads their byte ranges again elsewhere."""
    import random

    rng = random.Random(11)
    path = tmp_path / "b.csv"
    path.write_text("".join(",".join(rng.sample("abcdefghijklmnopqrst", rng.randint(0, 9))) + "\n" for _ in range(3000)))
    executor = KillingExecutor(client, at=3)
    baskets = read_baskets_on(executor, [str(path)], range_bytes=2048)
    remote = apriori(baskets, min_count=40, itemsets=True, executor=executor)
    assert executor.killed is not None and executor.seen > executor.at
    assert remote.equals(apriori(str(path), min_count=40, itemsets=True))
    client.wait_for_workers(2, timeout=300)


def test_partitions_cover_every_basket_once():
    baskets = Baskets.from_iterable([["a"], [], ["a", "b"], ["c"], ["b", "c", "d"]] * 7)
    for parts in (1, 2, 3, 10, 100):
        pieces = partitions(baskets, parts)
        assert sum(len(p[0]) - 1 for p in pieces) == baskets.n_baskets
        assert np.concatenate([p[1] for p in pieces]).tolist() == baskets.indices.tolist()


def test_next_candidates_are_the_joins_with_every_subset_frequent():
    """Hand-worked: from {1,2,3}, {1,2,4}, {1,3,4}, {2,3,4}, {1,2,5}: {1,2,3,4} (all subsets there), not {1,2,3,5}
    ({1,3,5} missing) nor {1,2,4,5}."""
    level = np.array([[1, 2, 3], [1, 2, 4], [1, 3, 4], [2, 3, 4], [1, 2, 5]], dtype=np.int32)
    assert next_candidates(level).tolist() == [[1, 2, 3, 4]]
    assert next_candidates(np.array([[0], [2], [5]], dtype=np.int32)).tolist() == [[0, 2], [0, 5], [2, 5]]


def test_apriori_command_on_local_workers_writes_the_local_rules(tmp_path):
    rows = tmp_path / "b.csv"
    rows.write_text("\n".join(",".join(r) for r in [["milk", "bread"], ["milk", "eggs"], ["milk", "bread", "eggs"]] * 20) + "\n")
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    assert mintext("apriori", str(rows), "--min-count", "2", "-q", "-o", str(here)).returncode == 0
    remote = mintext("apriori", str(rows), "--min-count", "2", "-q", "--scheduler", "local:2", "-o", str(there))
    assert (remote.returncode, remote.stderr) == (0, "")
    assert there.read_bytes() == here.read_bytes()
    refused = mintext("apriori", str(rows), "--itemsets", "--stream", "--scheduler", "local:2")
    assert refused.returncode == 2 and "--stream" in refused.stderr and refused.stderr.count("\n") == 1


def test_the_apriori_bars_count_tasks_finished_on_the_workers(tmp_path):
    rows = tmp_path / "b.csv"
    rows.write_text("milk,bread\nmilk,eggs\nmilk,bread,eggs\n" * 20)
    status, stderr = in_terminal("apriori", str(rows), "--min-count", "2", "--scheduler", "local:2",
                                 "-o", str(tmp_path / "rules.csv"))
    assert status == 0 and re.search(r"reading: \d+ tasks", stderr) and re.search(r"counting: \d+ tasks", stderr)


def test_worker_groups_of_spans_spill_within_memory_and_count_what_the_local_count_counts(corpus, monkeypatch):
    """The counting map on an executor: groups of spans merged where they are counted, spilling beyond a quarter
    of the memory (4 MiB here: spans of 10,922 characters, tables spilled beyond 1 MiB), the same table as locally."""
    from mintext.io.sources import Corpus
    from mintext.ngrams import spill
    from mintext.ngrams.counting import count_ngrams
    from mintext.ngrams.hanstream import HanStream, count_on

    written = []
    original = spill.SpillDir.write
    monkeypatch.setattr(spill.SpillDir, "write", lambda self, tables: (written.append(1), original(self, tables))[1])
    with HanStream(Corpus([corpus])) as han:
        local = count_ngrams(han.chunks(), 4, bits=han.vocabulary.bits, min_count=[1, 1, 2, 2])
        assert written == []
        remote = count_on(SerialExecutor(), han, 4, memory=4 << 20, min_count=[1, 1, 2, 2])
    assert len(written) >= 2
    assert remote == local


def test_discover_with_the_corpus_in_many_byte_ranges_gives_the_local_lexicon_and_segmentation(client, corpus, tmp_path):
    """The workers read plain files in byte ranges (64 KiB here: about ten of the corpus) and a gzip file whole."""
    packed = tmp_path / "tail.txt.gz"
    with open(corpus, "rb") as f:
        data = f.read()
    packed.write_bytes(gzip.compress(data[data.index(b"\n", len(data) - 200_000) + 1 :]))
    inputs = [corpus, str(packed)]
    local_seg, remote_seg = io.StringIO(), io.StringIO()
    local = lexicon_bytes(discover(inputs, segmented=local_seg, **SMALL_SAMPLE))
    remote = lexicon_bytes(
        discover(inputs, segmented=remote_seg, executor=DaskExecutor(client), range_bytes=1 << 16, **SMALL_SAMPLE)
    )
    assert remote == local
    assert remote_seg.getvalue() == local_seg.getvalue()


# --------------------------------------------------------------------------- parse: blocks of sentences to workers

from mintext.parse.pipeline import constituency_trees, dependency_trees, segment  # noqa: E402

PARSE_TEXTS = [
    "计算机的鼠标有什么比较特殊的用途呢",
    "我爱北京天安门",
    "好",
    "",
    "自从2004年提出了兴建人文大楼的构想，企业界陆续有人提供捐款。",
    "他说：“iPhone15很贵。”",
    "大肠杆菌是人和许多动物肠道中最主要且数量最多的一种细菌",
] * 6  # batch size 2: a block holds about 32 masked copies, so this is some 25 blocks for segmentation
PARSE_OPTIONS = {"batch_size": 2, "window": None, "distance": "euclidean"}


pytest_plugins = ["bert_fixtures"]  # tiny_bert, bert_encoder (session-scoped; skipped without TensorFlow)


@pytest.fixture
def parse_model(tiny_bert, bert_encoder):
    """tests/bert_fixtures.py's tiny random BERT: its folder, and it loaded here."""
    return str(tiny_bert), bert_encoder


def segmentation_bytes(results) -> list[tuple]:
    return [(s.words, s.impacts.adjacent.tobytes(), s.threshold) for s in results]


def parsed_bytes(results) -> list[tuple]:
    return [(p.words, p.impacts.matrix.tobytes(), p.tree, None if p.heads is None else p.heads.tolist()) for p in results]


def test_parse_on_the_cluster_gives_the_local_bits_for_seg_tree_and_dep(client, parse_model):
    """Segmentation with the automatic threshold fitted on the first 20 texts (the rest stream), then trees
    and dependencies of its words: the impacts bit for bit, the words, trees and heads the same."""
    _, encoder = parse_model
    executor = DaskExecutor(client)
    generated = set(glob.glob(os.path.join(tempfile.gettempdir(), "__autograph_generated_file*")))
    local = list(segment(encoder, PARSE_TEXTS, threshold="auto", threshold_sample=20, **PARSE_OPTIONS))
    remote = list(segment(encoder, PARSE_TEXTS, threshold="auto", threshold_sample=20, executor=executor, **PARSE_OPTIONS))
    assert segmentation_bytes(remote) == segmentation_bytes(local)
    assert encoder.forward_passes > 0
    words = [s.words for s in local[:14]]  # all pairs: about 8 blocks of trees
    passes = encoder.forward_passes
    for task, options in ((constituency_trees, {}), (dependency_trees, {"decoder": "eisner"})):
        remote = parsed_bytes(task(encoder, words, executor=executor, **options, **PARSE_OPTIONS))
        assert encoder.forward_passes == passes  # nothing ran here: the workers' copies of the model did
        assert remote == parsed_bytes(task(encoder, words, **options, **PARSE_OPTIONS))
        passes = encoder.forward_passes
    # no generated source of the model's functions in the temporary folder: TensorFlow deletes it only when
    # an interpreter exits normally, and the nanny stops workers without that
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "__autograph_generated_file*"))) <= generated


def test_a_parse_worker_killed_mid_run_changes_nothing(client, parse_model):
    _, encoder = parse_model
    local = list(segment(encoder, PARSE_TEXTS, threshold=5.0, **PARSE_OPTIONS))
    executor = KillingExecutor(client, at=6)
    remote = list(segment(encoder, PARSE_TEXTS, threshold=5.0, executor=executor, **PARSE_OPTIONS))
    assert executor.killed is not None and executor.seen > executor.at
    assert segmentation_bytes(remote) == segmentation_bytes(local)
    client.wait_for_workers(2, timeout=300)


class TaskCounter:
    """Wraps an executor: counts the blocks it is given to run (imap items) and the ``done()`` calls."""

    def __init__(self, executor) -> None:
        self.executor, self.tasks, self.done = executor, 0, []

    def share(self, value):
        return self.executor.share(value)

    def imap(self, function, items, *shared, window=None, done=None):
        def counted():
            for item in items:
                self.tasks += 1
                yield item

        return self.executor.imap(function, counted(), *shared, done=done)


@pytest.mark.parametrize("where", ["serial", "cluster"])
def test_parse_calls_done_once_per_finished_block(client, parse_model, where):
    """What the command's bar counts on a cluster: each block's done() once, whatever order they finish in."""
    _, encoder = parse_model
    counter = TaskCounter(SerialExecutor() if where == "serial" else DaskExecutor(client))
    texts = PARSE_TEXTS[:14]
    results = list(segment(encoder, texts, threshold=5.0, executor=counter, done=lambda: counter.done.append(1),
                           **PARSE_OPTIONS))
    assert len(results) == len(texts)
    deadline = time.monotonic() + 30  # Dask calls done() on its own thread, perhaps just after the last result
    while len(counter.done) < counter.tasks and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counter.tasks > 3 and len(counter.done) == counter.tasks


def test_a_model_folder_the_workers_cannot_see_is_refused(client, parse_model, tmp_path):
    from mintext.parse.model import check_model_visible

    check_model_visible(DaskExecutor(client), parse_model[0])
    with pytest.raises(ClusterError, match=r"^the workers cannot see the model folder .*nowhere \(--bert\); put it on"):
        check_model_visible(DaskExecutor(client), tmp_path / "nowhere")


def test_the_parse_command_with_local_workers_writes_the_local_bytes(parse_model, tmp_path):
    """--task dep on plain text: the words found by segmentation (auto threshold), then parsed; one run each way."""
    source = tmp_path / "in.txt"
    source.write_text("\n".join(PARSE_TEXTS[:14]) + "\n", encoding="utf-8")
    common = ["parse", "--bert", parse_model[0], "--task", "dep", "--batch-size", "2", "--threshold-sample", "5", "-q"]
    here, there = tmp_path / "here.conllu", tmp_path / "there.conllu"
    local = mintext(*common, str(source), "-o", str(here))
    remote = mintext(*common, str(source), "--scheduler", "local:2", "-o", str(there))
    assert local.returncode == 0 and local.stderr.startswith("mintext: warning: 2 empty sentences left out")
    assert (remote.returncode, remote.stderr) == (0, local.stderr)
    assert there.read_bytes() == here.read_bytes() and here.stat().st_size > 500


def in_terminal(*args: str, timeout: float = 240) -> tuple[int, str]:
    """Run the command with stderr on a pseudo-terminal (so its progress bar is shown); exit status, stderr."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))  # tqdm draws nothing 0 wide
    try:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=follower)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return process.wait(timeout=timeout), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(leader)


def test_the_parse_bar_counts_finished_blocks_on_a_cluster_and_sentences_here(parse_model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(PARSE_TEXTS[:14]) + "\n", encoding="utf-8")
    common = ["parse", "--bert", parse_model[0], str(source), "--batch-size", "2", "--threshold", "5"]
    status, here = in_terminal(*common, "-o", str(tmp_path / "here.txt"))
    assert status == 0 and re.search(r"parse: \d+ sentences", here) and "blocks" not in here
    status, there = in_terminal(*common, "--scheduler", "local:2", "-o", str(tmp_path / "there.txt"))
    assert status == 0 and re.search(r"parse: \d+ blocks", there) and "sentences [" not in there
    assert (tmp_path / "there.txt").read_bytes() == (tmp_path / "here.txt").read_bytes()


def test_the_parse_command_refuses_an_unreachable_scheduler_in_one_line(parse_model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("我爱北京\n", encoding="utf-8")
    gone = mintext("parse", "--bert", parse_model[0], str(source), "--scheduler", "tcp://127.0.0.1:9")
    assert gone.returncode == 1
    assert gone.stderr.count("\n") == 1 and gone.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
