"""DSH from a run config (`config.method = "dsh"`)."""

from tfhash import models
from tfhash.methods import checks, common, registry


@registry.register(
    "dsh",
    defaults={"model.head_activation": "linear", "model.head_batch_norm": False,
              "model.hidden_units": 0},
    checks=(("dsh.alpha", *checks.NON_NEGATIVE), ("dsh.margin", *checks.NON_NEGATIVE)),
    reads=("dsh", "loss"))
def build(config, spec):
    network = common.hashing_network(config, common.backbone(config.model, spec.image_size))
    return models.DSH(network, alpha=config.dsh.alpha, margin=config.dsh.margin,
                      **common.pair_settings(config))
