"""Pairwise hashing losses, as (rows x columns) matrices or per-row terms.

Every function returns unreduced terms; the model divides by the global number of
pairs or items, so the loss is the same however the batch is split over replicas.
"""

import tensorflow as tf


SIMILARITIES = ("shared", "jaccard", "count")


def label_similarity(labels_a, labels_b, kind="shared"):
    """float32 [a, b] similarity of multi-hot labels.

    "shared": 1 where two items share at least one label, else 0 (the usual rule);
    "jaccard": shared labels / labels of either, in [0, 1]: on multi-label data two
    items that share one of many labels are only partly similar (equal to "shared"
    on single-label data);
    "count": the number of shared labels (graded; for ranking losses, which only
    compare similarities).
    """
    a, b = tf.cast(labels_a, tf.float32), tf.cast(labels_b, tf.float32)
    shared = tf.matmul(a, b, transpose_b=True)  # (a, b) labels in common
    if kind == "shared":
        return tf.cast(shared > 0, tf.float32)
    if kind == "count":
        return shared
    if kind == "jaccard":
        either = tf.reduce_sum(a, axis=1)[:, None] + tf.reduce_sum(b, axis=1)[None, :] - shared
        return shared / tf.maximum(either, 1.0)
    raise ValueError(f"similarity must be one of {SIMILARITIES}, got {kind!r}")


def check_pair_settings(similarity, balance_weight):
    """The pairwise losses' shared settings: a known similarity kind and a balance
    weight >= 0 (a clear error otherwise)."""
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
    if float(balance_weight) < 0:
        raise ValueError(f"balance_weight must be >= 0, got {balance_weight}")


def bit_balance(codes):
    """Mean over bits of (mean over the items of a bit)^2: 0 when every bit splits the
    items in half, 1 when every bit is the same +-1 for all (a collapse).

    Args:
      codes: (n, bits), all the items the balance is over (e.g. the global batch).
    """
    return tf.reduce_mean(tf.square(tf.reduce_mean(codes, axis=0)))


def likelihood_logits(u, v, scale=0.5):
    """The pairwise logits `theta = scale * u.v`, (a, b); DPSH's is scale 0.5."""
    return scale * tf.matmul(u, v, transpose_b=True)


def likelihood_from_logits(theta, similarity):
    """`softplus(theta) - s * theta` per pair: the negative log-likelihood of
    `similarity` under sigmoid(theta), with the numerically stable softplus."""
    return tf.nn.softplus(theta) - similarity * theta


def pairwise_likelihood(u, v, similarity, scale=0.5):
    """DPSH negative log-likelihood of `similarity` under sigmoid(scale * u.v).

    Args:
      u: (a, bits) codes; v: (b, bits) codes; similarity: (a, b) in {0, 1};
      scale: the logit's factor (0.5 in the paper).

    Returns:
      (a, b) per-pair losses.

    Reference: Li, Wang, Kang, "Feature Learning based Deep Supervised Hashing with
    Pairwise Labels", IJCAI 2016.
    """
    return likelihood_from_logits(likelihood_logits(u, v, scale), similarity)


def saturated_pairs(theta, similarity, threshold=0.01):
    """Pairs whose likelihood gradient `sigmoid(theta) - s` is within `threshold` of
    0 (saturated on the right side: the pair no longer teaches anything) and within
    `threshold` of +-1 (saturated on the wrong side), as two float32 counts."""
    error = tf.abs(tf.sigmoid(theta) - similarity)
    right = tf.reduce_sum(tf.cast(error < threshold, tf.float32))
    wrong = tf.reduce_sum(tf.cast(error > 1.0 - threshold, tf.float32))
    return right, wrong


def squared_distances(u, v):
    """(a, b) squared Euclidean distances, clamped at 0 against rounding."""
    uu = tf.reduce_sum(tf.square(u), axis=1, keepdims=True)  # (a, 1)
    vv = tf.reduce_sum(tf.square(v), axis=1)[None, :]  # (1, b)
    return tf.maximum(uu + vv - 2.0 * tf.matmul(u, v, transpose_b=True), 0.0)


def contrastive(u, v, similarity, margin):
    """DSH contrastive loss per pair.

    `0.5 * s * d + 0.5 * (1 - s) * max(0, margin - d)` with `d = ||u_i - v_j||^2`.

    Reference: Liu, Wang, Shan, Chen, "Deep Supervised Hashing for Fast Image
    Retrieval", CVPR 2016.
    """
    d = squared_distances(u, v)
    return 0.5 * similarity * d + 0.5 * (1.0 - similarity) * tf.nn.relu(margin - d)


def quantization(u):
    """Per-row `||u - sign(u)||^2`."""
    return tf.reduce_sum(tf.square(u - tf.sign(u)), axis=1)


def unit_magnitude(u):
    """Per-row `|| |u| - 1 ||_1` (DSH's regulariser towards binary values)."""
    return tf.reduce_sum(tf.abs(tf.abs(u) - 1.0), axis=1)


def bitwise_cross_entropy(logits, targets):
    """Per-bit binary cross-entropy of `sigmoid(logits)` against targets in [0, 1]
    (DAgH's stage 2 against `(B + 1) / 2`), (batch, bits), numerically stable."""
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)


def code_distances(u, v, squared=False):
    """(a, b) Euclidean (or squared) distances between relaxed codes; the Euclidean one
    is `sqrt(d^2 + 1e-4)`, whose slope stays bounded when two codes coincide (the
    plain square root's is infinite at 0 and turns rounding noise into large
    gradients)."""
    d = squared_distances(u, v)
    return d if squared else tf.sqrt(d + 1e-4)


def ranking_triplets(scores, similarity, margin, exclude=None):
    """`max(0, margin - score_ij + score_ik)` over the (j, k) pairs of each anchor i
    (a row) with `similarity[i, j] > similarity[i, k]`: j must score higher than k by
    the margin (a score is a closeness: a similarity, or a negated distance).
    `exclude` (a, b) bool marks candidates that take no part (e.g. the anchor
    itself among the candidates of its own modality).

    Returns:
      `(losses (a,), counts (a,))`: each anchor's summed hinge terms and its number
      of triplets.
    """
    diff = scores[:, :, None] - scores[:, None, :]  # (a, j, k): score_ij - score_ik
    valid = similarity[:, :, None] > similarity[:, None, :]
    if exclude is not None:
        keep = tf.logical_not(exclude)
        valid = valid & keep[:, :, None] & keep[:, None, :]
    valid = tf.cast(valid, scores.dtype)
    hinge = tf.nn.relu(margin - diff) * valid
    return tf.reduce_sum(hinge, axis=[1, 2]), tf.reduce_sum(valid, axis=[1, 2])
