"""The GPU top-k's three passes (hamming_gpu.cu.cc), emulated step by step in NumPy:
histogram per slice, threshold and offsets per query, ordered select in warp-sized
tiles. This checks the algorithm (offsets, ranks, ties), not the CUDA code, which
needs a GPU (benchmarks/gpu_kernel_check.py)."""

import numpy as np
import pytest

from tests.test_hamming import numpy_distance, numpy_topk


def emulated_gpu_topk(queries, database, k, slice_codes, warp=32):
    n, bins = database.shape[0], 8 * database.shape[1] + 1
    dist = numpy_distance(queries, database)
    slices = (n + slice_codes - 1) // slice_codes
    out_d = np.full((len(queries), k), -1, np.int64)
    out_i = np.full((len(queries), k), -1, np.int64)
    for q in range(len(queries)):
        # 1. histogram per slice
        hist = np.zeros((slices, bins), np.int64)
        for s in range(slices):
            hist[s] = np.bincount(dist[q, s * slice_codes:(s + 1) * slice_codes], minlength=bins)
        # 2. threshold, then offsets = base[d] + same-distance codes in earlier slices
        totals = hist.sum(axis=0)
        t = int(np.argmax(np.cumsum(totals) >= k))
        base = np.concatenate([[0], np.cumsum(totals)[:-1]])
        offsets = np.minimum(base[None, :] + np.cumsum(hist, axis=0) - hist, k)
        # 3. select: tiles of `warp` codes in index order, rank = offset + seen + lanes before
        for s in range(slices):
            seen = np.zeros(bins, np.int64)
            begin, end = s * slice_codes, min((s + 1) * slice_codes, n)
            for tile in range(begin, end, warp):
                lanes = dist[q, tile:min(tile + warp, end)]
                for lane, d in enumerate(lanes):
                    if d > t:
                        continue
                    rank = offsets[s, d] + seen[d] + np.sum(lanes[:lane] == d)
                    if rank < k:
                        out_d[q, rank], out_i[q, rank] = d, tile + lane
                for d in np.unique(lanes[lanes <= t]):
                    seen[d] += np.sum(lanes == d)
    return out_d, out_i


@pytest.mark.parametrize("slice_codes", [32, 96, 1000])
@pytest.mark.parametrize("k", [1, 7, 150, 333])
def test_emulated_gpu_topk_matches_reference(rng, slice_codes, k):
    queries = rng.integers(0, 4, size=(3, 2), dtype=np.uint8)  # few values: many ties
    database = rng.integers(0, 4, size=(333, 2), dtype=np.uint8)
    got_d, got_i = emulated_gpu_topk(queries, database, k, slice_codes)
    ref_d, ref_i = numpy_topk(queries, database, k)
    np.testing.assert_array_equal(got_d, ref_d)
    np.testing.assert_array_equal(got_i, ref_i)
