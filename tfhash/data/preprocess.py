"""The one image preprocessing: decode, resize, round, cast.

Training, evaluation, the exported serving signatures, figures and the serving
client all call these functions, so a model is served exactly as it was trained
and evaluated. Normalisation per backbone happens inside the model, so what crosses
this boundary is always uint8 pixels `[..., S, S, 3]`.
"""

import tensorflow as tf

# Names the preprocessing below: caches of what it produced (trunk maps) record it, so a
# change here must change it.
VERSION = "decode-resize-antialias-bilinear-round-clip/1"

# The largest image decoded, in pixels (height x width): 2**26, e.g. 8192 x 8192. A
# larger one (such as a decompression bomb: a small file that would decode to
# gigabytes) is refused from its header, before any pixel is decoded.
DEFAULT_MAX_PIXELS = 2 ** 26
_max_pixels = DEFAULT_MAX_PIXELS


def set_max_pixels(max_pixels):
    """Sets the pixel limit of `decode` (`data.max_pixels` in the configs); returns the
    previous one. It is read when a decoding function is traced."""
    global _max_pixels
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise ValueError(f"data.max_pixels must be a positive integer, got {max_pixels!r}")
    previous, _max_pixels = _max_pixels, max_pixels
    return previous


def max_pixels():
    return _max_pixels


def _le(raw, start, count):
    """Little-endian unsigned integer of `count` bytes of uint8 `raw` from `start` (int64)."""
    value = tf.constant(0, tf.int64)
    for i in reversed(range(count)):
        value = value * 256 + tf.cast(raw[start + i], tf.int64)
    return value


def _be(raw, start, count):
    value = tf.constant(0, tf.int64)
    for i in range(count):
        value = value * 256 + tf.cast(raw[start + i], tf.int64)
    return value


def header_pixels(data):
    """Height x width (int64) read from the header of encoded JPEG/PNG/GIF/BMP bytes,
    without decoding; 0 for anything else (which `decode_image` then refuses)."""
    head = tf.strings.substr(tf.strings.join([tf.strings.substr(data, 0, 32), "\0" * 32]), 0, 32)
    raw = tf.io.decode_raw(head, tf.uint8)

    def starts(*magic):
        return tf.reduce_all(tf.equal(raw[:len(magic)], tf.constant(magic, tf.uint8)))

    def jpeg():
        shape = tf.image.extract_jpeg_shape(data, output_type=tf.int64)
        return shape[0] * shape[1]

    def bmp():
        height = _le(raw, 22, 4)
        height = tf.where(height >= 2 ** 31, 2 ** 32 - height, height)  # top-down BMPs
        return _le(raw, 18, 4) * height

    return tf.case([
        (starts(0xFF, 0xD8, 0xFF), jpeg),
        (starts(0x89, 0x50, 0x4E, 0x47), lambda: _be(raw, 16, 4) * _be(raw, 20, 4)),
        (starts(0x47, 0x49, 0x46, 0x38), lambda: _le(raw, 6, 2) * _le(raw, 8, 2)),
        (starts(0x42, 0x4D), bmp),
    ], default=lambda: tf.constant(0, tf.int64), exclusive=True)


def decode(data):
    """Encoded JPEG/PNG/BMP/GIF bytes (a scalar string tensor) -> uint8 `[H, W, 3]`.

    Grey images are expanded to three channels and alpha is dropped; 16-bit PNGs are
    scaled to 8 bits; a GIF gives its first frame. An image with more pixels than the
    limit (`set_max_pixels`) is refused from its header, before it is decoded.
    """
    limit = _max_pixels
    check = tf.debugging.assert_less_equal(
        header_pixels(data), tf.constant(limit, tf.int64),
        message=f"image refused: its header says it has more than the {limit} pixels allowed "
                "(data.max_pixels)")
    with tf.control_dependencies([check]):
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def read_file(path):
    """The image file at `path` (a scalar string tensor), decoded by `decode`."""
    return decode(tf.io.read_file(path))


def resize(images, size):
    """uint8 `[H, W, 3]` or `[N, H, W, 3]` -> uint8 of `size` x `size` pixels.

    Antialiased bilinear resizing, rounded to the nearest integer and clipped to
    0..255; images already of that size are returned unchanged.
    """
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise ValueError(f"images must be uint8 pixels, got {images.dtype.name}")
    if images.shape.rank not in (3, 4):
        raise ValueError(f"images must be [H, W, 3] or [N, H, W, 3], got shape {images.shape}")
    size = int(size)
    shape = tf.shape(images)
    height, width = shape[-3], shape[-2]
    check = tf.debugging.assert_positive(
        height * width, message="images must have at least one pixel (height and width > 0)")
    with tf.control_dependencies([check]):
        images = tf.identity(images)

    def scaled():
        out = tf.image.resize(images, [size, size], antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)

    same = tf.logical_and(tf.equal(height, size), tf.equal(width, size))
    out = tf.cond(same, lambda: images, scaled)
    return tf.ensure_shape(out, images.shape[:-3].concatenate([size, size, 3]))


def decode_and_resize(data, size):
    """Encoded image bytes -> uint8 `[size, size, 3]`."""
    return resize(decode(data), size)


def decode_batch(blobs, size):
    """A `[N]` string tensor of encoded images -> uint8 `[N, size, size, 3]`."""
    return tf.map_fn(lambda data: decode_and_resize(data, size), blobs,
                     fn_output_signature=tf.TensorSpec([size, size, 3], tf.uint8))
