import numpy as np
import pytest

from tests.test_hamming import numpy_distance, numpy_topk
from tfhash import retrieval


@pytest.fixture
def filled(rng):
    index = retrieval.HammingIndex(20)  # 3 bytes per code
    codes = rng.integers(0, 8, size=(150, 3), dtype=np.uint8)
    codes[:, 2] &= 0x0F  # padding bits of a 20-bit code are zero
    index.add(codes[:100])
    index.add(codes[100:], ids=np.arange(1000, 1050))
    return index, codes


def test_search_matches_numpy(filled, rng):
    index, codes = filled
    queries = codes[rng.integers(0, 150, 9)]
    dist, ids = index.search(queries, 12)
    ref_d, ref_pos = numpy_topk(queries, codes, 12)
    all_ids = np.concatenate([np.arange(100), np.arange(1000, 1050)])
    np.testing.assert_array_equal(dist, ref_d)
    np.testing.assert_array_equal(ids, all_ids[ref_pos])
    dist, ids = index.search(queries, 1000)  # k larger than the index is clamped
    assert dist.shape == (9, 150)


def test_range_search_matches_numpy(filled, rng):
    index, codes = filled
    queries = codes[:4]
    lims, dist, ids = index.range_search(queries, 2)
    full = numpy_distance(queries, codes)
    all_ids = np.concatenate([np.arange(100), np.arange(1000, 1050)])
    for i in range(4):
        hits = np.flatnonzero(full[i] <= 2)
        hits = hits[np.argsort(full[i][hits], kind="stable")]
        np.testing.assert_array_equal(ids[lims[i]:lims[i + 1]], all_ids[hits])
        np.testing.assert_array_equal(dist[lims[i]:lims[i + 1]], full[i][hits])


def test_save_load_round_trip_and_truncation(filled, tmp_path):
    index, codes = filled
    path = str(tmp_path / "index.npz")
    index.save(path)
    loaded = retrieval.HammingIndex.load(path)
    assert loaded.bits == 20 and len(loaded) == 150
    np.testing.assert_array_equal(loaded.codes, index.codes)
    np.testing.assert_array_equal(loaded.ids, index.ids)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable tfhash HammingIndex"):
        retrieval.HammingIndex.load(path)


def test_bad_inputs(filled):
    index, _ = filled
    with pytest.raises(ValueError, match="3 bytes, got 2"):
        index.add(np.zeros((1, 2), np.uint8))
    with pytest.raises(ValueError, match="ids must be 2 integers"):
        index.add(np.zeros((2, 3), np.uint8), ids=[1])
    with pytest.raises(ValueError, match="packed uint8"):
        index.search(np.zeros((1, 3), np.float32), 1)
    with pytest.raises(ValueError, match="empty"):
        retrieval.HammingIndex(8).search(np.zeros((1, 1), np.uint8), 1)
    with pytest.raises(ValueError, match="radius"):
        index.range_search(np.zeros((1, 3), np.uint8), -1)


def test_faiss_round_trip(filled, rng):
    faiss = pytest.importorskip("faiss")
    index, codes = filled
    exported = index.to_faiss()
    queries = codes[:5]
    faiss_d, faiss_ids = exported.search(queries, 10)
    ours_d, _ = index.search(queries, 10)
    np.testing.assert_array_equal(faiss_d, ours_d)  # distances equal; faiss orders ties its own way
    back = retrieval.HammingIndex.from_faiss(exported, bits=20)
    np.testing.assert_array_equal(back.codes, index.codes)
    np.testing.assert_array_equal(back.ids, index.ids)
    plain = retrieval.HammingIndex(16)
    plain.add(rng.integers(0, 256, size=(30, 2), dtype=np.uint8))
    assert isinstance(plain.to_faiss(), faiss.IndexBinaryFlat)
    assert len(retrieval.HammingIndex.from_faiss(plain.to_faiss())) == 30
