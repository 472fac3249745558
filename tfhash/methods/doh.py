"""DOH from a run config (`config.method = "doh"`)."""

from tfhash import models
from tfhash.methods import checks, common, registry


def _power_of_two(value):
    return checks.integer(value) and value >= 2 and value & (value - 1) == 0


@registry.register(
    "doh",
    # DOH has no hash head: `model.head_batch_norm` normalises its fused group logits
    defaults={"model.head_batch_norm": True},
    checks=(("doh.group_size", _power_of_two, "be a power of 2 (2, 4, 8, ...)"),
            ("doh.tau_start", *checks.POSITIVE), ("doh.tau_end", *checks.POSITIVE),
            ("doh.ordinal_loss", *checks.choice(*models.doh.ORDINAL_LOSSES)),
            ("doh.max_logit", *checks.POSITIVE),
            ("doh.triplet_margin", *checks.NON_NEGATIVE),
            ("doh.class_weight", *checks.NON_NEGATIVE),
            ("doh.share_backbone", *checks.BOOLEAN),
            ("doh.local_units", *checks.NON_NEGATIVE_INT),
            ("doh.global_units", *checks.NON_NEGATIVE_INT),
            ("doh.attention", *checks.choice(*models.doh.ATTENTIONS)),
            ("doh.streams", *checks.choice(*models.doh.STREAMS)),
            lambda config: None if config.doh.tau_end <= config.doh.tau_start else (
                f"doh.tau_end={config.doh.tau_end} must be at most doh.tau_start="
                f"{config.doh.tau_start} (the temperature falls)"),
            lambda config: None if config.bits % (config.doh.group_size.bit_length() - 1) == 0 else (
                f"bits={config.bits} must be a multiple of log2(doh.group_size)="
                f"{config.doh.group_size.bit_length() - 1}")),
    reads=("doh", "loss"))
def build(config, spec):
    section = config.doh
    # the local stream's backbone is made first: the order the layers draw their seeds in
    streams = section.get("streams", "both")
    local = (None if section.share_backbone or streams == "global"
             else common.backbone(config.model, spec.image_size))
    return models.DOH(common.backbone(config.model, spec.image_size), config.bits,
                      num_classes=spec.num_classes, multi_label=spec.multi_label,
                      local_backbone=local, group_size=section.group_size,
                      tau_start=section.tau_start, tau_end=section.tau_end,
                      ordinal_loss=section.ordinal_loss, max_logit=section.max_logit,
                      triplet_margin=section.triplet_margin, class_weight=section.class_weight,
                      local_units=section.local_units, global_units=section.global_units,
                      fusion_batch_norm=config.model.head_batch_norm,
                      similarity=config.loss.similarity, attention=section.attention,
                      streams=streams)
