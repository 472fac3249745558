"""DSaH: deep saliency hashing (attention network + hashing network)."""

import keras
import tensorflow as tf

from tfhash import backbones, losses, replicas
from tfhash.layers import MemoryBank, SaliencyMask
from tfhash.models import base, contract, registry
from tfhash.models.dpsh import bank_likelihood, logit_scale

SALIENCY_LOSSES = ("margin", "semantic")


@registry.register("dsah")
@keras.saving.register_keras_serializable(package="tfhash")
class DSaH(base.HashingModel):
    """An attention network A gives a saliency mask S(x); the hashing network H codes
    the salient image x * S(x). Codes: sign(H(x * S(x))).

    Training alternates (every step by default), one optimizer per network:
    - H step, A fixed: DPSH's semantic loss (memory bank) + quantisation on H(x * S(x));
    - A step, H fixed: the saliency loss, `saliency_loss`:
      "semantic" (default): the semantic loss through the fixed H;
      "margin": per pair of the global batch, max(0, m + l_ij(salient) - l_ij(original));
      both plus the area term `area_weight * max(0, mean(S) - area_target)` per image,
      against the all-ones mask.

    The maps are max-normalised by default (`mask_normalization`). Both defaults were
    chosen on the coloured-patch probe (docs/dsah.md): unnormalised maps, and the
    margin form, did not attend there.

    Args:
      num_train: training items (rows of the memory bank).
      num_classes: label width.
      quant_weight: weight of the quantisation term (DPSH's).
      max_logit: DPSH's logit switch (0: the paper's `0.5 * u.v`).
      attention_backbone: backbone of A; None shares H's backbone (then the A step
        trains only A's 1x1 scoring conv).
      saliency_loss: "semantic" or "margin".
      margin: the margin m of "margin".
      area_weight: weight of the area term.
      area_target: the area term stops at this mean saliency (a floor: without it,
        CIFAR-10 masks shrank to a few percent of the image).
      attention_every: run the A step every this many steps.
      mask_initial_bias: starting bias of A's scoring conv.
      mask_normalization: "max" (each map divided by its maximum) or "none".

    Reference: Jin et al., "Deep Saliency Hashing for Fine-grained Retrieval",
    arXiv 1807.01459 / TIP 2020. The losses' exact forms are our reconstruction
    (../shared/design/METHODS.md).
    """

    MEAN_LOGS = ("mask_mean",)

    def __init__(self, backbone, bits, num_train, num_classes, quant_weight=0.1, max_logit=0.0,
                 attention_backbone=None, saliency_loss="semantic", margin=1.0, area_weight=1.0,
                 attention_every=1, mask_initial_bias=0.0, mask_normalization="max",
                 area_target=0.5, **kwargs):
        super().__init__(backbone, bits, **kwargs)
        if saliency_loss not in SALIENCY_LOSSES:
            raise ValueError(f"saliency_loss must be one of {SALIENCY_LOSSES}, got {saliency_loss!r}")
        if int(attention_every) < 1:
            raise ValueError(f"attention_every must be >= 1, got {attention_every}")
        if float(area_weight) < 0:
            raise ValueError(f"area_weight must be >= 0, got {area_weight}")
        if not 0.0 <= float(area_target) <= 1.0:
            raise ValueError(f"area_target is a mean saliency in [0, 1], got {area_target}")
        self.num_train = int(num_train)
        self.num_classes = int(num_classes)
        self.quant_weight = float(quant_weight)
        self.max_logit = float(max_logit)
        self.scale = logit_scale(self.bits, self.max_logit)
        self.attention_backbone = attention_backbone
        self.saliency_loss = saliency_loss
        self.margin = float(margin)
        self.area_weight = float(area_weight)
        self.attention_every = int(attention_every)
        self.mask_initial_bias = float(mask_initial_bias)
        self.mask_normalization = mask_normalization
        self.area_target = float(area_target)
        self.bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="bank")
        self.attention = SaliencyMask(attention_backbone if attention_backbone is not None else backbone,
                                      initial_bias=self.mask_initial_bias,
                                      normalize=mask_normalization)

    @classmethod
    def from_run_config(cls, config, spec):
        backbone = backbones.make_backbone(config.model, spec.image_size)
        attention = (None if config.dsah.share_backbone
                     else backbones.make_backbone(config.model, spec.image_size))
        section = config.dsah
        return cls(backbone, num_train=spec.num_train, num_classes=spec.num_classes,
                   quant_weight=config.dpsh.quant_weight, max_logit=config.dpsh.max_logit,
                   attention_backbone=attention,
                   saliency_loss=section.saliency_loss, margin=section.margin,
                   area_weight=section.area_weight, attention_every=section.attention_every,
                   mask_initial_bias=section.mask_initial_bias,
                   mask_normalization=section.mask_normalization,
                   area_target=section.area_target, **cls.common_args(config))

    def build_networks(self, spec):
        images = spec.symbolic("image")
        self.attention(images)  # A first: the order in which the first call built them
        super().build_networks(spec)

    def saliency(self, images, training=False):
        """Saliency maps S(x) in [0, 1], `(batch, H, W, 1)`, of float images."""
        return self.attention(images, training=training)

    def call(self, images, training=False):
        return self.hash(images * self.saliency(images, training=training), training=training)

    def networks(self):
        hashing = self.backbone.trainable_variables + self.head.trainable_variables
        owned = {id(v) for v in hashing}
        attention = [v for v in self.attention.trainable_variables if id(v) not in owned]
        return {"hash": hashing, "attention": attention}

    def figure_maps(self, images):
        maps = self.saliency(tf.cast(images, tf.float32)).numpy()[..., 0]
        return {"saliency": contract.Maps(
            maps, "query images and their saliency maps (red: kept, blue: masked)", 0.0, 1.0)}

    def _attention_loss(self, images, batch):
        mask = self.saliency(images, training=True)
        salient = self.hash(images * mask, training=False)  # H fixed: no update, no BN stats
        global_batch = replicas.global_size(batch["index"])
        excess = tf.nn.relu(losses.mask_area(mask) - self.area_target)
        area = self.area_weight * tf.reduce_sum(excess) / global_batch
        if self.saliency_loss == "semantic":
            semantic, _ = bank_likelihood(self.bank, salient, batch, self.quant_weight,
                                          update_bank=False, scale=self.scale,
                                          similarity=self.similarity)
            return semantic + area, mask
        original = tf.stop_gradient(self.hash(images, training=False))
        pairs = replicas.global_pairs(batch["label"], salient, original,
                                      similarity=self.similarity)
        all_salient, all_original = pairs.codes  # (global, bits); salient is differentiable
        margins = losses.saliency_margin(salient, all_salient, original, all_original,
                                         pairs.similarity, self.margin, self.scale)
        return tf.reduce_sum(margins) / (pairs.size * pairs.size) + area, mask

    def step_variant(self, step):
        """Whether the A step runs after this H step (every `attention_every` steps)."""
        return (step + 1) % self.attention_every == 0

    def train_step(self, batch, variant=True):
        images = batch["image"]
        networks = self.networks()
        # H step, A fixed
        mask = tf.stop_gradient(self.saliency(images, training=False))
        hash_vars = networks["hash"]
        with tf.GradientTape() as tape:
            codes = self.hash(images * mask, training=True)
            loss, logs = bank_likelihood(self.bank, codes, batch, self.quant_weight,
                                         update_bank=True, scale=self.scale,
                                         similarity=self.similarity,
                                         balance_weight=self.balance_weight)
        self.optimizers["hash"].apply_gradients(zip(tape.gradient(loss, hash_vars), hash_vars))
        if variant is False:  # no A step this time
            return dict(logs, loss=loss, saliency_loss=tf.constant(0.0),
                        mask_mean=tf.reduce_mean(mask))
        # A step, H fixed
        attention_vars = networks["attention"]
        with tf.GradientTape() as tape:
            saliency_loss, new_mask = self._attention_loss(images, batch)
        grads = tape.gradient(saliency_loss, attention_vars)
        self.optimizers["attention"].apply_gradients(zip(grads, attention_vars))
        return dict(logs, loss=loss, saliency_loss=saliency_loss, mask_mean=tf.reduce_mean(new_mask))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_train=self.num_train, num_classes=self.num_classes, quant_weight=self.quant_weight,
            max_logit=self.max_logit,
            attention_backbone=(None if self.attention_backbone is None
                                else keras.saving.serialize_keras_object(self.attention_backbone)),
            saliency_loss=self.saliency_loss, margin=self.margin, area_weight=self.area_weight,
            attention_every=self.attention_every, mask_initial_bias=self.mask_initial_bias,
            mask_normalization=self.mask_normalization, area_target=self.area_target)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("attention_backbone") is not None:
            config["attention_backbone"] = keras.saving.deserialize_keras_object(config["attention_backbone"])
        return super().from_config(config)
