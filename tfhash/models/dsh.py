"""DSH: deep supervised hashing with a contrastive loss (baseline)."""

import keras
import tensorflow as tf

from tfhash import losses, replicas
from tfhash.models import base


@keras.saving.register_keras_serializable(package="tfhash")
class DSH(base.NetworkModel):
    """Contrastive loss over all pairs of the global batch.

    Each replica scores its own rows against the gathered global batch (gradients
    flow back through the gather), so the summed loss equals the loss over all
    (global x global) pairs.

    Loss: mean over pairs of `0.5 s d + 0.5 (1 - s) max(0, margin - d)`,
    `d = ||u_i - u_j||^2`, `margin = 2 * bits` by default, plus
    `alpha * mean over items of || |u| - 1 ||_1`.

    Args:
      network: the image hashing network (`layers.HashingNetwork`).
      alpha: weight of the regulariser towards binary values.
      margin: contrastive margin; 0 means 2 * bits.
      similarity: label similarity, "shared" or "jaccard" (`losses.label_similarity`).
      balance_weight: weight of a bit-balance term on the global batch's codes,
        squashed by tanh (DSH's codes are unbounded); 0 for none.

    Reference: Liu, Wang, Shan, Chen, CVPR 2016.
    """

    def __init__(self, network, alpha=0.01, margin=0.0, similarity="shared", balance_weight=0.0,
                 **kwargs):
        super().__init__(network, **kwargs)
        losses.check_pair_settings(similarity, balance_weight)
        self.alpha = float(alpha)
        self.margin = float(margin)
        self.similarity, self.balance_weight = similarity, float(balance_weight)

    def compute_hash_loss(self, codes, batch):
        pairs = replicas.global_pairs(batch["label"], codes, similarity=self.similarity)
        (all_codes,) = pairs.codes  # (global, bits)
        margin = self.margin if self.margin > 0 else 2.0 * self.bits
        pair = tf.reduce_sum(losses.contrastive(codes, all_codes, pairs.similarity, margin))
        pair = pair / (pairs.size * pairs.size)
        reg = tf.reduce_sum(losses.unit_magnitude(codes)) / pairs.size
        loss = pair + self.alpha * reg
        balance = losses.bit_balance(tf.sign(all_codes)) / replicas.num_replicas()
        if self.balance_weight:
            # on the relaxed codes squashed to (-1, 1): DSH's codes are unbounded
            loss += self.balance_weight * replicas.global_balance(tf.tanh(codes))
        return loss, {"pair_loss": pair, "reg_loss": reg, "balance": tf.stop_gradient(balance)}

    def get_config(self):
        config = super().get_config()
        config.update(alpha=self.alpha, margin=self.margin, similarity=self.similarity,
                      balance_weight=self.balance_weight)
        return config
