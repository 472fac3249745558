"""Codes, Hamming search and retrieval metrics."""

from tfhash.retrieval.codes import binarize, num_bytes, pack_codes, unpack_codes
from tfhash.retrieval.hamming import hamming_distance, hamming_topk
from tfhash.retrieval.index import HammingIndex
from tfhash.retrieval.metrics import (
    RadiusPrecision,
    chance_map,
    code_health,
    mean_average_precision,
    precision_at_k,
    precision_at_radius,
    precision_recall_curve,
)

__all__ = [
    "HammingIndex",
    "RadiusPrecision",
    "binarize",
    "chance_map",
    "code_health",
    "hamming_distance",
    "hamming_topk",
    "mean_average_precision",
    "num_bytes",
    "pack_codes",
    "precision_at_k",
    "precision_at_radius",
    "precision_recall_curve",
    "unpack_codes",
]
