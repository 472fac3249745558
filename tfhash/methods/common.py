"""The pieces every builder makes the same way from a run config: backbones, the
hashing network, the pairwise losses' settings."""

from tfhash import backbones, layers


def backbone(model_config, image_size, widths=None):
    """The backbone named by `model.backbone` (`widths` overrides the small CNN's)."""
    name = model_config.backbone
    train_from = model_config.get("train_from") or None
    if name == "small_cnn":
        return backbones.SmallCNN(tuple(widths or model_config.widths), model_config.convs_per_stage,
                                  train_from=train_from)
    if name == "efficientnet_lite0":
        weights = None if model_config.weights in (None, "", "none") else model_config.weights
        return backbones.EfficientNetLite0(weights=weights,
                                           output_stride=model_config.get("output_stride", 32),
                                           train_from=train_from)
    if name in ("vgg16", "resnet50", "efficientnetb0"):
        weights = None if model_config.weights in (None, "", "none") else model_config.weights
        return backbones.ApplicationBackbone(name, image_size=image_size, weights=weights,
                                             train_from=train_from)
    raise ValueError(f"unknown backbone {name!r}; expected one of {backbones.BACKBONES}")


def head(config):
    """The hash head of `config.bits` bits with the (resolved) `model.head_*` settings."""
    return layers.HashHead(config.bits, config.model.head_activation, config.model.hidden_units,
                           batch_norm=config.model.head_batch_norm)


def hashing_network(config, image_backbone):
    """`layers.HashingNetwork(image_backbone, head(config))` (the head made after the
    backbone: layers draw their initial weights' seeds in the order they are made)."""
    return layers.HashingNetwork(image_backbone, head(config))


def pair_settings(config):
    """The pairwise losses' settings every likelihood or contrastive method takes."""
    return dict(similarity=config.loss.similarity, balance_weight=config.loss.balance_weight)


def likelihood_settings(config):
    """DPSH's likelihood settings, shared by DPSH, DSaH and DAgH."""
    return dict(quant_weight=config.loss.quant_weight, max_logit=config.loss.max_logit,
                **pair_settings(config))
