"""DSaH's saliency losses (see ../shared/design/METHODS.md, DSaH)."""

import tensorflow as tf

from tfhash.losses import pairwise


def saliency_margin(salient_u, salient_v, original_u, original_v, similarity, margin, scale=0.5):
    """Per pair `max(0, margin + l_ij(salient) - l_ij(original))`.

    `l_ij` is DPSH's pairwise term (logit `scale * u.v`); the salient images must
    explain each pair better than the original images by `margin`.

    Returns:
      (a, b) per-pair losses.
    """
    salient = pairwise.pairwise_likelihood(salient_u, salient_v, similarity, scale)
    original = pairwise.pairwise_likelihood(original_u, original_v, similarity, scale)
    return tf.nn.relu(margin + salient - original)


def mask_area(mask):
    """Per-image mean of the mask, the area term against the trivial all-ones mask."""
    return tf.reduce_mean(mask, axis=[1, 2, 3])
