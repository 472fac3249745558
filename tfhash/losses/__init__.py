"""Hashing losses: unreduced pairwise, saliency and ordinal terms (each with a NumPy
reference in tests/), and the likelihood training losses several methods share."""

from tfhash.losses.pairwise import (
    SIMILARITIES,
    bit_balance,
    bitwise_cross_entropy,
    check_pair_settings,
    code_distances,
    contrastive,
    label_similarity,
    likelihood_from_logits,
    likelihood_logits,
    pairwise_likelihood,
    quantization,
    ranking_triplets,
    saturated_pairs,
    squared_distances,
    unit_magnitude,
)
from tfhash.losses.saliency import mask_area, saliency_margin
from tfhash.losses.likelihood import bank_likelihood, batch_likelihood, logit_scale, with_balance

__all__ = [
    "bank_likelihood",
    "batch_likelihood",
    "logit_scale",
    "with_balance",
    "SIMILARITIES",
    "bit_balance",
    "bitwise_cross_entropy",
    "check_pair_settings",
    "code_distances",
    "mask_area",
    "saliency_margin",
    "contrastive",
    "label_similarity",
    "likelihood_from_logits",
    "likelihood_logits",
    "pairwise_likelihood",
    "quantization",
    "ranking_triplets",
    "saturated_pairs",
    "squared_distances",
    "unit_magnitude",
]
