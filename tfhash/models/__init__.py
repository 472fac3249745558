"""Hashing methods: one Keras model per method."""

from tfhash import backbones
from tfhash.models.base import HashingModel, replica_gather
from tfhash.models.dpsh import DPSH
from tfhash.models.dsah import DSaH
from tfhash.models.dsh import DSH

METHODS = ("dpsh", "dsh", "dsah")


def make_model(config, num_train, num_classes):
    """The model named by `config.method`, built from the config's sections."""
    backbone = backbones.make_backbone(config.model, config.data.image_size)
    common = dict(bits=config.bits, head_activation=config.model.head_activation,
                  hidden_units=config.model.hidden_units,
                  head_batch_norm=config.model.head_batch_norm)
    if config.method == "dpsh":
        return DPSH(backbone, num_train=num_train, num_classes=num_classes,
                    quant_weight=config.dpsh.quant_weight,
                    memory_bank=config.dpsh.memory_bank, **common)
    if config.method == "dsah":
        attention = (None if config.dsah.share_backbone
                     else backbones.make_backbone(config.model, config.data.image_size))
        return DSaH(backbone, num_train=num_train, num_classes=num_classes,
                    quant_weight=config.dpsh.quant_weight, attention_backbone=attention,
                    saliency_loss=config.dsah.saliency_loss, margin=config.dsah.margin,
                    area_weight=config.dsah.area_weight,
                    attention_every=config.dsah.attention_every,
                    mask_initial_bias=config.dsah.mask_initial_bias,
                    mask_normalization=config.dsah.mask_normalization,
                    area_target=config.dsah.area_target, **common)
    if config.method == "dsh":
        return DSH(backbone, alpha=config.dsh.alpha, margin=config.dsh.margin, **common)
    raise ValueError(f"unknown method {config.method!r}; expected one of {METHODS}")


__all__ = ["DPSH", "DSH", "DSaH", "METHODS", "HashingModel", "make_model", "replica_gather"]
