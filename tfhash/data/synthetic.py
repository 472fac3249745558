"""Synthetic sources for checking that a method does what it claims."""

import numpy as np

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
