"""Top-100 search over 1,000,000 packed codes at 64 and 256 bits, 2 threads: the custom
op (each CPU path this machine has, forced with TFHASH_CPU_ISA) against faiss on the
same codes, thread count and queries, in one run.

For each code length and each kind of codes, uniform random and clustered (64
centres, each code its centre with 10% of the bits flipped: many near ties, the hard
case for a top-k threshold):
  (a) throughput: 1,000 queries in one call (custom op; faiss IndexBinaryFlat);
  (b) latency: one query at a time, median over 100 calls (HammingIndex's linear
      mode, which prepares its database once (benchmarks/index_speed.py measures
      its multi-index mode); faiss IndexBinaryFlat; and faiss IndexBinaryHNSW,
      an approximate graph index: a peer for one query at a time when approximate
      answers are acceptable; its recall@100 against the exact answer is printed).
Results are checked against each other (exact distances equal to faiss's). Prints
the CPU model and flags first, and how fast 2 threads read 8 MiB, 32 MiB (the 64-
and 256-bit databases) and 1 GiB: the least time any scan of those bytes can take. Not part of CI; run on an otherwise idle machine.

  python benchmarks/search_speed.py [--database=1000000] [--queries=1000] [--threads=2]
  python benchmarks/search_speed.py --one_query_parts [--threads=1]   # where one query's time goes
  python benchmarks/search_speed.py --compute_floor   # cycles per 256-bit code: floors and scans
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import ops, retrieval  # noqa: E402


def cpu_description():
    model, flags = "", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    shown = [f for f in ("popcnt", "avx2", "avx512f", "avx512_vpopcntdq", "avx512bw") if f in flags]
    return f"{model}; {os.cpu_count()} CPUs; flags: {' '.join(shown)}"


def codes(kind, n, nbytes, rng):
    if kind == "uniform":
        return rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    bits = 8 * nbytes
    centres = rng.random((64, bits)) < 0.5
    which = rng.integers(0, 64, n)
    flips = rng.random((n, bits)) < 0.1
    return retrieval.pack_codes(centres[which] ^ flips).numpy()


_NATIVE = {}


def native_library(name, flags, signatures):
    """benchmarks/native/<name>.cc compiled here (g++ -O3 -shared -fPIC plus `flags`) and
    loaded once as a ctypes.CDLL, each function's (restype, argtypes) set from
    `signatures`."""
    import ctypes
    import subprocess
    import tempfile

    if name not in _NATIVE:
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "native", f"{name}.cc")
        library = os.path.join(tempfile.mkdtemp(), f"{name}.so")
        subprocess.run(["g++", "-O3", *flags, "-shared", "-fPIC", source, "-o", library],
                       check=True)
        lib = ctypes.CDLL(library)
        for function, (restype, argtypes) in signatures.items():
            getattr(lib, function).restype = restype
            getattr(lib, function).argtypes = argtypes
        _NATIVE[name] = lib
    return _NATIVE[name]


def native_reads():
    """benchmarks/native/read_bandwidth.cc (-mavx2 -pthread): `tfhash_read` (a sequential
    read), `tfhash_gather` (random reads) and `tfhash_gather_runs` (contiguous runs at
    random places)."""
    from ctypes import c_int, c_int64, c_uint64, c_void_p

    return native_library("read_bandwidth", ["-mavx2", "-pthread"], {
        "tfhash_read": (c_uint64, [c_void_p, c_int64, c_int]),
        "tfhash_gather": (c_uint64, [c_void_p, c_void_p, c_int64, c_int, c_int]),
        "tfhash_gather_runs": (c_uint64, [c_void_p, c_void_p, c_void_p, c_int64, c_int, c_int]),
    })


def native_floors():
    """benchmarks/native/compute_floor.cc (-mavx2 -mpopcnt): the 256-bit arithmetic floors
    and the clock."""
    from ctypes import c_int64, c_uint64, c_void_p

    kernel = (c_uint64, [c_void_p, c_int64, c_void_p, c_int64])
    return native_library("compute_floor", ["-mavx2", "-mpopcnt"], {
        "tfhash_lookup256": kernel, "tfhash_popcnt256": kernel,
        "tfhash_chain": (c_uint64, [c_int64])})


def read_seconds(nbytes, threads, repeats=20):
    """Best time of `threads` threads reading `nbytes` (benchmarks/native/read_bandwidth.cc,
    compiled here), the same buffer each time: the machine's memory speed for that
    working set."""
    read = native_reads().tfhash_read
    data = np.random.default_rng(0).integers(0, 2 ** 63, nbytes // 8, dtype=np.uint64)
    best, _ = best_of(lambda: read(data.ctypes.data, len(data), threads), repeats)
    return best


def vector_paths(paths):
    """The op's vector paths of `paths` (not the portable one), each selected with
    TFHASH_CPU_ISA as it is yielded."""
    for isa, name in paths:
        if isa != "scalar":
            os.environ["TFHASH_CPU_ISA"] = isa
            yield isa, name


def best_of(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def median_latency(fn, queries, calls):
    times = []
    for i in range(calls):
        one = queries[i % len(queries)][None]
        start = time.perf_counter()
        fn(one)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--no_hnsw", action="store_true", help="skip faiss IndexBinaryHNSW")
    parser.add_argument("--one_query_parts", action="store_true",
                        help="only split one query's time: the op's fixed cost (1,000 codes), its "
                             "scan at k=1 and at --k, beside the read floor of the same bytes and "
                             "faiss IndexBinaryFlat (uniform codes; rerun with --threads=1 to "
                             "compare one thread's floor)")
    parser.add_argument("--compute_floor", action="store_true",
                        help="only the 256-bit arithmetic floors (benchmarks/native/compute_floor.cc: "
                             "the AVX2 lookup popcount and scalar POPCNT over codes in L1, one "
                             "core) in cycles per code, beside the 1,000-query scans of the op "
                             "and faiss IndexBinaryFlat in cycles per code per core")
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.threads)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    module = ops.load()
    if module is None:
        raise SystemExit(f"the custom op is not available: {ops.backend()}")
    paths = []
    for isa in ("avx512", "avx2", "scalar"):
        os.environ["TFHASH_CPU_ISA"] = isa
        if "not supported" not in ops.backend():
            paths.append((isa, ops.backend()))
    print(f"CPU: {cpu_description()}")
    if args.one_query_parts:
        return one_query_parts(args, paths, faiss)
    if args.compute_floor:
        return compute_floor(args, paths, faiss)
    for nbytes in (8 << 20, 32 << 20, 1 << 30):  # the 64- and 256-bit databases, and DRAM
        seconds = read_seconds(nbytes, args.threads)
        print(f"reading {nbytes >> 20} MiB with {args.threads} threads: {seconds * 1e3:.3f} ms "
              f"({nbytes / seconds / 1e9:.1f} GB/s), the floor of a one-query scan of that size")
    print(f"{args.threads} threads; top-{args.k} of {args.database:,} codes; paths: "
          f"{', '.join(name for _, name in paths)}")
    rng = np.random.default_rng(0)
    for bits in (64, 256):
        nbytes = bits // 8
        for kind in ("uniform", "clustered"):
            database = codes(kind, args.database, nbytes, rng)
            queries = codes(kind, args.queries, nbytes, rng) if kind == "uniform" else \
                database[rng.choice(args.database, args.queries, replace=False)] ^ (
                    (rng.random((args.queries, nbytes)) < 0.02).astype(np.uint8))
            flat = faiss.IndexBinaryFlat(bits)
            flat.add(database)
            index = retrieval.HammingIndex(bits, mode="linear")  # the scan (index_speed.py: tables)
            index.add(database)
            print(f"\n{bits} bits, {kind} codes")
            t_faiss, (d_faiss, _) = best_of(lambda: flat.search(queries, args.k), 3)
            qps_faiss = args.queries / t_faiss
            lat_faiss = median_latency(lambda q: flat.search(q, args.k), queries, args.calls)
            for isa, name in paths:
                os.environ["TFHASH_CPU_ISA"] = isa
                if isa == "scalar":  # the portable path: for reference, fewer queries
                    few = queries[:100]
                    t, (d_op, _) = best_of(lambda: module.packed_hamming_top_k(few, database, args.k), 1)
                    qps = len(few) / t
                    assert np.array_equal(d_op.numpy(), d_faiss[:100]), "distances differ from faiss"
                else:
                    t, (d_op, _) = best_of(
                        lambda: module.packed_hamming_top_k(queries, database, args.k), 3)
                    qps = args.queries / t
                    assert np.array_equal(d_op.numpy(), d_faiss), "distances differ from faiss"
                index.search(queries[:1], args.k)  # prepares the database once
                latency = median_latency(lambda q: index.search(q, args.k), queries, args.calls)
                print(f"  {name:<40} {qps:9.1f} queries/s ({qps / qps_faiss:.2f}x faiss); "
                      f"one query {latency:7.2f} ms ({lat_faiss / latency:.2f}x faiss)")
            print(f"  {'faiss IndexBinaryFlat':<40} {qps_faiss:9.1f} queries/s; one query "
                  f"{lat_faiss:7.2f} ms")
            if args.no_hnsw:
                continue
            hnsw = faiss.IndexBinaryHNSW(bits, 16)
            start = time.perf_counter()
            hnsw.add(database)
            build = time.perf_counter() - start
            lat_hnsw = median_latency(lambda q: hnsw.search(q, args.k), queries, args.calls)
            _, approx = hnsw.search(queries[:args.calls], args.k)
            _, exact = flat.search(queries[:args.calls], args.k)
            recall = np.mean([len(set(a) & set(e)) / args.k for a, e in zip(approx, exact)])
            print(f"  {'faiss IndexBinaryHNSW (M=16, approximate)':<40} one query {lat_hnsw:7.2f} ms, "
                  f"recall@{args.k} {recall:.3f} (built in {build:.0f} s)")


def one_query_parts(args, paths, faiss):
    """One query's time split into the op's fixed cost (a query over 1,000 codes), its
    scan with k = 1 (no top-k bookkeeping to speak of) and with k = --k, beside the time
    `args.threads` threads take to read the same bytes and faiss IndexBinaryFlat's one
    query. Calls the op on the kernel's layout, as HammingIndex's linear mode does, so
    the index's Python work is not counted."""
    from tfhash.retrieval import hamming

    rng = np.random.default_rng(0)
    print(f"one query, median of {args.calls} calls, {args.threads} threads, uniform codes")
    for bits in (64, 256):
        for n in (1000, args.database):
            database = codes("uniform", n, bits // 8, rng)
            queries = codes("uniform", args.calls, bits // 8, rng)
            grouped = tf.constant(hamming.group_database(database))
            one = [tf.constant(queries[i:i + 1]) for i in range(args.calls)]
            floor = read_seconds(database.nbytes, args.threads) * 1e3
            flat = faiss.IndexBinaryFlat(bits)
            flat.add(database)
            k = min(args.k, n)
            lat_faiss = median_latency(lambda q: flat.search(q, k), queries, args.calls)
            print(f"{bits} bits, {n:,} codes ({database.nbytes / 2 ** 20:.2f} MiB): read floor "
                  f"{floor:.3f} ms; faiss top-{k} {lat_faiss:.3f} ms")
            for _, name in vector_paths(paths):
                times = {}
                for kk in (1, k):
                    hamming.hamming_topk_grouped(one[0], grouped, n, kk)
                    calls = iter(one)
                    times[kk] = median_latency(
                        lambda _: hamming.hamming_topk_grouped(next(calls), grouped, n, kk)[0].numpy(),
                        queries, args.calls)
                print(f"  {name:<40} top-1 {times[1]:.3f} ms, top-{k} {times[k]:.3f} ms "
                      f"({times[k] / floor:.2f}x the read floor)")


L2_CODES = 49_152  # 256-bit codes in 1.5 MiB: inside a 2 MiB L2


def compute_floor(args, paths, faiss):
    """Cycles per 256-bit code: the least the AVX2 path's arithmetic and faiss's scalar
    POPCNT can take on one core (codes in L1, no top-k), beside what the op's scans
    and faiss IndexBinaryFlat take for 1,000 queries x --database uniform codes and x
    L2_CODES codes (resident in L2 between query blocks), top-1 and top-k, --threads
    threads (per core: seconds x threads x clock / pairs). The clock is measured with
    dependent additions; a scan's best ratio over faiss is faiss's cycles over the
    scan's floor."""
    from tfhash.retrieval import hamming

    lib = native_floors()
    rounds = 50_000_000
    seconds, _ = best_of(lambda: lib.tfhash_chain(rounds), 5)
    ghz = 4 * rounds / seconds / 1e9
    print(f"clock (dependent additions, one core): {ghz:.2f} GHz")
    rng = np.random.default_rng(0)
    resident = codes("uniform", 768, 32, rng)  # 24 KiB: inside any L1 data cache
    query = rng.integers(0, 2 ** 63, 4, dtype=np.uint64)
    grouped = hamming.group_database(resident)
    flat_words = np.ascontiguousarray(resident).view("<u8")
    reps = 100_000
    pairs = 768 * reps
    floors = {}
    for name, fn in (("AVX2 lookup (the op's AVX2 arithmetic)",
                      lambda: lib.tfhash_lookup256(grouped.ctypes.data, 96, query.ctypes.data, reps)),
                     ("scalar POPCNT (faiss's arithmetic)",
                      lambda: lib.tfhash_popcnt256(flat_words.ctypes.data, 768, query.ctypes.data,
                                                   reps))):
        seconds, total = best_of(fn, 5)
        floors[name] = (seconds * ghz * 1e9 / pairs, total)
        print(f"floor, {name:<40} {floors[name][0]:.2f} cycles per code")
    totals = {total for _, total in floors.values()}
    expected = reps * int(np.unpackbits(resident ^ query.view(np.uint8)[None]).sum())
    assert totals == {expected}, f"floor kernels' distance sums {totals} differ from NumPy's {expected}"
    queries = codes("uniform", args.queries, 32, rng)
    module = ops.load()
    lookup = floors["AVX2 lookup (the op's AVX2 arithmetic)"][0]
    # L2_CODES codes (1.5 MiB) stay in one core's L2 between the query blocks that
    # read them; --database codes come from L3 or memory once per block of queries
    for size in sorted({L2_CODES, args.database}):
        database = codes("uniform", size, 32, rng)
        flat = faiss.IndexBinaryFlat(256)
        flat.add(database)
        per_core = args.threads * ghz * 1e9 / (args.queries * size)
        for k in sorted({1, args.k}):  # top-1: the scan with the least top-k work
            t_faiss, (d_faiss, _) = best_of(lambda: flat.search(queries, k), 3)
            print(f"{args.queries:,}-query scans, {size:,} uniform 256-bit codes "
                  f"({size * 32 / 2 ** 20:.1f} MiB), top-{k}, {args.threads} threads (cycles "
                  f"per code per core):")
            for _, name in vector_paths(paths):
                t, (d_op, _) = best_of(lambda: module.packed_hamming_top_k(queries, database, k), 3)
                assert np.array_equal(d_op.numpy(), d_faiss), "distances differ from faiss"
                print(f"  {name:<40} {t * per_core:.2f} ({t_faiss / t:.2f}x faiss; "
                      f"{t * per_core / lookup:.2f}x the AVX2 floor)")
            print(f"  {'faiss IndexBinaryFlat':<40} {t_faiss * per_core:.2f}")
            print(f"  the AVX2 lookup's floor against faiss's measured scan: at most "
                  f"{t_faiss * per_core / lookup:.2f}x faiss for any scan with the AVX2 arithmetic")


if __name__ == "__main__":
    main()
