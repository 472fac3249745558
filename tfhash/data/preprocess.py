"""The one image preprocessing: decode, resize, round, cast.

Training, evaluation, the exported serving signatures, figures and the serving
client all call these functions, so a model is served exactly as it was trained
and evaluated. Normalisation per backbone happens inside the model, so what crosses
this boundary is always uint8 pixels `[..., S, S, 3]`.
"""

import tensorflow as tf


def decode(data):
    """Encoded JPEG/PNG/BMP/GIF bytes (a scalar string tensor) -> uint8 `[H, W, 3]`.

    Grey images are expanded to three channels and alpha is dropped; a GIF gives its
    first frame.
    """
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
