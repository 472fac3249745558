"""DAgH from a run config (`config.method = "dagh"`)."""

from tfhash import layers, models
from tfhash.methods import checks, common, registry


def stage1_epochs(config):
    """`dagh.stage1_epochs` when it is set, else `dagh.stage1_share` of the run's
    epochs (rounded), so that switching DAgH onto any config leaves both stages epochs."""
    section = config.dagh
    if section.stage1_epochs is not None:
        return int(section.stage1_epochs)
    return min(max(1, round(section.stage1_share * config.train.epochs)), config.train.epochs - 1)


def resolve(config):
    """The stage split in epochs, kept in the resolved config (config.json), so that a
    rerun with other `train.epochs` cannot move the boundary under a checkpoint."""
    config.dagh.stage1_epochs = stage1_epochs(config)


def _stages_fit(config):
    epochs, first = config.train.epochs, stage1_epochs(config)
    if config.train.epochs < 2:
        return f"DAgH needs train.epochs >= 2 (one epoch per stage at least), got {epochs}"
    if not 0 < first < epochs:
        return (f"dagh.stage1_epochs={first} must leave epochs for stage 2 "
                f"(train.epochs={epochs})")
    return None


@registry.register(
    "dagh",
    defaults={"model.head_activation": "tanh", "model.head_batch_norm": True,
              "model.hidden_units": 0},
    checks=(("dagh.stage1_epochs", lambda v: v is None or checks.positive_int(v),
             "be a positive integer, or None for dagh.stage1_share of the epochs"),
            ("dagh.stage1_share", lambda v: checks.number(v) and 0 < v < 1, "be in (0, 1)"),
            ("dagh.attention_loss", *checks.choice(*models.dagh.ATTENTION_LOSSES)),
            ("dagh.attention_weight", *checks.NON_NEGATIVE),
            ("dagh.margin", *checks.NON_NEGATIVE),
            ("dagh.residual_attention", *checks.BOOLEAN),
            ("dagh.mask_units", *checks.POSITIVE_INT),
            ("dagh.second_widths", lambda v: v == () or checks.positive_ints(v),
             "be empty (model.widths) or a list of positive integers"),
            ("dagh.eval_stream", *checks.choice(1, 2)),
            ("dagh.second_init", *checks.choice(*models.dagh.SECOND_INITS)),
            ("dagh.reestimate_bn", *checks.BOOLEAN),
            ("dagh.attention", *checks.choice(*models.dagh.ATTENTIONS)),
            ("dagh.plain_bn", *checks.choice(*models.dagh.PLAIN_BN_MODES)),
            ("dagh.stage2_weights", *checks.choice(*models.dagh.STAGE2_WEIGHTS)),
            _stages_fit,
            lambda config: None if config.dagh.second_init != "stream1" or not config.dagh.second_widths
            else ("dagh.second_init='stream1' needs network 2's backbone to be network 1's "
                  "(leave dagh.second_widths empty)")),
    reads=("dagh", "loss"), resolve=resolve)
def build(config, spec):
    section = config.dagh
    # the layers in the order they were always made (they draw their seeds in it)
    backbone = common.backbone(config.model, spec.image_size)
    second_backbone = common.backbone(config.model, spec.image_size,
                                      widths=tuple(section.second_widths) or None)
    network = common.hashing_network(config, backbone)
    mask = layers.FeatureMask(section.mask_units, section.residual_attention, name="mask")
    return models.DAgH(network, second_backbone, mask, spec.num_train, spec.num_classes,
                       stage1_epochs=stage1_epochs(config), attention_loss=section.attention_loss,
                       attention_weight=section.attention_weight, margin=section.margin,
                       eval_stream=section.eval_stream, second_init=section.second_init,
                       reestimate_bn=section.get("reestimate_bn", False),
                       attention=section.get("attention", "learned"),
                       plain_bn=section.get("plain_bn", "inference"),
                       stage2_weights=section.get("stage2_weights", "none"),
                       **common.likelihood_settings(config))
