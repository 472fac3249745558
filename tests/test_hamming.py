import numpy as np
import pytest
import tensorflow as tf

from tfhash import retrieval
from tfhash.retrieval import hamming


def numpy_distance(queries, database):
    q = np.unpackbits(queries, axis=1)
    d = np.unpackbits(database, axis=1)
    return (q[:, None, :] != d[None, :, :]).sum(axis=2).astype(np.int32)


def numpy_topk(queries, database, k):
    dist = numpy_distance(queries, database)
    order = np.stack([np.lexsort((np.arange(dist.shape[1]), row)) for row in dist])[:, :k]
    return np.take_along_axis(dist, order, axis=1), order


@pytest.mark.parametrize("nbytes", [1, 3, 8, 9, 16, 17, 128])
def test_distance_matches_numpy(rng, nbytes):
    q = rng.integers(0, 256, size=(13, nbytes), dtype=np.uint8)
    d = rng.integers(0, 256, size=(101, nbytes), dtype=np.uint8)
    out = retrieval.hamming_distance(q, d)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), numpy_distance(q, d))


@pytest.mark.parametrize("k", [1, 5, 97])
def test_topk_matches_numpy_with_ties(rng, k):
    # 1 byte with few distinct codes: distances are full of ties
    q = rng.integers(0, 4, size=(11, 1), dtype=np.uint8)
    d = rng.integers(0, 4, size=(97, 1), dtype=np.uint8)
    dist, idx = retrieval.hamming_topk(q, d, k)
    ref_d, ref_i = numpy_topk(q, d, k)
    assert idx.dtype == tf.int64 and dist.dtype == tf.int32
    np.testing.assert_array_equal(dist.numpy(), ref_d)
    np.testing.assert_array_equal(idx.numpy(), ref_i)


def blocked_inputs(rng):
    # few distinct values: ties everywhere, so a merge that breaks them wrongly shows
    return (rng.integers(0, 8, size=(37, 3), dtype=np.uint8),
            rng.integers(0, 8, size=(301, 3), dtype=np.uint8))


def test_blocked_stock_paths_match_numpy(rng, monkeypatch):
    """The stock functions themselves, with blocks so small that every query block and
    every database block boundary is crossed (the custom op never reads these sizes)."""
    q, d = blocked_inputs(rng)
    ref_d, ref_i = numpy_topk(q, d, 20)
    monkeypatch.setattr(hamming, "_BLOCK_BYTES", 8 * 50)  # query blocks of 1..8 rows
    np.testing.assert_array_equal(hamming.stock_hamming_distance(q, d).numpy(), numpy_distance(q, d))
    # database blocks of 64 codes: the merge across blocks must keep ties by index
    monkeypatch.setattr(hamming, "_DB_BLOCK", 64)
    dist, idx = hamming.stock_hamming_topk(q, d, 20)
    np.testing.assert_array_equal(dist.numpy(), ref_d)
    np.testing.assert_array_equal(idx.numpy(), ref_i)


def test_public_functions_without_the_custom_op(rng, monkeypatch):
    """`hamming_distance` / `hamming_topk` with the op switched off
    (TFHASH_DISABLE_CUSTOM_OPS, the fallback a machine without a compiler gets), on
    small blocks, against NumPy."""
    from tfhash import ops

    monkeypatch.setenv("TFHASH_DISABLE_CUSTOM_OPS", "1")
    assert ops.load() is None and ops.backend().startswith("stock TF")
    q, d = blocked_inputs(rng)
    monkeypatch.setattr(hamming, "_BLOCK_BYTES", 8 * 50)
    monkeypatch.setattr(hamming, "_DB_BLOCK", 64)
    np.testing.assert_array_equal(retrieval.hamming_distance(q, d).numpy(), numpy_distance(q, d))
    for k in (1, 20, 301):
        ref_d, ref_i = numpy_topk(q, d, k)
        dist, idx = retrieval.hamming_topk(q, d, k)
        np.testing.assert_array_equal(dist.numpy(), ref_d)
        np.testing.assert_array_equal(idx.numpy(), ref_i)


def test_topk_k_equals_n_is_a_full_stable_ranking(rng):
    q = rng.integers(0, 256, size=(3, 2), dtype=np.uint8)
    d = rng.integers(0, 256, size=(40, 2), dtype=np.uint8)
    dist, idx = retrieval.hamming_topk(q, d, 40)
    ref_d, ref_i = numpy_topk(q, d, 40)
    np.testing.assert_array_equal(idx.numpy(), ref_i)
    np.testing.assert_array_equal(dist.numpy(), ref_d)


@pytest.mark.parametrize(
    "q, d, k, message",
    [
        (np.zeros((2, 2), np.uint8), np.zeros((5, 3), np.uint8), 1, "same bytes per code"),
        (np.zeros((2, 2), np.int32), np.zeros((5, 2), np.uint8), 1, "packed uint8"),
        (np.zeros(2, np.uint8), np.zeros((5, 2), np.uint8), 1, "packed uint8"),
        (np.zeros((2, 2), np.uint8), np.zeros((5, 2), np.uint8), 0, "positive integer"),
        (np.zeros((2, 2), np.uint8), np.zeros((5, 2), np.uint8), 6, "at most the database size 5"),
    ],
)
def test_bad_inputs(q, d, k, message):
    with pytest.raises(ValueError, match=message):
        retrieval.hamming_topk(q, d, k)


def test_empty_queries():
    dist, idx = retrieval.hamming_topk(np.zeros((0, 2), np.uint8), np.zeros((4, 2), np.uint8), 2)
    assert dist.shape == (0, 2) and idx.shape == (0, 2)
    assert retrieval.hamming_distance(np.zeros((0, 2), np.uint8), np.zeros((4, 2), np.uint8)).shape == (0, 4)
