"""Perturbed masking: batched results equal per-sentence references; windows; order; streaming."""

from __future__ import annotations

import numpy as np
import pytest

from mintext.errors import UsageError
from mintext.parse.impact import adjacent_impacts, assign_pairs, impact_matrices, impact_matrix, plan_windows
from mintext.parse.tfenv import import_tensorflow
from mintext.parse.tokens import atom_spans

pytestmark = [pytest.mark.bert, pytest.mark.usefixtures("bert_runtime")]
pytest_plugins = ["bert_fixtures"]  # tiny_bert, tiny_albert, bert_encoder... (session-scoped)

SENTENCES = [
    "计算机的鼠标有什么比较特殊的用途呢",
    "我爱北京",
    "好",
    "",
    "自从2004年提出了兴建人文大楼的构想，企业界陆续有人提供捐款。",
    "他说：“iPhone15很贵。”",
    "𠀀𠀁𠀂",
    "大肠杆菌是人和许多动物肠道中最主要且数量最多的一种细菌",
]
WORDS = [
    ["计算机", "的", "鼠标", "有", "什么", "比较", "特殊", "的", "用途", "呢"],
    ["我", "爱", "北京"],
    ["好"],
    ["自从", "2004", "年", "提出", "了", "兴建", "人文", "大楼", "的", "构想", "，"],
    ["iPhone15", "很", "贵"],
]


def whole_model(encoder, ids: np.ndarray) -> np.ndarray:
    """The keras model on one unpadded batch, as the published script runs it (last layer, all positions)."""
    tf = import_tensorflow()
    return encoder.keras_model([tf.constant(ids), tf.zeros_like(ids)], training=False).numpy()


def published_adjacent(encoder, text: str) -> np.ndarray:
    """The published segmentation script: 2n-1 copies of one sentence, d = (d1 + d2) / 2 per neighbour pair."""
    units = [text[a:b] for a, b in atom_spans(text)]
    ids = [encoder.cls_id] + [t for u in units for t in encoder.token_ids(u)] + [encoder.sep_id]
    assert len(ids) == len(units) + 2  # these test sentences have one token per atom
    n = len(units)
    batch = np.array([ids] * (2 * n - 1), dtype=np.int32)
    for i in range(n):
        if i > 0:
            batch[2 * i - 1, i] = batch[2 * i - 1, i + 1] = encoder.mask_id
        batch[2 * i, i + 1] = encoder.mask_id
    vectors = whole_model(encoder, batch)
    out = []
    for i in range(1, n):
        d1 = np.linalg.norm(vectors[2 * i, i + 1] - vectors[2 * i - 1, i + 1])
        d2 = np.linalg.norm(vectors[2 * i - 2, i] - vectors[2 * i - 1, i])
        out.append((d1 + d2) / 2)
    return np.array(out)


def definition_matrix(encoder, words: list[str]) -> np.ndarray:
    """F by its definition: whole spans masked, word vectors averaged, one sentence at a time."""
    spans, ids = [], [encoder.cls_id]
    for word in words:
        tokens = [t for a, b in atom_spans(word) for t in encoder.token_ids(word[a:b])]
        spans.append((len(ids), len(ids) + len(tokens)))
        ids += tokens
    ids.append(encoder.sep_id)
    n = len(words)

    def masked(*units):
        row = np.array(ids, dtype=np.int32)
        for u in units:
            row[spans[u][0] : spans[u][1]] = encoder.mask_id
        return row

    f = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                out = whole_model(encoder, np.stack([masked(i), masked(i, j)]))
                a, b = spans[i]
                f[i, j] = np.linalg.norm(out[0, a:b].mean(0) - out[1, a:b].mean(0))
    return f


def test_adjacent_impacts_equal_the_published_script(bert_encoder):
    texts = [SENTENCES[0], SENTENCES[1], SENTENCES[7]]
    results = list(adjacent_impacts(bert_encoder, texts, batch_size=16))
    for text, result in zip(texts, results, strict=True):
        np.testing.assert_allclose(result.adjacent, published_adjacent(bert_encoder, text), rtol=1e-4, atol=1e-5)
        assert result.copies == 2 * len(text) - 1


@pytest.mark.parametrize("fixture", ["bert_encoder", "albert_encoder"])
def test_impact_matrix_follows_its_definition(fixture, request):
    encoder = request.getfixturevalue(fixture)
    for words in (WORDS[1], WORDS[4], ["计算机", "的", "鼠标", "有"]):
        f = impact_matrix(encoder, words)
        np.testing.assert_allclose(f, definition_matrix(encoder, words), rtol=1e-4, atol=1e-5)
        assert np.all(np.diag(f) == 0)


