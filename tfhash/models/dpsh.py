"""DPSH: deep pairwise-supervised hashing with a memory bank (baseline)."""

import keras
import tensorflow as tf

from tfhash import losses
from tfhash.models import base


@keras.saving.register_keras_serializable(package="tfhash")
class DPSH(base.HashingModel):
    """Pairwise likelihood between the batch and a bank of all training codes.

    As in the official code, the bank holds the latest code (and labels) of every
    training item, written by item index before the loss is taken; the batch is
    compared with the whole bank (bank entries carry no gradient). Under
    replication all replicas write the gathered global batch, so every replica
    holds the same bank.

    Loss: mean over (batch x bank) pairs of `softplus(theta) - s * theta`,
    plus `quant_weight * mean((u - sign(u))^2)`.

    Args:
      num_train: number of training items (rows of the bank).
      num_classes: label width.
      quant_weight: weight of the quantisation term.
      memory_bank: False compares the global batch with itself instead (no bank).

    Reference: Li, Wang, Kang, IJCAI 2016.
    """

    def __init__(self, backbone, bits, num_train, num_classes, quant_weight=0.1,
                 memory_bank=True, **kwargs):
        super().__init__(backbone, bits, **kwargs)
        self.memory_bank = bool(memory_bank)
        if num_train <= 0 or num_classes <= 0:
            raise ValueError(f"num_train and num_classes must be positive, got {num_train}, {num_classes}")
        self.num_train = int(num_train)
        self.num_classes = int(num_classes)
        self.quant_weight = float(quant_weight)
        self.bank_codes = self.add_weight(
            shape=(self.num_train, self.bits), initializer="zeros", trainable=False,
            aggregation="only_first_replica", name="bank_codes",
        )
        self.bank_labels = self.add_weight(
            shape=(self.num_train, self.num_classes), initializer="zeros", trainable=False,
            aggregation="only_first_replica", name="bank_labels",
        )

    def compute_hash_loss(self, codes, batch):
        if not self.memory_bank:
            return self._in_batch_loss(codes, batch)
        return self.bank_loss(codes, batch, update_bank=True)

    def bank_loss(self, codes, batch, update_bank):
        """Pair loss against the bank (with this global batch written in) + quantisation;
        the bank variables are updated only when `update_bank`."""
        index = base.replica_gather(batch["index"])[:, None]  # (global, 1)
        bank_codes = tf.tensor_scatter_nd_update(
            tf.convert_to_tensor(self.bank_codes), index,
            base.replica_gather(tf.stop_gradient(codes)))  # (num_train, bits)
        bank_labels = tf.tensor_scatter_nd_update(
            tf.convert_to_tensor(self.bank_labels), index, base.replica_gather(batch["label"]))
        global_batch = tf.cast(tf.shape(index)[0], tf.float32)
        similarity = losses.label_similarity(batch["label"], bank_labels)
        pair = tf.reduce_sum(losses.pairwise_likelihood(codes, bank_codes, similarity))
        pair = pair / (global_batch * self.num_train)
        quant = tf.reduce_sum(losses.quantization(codes)) / (global_batch * self.bits)
        if update_bank:
            self.bank_codes.assign(bank_codes)
            self.bank_labels.assign(bank_labels)
        return pair + self.quant_weight * quant, {"pair_loss": pair, "quant_loss": quant}

    def _in_batch_loss(self, codes, batch):
        all_codes = base.replica_gather(codes)  # (global, bits), differentiable
        global_batch = tf.cast(tf.shape(all_codes)[0], tf.float32)
        similarity = losses.label_similarity(batch["label"], base.replica_gather(batch["label"]))
        pair = tf.reduce_sum(losses.pairwise_likelihood(codes, all_codes, similarity))
        pair = pair / (global_batch * global_batch)
        quant = tf.reduce_sum(losses.quantization(codes)) / (global_batch * self.bits)
        return pair + self.quant_weight * quant, {"pair_loss": pair, "quant_loss": quant}

    def get_config(self):
        config = super().get_config()
        config.update(num_train=self.num_train, num_classes=self.num_classes,
                      quant_weight=self.quant_weight, memory_bank=self.memory_bank)
        return config
