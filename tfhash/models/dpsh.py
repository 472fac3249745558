"""DPSH: deep pairwise-supervised hashing with a memory bank (baseline)."""

import keras
import tensorflow as tf

from tfhash import backbones, losses, replicas
from tfhash.layers import MemoryBank
from tfhash.models import base, registry


def bank_likelihood(bank, codes, batch, quant_weight, update_bank):
    """DPSH's semantic loss of `codes` against `bank` (a `MemoryBank`) with this global
    batch written in, plus `quant_weight` x the quantisation term.

    Returns `(loss, {"pair_loss", "quant_loss"})`, this replica's share; the bank
    keeps the written batch only when `update_bank`. DSaH's hashing network uses the
    same loss.
    """
    bank_codes, bank_labels, global_batch = bank.written(batch["index"], codes, batch["label"])
    similarity = losses.label_similarity(batch["label"], bank_labels)
    pair = tf.reduce_sum(losses.pairwise_likelihood(codes, bank_codes, similarity))
    pair = pair / (global_batch * bank.size)
    quant = tf.reduce_sum(losses.quantization(codes)) / (global_batch * codes.shape[-1])
    if update_bank:
        bank.store(bank_codes, bank_labels)
    return pair + quant_weight * quant, {"pair_loss": pair, "quant_loss": quant}


@registry.register("dpsh")
@keras.saving.register_keras_serializable(package="tfhash")
class DPSH(base.HashingModel):
    """Pairwise likelihood between the batch and a bank of all training codes.

    As in the official code, the bank holds the latest code (and labels) of every
    training item, written by item index before the loss is taken; the batch is
    compared with the whole bank (bank entries carry no gradient).

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
        self.num_train = int(num_train)
        self.num_classes = int(num_classes)
        self.quant_weight = float(quant_weight)
        self.bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="bank")

    @classmethod
    def from_run_config(cls, config, spec):
        return cls(backbones.make_backbone(config.model, spec.image_size), num_train=spec.num_train,
                   num_classes=spec.num_classes, quant_weight=config.dpsh.quant_weight,
                   memory_bank=config.dpsh.memory_bank, **cls.head_args(config))

    def compute_hash_loss(self, codes, batch):
        if self.memory_bank:
            return bank_likelihood(self.bank, codes, batch, self.quant_weight, update_bank=True)
        pairs = replicas.global_pairs(batch["label"], codes)
        (all_codes,) = pairs.codes  # (global, bits), differentiable
        pair = tf.reduce_sum(losses.pairwise_likelihood(codes, all_codes, pairs.similarity))
        pair = pair / (pairs.size * pairs.size)
        quant = tf.reduce_sum(losses.quantization(codes)) / (pairs.size * self.bits)
        return pair + self.quant_weight * quant, {"pair_loss": pair, "quant_loss": quant}

    def get_config(self):
        config = super().get_config()
        config.update(num_train=self.num_train, num_classes=self.num_classes,
                      quant_weight=self.quant_weight, memory_bank=self.memory_bank)
        return config
