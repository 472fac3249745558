"""Hashing losses: unreduced terms, with NumPy references in tests/."""

from tfhash.losses.saliency import mask_area, saliency_margin
from tfhash.losses.pairwise import (
    SIMILARITIES,
    bit_balance,
    bitwise_cross_entropy,
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

__all__ = [
    "SIMILARITIES",
    "bit_balance",
    "bitwise_cross_entropy",
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
