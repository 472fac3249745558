"""A model, in NumPy, of the GPU top-k's three launches (hamming_gpu.cu.cc):
histogram per slice, threshold and offsets per query, ordered select by warp-wide
tiles. It checks the algorithm's arithmetic (offsets, ranks, ties, clamping) with the
kernel's own constants, read from its source, on databases that span several of the
kernel's slices. It is a model of the kernel, not the kernel: the CUDA code itself
runs only on a GPU (benchmarks/gpu_kernel_check.py)."""

import os
import re

import numpy as np
import pytest

from tests.conftest import REPO
from tests.test_hamming import numpy_distance, numpy_topk

KERNEL = os.path.join(REPO, "tfhash", "ops", "cc", "kernels", "hamming_gpu.cu.cc")
WARP = 32  # the select kernel's tile: one warp, `tile += 32`, lane masks of 32 bits


def kernel_constants():
    with open(KERNEL) as f:
        source = f.read()
    constants = {name: int(value) for name, value in
                 re.findall(r"constexpr int (k\w+) = (\d+);", source)}
    select = source[source.index("__global__ void SelectKernel"):]
    select = select[:select.index("\n}\n")]
    constants["select_tile"] = int(re.search(r"tile \+= (\d+)\)", select).group(1))
    return constants


def emulated_gpu_topk(queries, database, k, slice_codes, warp=WARP):
    n, bins = database.shape[0], 8 * database.shape[1] + 1
    dist = numpy_distance(queries, database)
    slices = (n + slice_codes - 1) // slice_codes  # NumSlices
    out_d = np.full((len(queries), k), -1, np.int64)
    out_i = np.full((len(queries), k), -1, np.int64)
    below = np.tril(np.ones((warp, warp), bool), -1)  # below[lane, other]: other < lane
    for q in range(len(queries)):
        # 1. HistogramKernel: counts per (slice, distance)
        hist = np.stack([np.bincount(dist[q, s * slice_codes:(s + 1) * slice_codes],
                                     minlength=bins) for s in range(slices)])
        # 2. ScanKernel: T = the smallest distance with >= k codes at or below it;
        # offsets = base[d] + distance-d codes of earlier slices, clamped at k
        totals = hist.sum(axis=0)
        t = int(np.argmax(np.cumsum(totals) >= k)) if totals.sum() >= k else bins - 1
        base = np.concatenate([[0], np.cumsum(totals)[:-1]])
        offsets = np.minimum(base[None, :] + np.cumsum(hist, axis=0) - hist, k)
        # 3. SelectKernel: per slice, tiles of `warp` codes in index order; a lane's rank
        # is offset[d] + seen[d] + lanes before it at the same distance
        for s in range(slices):
            seen = np.zeros(bins, np.int64)
            begin, end = s * slice_codes, min((s + 1) * slice_codes, n)
            for tile in range(begin, end, warp):
                lanes = dist[q, tile:min(tile + warp, end)]
                width = len(lanes)
                peers = lanes[:, None] == lanes[None, :]  # __match_any_sync
                before = (peers & below[:width, :width]).sum(axis=1)
                keep = lanes <= t
                rank = offsets[s, lanes[keep]] + seen[lanes[keep]] + before[keep]
                written = rank < k
                out_d[q, rank[written]] = lanes[keep][written]
                out_i[q, rank[written]] = tile + np.flatnonzero(keep)[written]
                values, counts = np.unique(lanes[keep], return_counts=True)
                seen[values] += counts  # the lowest lane of each group advances seen[d]
    return out_d, out_i


def test_the_model_uses_the_kernels_constants():
    constants = kernel_constants()
    assert constants["select_tile"] == WARP
    # __match_any_sync(0xffffffff) needs every lane of every warp active
    assert constants["kHistThreads"] % WARP == 0, constants
    # the select's warp tiles start at warp boundaries inside every slice
    assert constants["kSliceCodes"] % WARP == 0, constants
    assert constants["kMaxWords"] * 64 >= 256  # the benchmark's widest codes fit


@pytest.mark.parametrize("k", [1, 7, 150, 4097])
def test_emulated_gpu_topk_over_several_of_the_kernels_slices(rng, k):
    slice_codes = kernel_constants()["kSliceCodes"]
    n = 2 * slice_codes + 1001  # three slices, the last one ragged
    queries = rng.integers(0, 4, size=(2, 2), dtype=np.uint8)  # few values: many ties
    database = rng.integers(0, 4, size=(n, 2), dtype=np.uint8)
    got_d, got_i = emulated_gpu_topk(queries, database, k, slice_codes)
    ref_d, ref_i = numpy_topk(queries, database, k)
    np.testing.assert_array_equal(got_d, ref_d)
    np.testing.assert_array_equal(got_i, ref_i)


@pytest.mark.parametrize("slice_codes", [32, 96, 1000])
@pytest.mark.parametrize("k", [1, 7, 150, 333])
def test_emulated_gpu_topk_with_small_slices(rng, slice_codes, k):
    queries = rng.integers(0, 4, size=(3, 2), dtype=np.uint8)
    database = rng.integers(0, 4, size=(333, 2), dtype=np.uint8)
    got_d, got_i = emulated_gpu_topk(queries, database, k, slice_codes)
    ref_d, ref_i = numpy_topk(queries, database, k)
    np.testing.assert_array_equal(got_d, ref_d)
    np.testing.assert_array_equal(got_i, ref_i)


def test_all_codes_equal_and_k_equal_n(rng):
    database = np.full((777, 3), 5, np.uint8)
    queries = np.array([[5, 5, 5], [0, 0, 0]], np.uint8)
    for k in (1, 500, 777):
        got_d, got_i = emulated_gpu_topk(queries, database, k, 256)
        ref_d, ref_i = numpy_topk(queries, database, k)
        np.testing.assert_array_equal(got_d, ref_d)
        np.testing.assert_array_equal(got_i, ref_i)
