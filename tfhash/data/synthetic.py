"""Synthetic sources for checking that a method does what it claims."""

import numpy as np

from tfhash.data.paired import PairedArraySource
from tfhash.data.sources import ArraySource

PATCH_COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)


def colour_patches(per_class=60, size=24, patch=6, seed=0):
    """Uniform noise images whose class is only the colour of one `patch` x `patch`
    square of pure colour at a random position (4 classes: red, green, blue, yellow).

    An attention network that attends puts its saliency on the square.

    Returns:
      (source, corners): an ArraySource listed class by class, and the (row, column)
      of each item's square, `(N, 2)`.
    """
    if not 0 < patch <= size:
        raise ValueError(f"patch must be in 1..size={size}, got {patch}")
    rng = np.random.default_rng(seed)
    n = per_class * len(PATCH_COLOURS)
    images = rng.integers(0, 256, (n, size, size, 3)).astype(np.uint8)
    classes = np.repeat(np.arange(len(PATCH_COLOURS)), per_class)
    corners = rng.integers(0, size - patch + 1, (n, 2))
    for image, c, (y, x) in zip(images, classes, corners):
        image[y:y + patch, x:x + patch] = PATCH_COLOURS[c]
    labels = np.eye(len(PATCH_COLOURS), dtype=np.float32)[classes]
    names = ["red", "green", "blue", "yellow"]
    return ArraySource(f"colour_patches(seed={seed})", images, labels, names), corners


def colour_patch_pairs(per_class=60, size=24, patch=6, vocabulary=40, seed=0):
    """The coloured-patch images paired with a noisy bag-of-words text per item.

    Each class owns `vocabulary // 8` words; an item's text has each word of its own
    class with probability 0.6 and every other word with probability 0.05 (and at
    least one word of its class), so the text says the class most of the time but
    not always. Images and corners are those of `colour_patches` with the same
    arguments.

    Returns:
      (source, corners) as `colour_patches`, the source carrying `text` `[N, V]`.
    """
    images_source, corners = colour_patches(per_class, size, patch, seed)
    classes = images_source.labels.argmax(axis=1)
    num_classes = images_source.num_classes
    per_word = vocabulary // 8
    if per_word < 1:
        raise ValueError(f"vocabulary must be at least 8 words, got {vocabulary}")
    rng = np.random.default_rng([seed, 2])
    own = np.zeros((len(classes), vocabulary), bool)
    for c in range(num_classes):
        own[classes == c, c * per_word:(c + 1) * per_word] = True
    draw = rng.random((len(classes), vocabulary))
    text = np.where(own, draw < 0.6, draw < 0.05)
    first_word = classes * per_word + rng.integers(0, per_word, len(classes))
    text[np.arange(len(classes)), first_word] = True
    words = [f"w{i}" for i in range(vocabulary)]
    source = PairedArraySource(f"colour_patch_pairs(seed={seed})", images_source.array,
                               images_source.labels, images_source.class_names,
                               text.astype(np.float32), vocabulary=words)
    return source, corners


def patch_saliency(maps, corners, patch):
    """Mean saliency inside and outside each item's square: two `(N,)` arrays.

    Args:
      maps: saliency maps `(N, H, W)`; corners: `(N, 2)` as from colour_patches.
    """
    maps = np.asarray(maps)
    inside = np.zeros(maps.shape[1:], bool)
    means_in, means_out = [], []
    for mask, (y, x) in zip(maps, corners):
        inside[:] = False
        inside[y:y + patch, x:x + patch] = True
        means_in.append(mask[inside].mean())
        means_out.append(mask[~inside].mean())
    return np.array(means_in), np.array(means_out)


def patch_mass(maps, corners, patch, size):
    """Share of each attention map's mass that falls inside the item's square.

    Args:
      maps: non-negative maps `(N, h, w)` over the image (e.g. a spatial softmax at
        the feature map's resolution); each cell's mass is spread evenly over the
        `size / h` x `size / w` pixels it covers.
      corners: `(N, 2)` as from colour_patches; patch, size: square and image sizes.

    Returns:
      `(N,)` shares in [0, 1]; a map with no preference scores patch^2 / size^2.
    """
    maps = np.asarray(maps, np.float64)
    rows, cols = size // maps.shape[1], size // maps.shape[2]
    shares = []
    for mass, (y, x) in zip(maps, corners):
        pixels = np.kron(mass, np.ones((rows, cols))) / (rows * cols)  # (size, size)
        shares.append(pixels[y:y + patch, x:x + patch].sum() / pixels.sum())
    return np.array(shares)
