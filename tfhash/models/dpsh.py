"""DPSH: deep pairwise-supervised hashing with a memory bank (baseline)."""

import keras

from tfhash import losses
from tfhash.layers import MemoryBank
from tfhash.models import base


@keras.saving.register_keras_serializable(package="tfhash")
class DPSH(base.NetworkModel):
    """Pairwise likelihood between the batch and a bank of all training codes.

    As in the official code, the bank holds the latest code (and labels) of every
    training item, written by item index before the loss is taken; the batch is
    compared with the whole bank (bank entries carry no gradient).

    Loss: mean over (batch x bank) pairs of `softplus(theta) - s * theta`,
    `theta = scale * u.v`, plus `quant_weight * mean((u - sign(u))^2)`
    (`losses.bank_likelihood`).

    Args:
      network: the image hashing network (`layers.HashingNetwork`).
      num_train: number of training items (rows of the bank).
      num_classes: label width.
      quant_weight: weight of the quantisation term.
      memory_bank: False compares the global batch with itself instead (no bank).
      max_logit: 0 for the paper's logit `0.5 * u.v`; > 0 for `max_logit * u.v / bits`
        (the logit of two codes that agree on every bit is then `max_logit` at
        every code length; `losses.logit_scale`).
      similarity: label similarity, "shared" or "jaccard" (`losses.label_similarity`).
      balance_weight: weight of a bit-balance term on the global batch (0: none).

    Reference: Li, Wang, Kang, IJCAI 2016.
    """

    def __init__(self, network, num_train, num_classes, quant_weight=0.1, memory_bank=True,
                 max_logit=0.0, similarity="shared", balance_weight=0.0, **kwargs):
        super().__init__(network, **kwargs)
        losses.check_pair_settings(similarity, balance_weight)
        self.memory_bank = bool(memory_bank)
        self.max_logit = float(max_logit)
        self.num_train = int(num_train)
        self.num_classes = int(num_classes)
        self.quant_weight = float(quant_weight)
        self.similarity, self.balance_weight = similarity, float(balance_weight)
        self.bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="bank")

    def compute_hash_loss(self, codes, batch):
        settings = dict(scale=losses.logit_scale(self.bits, self.max_logit),
                        quant_weight=self.quant_weight, similarity=self.similarity,
                        balance_weight=self.balance_weight)
        if self.memory_bank:
            return losses.bank_likelihood(self.bank, codes, batch, **settings)
        return losses.batch_likelihood(codes, batch["label"], **settings)

    def get_config(self):
        config = super().get_config()
        config.update(num_train=self.num_train, num_classes=self.num_classes,
                      quant_weight=self.quant_weight, memory_bank=self.memory_bank,
                      max_logit=self.max_logit, similarity=self.similarity,
                      balance_weight=self.balance_weight)
        return config