@pytest.mark.parametrize("batch_size", [1, 5, 512])
def test_batching_does_not_change_results(bert_encoder, batch_size):
    """A sentence's impacts in a big mixed batch equal those computed alone."""
    alone_adjacent = [next(adjacent_impacts(bert_encoder, [t])).adjacent for t in SENTENCES]
    mixed = list(adjacent_impacts(bert_encoder, SENTENCES * 3, batch_size=batch_size))
    assert [m.units for m in mixed[: len(SENTENCES)]] == [[t[a:b] for a, b in atom_spans(t)] for t in SENTENCES]
    for k, result in enumerate(mixed):
        np.testing.assert_allclose(result.adjacent, alone_adjacent[k % len(SENTENCES)], rtol=1e-5, atol=1e-6)
    alone_matrix = [impact_matrix(bert_encoder, w) for w in WORDS]
    mixed_matrices = list(impact_matrices(bert_encoder, WORDS * 2, batch_size=batch_size))
    for k, result in enumerate(mixed_matrices):
        np.testing.assert_allclose(result.matrix, alone_matrix[k % len(WORDS)], rtol=1e-5, atol=1e-6)


def test_adjacent_is_the_mean_of_the_two_directions(bert_encoder):
    words = list("计算机的鼠标")
    f = impact_matrix(bert_encoder, words)
    (seg,) = adjacent_impacts(bert_encoder, ["".join(words)])
    np.testing.assert_allclose(seg.adjacent, (np.diag(f, 1) + np.diag(f, -1)) / 2, rtol=1e-5)


def test_unknown_and_short_sentences(bert_encoder):
    results = list(adjacent_impacts(bert_encoder, ["", "好", "𠀀𠀁𠀂", "好𠀀"]))
    assert [r.units for r in results] == [[], ["好"], ["𠀀", "𠀁", "𠀂"], ["好", "𠀀"]]
    assert [r.known for r in results] == [True, True, False, True]
    assert [r.copies for r in results] == [0, 0, 0, 3]
    assert results[2].adjacent.tolist() == [0.0, 0.0]


def test_cosine_distance(bert_encoder):
    (euclid,) = adjacent_impacts(bert_encoder, [SENTENCES[0]])
    (cosine,) = adjacent_impacts(bert_encoder, [SENTENCES[0]], distance="cosine")
    assert np.all((cosine.adjacent >= 0) & (cosine.adjacent <= 2)) and not np.allclose(cosine.adjacent, euclid.adjacent)


def test_bad_options(bert_encoder):
    with pytest.raises(UsageError, match=r"^--window must be between 2 and 62 tokens for this model"):
        list(adjacent_impacts(bert_encoder, ["好"], window=63))
    with pytest.raises(UsageError, match=r"^--batch-size must be at least 1"):
        list(adjacent_impacts(bert_encoder, ["好"], batch_size=0))


