"""DAgH: deep attention-guided hashing (stage 1: attention + hashing network makes
guided codes; stage 2: a second hashing network learns them)."""

import hashlib

import keras
import numpy as np
import tensorflow as tf

from tfhash import losses, replicas
from tfhash.layers import MemoryBank, batch_norm, nested
from tfhash.models import base, contract
from tfhash.retrieval import codes as codes_lib

ATTENTION_LOSSES = ("difference", "contrastive")
GUIDED_CODES_FILE = "guided_codes.npz"
SECOND_INITS = ("scratch", "stream1")
# "none": the attribution control, network 1 without its mask (DPSH's likelihood on
# the plain map, no attention loss), so network 2 learns DPSH-like codes
ATTENTIONS = ("learned", "none")
# the batch-norm mode of the plain codes in the difference loss: "inference" (the
# moving statistics, as first built) or "same" (the attended codes' mode: batch
# statistics in training)
PLAIN_BN_MODES = ("inference", "same")
# stage 2's per-bit weights: "none" (plain cross-entropy) or "balanced" (each bit's
# ones and zeros weigh half each, from their shares in the guided codes)
STAGE2_WEIGHTS = ("none", "balanced")


@keras.saving.register_keras_serializable(package="tfhash")
class DAgH(base.HashingModel):
    """Two streams trained one after the other in one run.

    Stage 1 (the first `stage1_epochs` epochs): network 1 is a backbone's feature map
    F, an attention mask `M = sigmoid(conv1x1(relu(conv3x3(F))))`, the attended map
    `F * (1 + M)` (`F * M` without the mask's residual form), global average pooling and
    the hash head -> relaxed codes u1. Loss: DPSH's likelihood against a memory bank
    (with the length-normalised logit) + `attention_weight` x the attention loss,
    `attention_loss`: "difference" (per pair of the global batch,
    `max(0, m + l_ij(attended) - l_ij(plain))`: the attended codes must explain each
    pair better than codes of the plain map through the same head, by margin m) or
    "contrastive" (DSH's margin loss on the attended codes).

    At the stage boundary (the schedule hook) the guided codes `B = sign(u1)` of every
    training item are computed from an un-augmented pass and kept in a checkpointed
    weight, so a run killed in stage 2 resumes with the same B; they are also kept in
    the run folder as `guided_codes.npz`, packed, with their SHA-256
    (`context.artifacts`).

    Stage 2: network 2 (a backbone without attention -> dense(bits) -> sigmoid p)
    learns B by bitwise binary cross-entropy against `(B + 1) / 2`, with its own
    optimizer and a learning-rate schedule spanning stage 2.

    Codes: `sign(p - 0.5)` of network 2 by default (`eval_stream` 2; encoder
    "image"), and network 1's `sign(u1)` as encoder "image_stream1" (or the reverse
    with `eval_stream` 1); the report scores both.

    Args:
      network: network 1's backbone and hash head (`layers.HashingNetwork` without
        attention: the mask sits between them here, so that the plain map can go
        through the same head).
      second_backbone: network 2's backbone (may be lighter).
      mask: the attention mask over network 1's feature map (`layers.FeatureMask`:
        `F * (1 + M)` or `F * M`).
      num_train, num_classes: memory bank and labels.
      stage1_epochs: epochs of stage 1 (the rest of the run is stage 2).
      quant_weight, max_logit: DPSH's (the likelihood of stage 1).
      attention_loss: "difference" or "contrastive"; attention_weight, margin.
      similarity, balance_weight: the pairwise losses' (`models.DPSH`).
      reestimate_bn: at the end of stage 1 (network 1) and of every stage-2 epoch
        (network 2), set the batch norms' moving statistics to their means over an
        un-augmented pass of the training part (`layers.batch_norm.reestimate`): a
        stage of a few hundred steps leaves the moving averages far from the batch
        statistics the network was trained with, and network 2's codes then
        collapse at inference (docs/results.md, "DAgH").
      eval_stream: 2 or 1, the stream whose codes are the "image" encoder (and what is
        exported).
      second_init: "scratch" (the paper: network 2 starts from its own initial
        weights) or "stream1" (at the stage boundary network 2 becomes network 1
        without its mask, `copy_stream1_into_stream2`; needs the same backbone; our
        departure, for backbones trained from scratch: docs/results.md "DAgH").
      attention: "learned", or "none" (the control for what the mask adds: network 1
        codes the plain map, its loss is DPSH's likelihood alone, the mask is built
        but never used or trained; network 2 then learns those codes, so it is also
        the control "network 2 trained on DPSH's codes").
      plain_bn: "inference" (the plain codes of the difference loss use the head's
        moving statistics, as first built) or "same" (in training they use batch
        statistics, as the attended codes do; the plain pass then also moves the
        head's statistics).
      stage2_weights: "none" or "balanced" (stage 2's cross-entropy weighs each bit's
        ones and zeros half each, from their shares in the guided codes:
        `balanced_bit_weights`).

    Reference: Yang, Osolo Ian, Sun, Long, "Deep Attention-guided Hashing", arXiv
    1812.01404 / IEEE Access 2019. The losses' exact forms are our reconstruction
    (../shared/design/METHODS.md).
    """

    MEAN_LOGS = ("mask_mean", "bit_agreement")

    def __init__(self, network, second_backbone, mask, num_train, num_classes, stage1_epochs=20,
                 quant_weight=0.1, max_logit=6.0, attention_loss="difference",
                 attention_weight=1.0, margin=1.0, eval_stream=2, second_init="scratch",
                 similarity="shared", balance_weight=0.0, reestimate_bn=True,
                 attention="learned", plain_bn="inference", stage2_weights="none", **kwargs):
        super().__init__(network.bits, **kwargs)
        losses.check_pair_settings(similarity, balance_weight)
        if second_init not in SECOND_INITS:
            raise ValueError(f"second_init must be one of {SECOND_INITS}, got {second_init!r}")
        if second_init == "stream1" and network.head.hidden_units:
            raise ValueError("second_init='stream1' needs a hash head without a hidden layer "
                             f"(model.hidden_units={network.head.hidden_units})")
        if attention_loss not in ATTENTION_LOSSES:
            raise ValueError(f"attention_loss must be one of {ATTENTION_LOSSES}, got {attention_loss!r}")
        if int(stage1_epochs) < 1:
            raise ValueError(f"stage1_epochs must be >= 1, got {stage1_epochs}")
        if int(eval_stream) not in (1, 2):
            raise ValueError(f"eval_stream must be 1 or 2, got {eval_stream}")
        if float(attention_weight) < 0:
            raise ValueError(f"attention_weight must be >= 0, got {attention_weight}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        self.attention_mode = attention
        if plain_bn not in PLAIN_BN_MODES:
            raise ValueError(f"plain_bn must be one of {PLAIN_BN_MODES}, got {plain_bn!r}")
        if stage2_weights not in STAGE2_WEIGHTS:
            raise ValueError(f"stage2_weights must be one of {STAGE2_WEIGHTS}, got "
                             f"{stage2_weights!r}")
        self.plain_bn, self.stage2_weights = plain_bn, stage2_weights
        self.network = network
        self.num_train, self.num_classes = int(num_train), int(num_classes)
        self.second_backbone = second_backbone
        self.stage1_epochs = int(stage1_epochs)
        self.quant_weight, self.max_logit = float(quant_weight), float(max_logit)
        self.scale = losses.logit_scale(self.bits, self.max_logit)
        self.attention_loss, self.attention_weight = attention_loss, float(attention_weight)
        self.margin, self.eval_stream = float(margin), int(eval_stream)
        self.second_init = second_init
        self.similarity, self.balance_weight = similarity, float(balance_weight)
        self.reestimate_bn = bool(reestimate_bn)
        self.mask = mask
        self.mask.trainable = attention == "learned"
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.second_head = keras.layers.Dense(self.bits, name="second_head")
        self.bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="bank")
        self.stage = self.add_weight(shape=(), dtype="int32", initializer="ones", trainable=False,
                                     name="stage")
        self.guided = self.add_weight(shape=(self.num_train, self.bits), initializer="zeros",
                                      trainable=False, name="guided_codes")
        self.guided_ready = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                            trainable=False, name="guided_ready")

    # -- networks -------------------------------------------------------------------
    @property
    def backbone(self):
        return self.network.backbone

    @property
    def head(self):
        return self.network.head

    def build_networks(self, spec):
        images = spec.symbolic("image")
        attended = self.mask(self.backbone(images)["feature_map"])["attended"]
        self.head(self.pool(attended))  # the mask's weights first: the order they were made in
        self.network.built = True
        self.second_head(self.second_backbone(images)["features"])
        if self.second_init == "stream1":
            self._check_same_backbones()

    def networks(self):
        first = (self.backbone.trainable_variables + self.mask.trainable_variables
                 + self.head.trainable_variables)  # the order of the first optimizer's slots
        second = self.second_backbone.trainable_variables + self.second_head.trainable_variables
        return {"stage1": first, "stage2": second}

    def schedule_steps(self, network, steps_per_epoch, epochs):
        stage1 = self.stage1_epochs * steps_per_epoch
        return stage1 if network == "stage1" else epochs * steps_per_epoch - stage1

    def stream1(self, images, training=False):
        """`{"attended", "plain", "mask"}` of float images: network 1's relaxed codes,
        the codes of the plain (unattended) map through the same head, held fixed
        (inference mode, no gradient), and the attention mask."""
        feature_map = self.backbone(images, training=training)["feature_map"]
        plain = self.head(self.pool(tf.stop_gradient(feature_map)),
                          training=training if self.plain_bn == "same" else False)
        if self.attention_mode == "none":  # the control: the plain map, no mask
            return {"attended": self.head(self.pool(feature_map), training=training),
                    "plain": tf.stop_gradient(plain),
                    "mask": tf.ones_like(feature_map[..., :1])}
        masked = self.mask(feature_map)
        return {"attended": self.head(self.pool(masked["attended"]), training=training),
                "plain": tf.stop_gradient(plain), "mask": masked["mask"]}

    def stream2(self, images, training=False):
        """Network 2's logits `(batch, bits)` (p = sigmoid of them), float images."""
        features = self.second_backbone(images, training=training)["features"]
        return self.second_head(features)

    def call(self, images, training=False):
        if self.eval_stream == 1:
            return self.stream1(images, training=training)["attended"]
        return self.stream2(images, training=training)

    def _embed(self, stream):
        if stream == 1:
            return lambda images: self.stream1(tf.cast(images, tf.float32))["attended"]
        return lambda images: self.stream2(tf.cast(images, tf.float32))

    def encoders(self):
        spec = self._spec().input_spec("image")
        other = 3 - self.eval_stream
        return {name: contract.Encoder("image", spec, encode=lambda x, s=stream: codes_lib.binarize(
                    self._embed(s)(x)), embed=self._embed(stream), code_bits=self.bits)
                for name, stream in (("image", self.eval_stream), (f"image_stream{other}", other))}

    def evaluation_tasks(self):
        other = f"image_stream{3 - self.eval_stream}"
        return [("image", "image"), (other, other)]

    def figure_maps(self, images):
        mask = self.stream1(tf.cast(images, tf.float32))["mask"]  # (batch, h, w, 1)
        upsampled = tf.image.resize(mask, images.shape[1:3], method="nearest")[..., 0].numpy()
        return {"attention": contract.Maps(
            upsampled, "query images and network 1's attention mask M (red: 1, blue: 0)",
            0.0, 1.0)}

    # -- schedule -------------------------------------------------------------------
    def guided_codes_of(self, train_pass):
        """`sign(u1)` of every training item (rows by `index`) from an ordered,
        un-augmented pass: float32 `(num_train, bits)` in {-1, +1}."""
        guided = np.zeros((self.num_train, self.bits), np.float32)
        seen = np.zeros(self.num_train, bool)
        for batch in train_pass(256):
            codes = self.stream1(tf.cast(batch["image"], tf.float32))["attended"]
            rows = batch["index"].numpy()
            guided[rows] = codes_lib.binarize(codes).numpy()
            seen[rows] = True
        if not seen.all():
            raise ValueError(f"the training pass gave {seen.sum()} of {self.num_train} items")
        return guided

    def on_epoch_begin(self, epoch, context):
        if epoch >= self.stage1_epochs and not int(self.guided_ready.numpy()):
            guided = self.guided_codes_of(context.train_pass)
            self.guided.assign(guided)
            self.guided_ready.assign(1)
            if context.artifacts is not None:
                context.artifacts.keep_arrays(GUIDED_CODES_FILE, guided_codes_record(guided))
            if self.second_init == "stream1":
                self.copy_stream1_into_stream2()
        self.stage.assign(2 if epoch >= self.stage1_epochs else 1)

    def on_epoch_end(self, epoch, context):
        if not self.reestimate_bn or epoch < self.stage1_epochs - 1:
            return
        if epoch == self.stage1_epochs - 1:  # network 1, before the guided codes
            network = [self.backbone, self.mask, self.head]
            forward = lambda images: self.stream1(images, training=True)  # noqa: E731
        else:
            network = [self.second_backbone]
            forward = lambda images: self.stream2(images, training=True)  # noqa: E731
        norms = [n for layer in network for n in batch_norm.norm_layers(layer)]
        batch_norm.reestimate(lambda batch: forward(tf.cast(batch["image"], tf.float32)), norms,
                              context.train_pass(256))

    def _check_same_backbones(self):
        shapes = ([tuple(v.shape) for v in self.backbone.weights],
                  [tuple(v.shape) for v in self.second_backbone.weights])
        if shapes[0] != shapes[1]:
            raise ValueError("dagh.second_init='stream1' needs network 2's backbone to be network "
                             "1's (leave dagh.second_widths empty); their weights differ in shape")

    def copy_stream1_into_stream2(self):
        """Network 2 becomes network 1 without its mask: the backbone's weights, and the
        hash head's code layer with its batch norm (moving statistics) folded into
        network 2's dense layer, so `sign(stream2(x))` are network 1's codes of the
        unattended feature map. Needs the same backbone for both networks."""
        self._check_same_backbones()
        for to, frm in zip(self.second_backbone.weights, self.backbone.weights):
            to.assign(frm)
        kernel = self.head.code.kernel
        bias = self.head.code.bias if self.head.code.use_bias else tf.zeros([self.bits])
        if self.head.norm is not None:
            norm = self.head.norm
            scale = tf.math.rsqrt(norm.moving_variance + norm.epsilon)
            scale = scale * (norm.gamma if norm.scale else 1.0)
            shift = norm.beta if norm.center else 0.0
            kernel, bias = kernel * scale, (bias - norm.moving_mean) * scale + shift
        self.second_head.kernel.assign(kernel)
        self.second_head.bias.assign(bias)

    def step_variant(self, step):
        return int(self.stage.numpy())

    # -- the two stages -------------------------------------------------------------
    def train_step(self, batch, variant=1):
        if variant == 2:
            return self._stage2_step(batch)
        with tf.GradientTape() as tape:
            out = self.stream1(batch["image"], training=True)
            loss, logs = losses.bank_likelihood(
                self.bank, out["attended"], batch, scale=self.scale, quant_weight=self.quant_weight,
                similarity=self.similarity, balance_weight=self.balance_weight)
            if self.attention_mode == "none":
                attention = tf.constant(0.0)
            else:
                attention = self._attention_loss(out, batch)
            loss = loss + self.attention_weight * attention
        self.optimize("stage1", tape, loss)
        return dict(logs, loss=loss, attention_loss=attention,
                    mask_mean=tf.reduce_mean(out["mask"]))

    def _attention_loss(self, out, batch):
        if self.attention_loss == "difference":
            plain = out["plain"]
            pairs = replicas.global_pairs(batch["label"], out["attended"], plain,
                                          similarity=self.similarity)
            all_attended, all_plain = pairs.codes
            margins = losses.saliency_margin(out["attended"], all_attended, plain, all_plain,
                                             pairs.similarity, self.margin, self.scale)
            return tf.reduce_sum(margins) / (pairs.size * pairs.size)
        pairs = replicas.global_pairs(batch["label"], out["attended"], similarity=self.similarity)
        (all_attended,) = pairs.codes
        terms = losses.contrastive(out["attended"], all_attended, pairs.similarity, 2.0 * self.bits)
        return tf.reduce_sum(terms) / (pairs.size * pairs.size)

    def _stage2_step(self, batch):
        targets = (tf.gather(self.guided, batch["index"]) + 1.0) / 2.0  # (batch, bits) in {0, 1}
        with tf.GradientTape() as tape:
            logits = self.stream2(batch["image"], training=True)
            bce = losses.bitwise_cross_entropy(logits, targets)
            if self.stage2_weights == "balanced":
                bce = bce * self.balanced_bit_weights(targets)
            loss = tf.reduce_sum(bce) / (replicas.global_size(batch["index"]) * self.bits)
        self.optimize("stage2", tape, loss)
        agree = tf.reduce_mean(tf.cast(tf.equal(logits > 0, targets > 0.5), tf.float32))
        return {"loss": loss, "bce_loss": loss, "bit_agreement": agree}

    def balanced_bit_weights(self, targets):
        """`(batch, bits)` weights of stage 2's cross-entropy with `stage2_weights=
        "balanced"`: a one of bit b weighs 0.5 / p_b and a zero 0.5 / (1 - p_b), p_b the
        share of ones of bit b in the guided codes of all training items (clipped to
        [1/num_train, 1 - 1/num_train]), so each bit's ones and zeros count alike over
        the training items."""
        floor = 1.0 / self.num_train
        ones = tf.clip_by_value(tf.reduce_mean((self.guided + 1.0) / 2.0, axis=0),
                                floor, 1.0 - floor)
        return targets * (0.5 / ones) + (1.0 - targets) * (0.5 / (1.0 - ones))

    def get_config(self):
        config = super().get_config()
        config.update(
            network=nested.serialize(self.network),
            second_backbone=nested.serialize(self.second_backbone), mask=nested.serialize(self.mask),
            num_train=self.num_train, num_classes=self.num_classes,
            stage1_epochs=self.stage1_epochs, quant_weight=self.quant_weight,
            max_logit=self.max_logit, attention_loss=self.attention_loss,
            attention_weight=self.attention_weight, margin=self.margin,
            eval_stream=self.eval_stream, second_init=self.second_init,
            similarity=self.similarity, balance_weight=self.balance_weight,
            reestimate_bn=self.reestimate_bn, attention=self.attention_mode,
            plain_bn=self.plain_bn, stage2_weights=self.stage2_weights)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "network", "second_backbone", "mask"))


def guided_codes_record(guided):
    """What `guided_codes.npz` holds: the guided codes packed (uint8, the index's
    layout), their bit count and their SHA-256."""
    packed = codes_lib.pack_codes(guided).numpy()
    checksum = hashlib.sha256(packed.tobytes()).hexdigest()
    return {"codes": packed, "bits": np.array(guided.shape[1]), "sha256": np.array(checksum)}


def read_guided_codes(path):
    """The packed guided codes of a `guided_codes.npz` (`guided_codes_record`), checked
    against their SHA-256."""
    with np.load(path) as stored:
        packed, checksum = stored["codes"], str(stored["sha256"])
    if hashlib.sha256(packed.tobytes()).hexdigest() != checksum:
        raise ValueError(f"{path} does not match its checksum: it was modified or damaged")
    return packed
