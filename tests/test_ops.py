"""The custom packed-Hamming op against the stock-TF path and NumPy."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.test_hamming import numpy_distance, numpy_topk
from tfhash import ops, retrieval
from tfhash.retrieval import hamming

MODULE = ops.load()
needs_op = pytest.mark.skipif(MODULE is None, reason=f"custom op not built: {ops.backend()}")


@needs_op
def test_backend_is_the_custom_op():
    assert ops.backend().startswith("custom CPU op")


@needs_op
@pytest.mark.parametrize("nbytes", [1, 2, 7, 8, 9, 15, 16, 24, 31, 32, 33, 64, 127, 128])
def test_distance_equals_stock_and_numpy(rng, nbytes):
    q = rng.integers(0, 256, size=(19, nbytes), dtype=np.uint8)
    d = rng.integers(0, 256, size=(2053, nbytes), dtype=np.uint8)  # not a multiple of 8 or 2048
    custom = MODULE.packed_hamming_distance(q, d).numpy()
    np.testing.assert_array_equal(custom, hamming.stock_hamming_distance(q, d).numpy())
    np.testing.assert_array_equal(custom, numpy_distance(q, d))


@needs_op
@pytest.mark.parametrize("nbytes", [1, 3, 8, 12, 40, 128])
@pytest.mark.parametrize("k", [1, 17, 2053])
def test_topk_equals_stock_and_numpy_with_ties(rng, nbytes, k):
    # values 0..3 in every byte: few distinct distances, ties everywhere
    q = rng.integers(0, 4, size=(21, nbytes), dtype=np.uint8)
    d = rng.integers(0, 4, size=(2053, nbytes), dtype=np.uint8)
    dist, idx = MODULE.packed_hamming_top_k(q, d, k)
    stock_d, stock_i = hamming.stock_hamming_topk(q, d, k)
    np.testing.assert_array_equal(dist.numpy(), stock_d.numpy())
    np.testing.assert_array_equal(idx.numpy(), stock_i.numpy())
    if k <= 17:
        ref_d, ref_i = numpy_topk(q, d, k)
        np.testing.assert_array_equal(idx.numpy(), ref_i)
        np.testing.assert_array_equal(dist.numpy(), ref_d)


@needs_op
def test_all_equal_codes_rank_by_index():
    d = np.zeros((300, 4), np.uint8)
    dist, idx = MODULE.packed_hamming_top_k(np.zeros((2, 4), np.uint8), d, 300)
    assert idx.numpy().tolist() == [list(range(300))] * 2 and dist.numpy().max() == 0


@needs_op
@pytest.mark.parametrize(
    "queries, database, k, message",
    [
        (tf.zeros([2, 2], tf.int32), tf.zeros([5, 2], tf.uint8), 1, "uint8"),
        (tf.zeros([2], tf.uint8), tf.zeros([5, 2], tf.uint8), 1, "shape"),
        (tf.zeros([2, 2, 1], tf.uint8), tf.zeros([5, 2], tf.uint8), 1, "shape"),
        (tf.zeros([2, 2], tf.uint8), tf.zeros([5, 3], tf.uint8), 1, "same bytes per code"),
        (tf.zeros([2, 2], tf.uint8), tf.zeros([5, 2], tf.uint8), 0, "k must be positive"),
        (tf.zeros([2, 2], tf.uint8), tf.zeros([5, 2], tf.uint8), -3, "k must be positive"),
        (tf.zeros([2, 2], tf.uint8), tf.zeros([5, 2], tf.uint8), 6, "at most the database size 5"),
        (tf.zeros([2, 2], tf.uint8), tf.zeros([0, 2], tf.uint8), 1, "at most the database size 0"),
        (tf.zeros([2, 0], tf.uint8), tf.zeros([5, 0], tf.uint8), 1, "at least one byte"),
    ],
)
def test_bad_inputs_are_invalid_argument(queries, database, k, message):
    with pytest.raises((tf.errors.InvalidArgumentError, TypeError, ValueError), match=message):
        MODULE.packed_hamming_top_k(queries, database, k)


@needs_op
def test_bad_inputs_inside_a_graph_are_invalid_argument():
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.uint8)] * 2)
    def distance(q, d):
        return MODULE.packed_hamming_distance(q, d)

    with pytest.raises(tf.errors.InvalidArgumentError, match="same bytes per code"):
        distance(tf.zeros([2, 3], tf.uint8), tf.zeros([4, 2], tf.uint8))
    assert distance(tf.zeros([0, 2], tf.uint8), tf.zeros([4, 2], tf.uint8)).shape == (0, 4)


@needs_op
def test_op_in_tf_function_and_tf_data(rng):
    q = rng.integers(0, 256, size=(6, 5), dtype=np.uint8)
    d = rng.integers(0, 256, size=(40, 5), dtype=np.uint8)
    expected_d, expected_i = numpy_topk(q, d, 3)
    search = tf.function(lambda x: retrieval.hamming_topk(x, tf.constant(d), 3))
    dist, idx = search(tf.constant(q))
    np.testing.assert_array_equal(idx.numpy(), expected_i)
    dataset = tf.data.Dataset.from_tensor_slices(q).batch(4).map(
        lambda x: MODULE.packed_hamming_top_k(x, tf.constant(d), 3)[1])
    np.testing.assert_array_equal(np.concatenate(list(dataset.as_numpy_iterator())), expected_i)
    np.testing.assert_array_equal(dist.numpy(), expected_d)


@needs_op
def test_registered_as_non_differentiable():
    x = tf.Variable(tf.zeros([2, 3], tf.float32))
    with tf.GradientTape() as tape:
        packed = retrieval.pack_codes(x)
        loss = tf.reduce_sum(tf.cast(MODULE.packed_hamming_distance(packed, packed), tf.float32))
    assert tape.gradient(loss, x) is None


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **env))


def test_disable_switch_forces_stock_path():
    result = run_python(
        "from tfhash import ops, retrieval; import numpy as np;"
        "print(ops.backend());"
        "print(retrieval.hamming_topk(np.array([[3]], np.uint8), np.array([[1],[3]], np.uint8), 1)[1].numpy())",
        TFHASH_DISABLE_CUSTOM_OPS="1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "stock TF (TFHASH_DISABLE_CUSTOM_OPS)" in result.stdout and "[[1]]" in result.stdout


def test_concurrent_first_builds_share_one_library(tmp_path):
    """Two processes build into an empty cache at once; both load a working op. The
    second builds as tfhash-train does: in a background thread (low priority) that
    load() waits for, and says so, instead of starting a build of its own."""
    code = ("from tfhash.ops import build; import tensorflow as tf, numpy as np;"
            "lib = tf.load_op_library(build.build());"
            "print(lib.packed_hamming_distance(np.array([[7]], np.uint8), np.array([[0]], np.uint8)).numpy())")
    background = (
        "import threading; from absl import logging; logging.set_verbosity(logging.INFO);"
        "from tfhash import ops; from tfhash.ops import build; import numpy as np;"
        "calls = []; real = build.build;"
        "build.build = lambda **kw: (calls.append((threading.current_thread().name, kw)), real(**kw))[1];"
        "thread = ops.build_in_background(); print('alive', thread.is_alive());"
        "module = ops.load(); print('calls', calls);"
        "print(module.packed_hamming_distance(np.array([[7]], np.uint8), np.array([[0]], np.uint8)).numpy());"
        "print('again', ops.build_in_background())")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TFHASH_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", c], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for c in (code, background)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
        assert "[[3]]" in out
        outputs.append((out, err))
    built = [p for p in tmp_path.rglob("*.so")]
    assert len(built) == 1 and not list(tmp_path.rglob(".build-*"))
    out, err = outputs[1]
    assert "alive True" in out and "again None" in out
    # one background build (low priority), then load's own call finds its library
    assert "calls [('tfhash-op-build', {'background': True}), ('MainThread', {})]" in out
    assert "in the background while training runs" in err
    assert "Waiting for the tfhash Hamming op's background build" in err


@pytest.mark.skipif(not __import__("shutil").which("nvcc"), reason="nvcc not installed")
def test_cuda_build_compiles_links_and_still_runs_on_cpu(tmp_path):
    """The CUDA kernels compile with nvcc and link into the op library; on a machine
    without a GPU the library loads and its CPU kernels answer (the GPU kernels can
    only be run on a GPU machine: benchmarks/gpu_kernel_check.py)."""
    code = ("from tfhash.ops import build; import tensorflow as tf, numpy as np;"
            "path = build.build(); info = build.build_info(path); assert info['cuda'], info;"
            "lib = tf.load_op_library(path);"
            "print(lib.packed_hamming_top_k(np.array([[3]], np.uint8), np.array([[1],[3],[0]], np.uint8), 2)[1].numpy())")
    result = run_python(code, TFHASH_BUILD_CUDA="1", TFHASH_CACHE_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[[1 0]]" in result.stdout
    library = next(tmp_path.rglob("_hamming_ops.so"))
    assert b"PackedHammingTopK CUDA launch failed" in library.read_bytes()


ISAS = ["scalar", "avx2", "avx512"]


def use_isa(monkeypatch, isa):
    """Forces a CPU path; skips when this CPU does not have it."""
    monkeypatch.setenv("TFHASH_CPU_ISA", isa)
    name = ops.backend()
    if "not supported" in name:
        pytest.skip(f"this CPU has no {isa}: {name}")
    assert name.startswith(f"custom CPU op ({'avx512-vpopcntdq' if isa == 'avx512' else isa}")
    return name


@needs_op
@pytest.mark.parametrize("isa", ISAS)
def test_topk_when_every_code_beats_the_threshold(rng, monkeypatch, isa):
    # Distances to the zero query fall as the index grows (then random codes follow):
    # every code of the first part passes the running threshold, which drops many
    # times through long runs of equal distances, and the later shards start from
    # the earlier ones' k-th distances.
    use_isa(monkeypatch, isa)
    n, nbytes = 12_000, 8
    ones = 64 - (np.arange(n) * 64) // n  # 64 down to 1, about 188 codes each
    bits = np.zeros((n, 64), bool)
    for i, m in enumerate(ones):
        bits[i, rng.choice(64, m, replace=False)] = True
    falling = np.packbits(bits, axis=1)
    database = np.concatenate([falling, rng.integers(0, 256, size=(3001, nbytes), dtype=np.uint8)])
    queries = np.concatenate([np.zeros((1, nbytes), np.uint8),
                              rng.integers(0, 256, size=(2, nbytes), dtype=np.uint8)])
    # reversed, distances rise, and the codes at the largest distance (all 64 bits
    # set) come last, in the last shard
    for db in (database, database[::-1]):
        for k in (1, 7, 100, 1000, 5000, len(db)):
            for q in (queries[:1], queries):  # one query (the database in shards) and three
                got_d, got_i = MODULE.packed_hamming_top_k(q, db, k)
                ref_d, ref_i = numpy_topk(q, db, k)
                np.testing.assert_array_equal(got_d.numpy(), ref_d)
                np.testing.assert_array_equal(got_i.numpy(), ref_i)


@needs_op
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("nbytes", [1, 2, 3, 7, 8, 9, 16, 31, 33, 64, 127, 128, 250])
def test_every_cpu_path_equals_the_stock_reference(rng, monkeypatch, isa, nbytes):
    use_isa(monkeypatch, isa)
    # values 0..3 in every byte: few distinct distances, ties everywhere; 3,001 codes:
    # not a multiple of 8, and enough groups that a few queries split the database
    q = rng.integers(0, 4, size=(5, nbytes), dtype=np.uint8)
    d = rng.integers(0, 4, size=(3001, nbytes), dtype=np.uint8)
    np.testing.assert_array_equal(MODULE.packed_hamming_distance(q, d).numpy(),
                                  hamming.stock_hamming_distance(q, d).numpy())
    for k in (1, 17, 3001):
        got_d, got_i = MODULE.packed_hamming_top_k(q, d, k)
        ref_d, ref_i = hamming.stock_hamming_topk(q, d, k)
        np.testing.assert_array_equal(got_d.numpy(), ref_d.numpy())
        np.testing.assert_array_equal(got_i.numpy(), ref_i.numpy())
    # many queries (one shard per query block) and random bytes (far apart codes)
    q = rng.integers(0, 256, size=(70, nbytes), dtype=np.uint8)
    d = rng.integers(0, 256, size=(1027, nbytes), dtype=np.uint8)
    got_d, got_i = MODULE.packed_hamming_top_k(q, d, 10)
    ref_d, ref_i = hamming.stock_hamming_topk(q, d, 10)
    np.testing.assert_array_equal(got_i.numpy(), ref_i.numpy())


@needs_op
def test_unknown_or_unsupported_isa_falls_back_and_says_so(monkeypatch):
    monkeypatch.setenv("TFHASH_CPU_ISA", "sse9")
    assert "TFHASH_CPU_ISA=sse9 is not one of avx512, avx2, scalar" in ops.backend()
    monkeypatch.delenv("TFHASH_CPU_ISA")
    assert "TFHASH_CPU_ISA" not in ops.backend()


@needs_op
@pytest.mark.parametrize("isa", ISAS)
def test_grouped_database_layout_and_search(rng, monkeypatch, isa):
    use_isa(monkeypatch, isa)
    d = rng.integers(0, 256, size=(21, 11), dtype=np.uint8)
    grouped = hamming.group_database(d)
    assert grouped.shape == (3, 2, 8) and grouped.dtype == np.uint64
    # code i, word w: bytes 8w..8w+7 little-endian, the 11-byte code zero padded
    padded = np.zeros((24, 16), np.uint8)
    padded[:21, :11] = d
    for i in (0, 7, 8, 20, 23):
        for w in range(2):
            assert grouped[i // 8, w, i % 8] == int.from_bytes(padded[i, 8 * w:8 * w + 8].tobytes(), "little")
    q = rng.integers(0, 256, size=(4, 11), dtype=np.uint8)
    for k in (1, 5, 21):
        got = hamming.hamming_topk_grouped(q, tf.constant(grouped), 21, k)
        ref = hamming.stock_hamming_topk(q, d, k)
        np.testing.assert_array_equal(got[0].numpy(), ref[0].numpy())
        np.testing.assert_array_equal(got[1].numpy(), ref[1].numpy())
    with pytest.raises(tf.errors.InvalidArgumentError, match="words per code"):
        MODULE.packed_hamming_top_k_grouped(q[:, :8], grouped, 21, 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not fit 3 groups"):
        MODULE.packed_hamming_top_k_grouped(q, grouped, 30, 1)
    with pytest.raises(ValueError, match="at most the database size 21"):
        hamming.hamming_topk_grouped(q, tf.constant(grouped), 21, 22)


@needs_op
def test_index_prepares_its_database_once(rng):
    index = retrieval.HammingIndex(64, mode="linear")
    index.add(rng.integers(0, 256, size=(1000, 8), dtype=np.uint8))
    q = rng.integers(0, 256, size=(1, 8), dtype=np.uint8)
    first = index.search(q, 5)
    grouped = index._segments[0].grouped
    second = index.search(q, 5)
    assert index._segments[0].grouped is grouped  # the same tensor: nothing regrouped or copied
    np.testing.assert_array_equal(first[1], second[1])
    index.add(rng.integers(0, 256, size=(3, 8), dtype=np.uint8))
    # the new codes are a segment of their own: the first one's layout is kept
    assert index._segments[0].grouped is grouped and index._segments[1].grouped is None
    distances, ids = index.search(q, 1003)
    ref_d, ref_i = hamming.stock_hamming_topk(q, index.codes, 1003)
    np.testing.assert_array_equal(ids, ref_i.numpy())
