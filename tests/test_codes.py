import numpy as np
import pytest
import tensorflow as tf

from tfhash import retrieval


@pytest.mark.parametrize("bits", [1, 7, 8, 12, 24, 63, 64, 65, 130])
def test_pack_matches_numpy_packbits_little(rng, bits):
    signs = rng.choice([-1.0, 1.0], size=(9, bits)).astype(np.float32)
    packed = retrieval.pack_codes(signs).numpy()
    expected = np.packbits(signs > 0, axis=1, bitorder="little")
    assert packed.dtype == np.uint8 and packed.shape == (9, (bits + 7) // 8)
    np.testing.assert_array_equal(packed, expected)
    np.testing.assert_array_equal(retrieval.unpack_codes(packed, bits).numpy(), signs)


def test_pack_accepts_zero_one_bool_and_real(rng):
    bits = rng.integers(0, 2, size=(5, 20))
    reference = np.packbits(bits.astype(bool), axis=1, bitorder="little")
    np.testing.assert_array_equal(retrieval.pack_codes(bits.astype(np.int32)).numpy(), reference)
    np.testing.assert_array_equal(retrieval.pack_codes(bits.astype(bool)).numpy(), reference)
    real = np.where(bits > 0, rng.uniform(0.01, 3, bits.shape), rng.uniform(-3, -0.01, bits.shape))
    np.testing.assert_array_equal(retrieval.pack_codes(real).numpy(), reference)


def test_padding_bits_are_zero():
    packed = retrieval.pack_codes(np.ones((1, 12))).numpy()
    assert packed.tolist() == [[255, 0b00001111]]


def test_hand_worked_bit_order():
    # bit j -> byte j // 8, position j % 8, least significant first
    codes = -np.ones((1, 16))
    codes[0, [0, 3, 9]] = 1
    assert retrieval.pack_codes(codes).numpy().tolist() == [[0b00001001, 0b00000010]]


def test_binarize_maps_zero_to_minus_one():
    np.testing.assert_array_equal(
        retrieval.binarize(np.array([[0.0, 0.2, -0.1]])).numpy(), [[-1.0, 1.0, -1.0]]
    )


@pytest.mark.parametrize("bits", [0, -3, 2.5, "8", True, None])
def test_bad_bits_are_clear_errors(bits):
    with pytest.raises(ValueError, match="bits must be a positive integer"):
        retrieval.unpack_codes(np.zeros((1, 1), np.uint8), bits)


def test_unpack_rejects_wrong_width():
    with pytest.raises(ValueError, match="need 2 bytes"):
        retrieval.unpack_codes(np.zeros((3, 3), np.uint8), 12)


def test_pack_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"shape \[n, bits\]"):
        retrieval.pack_codes(np.ones(8))


def test_pack_inside_tf_function(rng):
    signs = rng.choice([-1.0, 1.0], size=(4, 20)).astype(np.float32)
    packed = tf.function(retrieval.pack_codes)(tf.constant(signs))
    np.testing.assert_array_equal(packed.numpy(), np.packbits(signs > 0, axis=1, bitorder="little"))


def test_faiss_binary_flat_agrees(rng):
    faiss = pytest.importorskip("faiss")
    bits = 64
    db = rng.integers(0, 256, size=(300, bits // 8), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(7, bits // 8), dtype=np.uint8)
    index = faiss.IndexBinaryFlat(bits)
    index.add(db)
    faiss_d, _ = index.search(queries, 300)
    ours = np.sort(retrieval.hamming_distance(queries, db).numpy(), axis=1)
    np.testing.assert_array_equal(ours, faiss_d)
    # faiss reads the same packed layout: a code's distance to itself is 0 and to
    # its complement is `bits`
    codes = rng.choice([-1.0, 1.0], size=(2, bits))
    codes[1] = -codes[0]
    packed = retrieval.pack_codes(codes).numpy()
    index = faiss.IndexBinaryFlat(bits)
    index.add(packed)
    d, i = index.search(packed[:1], 2)
    assert d.tolist() == [[0, bits]] and i.tolist() == [[0, 1]]
