"""A memory bank: the latest output (and labels) of every training item."""

import keras
import tensorflow as tf

from tfhash import replicas


@keras.saving.register_keras_serializable(package="tfhash")
class MemoryBank(keras.layers.Layer):
    """Rows of the latest codes and labels of all training items, by item index.

    DPSH's official code compares each mini-batch with such a bank: the batch is
    written in first (by the items' `index`), then the loss is taken against the
    whole bank, whose entries carry no gradient. Under replication every replica
    writes the gathered global batch, so every replica holds the same bank.

    Args:
      size: rows (training items).
      dim: width of a stored code.
      label_dim: width of the stored multi-hot labels.
    """

    def __init__(self, size, dim, label_dim, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("size", size), ("dim", dim), ("label_dim", label_dim)):
            if isinstance(value, bool) or int(value) != value or value <= 0:
                raise ValueError(f"MemoryBank {name} must be a positive integer, got {value!r}")
        self.size, self.dim, self.label_dim = int(size), int(dim), int(label_dim)
        self.codes = self.add_weight(
            shape=(self.size, self.dim), initializer="zeros", trainable=False,
            aggregation="only_first_replica", name="bank_codes")
        self.labels = self.add_weight(
            shape=(self.size, self.label_dim), initializer="zeros", trainable=False,
            aggregation="only_first_replica", name="bank_labels")
        self.built = True  # every weight exists already

    def written(self, index, codes, labels):
        """The bank with this global batch written in, without storing it.

        Args:
          index: int64 `(local,)` rows of this replica's items.
          codes: `(local, dim)`; labels: `(local, label_dim)`.

        Returns:
          `(codes (size, dim), labels (size, label_dim), global batch size float32)`.
        """
        rows = replicas.replica_gather(index)[:, None]  # (global, 1)
        bank_codes = tf.tensor_scatter_nd_update(
            tf.convert_to_tensor(self.codes), rows, replicas.replica_gather(tf.stop_gradient(codes)))
        bank_labels = tf.tensor_scatter_nd_update(
            tf.convert_to_tensor(self.labels), rows, replicas.replica_gather(labels))
        return bank_codes, bank_labels, tf.cast(tf.shape(rows)[0], tf.float32)

    def store(self, codes, labels):
        """Keeps `written`'s result as the bank."""
        self.codes.assign(codes)
        self.labels.assign(labels)

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, dim=self.dim, label_dim=self.label_dim)
        return config
