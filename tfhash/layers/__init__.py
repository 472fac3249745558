"""Reusable layers shared by the hashing methods."""

from tfhash.layers.hash_head import HashHead

__all__ = ["HashHead"]
