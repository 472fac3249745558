"""DSaH: deep saliency hashing (attention network + hashing network)."""

import keras
import tensorflow as tf

from tfhash import losses, replicas
from tfhash.layers import MemoryBank, SaliencyMask, nested
from tfhash.models import base, contract

SALIENCY_LOSSES = ("margin", "semantic")
# what the saliency mask multiplies: the images (the paper's), or the map of the
# backbone's frozen trunk (a cache of trunk maps then serves DSaH like any method)
MASK_LEVELS = ("pixels", "trunk_map")
# "none": the attribution control, H on unmasked inputs and no A step (A is built,
# never trained or used); "mean": the control without per-image attention, H on every
# input times one map, the mean of A's maps over the training items (A trains as in
# DSaH)
MASKS = ("learned", "none", "mean")
MEAN_MAP_BATCH = 256
# what the H step trains on: the salient input only (the paper's), or the salient and
# the original input through the same H (its loss the mean of the two)
HASH_INPUTS = ("salient", "both")


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

    The maps are max-normalised by default (`layers.SaliencyMask`). Both defaults were
    chosen on the coloured-patch probe (docs/dsah.md): unnormalised maps, and the
    margin form, did not attend there.

    `mask_level="trunk_map"` moves the mask from the pixels to the map of H's frozen
    trunk (`model.train_from`): codes are sign(H_tail(T(x) * S(T(x)))), where T is the
    trunk and A reads T(x) through its own tail (A's trunk is never run). The trunk
    then runs once per image, so the trunk-map cache serves DSaH; on pixels
    (the paper's form) the trunk must run on every masked batch.

    Args:
      network: the hashing network H (`layers.HashingNetwork`).
      attention: the attention network A (`layers.SaliencyMask`); it may hold H's
        backbone (then the A step trains only its 1x1 scoring conv).
      num_train: training items (rows of the memory bank).
      num_classes: label width.
      quant_weight: weight of the quantisation term (DPSH's).
      max_logit: DPSH's logit switch (0: the paper's `0.5 * u.v`).
      saliency_loss: "semantic" or "margin".
      margin: the margin m of "margin".
      area_weight: weight of the area term.
      area_target: the area term stops at this mean saliency (a floor: without it,
        CIFAR-10 masks shrank to a few percent of the image).
      attention_every: run the A step every this many steps.
      similarity, balance_weight: the pairwise losses' (`models.DPSH`).
      mask_level: "pixels" or "trunk_map" (above); "trunk_map" needs both backbones
        cut at the same stage.
      mask: "learned"; "none" (the control without the mask: H codes x itself,
        the same H step, no A step); or "mean" (the control without per-image
        attention: A and its step as with "learned", but H codes x * M for every x,
        M the mean of A's maps over the training items, in order and without
        augmentation, computed before the first epoch and after every epoch
        (`mean_map`, checkpointed), so the codes at the end use A's last maps).
      mask_floor: what a fully masked position keeps: the input is multiplied by
        `mask_floor + (1 - mask_floor) * S(x)`, so a mask dims rather than blacks
        out (0: the paper's x * S(x)).
      hash_inputs: "salient" (the paper's: the H step trains on the salient input)
        or "both" (it also codes the original input with the same H, against the
        same memory bank without writing it, and its loss is the mean of the two:
        H then sees unmasked inputs, and its batch-norm statistics come from both).

    Reference: Jin et al., "Deep Saliency Hashing for Fine-grained Retrieval",
    arXiv 1807.01459 / TIP 2020. The losses' exact forms are our reconstruction
    (../shared/design/METHODS.md).
    """

    MEAN_LOGS = ("mask_mean",)

    def __init__(self, network, attention, num_train, num_classes, quant_weight=0.1, max_logit=0.0,
                 saliency_loss="semantic", margin=1.0, area_weight=1.0, attention_every=1,
                 area_target=0.5, similarity="shared", balance_weight=0.0, mask_level="pixels",
                 mask="learned", mask_floor=0.0, hash_inputs="salient", **kwargs):
        super().__init__(network.bits, **kwargs)
        losses.check_pair_settings(similarity, balance_weight)
        if saliency_loss not in SALIENCY_LOSSES:
            raise ValueError(f"saliency_loss must be one of {SALIENCY_LOSSES}, got {saliency_loss!r}")
        if int(attention_every) < 1:
            raise ValueError(f"attention_every must be >= 1, got {attention_every}")
        if float(area_weight) < 0:
            raise ValueError(f"area_weight must be >= 0, got {area_weight}")
        if not 0.0 <= float(area_target) <= 1.0:
            raise ValueError(f"area_target is a mean saliency in [0, 1], got {area_target}")
        if mask_level not in MASK_LEVELS:
            raise ValueError(f"mask_level must be one of {MASK_LEVELS}, got {mask_level!r}")
        if mask_level == "trunk_map":
            mine, theirs = network.backbone, attention.backbone
            if mine.cut == 0:
                raise ValueError("mask_level='trunk_map' masks the map of a frozen trunk: the "
                                 "backbone needs one (model.train_from names its first "
                                 "trained stage)")
            if type(theirs) is not type(mine) or theirs.train_from != mine.train_from:
                raise ValueError("mask_level='trunk_map': the attention's backbone must be cut "
                                 f"where the hashing network's is ({type(mine).__name__} from "
                                 f"{mine.train_from!r}), got {type(theirs).__name__} from "
                                 f"{theirs.train_from!r}")
        self.mask_level = mask_level
        if mask not in MASKS:
            raise ValueError(f"mask must be one of {MASKS}, got {mask!r}")
        self.mask_mode = mask
        if not 0.0 <= float(mask_floor) < 1.0:
            raise ValueError(f"mask_floor is what a masked position keeps, in [0, 1), got "
                             f"{mask_floor}")
        self.mask_floor = float(mask_floor)
        if hash_inputs not in HASH_INPUTS:
            raise ValueError(f"hash_inputs must be one of {HASH_INPUTS}, got {hash_inputs!r}")
        self.hash_inputs = hash_inputs
        self.network = network
        self.num_train = int(num_train)
        self.num_classes = int(num_classes)
        self.quant_weight = float(quant_weight)
        self.max_logit = float(max_logit)
        self.scale = losses.logit_scale(self.bits, self.max_logit)
        self.saliency_loss = saliency_loss
        self.margin = float(margin)
        self.area_weight = float(area_weight)
        self.attention_every = int(attention_every)
        self.area_target = float(area_target)
        self.similarity, self.balance_weight = similarity, float(balance_weight)
        # A's own backbone is tracked before the bank: the order of the checkpoints'
        # weights since the first DSaH
        self._attention_backbone = attention.backbone
        self.bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="bank")
        self.attention = attention

    @property
    def PIXEL_INPUTS(self):
        """On pixels, x * S(x) changes at every step: no cache of trunk maps serves it."""
        return self.mask_level == "pixels"

    def input_trunks(self):
        """On the trunk's map, A reads H's trunk map: only H's trunk reads images."""
        backbones = [self.network.backbone]
        if self.mask_level == "pixels":
            backbones.append(self.attention.backbone)
        return [b for i, b in enumerate(backbones) if b.cut > 0 and b not in backbones[:i]]

    def masked_input(self, images):
        """What the mask multiplies: the float images, or with `mask_level="trunk_map"`
        the trunk's map of them (a cached map as it is)."""
        backbone = self.network.backbone
        if self.mask_level == "pixels" or backbone.takes_trunk_maps(images):
            return images
        return backbone.trunk(images)

    def build_networks(self, spec):
        images = spec.symbolic("image")
        self.attention(images)  # A first: the order in which the first call built them
        self.network(images)
        if self.mask_mode == "mean":  # after every other weight: older checkpoints load
            # the maps' size: the images', or the trunk map's with mask_level="trunk_map"
            probe = tf.zeros([1, *images.shape[1:]], tf.float32)
            shape = tuple(self.saliency(self.masked_input(probe)).shape[1:])
            self.mean_map = self.add_weight(shape=shape, initializer="ones", trainable=False,
                                            name="mean_map")
            self.mean_map_ready = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                                  trainable=False, name="mean_map_ready")

    def saliency(self, images, training=False):
        """Saliency maps S(x) in [0, 1], `(batch, H, W, 1)`, of float images (all ones
        with `mask="none"`). With `mask="mean"` these are A's maps, which H never codes
        with (`hash_mask`)."""
        if self.mask_mode == "none":
            return tf.ones_like(images[..., :1])
        return self.attention(images, training=training)

    def hash_mask(self, images, training=False):
        """The mask H codes x with: S(x), or with `mask="mean"` the mean map for
        every x."""
        if self.mask_mode == "mean":
            return tf.broadcast_to(self.mean_map, tf.concat([tf.shape(images)[:1],
                                                             tf.shape(self.mean_map)], 0))
        return self.saliency(images, training=training)

    def apply_mask(self, x, mask):
        """The salient input: `x * (mask_floor + (1 - mask_floor) * mask)`."""
        if self.mask_floor:
            mask = self.mask_floor + (1.0 - self.mask_floor) * mask
        return x * mask

    def mean_of_maps(self, train_pass):
        """The mean of A's maps (inference mode) over the training items: float32
        `(H, W, 1)`."""
        total, count = 0.0, 0
        for batch in train_pass(MEAN_MAP_BATCH):
            images = self.masked_input(tf.cast(batch["image"], tf.float32))
            total += tf.reduce_sum(self.saliency(images, training=False), axis=0)
            count += int(tf.shape(images)[0])
        if not count:
            raise ValueError("the training pass gave no items for the mean saliency map")
        return total / count

    def on_epoch_begin(self, epoch, context):
        if self.mask_mode == "mean" and not int(self.mean_map_ready.numpy()):
            self.mean_map.assign(self.mean_of_maps(context.train_pass))
            self.mean_map_ready.assign(1)

    def on_epoch_end(self, epoch, context):
        if self.mask_mode == "mean":  # A moved during the epoch: the codes follow it
            self.mean_map.assign(self.mean_of_maps(context.train_pass))

    def hash(self, images, training=False):
        """The hashing network H: relaxed codes `(batch, bits)` of float images."""
        return self.network(images, training=training)

    def call(self, images, training=False):
        x = self.masked_input(images)
        return self.hash(self.apply_mask(x, self.hash_mask(x, training=training)),
                         training=training)

    def networks(self):
        hashing = self.network.trainable_variables
        owned = {id(v) for v in hashing}
        attention = [v for v in self.attention.trainable_variables if id(v) not in owned]
        return {"hash": hashing, "attention": attention}

    def figure_maps(self, images):
        images = tf.cast(images, tf.float32)
        maps = self.hash_mask(self.masked_input(images))
        if self.mask_level == "trunk_map":  # drawn over the image it came from
            maps = tf.image.resize(maps, tf.shape(images)[1:3], method="bilinear")
        maps = maps.numpy()[..., 0]
        title = ("query images and the mean saliency map H codes every image with "
                 "(red: kept, blue: masked)" if self.mask_mode == "mean"
                 else "query images and their saliency maps (red: kept, blue: masked)")
        return {"saliency": contract.Maps(maps, title, 0.0, 1.0)}

    def _semantic(self, codes, batch, **settings):
        return losses.bank_likelihood(self.bank, codes, batch, scale=self.scale,
                                      quant_weight=self.quant_weight, similarity=self.similarity,
                                      **settings)

    def _attention_loss(self, images, batch):
        mask = self.saliency(images, training=True)
        salient = self.hash(self.apply_mask(images, mask), training=False)  # H fixed, no BN stats
        global_batch = replicas.global_size(batch["index"])
        excess = tf.nn.relu(losses.mask_area(mask) - self.area_target)
        area = self.area_weight * tf.reduce_sum(excess) / global_batch
        if self.saliency_loss == "semantic":
            semantic, _ = self._semantic(salient, batch, update_bank=False)
            return semantic + area, mask
        original = tf.stop_gradient(self.hash(images, training=False))
        pairs = replicas.global_pairs(batch["label"], salient, original,
                                      similarity=self.similarity)
        all_salient, all_original = pairs.codes  # (global, bits); salient is differentiable
        margins = losses.saliency_margin(salient, all_salient, original, all_original,
                                         pairs.similarity, self.margin, self.scale)
        return tf.reduce_sum(margins) / (pairs.size * pairs.size) + area, mask

    def step_variant(self, step):
        """Whether the A step runs after this H step (every `attention_every` steps;
        never without a mask)."""
        return self.mask_mode != "none" and (step + 1) % self.attention_every == 0

    def train_step(self, batch, variant=True):
        images = self.masked_input(batch["image"])
        # H step, A fixed
        mask = tf.stop_gradient(self.hash_mask(images, training=False))
        with tf.GradientTape() as tape:
            codes = self.hash(self.apply_mask(images, mask), training=True)
            loss, logs = self._semantic(codes, batch, update_bank=True,
                                        balance_weight=self.balance_weight)
            if self.hash_inputs == "both":  # the original input through the same H
                plain, _ = self._semantic(self.hash(images, training=True), batch,
                                          update_bank=False, balance_weight=self.balance_weight)
                logs = dict(logs, salient_loss=loss, plain_loss=plain)
                loss = 0.5 * (loss + plain)
        self.optimize("hash", tape, loss)
        if variant is False:  # no A step this time
            return dict(logs, loss=loss, saliency_loss=tf.constant(0.0),
                        mask_mean=tf.reduce_mean(mask))
        # A step, H fixed
        with tf.GradientTape() as tape:
            saliency_loss, new_mask = self._attention_loss(images, batch)
        self.optimize("attention", tape, saliency_loss)
        return dict(logs, loss=loss, saliency_loss=saliency_loss, mask_mean=tf.reduce_mean(new_mask))

    def get_config(self):
        config = super().get_config()
        shared = self.attention.backbone is self.network.backbone
        attention = nested.serialize(self.attention)
        if shared:  # the backbone is stored once, with the network
            attention["config"] = dict(attention["config"], backbone=None)
        config.update(
            network=nested.serialize(self.network), attention=attention, share_backbone=shared,
            num_train=self.num_train, num_classes=self.num_classes, quant_weight=self.quant_weight,
            max_logit=self.max_logit, saliency_loss=self.saliency_loss, margin=self.margin,
            area_weight=self.area_weight, attention_every=self.attention_every,
            area_target=self.area_target, similarity=self.similarity,
            balance_weight=self.balance_weight, mask_level=self.mask_level, mask=self.mask_mode,
            mask_floor=self.mask_floor, hash_inputs=self.hash_inputs)
        return config

    @classmethod
    def from_config(cls, config):
        config = nested.deserialize(config, "network")
        if config.pop("share_backbone", False):
            attention = dict(config["attention"])
            attention["config"] = dict(attention["config"], backbone=config["network"].backbone)
            config["attention"] = SaliencyMask.from_config(attention["config"])
        return cls(**nested.deserialize(config, "attention"))
