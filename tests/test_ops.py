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
    """Two processes build into an empty cache at once; both load a working op."""
    code = ("from tfhash.ops import build; import tensorflow as tf, numpy as np;"
            "lib = tf.load_op_library(build.build());"
            "print(lib.packed_hamming_distance(np.array([[7]], np.uint8), np.array([[0]], np.uint8)).numpy())")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TFHASH_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
        assert "[[3]]" in out
    built = [p for p in tmp_path.rglob("*.so")]
    assert len(built) == 1 and not list(tmp_path.rglob(".build-*"))


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
