"""The multi-index search loop of two source versions, side by side in one process.

Compiles the search (tfhash/ops/cc/kernels/multi_index.cc and the three per-ISA
kernel files, without TensorFlow, with the op build's flags) once from a git
revision and once from the working tree, builds the tables once, and times one
query at a time against the same tables with each library in turn (median of
--calls queries, --rounds alternations, so the machine's drift hits both), with 1
and 2 threads. Every answer of the second library is checked against the first's
(distances and positions). Changes to the loop are judged by this ratio, not by
runs on different days. Not part of CI.

  python benchmarks/mih_compare.py --base=HEAD [--sizes=10000000] [--bits=64]
      [--kinds=uniform,clustered,learned] [--ks=10,100] [--learned_runs=RUN,RUN]

The learned kind is index_speed.py's: trained runs' image codes replicated with bit
noise to the size, queried with the runs' own query codes.
"""

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

from benchmarks.index_speed import clustered, learned, uniform  # noqa: E402
from benchmarks.search_speed import cpu_description  # noqa: E402
from tfhash.ops import build  # noqa: E402
from tfhash.retrieval import multi_index  # noqa: E402

KERNELS = "tfhash/ops/cc/kernels"


def _sources(revision, into):
    """Writes the kernel sources of `revision` (None: the working tree) into `into`."""
    names = [os.path.basename(s) for s in build.SOURCES if s.startswith("cc/kernels/")]
    names += [os.path.basename(h) for h in build.HEADERS]
    for name in names:
        path = f"{KERNELS}/{name}"
        if revision is None:
            with open(os.path.join(REPO, path), "rb") as f:
                text = f.read()
        else:
            text = subprocess.run(["git", "-C", REPO, "show", f"{revision}:{path}"],
                                  check=True, capture_output=True).stdout
        with open(os.path.join(into, name), "wb") as f:
            f.write(text)


def compile_search(revision, workdir):
    """A shared library with tfhash_mih_build / tfhash_mih_search of `revision`."""
    src = tempfile.mkdtemp(dir=workdir)
    _sources(revision, src)
    objects = []
    for source, isa_flags in build.SOURCES.items():
        name = os.path.basename(source)
        if name not in ("multi_index.cc", "hamming_cpu.cc") and not name.startswith("hamming_cpu_"):
            continue  # the TensorFlow op and kernel registrations stay out
        obj = os.path.join(src, name + ".o")
        subprocess.run(["g++", "-std=c++17", *build.OPTIMISE, *isa_flags, "-c",
                        os.path.join(src, name), "-o", obj], check=True)
        objects.append(obj)
    library = os.path.join(src, "search.so")
    subprocess.run(["g++", "-shared", *objects, "-o", library, "-lpthread"], check=True)
    lib = ctypes.CDLL(library)
    reference = multi_index.native()
    for name in ("tfhash_mih_build", "tfhash_mih_search"):
        getattr(lib, name).restype = getattr(reference, name).restype
        getattr(lib, name).argtypes = getattr(reference, name).argtypes
    return lib


def one_query_ms(tables, codes, queries, k, threads):
    times, answers = [], []
    for q in queries:
        start = time.perf_counter()
        d, p, _, _ = tables.search(codes, q[None], k=k, threads=threads)
        times.append(time.perf_counter() - start)
        answers.append((d, p))
    return float(np.median(times)) * 1e3, answers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git revision compared with the working tree")
    parser.add_argument("--sizes", default="10000000")
    parser.add_argument("--bits", default="64")
    parser.add_argument("--kinds", default="uniform,clustered")
    parser.add_argument("--ks", default="10,100")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--noise", type=float, default=0.02,
                        help="the learned kind's share of flipped bits")
    parser.add_argument("--learned_runs", default=None,
                        help="run folders of the learned kind (default: index_speed.py's)")
    args = parser.parse_args()
    if multi_index.native() is None:
        raise SystemExit("the op library is unavailable (tfhash.ops.backend() says why)")
    print(cpu_description())
    with tempfile.TemporaryDirectory() as workdir:
        libs = {args.base: compile_search(args.base, workdir),
                "working tree": compile_search(None, workdir)}
        rng = np.random.default_rng(0)
        for n in map(int, args.sizes.split(",")):
            for bits in map(int, args.bits.split(",")):
                for kind in args.kinds.split(","):
                    if kind == "uniform":
                        codes, queries = uniform(n, bits // 8, rng), uniform(args.calls, bits // 8, rng)
                    elif kind == "clustered":
                        codes, centres = clustered(n, bits // 8, rng)
                        queries, _ = clustered(args.calls, bits // 8, rng, centres)
                    else:
                        codes, queries = learned(n, bits, args.noise, rng, args.learned_runs and [
                            os.path.abspath(r) for r in args.learned_runs.split(",")])
                        if codes is None:
                            raise SystemExit(f"learned codes unavailable: {queries}")
                        queries = queries[: args.calls]
                    tables = multi_index.Tables.build(codes, bits)
                    print(f"\n{n:,} x {bits} bits, {kind}, tables {[s for _, s in tables.substrings]}")
                    for k in map(int, args.ks.split(",")):
                        for threads in (1, 2):
                            cells = {name: [] for name in libs}
                            reference = None
                            for _ in range(args.rounds):
                                for name, lib in libs.items():
                                    multi_index._NATIVE["lib"] = lib
                                    ms, answers = one_query_ms(tables, codes, queries, k, threads)
                                    if reference is None:
                                        reference = answers
                                    elif not all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                                                 for a, b in zip(reference, answers)):
                                        raise SystemExit(f"{name} answers differently (k={k})")
                                    cells[name].append(ms)
                            multi_index._NATIVE.pop("lib")
                            base, new = (np.median(cells[name]) for name in libs)
                            shown = "; ".join(f"{name} " + " / ".join(f"{v:.3f}" for v in values)
                                              for name, values in cells.items())
                            print(f"  k={k:<3} {threads} thread{'s' if threads > 1 else ' '}: "
                                  f"{shown} ms -> {base / new:.2f}x")


if __name__ == "__main__":
    main()
