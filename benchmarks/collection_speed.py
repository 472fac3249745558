"""Indexing throughput of `tfhash-index`'s machinery on a CIFAR-10-sized folder, and the
latency of one query over 1,000,000 codes in HammingIndex against Milvus Lite
(`BIN_FLAT`, the same codes), on this machine.

  python benchmarks/collection_speed.py --workdir=RUN [--folder=~/.cache/tfhash/cifar10-jpeg]

RUN is any trained tfhash workdir (a small CNN at 32 px for the README figure);
the folder defaults to the CIFAR-10 JPEG copy extracted by benchmarks/method_table.py
(60,000 images). Not part of CI; run on an otherwise idle machine.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from tfhash import retrieval  # noqa: E402
from tfhash.search import FileEncoder  # noqa: E402
from tfhash.search import index_main  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--folder", default=os.path.expanduser("~/.cache/tfhash/cifar10-jpeg"))
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    print(f"CPU: {cpu}, {os.cpu_count()} cores")
    encoder = FileEncoder(workdir=args.workdir)
    keys, files, source = index_main.collection_items(args.folder)
    store = index_main.Store(encoder, index=tempfile.mkdtemp())
    start = time.perf_counter()
    added, _, skipped = index_main.index_collection(encoder, keys, files, source, store, 256)
    seconds = time.perf_counter() - start
    print(f"indexed {added:,} images of {args.folder} in {seconds:.1f} s: {added / seconds:.0f} "
          f"images/s ({encoder.bits}-bit codes, {len(skipped)} unreadable)")

    rng = np.random.default_rng(0)
    nbytes = (encoder.bits + 7) // 8
    def random_codes(n):
        values = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
        if encoder.bits % 8:  # padding bits stay zero
            values[:, -1] &= (1 << (encoder.bits % 8)) - 1
        return values

    codes, queries = random_codes(args.codes), random_codes(args.calls)
    index = retrieval.HammingIndex(encoder.bits)
    index.add(codes)
    index.search(queries[:1], 10)  # prepares the database once

    def median_ms(search):
        times = []
        for q in queries:
            t = time.perf_counter()
            search(q[None])
            times.append(time.perf_counter() - t)
        return 1e3 * float(np.median(times))

    local = median_ms(lambda q: index.search(q, 10))
    from tfhash.retrieval.milvus import MilvusIndex

    milvus = MilvusIndex(os.path.join(tempfile.mkdtemp(), "bench.db"), "bench", encoder.bits)
    start = time.perf_counter()
    milvus.add(codes, np.arange(args.codes))
    loading = time.perf_counter() - start
    milvus.search(queries[:1], 10)
    remote = median_ms(lambda q: milvus.search(q, 10))
    d_local, _ = index.search(queries[:10], 10)
    d_milvus, _ = milvus.search(queries[:10], 10)
    assert np.array_equal(d_local, d_milvus), "HammingIndex and Milvus distances differ"
    print(f"one query, top-10 of {args.codes:,} {encoder.bits}-bit codes (median of {args.calls}): "
          f"HammingIndex {local:.2f} ms ({retrieval_backend()}), Milvus Lite BIN_FLAT {remote:.2f} ms "
          f"(inserting the codes took {loading:.0f} s)")


def retrieval_backend():
    from tfhash import ops

    return ops.backend()


if __name__ == "__main__":
    main()
