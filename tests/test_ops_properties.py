"""Property-based checks of the custom op (hypothesis): over dtypes, ranks, byte widths,
k and empty inputs, every call either gives NumPy's answer or raises a clear error
(InvalidArgument, or a TypeError/ValueError before the kernel runs); never a crash,
which would take this test process down with it."""

import numpy as np
import pytest
import tensorflow as tf

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.test_hamming import numpy_distance, numpy_topk  # noqa: E402
from tfhash import ops, retrieval  # noqa: E402

MODULE = ops.load()
needs_op = pytest.mark.skipif(MODULE is None, reason=f"custom op not built: {ops.backend()}")
ERRORS = (tf.errors.InvalidArgumentError, TypeError, ValueError)
DTYPES = [np.uint8, np.int8, np.int32, np.int64, np.float32, np.bool_]


@st.composite
def arrays(draw, rows):
    dtype = draw(st.sampled_from(DTYPES)) if draw(st.integers(0, 4)) == 0 else np.uint8
    rank = draw(st.sampled_from([2, 2, 2, 2, 0, 1, 3]))
    width = draw(st.integers(0, 20))
    shape = {0: (), 1: (width,), 2: (rows, width), 3: (rows, width, 2)}[rank]
    seed = draw(st.integers(0, 2 ** 32 - 1))
    values = np.random.default_rng(seed).integers(0, 4 if draw(st.booleans()) else 256, size=shape)
    return values.astype(dtype)


def valid_pair(q, d):
    """uint8 [n, B] and [m, B] with B >= 1."""
    return (q.dtype == np.uint8 and d.dtype == np.uint8 and q.ndim == 2 and d.ndim == 2
            and q.shape[1] == d.shape[1] and q.shape[1] >= 1)


def tensors(q, d):
    """The raw op's Python wrapper casts NumPy arrays to the declared uint8 (as every
    generated TF op wrapper does); tensors keep their dtype, so the kernel's own
    checks are what is tested. The public API checks NumPy input itself (below)."""
    return tf.constant(q), tf.constant(d)


@st.composite
def cases(draw):
    same_width = draw(st.booleans())
    q = draw(arrays(draw(st.integers(0, 6))))
    d = draw(arrays(draw(st.integers(0, 40))))
    if same_width and q.ndim == 2 and d.ndim == 2:
        d = d[:, : q.shape[1]] if d.shape[1] >= q.shape[1] else np.pad(
            d, ((0, 0), (0, q.shape[1] - d.shape[1])))
    k = draw(st.integers(-2, 45))
    return q, d, k


@needs_op
@settings(max_examples=300, deadline=None)
@given(cases())
def test_distance_is_numpys_or_a_clear_error(case):
    q, d, _ = case
    if valid_pair(q, d):
        out = MODULE.packed_hamming_distance(*tensors(q, d))
        np.testing.assert_array_equal(out.numpy(), numpy_distance(q, d).reshape(len(q), len(d)))
    else:
        with pytest.raises(ERRORS):
            MODULE.packed_hamming_distance(*tensors(q, d))


@needs_op
@settings(max_examples=300, deadline=None)
@given(cases())
def test_top_k_is_numpys_or_a_clear_error(case):
    q, d, k = case
    if valid_pair(q, d) and 1 <= k <= len(d):
        dist, idx = MODULE.packed_hamming_top_k(*tensors(q, d), k)
        ref_d, ref_i = numpy_topk(q, d, k) if len(q) else (np.zeros((0, k)), np.zeros((0, k)))
        np.testing.assert_array_equal(dist.numpy(), ref_d)
        np.testing.assert_array_equal(idx.numpy(), ref_i)
    else:
        with pytest.raises(ERRORS):
            MODULE.packed_hamming_top_k(*tensors(q, d), k)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_public_api_is_numpys_or_a_clear_error(case):
    """`retrieval.hamming_topk` (custom op or stock fallback, whichever is loaded)."""
    q, d, k = case
    if valid_pair(q, d) and 1 <= k <= len(d):
        dist, idx = retrieval.hamming_topk(q, d, k)
        if len(q):
            ref_d, ref_i = numpy_topk(q, d, k)
            np.testing.assert_array_equal(dist.numpy(), ref_d)
            np.testing.assert_array_equal(idx.numpy(), ref_i)
        else:
            assert tuple(idx.shape) == (0, k)
    else:
        with pytest.raises(ERRORS):
            retrieval.hamming_topk(q, d, k)
