"""DPSH: deep pairwise-supervised hashing with a memory bank (baseline)."""

import keras
import tensorflow as tf

from tfhash import backbones, losses, replicas
from tfhash.layers import MemoryBank
from tfhash.models import base, registry


def logit_scale(bits, max_logit):
    """The factor of the pairwise logit `theta = scale * u.v`.

    `max_logit` <= 0: the paper's 0.5, so two codes that agree on every bit have
    logit bits / 2, which grows with the code length. `max_logit` > 0: that logit is
    `max_logit` at any length, `scale = max_logit / bits` (docs/dpsh_code_length.md)."""
    return 0.5 if max_logit <= 0 else float(max_logit) / bits


def _pair_logs(theta, similarity, pairs):
    right, wrong = losses.saturated_pairs(theta, similarity)
    return {"sat_right": right / pairs, "sat_wrong": wrong / pairs}


def bank_likelihood(bank, codes, batch, quant_weight, update_bank, scale=0.5,
                    similarity="shared", balance_weight=0.0):
    """DPSH's semantic loss of `codes` against `bank` (a `MemoryBank`) with this global
    batch written in, plus `quant_weight` x the quantisation term.

    Returns `(loss, logs)`, this replica's share; logs: pair and quantisation loss,
    the shares of pairs whose logit is saturated on the right (`sat_right`) and on
    the wrong side (`sat_wrong`), and the bit balance of the global batch's signs.
    With `balance_weight`, the bit balance of the global batch's relaxed codes is
    added. The bank keeps the written batch only when `update_bank`. DSaH's hashing
    network uses the same loss.
    """
    bank_codes, bank_labels, global_batch = bank.written(batch["index"], codes, batch["label"])
    kind = similarity
    similarity = losses.label_similarity(batch["label"], bank_labels, kind)
    theta = losses.likelihood_logits(codes, bank_codes, scale)  # (local, num_train)
    pairs = global_batch * bank.size
    pair = tf.reduce_sum(losses.likelihood_from_logits(theta, similarity)) / pairs
    quant = tf.reduce_sum(losses.quantization(codes)) / (global_batch * codes.shape[-1])
    if update_bank:
        bank.store(bank_codes, bank_labels)
    logs = dict(_pair_logs(tf.stop_gradient(theta), similarity, pairs), pair_loss=pair,
                quant_loss=quant)
    return _with_balance(pair + quant_weight * quant, logs, codes, balance_weight)


def _with_balance(loss, logs, codes, balance_weight):
    """Adds the bit-balance log (and term, when weighted) of the global batch."""
    logs["balance"] = tf.stop_gradient(replicas.global_balance(tf.sign(codes)))
    if balance_weight:
        loss += balance_weight * replicas.global_balance(codes)
    return loss, logs


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
      max_logit: 0 for the paper's logit `0.5 * u.v`; > 0 for `max_logit * u.v / bits`
        (the logit of two codes that agree on every bit is then `max_logit` at
        every code length).

    Reference: Li, Wang, Kang, IJCAI 2016.
    """

    def __init__(self, backbone, bits, num_train, num_classes, quant_weight=0.1,
                 memory_bank=True, max_logit=0.0, **kwargs):
        super().__init__(backbone, bits, **kwargs)
        self.memory_bank = bool(memory_bank)
        self.max_logit = float(max_logit)
        self.num_train = int(num_train)
        self.num_classes = int(num_classes)
        self.quant_weight = float(quant_weight)
        self.bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="bank")

    @classmethod
    def from_run_config(cls, config, spec):
        return cls(backbones.make_backbone(config.model, spec.image_size), num_train=spec.num_train,
                   num_classes=spec.num_classes, quant_weight=config.dpsh.quant_weight,
                   memory_bank=config.dpsh.memory_bank, max_logit=config.dpsh.max_logit,
                   **cls.common_args(config))

    def compute_hash_loss(self, codes, batch):
        scale = logit_scale(self.bits, self.max_logit)
        if self.memory_bank:
            return bank_likelihood(self.bank, codes, batch, self.quant_weight, True, scale,
                                   self.similarity, self.balance_weight)
        pairs = replicas.global_pairs(batch["label"], codes, similarity=self.similarity)
        (all_codes,) = pairs.codes  # (global, bits), differentiable
        theta = losses.likelihood_logits(codes, all_codes, scale)
        count = pairs.size * pairs.size
        pair = tf.reduce_sum(losses.likelihood_from_logits(theta, pairs.similarity)) / count
        quant = tf.reduce_sum(losses.quantization(codes)) / (pairs.size * self.bits)
        logs = dict(_pair_logs(tf.stop_gradient(theta), pairs.similarity, count), pair_loss=pair,
                    quant_loss=quant)
        return _with_balance(pair + self.quant_weight * quant, logs, codes, self.balance_weight)

    def get_config(self):
        config = super().get_config()
        config.update(num_train=self.num_train, num_classes=self.num_classes,
                      quant_weight=self.quant_weight, memory_bank=self.memory_bank,
                      max_logit=self.max_logit)
        return config
