"""Reusable layers shared by the hashing methods: the hashing network and its head,
attention and saliency masks, the memory bank, the text network."""

from tfhash.layers import nested
from tfhash.layers.feature_mask import FeatureMask
from tfhash.layers.hard_attention import HardFeatureMask, HardSpatialMask
from tfhash.layers.hash_head import HashHead
from tfhash.layers.hashing_network import HashingNetwork
from tfhash.layers.memory_bank import MemoryBank
from tfhash.layers.saliency import SaliencyMask
from tfhash.layers.spatial_attention import SpatialSoftmaxPooling
from tfhash.layers.text import TextMLP

__all__ = ["FeatureMask", "HardFeatureMask", "HardSpatialMask", "HashHead", "HashingNetwork",
           "MemoryBank", "SaliencyMask", "SpatialSoftmaxPooling", "TextMLP", "nested"]
