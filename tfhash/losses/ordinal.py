"""DOH's ordinal losses (../shared/design/METHODS.md, DOH): soft group assignments,
their similarity, the likelihood and triplet forms, and the classification heads.

Every function returns unreduced terms; the model divides by the global counts.
"""

import tensorflow as tf

from tfhash.losses import pairwise


def soft_assignment(logits, temperature):
    """`softmax(h / tau)` over the K members of each group: (batch, R, K)."""
    return tf.nn.softmax(logits / temperature, axis=-1)


def ordinal_similarity(p, q):
    """`s_ij = sum_r p_i^r . q_j^r`, the expected number of groups in which i and j pick
    the same member: (a, b) in [0, R] from (a, R, K) and (b, R, K)."""
    return tf.einsum("irk,jrk->ij", p, q)


def ordinal_logits(similarity_hat, groups, max_logit):
    """`theta = max_logit * (2 s / R - 1)`: -max_logit when no group agrees, +max_logit
    when all do (the length-normalised logit of DPSH's fix, docs/dpsh_code_length.md)."""
    return max_logit * (2.0 * similarity_hat / groups - 1.0)


def ordinal_likelihood(similarity_hat, similarity, groups, max_logit):
    """DPSH's pairwise likelihood on the ordinal logits, (a, b) per pair."""
    return pairwise.likelihood_from_logits(ordinal_logits(similarity_hat, groups, max_logit),
                                           similarity)


def ordinal_triplet(similarity_hat, similarity, margin):
    """`max(0, m - s_ij + s_ik)` over the (j, k) pairs of each anchor i with
    `similarity[i, j] > similarity[i, k]` (`pairwise.ranking_triplets` on the ordinal
    similarities): `(losses (a,), counts (a,))`."""
    return pairwise.ranking_triplets(similarity_hat, similarity, margin)


def classification(logits, labels, multi_label):
    """Per-item cross-entropy of a classification head: softmax over the classes for
    single-label data, independent sigmoids (summed) for multi-label data."""
    labels = tf.cast(labels, logits.dtype)
    if multi_label:
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
                             axis=-1)
    return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
