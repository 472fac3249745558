"""DCMH from a run config (`config.method = "dcmh"`)."""

from tfhash import models
from tfhash.methods import checks, common, registry


@registry.register(
    "dcmh",
    # the paper's image network ends in a linear layer; from scratch that collapses as
    # DPSH's does (24 of 32 bits constant on configs/demo_crossmodal.py), so the default
    # is the batch-normalised tanh (README "Try another method");
    # --config.model.head_activation=linear --config.model.head_batch_norm=False: the paper's
    defaults={"model.head_activation": "tanh", "model.head_batch_norm": True,
              "model.hidden_units": 0},
    checks=(("dcmh.text_widths", *checks.POSITIVE_INTS), ("dcmh.gamma", *checks.NON_NEGATIVE),
            ("dcmh.eta", *checks.NON_NEGATIVE)),
    reads=("dcmh", "loss"))
def build(config, spec):
    section = config.dcmh
    network = common.hashing_network(config, common.backbone(config.model, spec.image_size))
    return models.DCMH(network, spec.num_train, spec.num_classes, spec.text_dim,
                       text_widths=tuple(section.text_widths), gamma=section.gamma, eta=section.eta,
                       max_logit=config.loss.max_logit, similarity=config.loss.similarity)
