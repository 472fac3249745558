"""Feature extractors: `{"feature_map", "features"}` from float images in [0, 255]."""

from tfhash.backbones.applications import ApplicationBackbone
from tfhash.backbones.small_cnn import SmallCNN

BACKBONES = ("small_cnn", "vgg16", "resnet50")


def make_backbone(model_config, image_size):
    """The backbone named by `model_config.backbone`."""
    name = model_config.backbone
    if name == "small_cnn":
        return SmallCNN(tuple(model_config.widths), model_config.convs_per_stage)
    if name in ("vgg16", "resnet50"):
        weights = None if model_config.weights in (None, "", "none") else model_config.weights
        return ApplicationBackbone(name, image_size=image_size, weights=weights)
    raise ValueError(f"unknown backbone {name!r}; expected one of {BACKBONES}")


__all__ = ["BACKBONES", "ApplicationBackbone", "SmallCNN", "make_backbone"]
