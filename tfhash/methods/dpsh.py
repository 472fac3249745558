"""DPSH from a run config (`config.method = "dpsh"`)."""

from tfhash import backbones, models
from tfhash.methods import checks, common, registry


@registry.register(
    "dpsh",
    # a batch-normalised tanh layer: the paper's linear layer collapses from scratch
    # (docs/dpsh_from_scratch.md); --config.model.head_activation=linear
    # --config.model.head_batch_norm=False gives the paper's
    defaults={"model.head_activation": "tanh", "model.head_batch_norm": True,
              "model.hidden_units": 0},
    checks=(("dpsh.memory_bank", *checks.BOOLEAN),
            ("dpsh.backbones", *checks.choice(1, 2))),
    reads=("dpsh", "loss"))
def build(config, spec):
    image_backbone = common.backbone(config.model, spec.image_size)
    if config.dpsh.get("backbones", 1) == 2:  # the capacity control (configs/default.py)
        image_backbone = backbones.Parallel(
            [image_backbone, common.backbone(config.model, spec.image_size)])
    network = common.hashing_network(config, image_backbone)
    return models.DPSH(network, spec.num_train, spec.num_classes,
                       memory_bank=config.dpsh.memory_bank, **common.likelihood_settings(config))
