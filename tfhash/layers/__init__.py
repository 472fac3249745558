"""Reusable layers shared by the hashing methods."""

from tfhash.layers.feature_mask import FeatureMask
from tfhash.layers.hash_head import HashHead
from tfhash.layers.memory_bank import MemoryBank
from tfhash.layers.saliency import SaliencyMask
from tfhash.layers.spatial_attention import SpatialSoftmaxPooling

__all__ = ["FeatureMask", "HashHead", "MemoryBank", "SaliencyMask", "SpatialSoftmaxPooling"]
