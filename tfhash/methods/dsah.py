"""DSaH from a run config (`config.method = "dsah"`)."""

from tfhash import layers, models
from tfhash.methods import checks, common, registry


@registry.register(
    "dsah",
    defaults={"model.head_activation": "tanh", "model.head_batch_norm": True,
              "model.hidden_units": 0},
    checks=(("dsah.saliency_loss", *checks.choice(*models.dsah.SALIENCY_LOSSES)),
            ("dsah.margin", *checks.NON_NEGATIVE),
            ("dsah.area_weight", *checks.NON_NEGATIVE),
            ("dsah.area_target", *checks.SHARE),
            ("dsah.attention_every", *checks.POSITIVE_INT),
            ("dsah.share_backbone", *checks.BOOLEAN),
            ("dsah.mask_initial_bias", *checks.NUMBER),
            ("dsah.mask_normalization", *checks.choice(*layers.SaliencyMask.NORMALIZATIONS)),
            ("dsah.mask_level", *checks.choice(*models.dsah.MASK_LEVELS)),
            ("dsah.mask", *checks.choice(*models.dsah.MASKS)),
            ("dsah.mask_floor", lambda v: checks.number(v) and 0 <= v < 1, "be in [0, 1)"),
            ("dsah.hash_inputs", *checks.choice(*models.dsah.HASH_INPUTS)),
            lambda config: None if config.dsah.mask_level != "trunk_map"
            or config.model.get("train_from") else
            ("dsah.mask_level='trunk_map' masks the map of a frozen trunk: set "
             "model.train_from (the first stage that trains)")),
    reads=("dsah", "loss"))
def build(config, spec):
    section = config.dsah
    backbone = common.backbone(config.model, spec.image_size)
    attention_backbone = (backbone if section.share_backbone
                          else common.backbone(config.model, spec.image_size))
    network = common.hashing_network(config, backbone)
    attention = layers.SaliencyMask(attention_backbone, initial_bias=section.mask_initial_bias,
                                    normalize=section.mask_normalization)
    return models.DSaH(network, attention, spec.num_train, spec.num_classes,
                       saliency_loss=section.saliency_loss, margin=section.margin,
                       area_weight=section.area_weight, attention_every=section.attention_every,
                       area_target=section.area_target, mask_level=section.mask_level,
                       mask=section.mask, mask_floor=section.mask_floor,
                       hash_inputs=section.hash_inputs,
                       **common.likelihood_settings(config))
