"""Feature extractors: `{"feature_map", "features"}` from float images in [0, 255],
in named stages that can be cut into a frozen trunk and a trainable tail
(`Backbone`). Knowing nothing about hashing, or about run configs: the method
builders (`tfhash.methods`) make them from a config."""

from tfhash.backbones.applications import ApplicationBackbone
from tfhash.backbones.base import Backbone
from tfhash.backbones.efficientnet_lite import EfficientNetLite0
from tfhash.backbones.parallel import Parallel
from tfhash.backbones.small_cnn import SmallCNN

BACKBONES = ("small_cnn", "efficientnet_lite0", "vgg16", "resnet50", "efficientnetb0")

__all__ = ["BACKBONES", "ApplicationBackbone", "Backbone", "EfficientNetLite0", "Parallel", "SmallCNN"]
