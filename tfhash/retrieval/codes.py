"""Binary code formats: relaxed codes, {-1,+1} codes and packed uint8 codes.

Packed layout (faiss ``IndexBinary*`` and ``numpy.packbits(bitorder="little")``):
bit j of a code lives in byte j // 8 at position j % 8, least significant first;
padding bits of the last byte are zero, so Hamming distances are unchanged.
"""

import numpy as np
import tensorflow as tf

_BIT_WEIGHTS = (1, 2, 4, 8, 16, 32, 64, 128)


def check_bits(bits):
    """Returns `bits` as an int, or raises a ValueError naming the bad value."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits <= 0:
        raise ValueError(f"bits must be a positive integer, got {bits!r}")
    return int(bits)


def num_bytes(bits):
    """Bytes per packed code of `bits` bits: ceil(bits / 8)."""
    return (check_bits(bits) + 7) // 8


def binarize(codes):
    """Maps codes to {-1, +1} float32: +1 where the value is > 0, else -1.

    Accepts {-1,+1}, {0,1}, bool or real-valued codes; a real value of exactly 0
    maps to -1, the same bit `pack_codes` gives it.
    """
    codes = tf.convert_to_tensor(codes)
    positive = codes if codes.dtype == tf.bool else codes > tf.zeros([], codes.dtype)
    return tf.where(positive, 1.0, -1.0)


def pack_codes(codes):
    """Packs codes `[n, bits]` into uint8 `[n, ceil(bits / 8)]`, LSB first.

    Args:
      codes: `[n, bits]` codes as {-1,+1}, {0,1}, bool or real values (the sign is
        taken: a bit is 1 where the value is > 0).

    Returns:
      A uint8 `tf.Tensor` of shape `[n, ceil(bits / 8)]`.
    """
    codes = tf.convert_to_tensor(codes)
    if codes.shape.rank != 2:
        raise ValueError(f"codes must have shape [n, bits], got shape {codes.shape}")
    bits = codes.shape[1]
    if bits is None:
        bits = tf.shape(codes)[1]
    elif bits == 0:
        raise ValueError("codes must have at least one bit, got shape [n, 0]")
    positive = codes if codes.dtype == tf.bool else codes > tf.zeros([], codes.dtype)
    pad = (-bits) % 8
    positive = tf.pad(positive, [[0, 0], [0, pad]])  # (n, 8 * nbytes), padding False
    grouped = tf.reshape(tf.cast(positive, tf.uint8), [tf.shape(codes)[0], -1, 8])
    weights = tf.constant(_BIT_WEIGHTS, tf.uint8)
    # distinct powers of two sum to at most 255: no uint8 overflow
    return tf.reduce_sum(grouped * weights, axis=-1)


def unpack_codes(packed, bits):
    """Unpacks uint8 `[n, nbytes]` codes into {-1, +1} float32 `[n, bits]`."""
    bits = check_bits(bits)
    packed = tf.convert_to_tensor(packed)
    if packed.dtype != tf.uint8 or packed.shape.rank != 2:
        raise ValueError(
            f"packed codes must be uint8 of shape [n, nbytes], got {packed.dtype.name} "
            f"of shape {packed.shape}"
        )
    if packed.shape[1] is not None and packed.shape[1] != num_bytes(bits):
        raise ValueError(
            f"{bits} bits need {num_bytes(bits)} bytes per code, got {packed.shape[1]}"
        )
    shifts = tf.constant(list(range(8)), tf.uint8)
    unpacked = tf.bitwise.bitwise_and(
        tf.bitwise.right_shift(packed[:, :, None], shifts), tf.constant(1, tf.uint8)
    )  # (n, nbytes, 8)
    flat = tf.reshape(unpacked, [tf.shape(packed)[0], -1])[:, :bits]
    return tf.where(flat > 0, 1.0, -1.0)


def as_packed_numpy(codes, name="codes"):
    """Returns packed uint8 codes as a 2-D NumPy array, checking the format."""
    array = codes.numpy() if isinstance(codes, tf.Tensor) else np.asarray(codes)
    if array.dtype != np.uint8 or array.ndim != 2:
        raise ValueError(
            f"{name} must be packed uint8 codes of shape [n, nbytes] (see pack_codes), "
            f"got dtype {array.dtype} and shape {array.shape}"
        )
    return array


def checked_update(packed, ids, bits):
    """`(packed uint8 [n, ceil(bits / 8)], ids int64 [n])` of an update by id (each id
    once), or a ValueError naming the problem."""
    packed = as_packed_numpy(packed, "codes")
    ids = np.asarray(ids)
    if ids.shape != (packed.shape[0],) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be {packed.shape[0]} integers, got {ids.dtype} {ids.shape}")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("update takes each id once")
    if packed.shape[1] != num_bytes(bits):
        raise ValueError(f"{bits}-bit codes have {num_bytes(bits)} bytes, got {packed.shape[1]}")
    return packed, ids.astype(np.int64)
