"""Hashing losses: unreduced terms, with NumPy references in tests/."""

from tfhash.losses.pairwise import (
    contrastive,
    label_similarity,
    pairwise_likelihood,
    quantization,
    squared_distances,
    unit_magnitude,
)

__all__ = [
    "contrastive",
    "label_similarity",
    "pairwise_likelihood",
    "quantization",
    "squared_distances",
    "unit_magnitude",
]
