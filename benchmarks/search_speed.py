"""Top-100 search over 1M random packed codes at 64 and 256 bits, 1,000 queries:
the custom op vs faiss IndexBinaryFlat (same thread count) vs the stock-TF path vs
NumPy. Not part of CI; run on an otherwise idle machine.

  python benchmarks/search_speed.py [--database=1000000] [--queries=1000] [--threads=2]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import ops  # noqa: E402
from tfhash.retrieval import hamming  # noqa: E402

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def numpy_topk(queries, database, k):
    out_d, out_i = [], []
    for q in queries:
        dist = _POPCOUNT[np.bitwise_xor(database, q)].sum(axis=1, dtype=np.int32)
        kth = dist[np.argpartition(dist, k - 1)[k - 1]]  # the k-th smallest distance
        closer = np.flatnonzero(dist < kth)
        ties = np.flatnonzero(dist == kth)[: k - len(closer)]  # lowest indices win ties
        chosen = np.concatenate([closer, ties])
        order = chosen[np.lexsort((chosen, dist[chosen]))]
        out_d.append(dist[order])
        out_i.append(order)
    return np.stack(out_d), np.stack(out_i)


def timed(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.threads)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    module = ops.load()
    print(f"backend: {ops.backend()}; {args.threads} threads; top-{args.k} of {args.database:,} codes")
    rng = np.random.default_rng(0)
    for bits in (64, 256):
        nbytes = bits // 8
        database = rng.integers(0, 256, size=(args.database, nbytes), dtype=np.uint8)
        queries = rng.integers(0, 256, size=(args.queries, nbytes), dtype=np.uint8)
        index = faiss.IndexBinaryFlat(bits)
        index.add(database)
        rows = []
        if module is not None:
            t, (d_op, i_op) = timed(lambda: module.packed_hamming_top_k(queries, database, args.k), 3)
            rows.append(("custom op", args.queries / t))
        t, (d_faiss, _) = timed(lambda: index.search(queries, args.k), 3)
        rows.append(("faiss IndexBinaryFlat", args.queries / t))
        few = queries[:100]
        t, (d_stock, i_stock) = timed(lambda: hamming.stock_hamming_topk(few, database, args.k), 1)
        rows.append(("stock TF (100 queries)", len(few) / t))
        t, (d_np, i_np) = timed(lambda: numpy_topk(few[:20], database, args.k), 1)
        rows.append(("NumPy (20 queries)", 20 / t))
        if module is not None:
            assert np.array_equal(d_op.numpy(), d_faiss), "custom op and faiss distances differ"
            assert np.array_equal(i_op.numpy()[:100], i_stock.numpy()), "custom op and stock TF differ"
            assert np.array_equal(i_op.numpy()[:20], i_np), "custom op and NumPy differ"
        print(f"\n{bits} bits ({nbytes} bytes per code)")
        for name, qps in rows:
            print(f"  {name:<24} {qps:10.1f} queries/s")
        if module is not None:
            print(f"  custom op / faiss: {rows[0][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