class ShapeRecorder:
    """A stand-in encoder (one token per character) that records the shape of every batch."""

    max_tokens, unk_id, cls_id, sep_id, mask_id = 510, 1, 2, 3, 4

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []

    def token_ids(self, atom: str) -> list[int]:
        return [5 + ord(c) % 100 for c in atom]

    def hidden_at(self, token_ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        self.shapes.append(token_ids.shape)
        return np.zeros((*positions.shape, 4), dtype=np.float32)


def test_batches_respect_the_token_and_attention_budgets():
    """batch_size 8: at most 8 copies, 8 * 128 tokens and 8 * 128 * 128 attention scores a batch."""
    recorder = ShapeRecorder()
    results = list(adjacent_impacts(recorder, ["好" * 10, "好" * 200, "好" * 60], batch_size=8))
    assert [r.copies for r in results] == [19, 399, 119]
    assert sum(rows for rows, _ in recorder.shapes) == 19 + 399 + 119
    assert all(rows <= 8 and rows * length <= 1024 and rows * length**2 <= 1024 * 128 for rows, length in recorder.shapes)
    by_length = {length: max(rows for rows, n in recorder.shapes if n == length) for _, length in recorder.shapes}
    assert by_length == {12: 8, 62: 8, 202: 3}  # 202 tokens: 5 copies fit the tokens, 3 the scores


# --------------------------------------------------------------------------- blocks


def seg_sentences(encoder, texts):
    from mintext.parse.impact import _Sentence

    return [_Sentence([t[a:b] for a, b in atom_spans(t)], [encoder.token_ids(t[a:b]) for a, b in atom_spans(t)],
                      all_pairs=False) for t in texts]


def test_blocks_end_with_the_sentence_that_fills_the_buffer():
    """batch_size 2: a buffer of 32 copies; "好" * n needs 2n - 1 copies (none for n = 1), 9 here for n = 5."""
    from mintext.parse.impact import _Batcher

    batcher = _Batcher(ShapeRecorder(), 2, None, "euclidean")
    texts = ["好" * 5, "好" * 5, "好", "好" * 5, "好" * 5, "好" * 5, "好" * 20, "好" * 5]
    sentences = seg_sentences(ShapeRecorder(), texts)
    assert [batcher.copies(s) for s in sentences] == [9, 9, 0, 9, 9, 9, 39, 9]
    blocks = list(batcher.blocks(sentences))
    assert [len(b) for b in blocks] == [5, 2, 1]  # 9+9+0+9 = 27 < 32, +9 = 36; then 9+39 = 48; the rest
    assert [s for b in blocks for s in b] == sentences


def test_planned_copies_are_the_copies_run():
    from mintext.parse.impact import _Batcher

    recorder = ShapeRecorder()
    batcher = _Batcher(recorder, 8, 16, "euclidean")  # windows of 16 tokens: long sentences are cut
    sentences = seg_sentences(recorder, ["好" * 10, "好" * 200, "", "好", "ab好c"])
    planned = [batcher.copies(s) for s in sentences]
    assert [impacts.copies for impacts in batcher.run_block(sentences)] == planned
    assert planned[0] == 19 and planned[2:] == [0, 0, 5]  # 2n - 1 within one window
    matrices = list(impact_matrices(recorder, [list("好" * 7)], batch_size=8))
    assert matrices[0].copies == 7 * 8 // 2  # n singles and n (n - 1) / 2 pairs


def test_a_block_run_alone_gives_the_bits_it_gives_in_the_stream(bert_encoder):
    """What lets blocks run anywhere: each block's floats depend on its own sentences only."""
    from mintext.parse.impact import _Batcher

    texts = SENTENCES * 6
    stream = list(adjacent_impacts(bert_encoder, texts, batch_size=2))
    blocks = list(_Batcher(bert_encoder, 2, None, "euclidean").blocks(seg_sentences(bert_encoder, texts)))
    assert len(blocks) >= 4
    start = 0
    for block in blocks:
        alone = list(adjacent_impacts(bert_encoder, texts[start : start + len(block)], batch_size=2))
        for one, streamed in zip(alone, stream[start : start + len(block)], strict=True):
            assert one.adjacent.tobytes() == streamed.adjacent.tobytes()
        start += len(block)
    assert start == len(texts)


# --------------------------------------------------------------------------- order and streaming


def test_results_stream_in_input_order(bert_encoder):
    consumed = []

    def texts():
        for k in range(150):
            consumed.append(k)
            yield SENTENCES[k % 3]

    stream = adjacent_impacts(bert_encoder, texts(), batch_size=4)
    first = next(stream)
    assert first.units == list(SENTENCES[0])
    assert len(consumed) < 150  # the first result came before the input was read to the end
    rest = list(stream)
    assert [len(r.units) for r in rest[:5]] == [len(SENTENCES[1]), 1, len(SENTENCES[0]), len(SENTENCES[1]), 1]
    assert len(rest) == 149


# --------------------------------------------------------------------------- sliding windows


def test_plan_windows_cover_and_overlap():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 120))
        window = int(rng.integers(4, 40))
        counts = rng.integers(1, window // 2 + 1, n).tolist()
        windows = plan_windows(counts, window)
        ends = np.concatenate([[0], np.cumsum(counts)])
        assert windows[0][0] == 0 and windows[-1][1] == n
        for lo, hi in windows:
            assert lo < hi and ends[hi] - ends[lo] <= window
        for (lo1, hi1), (lo2, hi2) in zip(windows, windows[1:], strict=False):
            assert lo1 < lo2 <= hi1 - 1 < hi2  # strictly advancing, overlapping by a unit at least
        owned = assign_pairs(counts, windows, all_pairs=False)
        pairs = sorted(p for w in owned for p in w)
        assert pairs == [(i, i + 1) for i in range(n - 1)]  # every neighbour pair, exactly once
        for (lo, hi), mine in zip(windows, owned, strict=True):
            assert all(lo <= i and j < hi for i, j in mine)


def test_all_pairs_are_scored_once_when_they_share_a_window():
    counts = [1] * 30
    windows = plan_windows(counts, 10)
    owned = assign_pairs(counts, windows, all_pairs=True)
    pairs = [p for w in owned for p in w]
    assert len(pairs) == len(set(pairs))
    shared = {(i, j) for lo, hi in windows for i in range(lo, hi) for j in range(i + 1, hi)}
    assert set(pairs) == shared


def test_long_sentence_uses_windows_and_each_gap_matches_its_window(bert_encoder):
    text = "".join(SENTENCES[k % len(SENTENCES)] for k in (0, 4, 7, 1, 0)).replace("𠀀", "")
    text = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")  # one token per character
    n = len(text)
    assert n > bert_encoder.max_tokens
    (result,) = adjacent_impacts(bert_encoder, [text], window=20)
    windows = plan_windows([1] * n, 20)
    owned = assign_pairs([1] * n, windows, all_pairs=False)
    assert len(windows) > 3
    for (lo, hi), pairs in zip(windows, owned, strict=True):
        (part,) = adjacent_impacts(bert_encoder, [text[lo:hi]])
        for i, _ in pairs:
            assert result.adjacent[i] == pytest.approx(part.adjacent[i - lo], rel=1e-4, abs=1e-5)
    # copies: about two per gap, not (2n - 1) per window
    assert result.copies <= 2 * n + 2 * len(windows)


def test_long_sentence_words_get_impacts_only_within_a_window(bert_encoder):
    words = ["计算机", "的", "鼠标"] * 12  # 60 tokens... more than a 20-token window
    (result,) = impact_matrices(bert_encoder, [words], window=20)
    f = result.matrix
    assert f[0, 1] > 0 and f[1, 0] > 0
    assert f[0, 35] == 0 and f[35, 0] == 0  # too far apart to share a window: not observed
