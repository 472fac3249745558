"""The global batch seen from one replica: gathering codes and labels, pair counts.

A method's `train_step` runs in replica context (inside `strategy.run`). Pairwise
losses must see the whole global batch, and the loss a replica returns must be its
share of the global loss (divided by the global number of pairs or items), so that
summing over replicas gives the loss of one replica on the whole global batch.
"""

from typing import NamedTuple, Tuple

import tensorflow as tf

from tfhash.losses import pairwise


def replica_gather(x):
    """Concatenates `x` over all replicas along axis 0 (differentiable).

    Under a multi-replica strategy this is `all_gather`, whose gradient sends each
    replica its own slice of the summed upstream gradient; with one replica (or
    outside a strategy) it is the identity, so both paths compute the same thing.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return x
    local_devices = ctx.strategy.extended.worker_devices
    if not x.device and len(local_devices) == 1:
        # MultiWorkerMirroredStrategy with one device per worker leaves the tensors of
        # its replica unplaced, and its gather needs a placed one as the destination.
        with tf.device(local_devices[0]):
            x = tf.identity(x)
    return ctx.all_gather(x, axis=0)


def num_replicas():
    """Replicas in sync (1 outside a strategy)."""
    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


class GlobalPairs(NamedTuple):
    """This replica's rows against the global batch.

    Attributes:
      codes: each given code tensor gathered over replicas, `(global, bits)`.
      similarity: `(local, global)` label similarity (1 where a label is shared).
      size: the global batch size, float32 (pairs: `size * size`).
    """

    codes: Tuple[tf.Tensor, ...]
    similarity: tf.Tensor
    size: tf.Tensor


def global_pairs(labels, *codes, similarity="shared"):
    """Gathers `codes` (any number of `(local, bits)` tensors, gradients flow back
    through the gather) and `labels` over replicas, and the `(local, global)`
    similarity (`pairwise.label_similarity` of kind `similarity`) of this replica's
    items with every item of the global batch."""
    all_labels = replica_gather(labels)
    gathered = tuple(replica_gather(c) for c in codes)
    size = tf.cast(tf.shape(all_labels)[0], tf.float32)
    return GlobalPairs(gathered, pairwise.label_similarity(labels, all_labels, similarity), size)


def global_balance(codes):
    """This replica's share of the bit balance of the global batch (`pairwise.bit_balance`
    of the gathered codes, divided by the replicas: the shares sum to the term)."""
    return pairwise.bit_balance(replica_gather(codes)) / num_replicas()


def global_size(local):
    """The global batch size (float32) of a per-replica tensor's first axis."""
    return tf.cast(tf.shape(replica_gather(local))[0], tf.float32)


def global_rows(local):
    """int64 `(local,)`: the rows of this replica's items in the gathered global batch
    (replicas are gathered in replica order)."""
    ctx = tf.distribute.get_replica_context()
    size = tf.shape(local, out_type=tf.int64)[0]
    replica = 0 if ctx is None else ctx.replica_id_in_sync_group
    return tf.cast(replica, tf.int64) * size + tf.range(size, dtype=tf.int64)
