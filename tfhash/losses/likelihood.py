"""DPSH's pairwise likelihood as a training loss, shared by every method that uses it
(DPSH, DSaH's hashing network, DAgH's stage 1, DCMH's logit): against a memory bank
of every training item or within the global batch, with the length-normalised
logit, the quantisation term and an optional bit-balance term.

Each returns `(loss, logs)`: this replica's share of the global loss (divided by the
global number of pairs or items), so the shares of all replicas sum to the loss of
one replica on the whole global batch.
"""

import tensorflow as tf

from tfhash import replicas
from tfhash.losses import pairwise


def logit_scale(bits, max_logit):
    """The factor of the pairwise logit `theta = scale * u.v`.

    `max_logit` <= 0: the paper's 0.5, so two codes that agree on every bit have
    logit bits / 2, which grows with the code length. `max_logit` > 0: that logit is
    `max_logit` at any length, `scale = max_logit / bits` (docs/dpsh_code_length.md)."""
    return 0.5 if max_logit <= 0 else float(max_logit) / bits


def _pair_logs(theta, similarity, pairs):
    right, wrong = pairwise.saturated_pairs(theta, similarity)
    return {"sat_right": right / pairs, "sat_wrong": wrong / pairs}


def with_balance(loss, logs, codes, balance_weight):
    """Adds the bit balance of the global batch's signs to `logs` and, when
    `balance_weight` > 0, `balance_weight` x the balance of its relaxed codes to
    `loss`: `(loss, logs)`."""
    logs["balance"] = tf.stop_gradient(replicas.global_balance(tf.sign(codes)))
    if balance_weight:
        loss += balance_weight * replicas.global_balance(codes)
    return loss, logs


def bank_likelihood(bank, codes, batch, *, scale, quant_weight, similarity="shared",
                    balance_weight=0.0, update_bank=True):
    """The likelihood of `codes` (this replica's `(local, bits)`) against `bank` (a
    `layers.MemoryBank`) with this global batch written in, plus `quant_weight` x the
    mean quantisation error `||u - sign(u)||^2 / bits` (and the balance term).

    Args:
      bank: the memory bank; it keeps the written batch only when `update_bank`.
      codes: relaxed codes of the batch's items, differentiable.
      batch: `{"index", "label"}` of the items.
      scale: the logit's factor (`logit_scale`).
      quant_weight, balance_weight: the weights of the two extra terms.
      similarity: the label similarity (`pairwise.label_similarity`).

    Returns:
      `(loss, logs)`; logs: the pair and quantisation losses, the shares of pairs
      whose logit is saturated on the right (`sat_right`) and on the wrong side
      (`sat_wrong`), and the bit balance of the global batch's signs.
    """
    bank_codes, bank_labels, global_batch = bank.written(batch["index"], codes, batch["label"])
    relevant = pairwise.label_similarity(batch["label"], bank_labels, similarity)
    theta = pairwise.likelihood_logits(codes, bank_codes, scale)  # (local, num_train)
    pairs = global_batch * bank.size
    pair = tf.reduce_sum(pairwise.likelihood_from_logits(theta, relevant)) / pairs
    quant = tf.reduce_sum(pairwise.quantization(codes)) / (global_batch * codes.shape[-1])
    if update_bank:
        bank.store(bank_codes, bank_labels)
    logs = dict(_pair_logs(tf.stop_gradient(theta), relevant, pairs), pair_loss=pair,
                quant_loss=quant)
    return with_balance(pair + quant_weight * quant, logs, codes, balance_weight)


def batch_likelihood(codes, labels, *, scale, quant_weight, similarity="shared",
                     balance_weight=0.0):
    """The same loss over all pairs of the global batch (no bank): this replica's rows
    against every gathered row, gradients through the gather."""
    pairs = replicas.global_pairs(labels, codes, similarity=similarity)
    (all_codes,) = pairs.codes  # (global, bits), differentiable
    theta = pairwise.likelihood_logits(codes, all_codes, scale)
    count = pairs.size * pairs.size
    pair = tf.reduce_sum(pairwise.likelihood_from_logits(theta, pairs.similarity)) / count
    quant = tf.reduce_sum(pairwise.quantization(codes)) / (pairs.size * codes.shape[-1])
    logs = dict(_pair_logs(tf.stop_gradient(theta), pairs.similarity, count), pair_loss=pair,
                quant_loss=quant)
    return with_balance(pair + quant_weight * quant, logs, codes, balance_weight)
