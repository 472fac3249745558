"""HashGAN / ADAH from a run config (`config.method = "hashgan"`)."""

from tfhash import models
from tfhash.methods import checks, common, registry


@registry.register(
    "hashgan",
    defaults={},  # no hash head: its hashing modules are `hashgan.image_widths` and a dense layer
    checks=(("hashgan.text_widths", *checks.POSITIVE_INTS),
            ("hashgan.image_widths", lambda v: v == () or checks.positive_ints(v),
             "be a list of positive integers"),
            ("hashgan.triplet_margin", *checks.NON_NEGATIVE),
            ("hashgan.squared", *checks.BOOLEAN), ("hashgan.adversarial", *checks.BOOLEAN),
            ("hashgan.adversarial_bound", *checks.NON_NEGATIVE),
            ("hashgan.adversarial_weight", *checks.NON_NEGATIVE),
            ("hashgan.attended_share", *checks.SHARE),
            ("hashgan.hash_step_mask_gradient", *checks.BOOLEAN),
            ("hashgan.train_attention", *checks.BOOLEAN),
            ("hashgan.adversarial_warmup", *checks.NON_NEGATIVE_INT),
            ("hashgan.attention_learning_rate", *checks.POSITIVE)),
    reads=("hashgan",))
def build(config, spec):
    section = config.hashgan
    return models.HashGAN(common.backbone(config.model, spec.image_size), config.bits,
                          num_classes=spec.num_classes, text_dim=spec.text_dim,
                          text_widths=tuple(section.text_widths),
                          image_widths=tuple(section.image_widths),
                          triplet_margin=section.triplet_margin, squared=section.squared,
                          adversarial=section.adversarial,
                          adversarial_bound=section.adversarial_bound,
                          adversarial_weight=section.adversarial_weight,
                          attended_share=section.attended_share,
                          mask_gradient=section.hash_step_mask_gradient,
                          train_attention=section.train_attention,
                          adversarial_warmup=section.get("adversarial_warmup", 0),
                          attention_learning_rate=section.get("attention_learning_rate", 1.0))
