"""Reusable layers shared by the hashing methods."""

from tfhash.layers.hash_head import HashHead
from tfhash.layers.memory_bank import MemoryBank
from tfhash.layers.saliency import SaliencyMask
from tfhash.layers.spatial_attention import SpatialSoftmaxPooling

__all__ = ["HashHead", "MemoryBank", "SaliencyMask", "SpatialSoftmaxPooling"]
