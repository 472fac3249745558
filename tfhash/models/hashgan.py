"""HashGAN / ADAH: attention-aware deep adversarial hashing for image-text retrieval."""

import keras
import tensorflow as tf

from tfhash import losses, replicas
from tfhash.layers import HardFeatureMask, HardSpatialMask, TextMLP, nested
from tfhash.models import base, contract


@keras.saving.register_keras_serializable(package="tfhash")
class HashGAN(base.HashingModel):
    """Feature modules, an attention module that splits features into attended and
    unattended parts, and hashing modules shared by both parts, trained in a min-max
    alternation (one optimizer per side).

    - Image: the backbone's feature map f; attention `P = softmax_hw(conv1x1(f))`, hard
      mask `Z = [P >= 1/(h*w)]` with a straight-through gradient; the attended part is
      the mean of f over the masked positions, the unattended part over the others;
      hashing: dense(512) -> dense(512) -> dense(bits) -> tanh (`image_widths`).
    - Text: bag of words -> two dense layers (`text_widths`) -> t; attention
      `softmax(dense(t))` over t's features, hard mask at 1/d (straight-through);
      attended `Z * t`, unattended `(1 - Z) * t`; hashing: dense(bits) -> tanh.
    - Retrieval loss: triplets `max(0, eps + ||a_i - b_j|| - ||a_i - b_k||)` over the
      global batch for similarity ij > ik (graded: the number of shared labels), for
      I->T, T->I, I->I and T->T, on the attended codes. Adversarial loss: the same
      triplets with attended queries against the other modality's unattended codes
      (T->I^, I->T^).
    - Step 1 (attention fixed): features and hashing minimise retrieval + adversarial
      (they try to preserve the similarities of the unattended parts too). Step 2
      (features and hashing fixed): the attention maximises the adversarial loss,
      as `max(0, bound - adversarial)` so it cannot diverge.

    `adversarial=False` is the triplet-only ablation: no attention (every feature is
    attended) and no adversary. Codes: sign of the attended branch, both modalities.

    Args:
      backbone: the image feature module.
      bits, num_classes, text_dim: codes, labels, vocabulary.
      text_widths, image_widths: hidden layers of the text features and the image
        hashing module.
      triplet_margin: eps; 0 means bits / 4.
      squared: squared distances in the triplets (the paper: not squared).
      adversarial: attention and adversary on (False: the ablation).
      adversarial_bound: the attention stops pushing once the adversarial loss is
        this large; 0 means 2 * eps, about what it is for codes that carry no
        similarity (each of its two triplet terms is then about eps).
      adversarial_weight: the adversarial loss's weight in the hash step (the
        paper: 1).
      attended_share: 0 thresholds the attention at uniform (the paper's `1/(h*w)`
        and `1/d`); in (0, 1] each mask keeps that share of the positions and of the
        text features, the highest-scoring ones (see the method's defaults).
      mask_gradient: in the hash step the straight-through gradient flows through the
        masks into the features (True, what earlier tfhash did), or the masks are
        held as constants (False: the attention is fixed in that step, as the
        paper's schedule says). The argument defaults keep models saved before
        these switches as they were; configs/default.py sets the method's
        defaults.
      train_attention: False is the attribution control: the attention keeps its
        initial weights (no attention step); masks, adversarial term and codes are
        otherwise the method's.
      adversarial_warmup: epochs over which the adversarial weight of the hash step
        rises linearly from 0 (epoch 0) to `adversarial_weight` (reached at this
        epoch); 0 (the paper): the full weight from the start. The attention step
        runs throughout.
      attention_learning_rate: the attention's learning rate as a multiple of the
        run's (`train.learning_rate`, same schedule); 1 (the paper: one rate).

    Reference: Zhang, Lai, Feng et al., "Attention-aware Deep Adversarial Hashing for
    Cross-Modal Retrieval", ECCV 2018 (arXiv 1711.09347). The schedule's hinge and
    the masked means are our choices (../shared/design/METHODS.md).
    """

    REQUIRED_MODALITIES = ("image", "text")
    MEAN_LOGS = ("adversarial_weight",)

    def __init__(self, backbone, bits, num_classes, text_dim, text_widths=(512, 512),
                 image_widths=(512, 512), triplet_margin=0.0, squared=False, adversarial=True,
                 adversarial_bound=0.0, adversarial_weight=1.0, attended_share=0.0, mask_gradient=True,
                 train_attention=True, adversarial_warmup=0, attention_learning_rate=1.0,
                 **kwargs):
        super().__init__(bits, **kwargs)
        self.backbone = backbone
        for name, value in (("triplet_margin", triplet_margin),
                            ("adversarial_bound", adversarial_bound),
                            ("adversarial_weight", adversarial_weight)):
            if float(value) < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if not 0.0 <= float(attended_share) <= 1.0:
            raise ValueError(f"attended_share must be in [0, 1] (0: above uniform), got "
                             f"{attended_share}")
        self.num_classes, self.text_dim = int(num_classes), int(text_dim)
        self.text_widths = tuple(int(w) for w in text_widths)
        self.image_widths = tuple(int(w) for w in image_widths)
        self.triplet_margin, self.squared = float(triplet_margin), bool(squared)
        self.adversarial, self.adversarial_bound = bool(adversarial), float(adversarial_bound)
        self.adversarial_weight = float(adversarial_weight)
        self.attended_share = float(attended_share)
        self.mask_gradient = bool(mask_gradient)
        self.train_attention = bool(train_attention)
        if int(adversarial_warmup) != adversarial_warmup or adversarial_warmup < 0:
            raise ValueError(f"adversarial_warmup must be a whole number of epochs >= 0, got "
                             f"{adversarial_warmup}")
        if not float(attention_learning_rate) > 0:
            raise ValueError(f"attention_learning_rate must be > 0, got {attention_learning_rate}")
        self.adversarial_warmup = int(adversarial_warmup)
        self.attention_learning_rate = float(attention_learning_rate)
        # the warm-up's share of the adversarial weight, set at every epoch's start
        # (a weight only with a warm-up, so models saved without one load as before)
        self.adversarial_scale = None
        if self.adversarial_warmup:
            self.adversarial_scale = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="adversarial_scale")
        self.text_features = TextMLP(self.text_widths, name="text_features")
        self.image_attention = HardSpatialMask(self.attended_share, name="image_attention")
        self.text_attention = HardFeatureMask(self.attended_share, name="text_attention")
        self.image_hash = keras.Sequential(
            [keras.layers.Dense(w, activation="relu") for w in self.image_widths]
            + [keras.layers.Dense(self.bits, activation="tanh")], name="image_hash")
        self.text_hash = keras.layers.Dense(self.bits, activation="tanh", name="text_hash")

    def learning_rate_scale(self, network):
        return self.attention_learning_rate if network == "attention" else 1.0

    def adversarial_weight_at(self, epoch):
        """The hash step's adversarial weight in `epoch` (0-based): linear from 0 to
        `adversarial_weight` over the warm-up, then constant."""
        if not self.adversarial_warmup:
            return self.adversarial_weight
        return self.adversarial_weight * min(1.0, epoch / self.adversarial_warmup)

    def on_epoch_begin(self, epoch, context):
        super().on_epoch_begin(epoch, context)
        if self.adversarial_scale is not None:
            self.adversarial_scale.assign(min(1.0, epoch / self.adversarial_warmup))

    @property
    def margin(self):
        return self.triplet_margin or self.bits / 4.0

    # -- networks -------------------------------------------------------------------
    def build_networks(self, spec):
        feature_map = self.backbone(spec.symbolic("image"))["feature_map"]
        self.image_attention(feature_map)
        self.image_hash(keras.KerasTensor((None, feature_map.shape[-1])))
        features = self.text_features(spec.symbolic("text"))
        self.text_attention(features)
        self.text_hash(features)

    def networks(self):
        attention = (self.image_attention.trainable_variables
                     + self.text_attention.trainable_variables)
        owned = {id(v) for v in attention}
        hashing = [v for v in self.trainable_variables if id(v) not in owned]
        return {"hash": hashing, "attention": attention}

    def image_branches(self, images, training=False, fixed_attention=False):
        """`{"attended", "unattended", "mask", "probabilities"}` of float images; with
        `fixed_attention` no gradient flows through the mask (the hash step's)."""
        feature_map = self.backbone(images, training=training)["feature_map"]
        if not self.adversarial:
            pooled = tf.reduce_mean(feature_map, axis=[1, 2])
            codes = self.image_hash(pooled, training=training)
            return {"attended": codes, "unattended": codes}
        masks = self.image_attention(feature_map)
        mask = masks["mask"]  # (batch, h, w, 1), hard forward, straight-through backward
        if fixed_attention:
            mask = tf.stop_gradient(mask)

        def masked_mean(weights):
            total = tf.reduce_sum(weights, axis=[1, 2])  # (batch, 1)
            return tf.reduce_sum(feature_map * weights, axis=[1, 2]) / tf.maximum(total, 1.0)

        return {"attended": self.image_hash(masked_mean(mask), training=training),
                "unattended": self.image_hash(masked_mean(1.0 - mask), training=training),
                "mask": mask, "probabilities": masks["probabilities"]}

    def text_branches(self, text, training=False, fixed_attention=False):
        """`{"attended", "unattended", "mask"}` of bag-of-words texts (`fixed_attention`
        as for `image_branches`)."""
        features = self.text_features(tf.cast(text, tf.float32))
        if not self.adversarial:
            codes = self.text_hash(features)
            return {"attended": codes, "unattended": codes}
        mask = self.text_attention(features)["mask"]
        if fixed_attention:
            mask = tf.stop_gradient(mask)
        return {"attended": self.text_hash(features * mask),
                "unattended": self.text_hash(features * (1.0 - mask)), "mask": mask}

    def call(self, images, training=False):
        return self.image_branches(images, training=training)["attended"]

    def embed_text(self, text):
        return self.text_branches(text)["attended"]

    def encoders(self):
        return dict(super().encoders(), text=self.text_encoder(self.embed_text))

    def evaluation_tasks(self):
        return [("image", "text"), ("text", "image")]

    def validation_tasks(self):
        # both directions: a setting chosen on one could trade the other away
        return self.evaluation_tasks()

    def figure_maps(self, images):
        if not self.adversarial:
            return {}
        out = self.image_branches(tf.cast(images, tf.float32))
        cells = out["probabilities"].shape[1] * out["probabilities"].shape[2]
        upsampled = tf.image.resize(out["probabilities"], images.shape[1:3],
                                    method="nearest")[..., 0].numpy()
        return {"attention": contract.Maps(
            upsampled, "query images and the image attention P (each map on its own scale; "
            f"positions above the uniform {1 / cells:.3g} are the attended part)")}

    # -- losses and the min-max steps -------------------------------------------------
    def _triplets(self, anchors, candidates, labels, same_items=False):
        """This replica's share of the mean triplet loss of its anchors (local) against
        the global batch's candidates; with `same_items` (I->I, T->T) an anchor is not
        its own candidate."""
        pairs = replicas.global_pairs(labels, candidates, similarity="count")
        (all_candidates,) = pairs.codes
        scores = -losses.code_distances(anchors, all_candidates, self.squared)
        exclude = None
        if same_items:
            columns = tf.range(tf.shape(all_candidates, out_type=tf.int64)[0])
            exclude = replicas.global_rows(anchors)[:, None] == columns[None, :]
        hinges, counts = losses.ranking_triplets(scores, pairs.similarity, self.margin, exclude)
        total = tf.reduce_sum(replicas.replica_gather(tf.reduce_sum(counts)[None]))
        return tf.reduce_sum(hinges) / tf.maximum(total, 1.0)

    def _objectives(self, image, text, labels):
        retrieval = (self._triplets(image["attended"], text["attended"], labels)
                     + self._triplets(text["attended"], image["attended"], labels)
                     + self._triplets(image["attended"], image["attended"], labels, True)
                     + self._triplets(text["attended"], text["attended"], labels, True))
        if not self.adversarial:
            return retrieval, tf.constant(0.0)
        adversarial = (self._triplets(text["attended"], image["unattended"], labels)
                       + self._triplets(image["attended"], text["unattended"], labels))
        return retrieval, adversarial

    def hash_step(self, batch):
        """Step 1: the attention's weights held fixed, features and hashing minimise
        retrieval + adversarial_weight * adversarial; with `mask_gradient` False the
        masks are constants here too (no straight-through gradient reaches the
        features through them); returns the logs."""
        with tf.GradientTape() as tape:
            fixed = not self.mask_gradient
            image = self.image_branches(batch["image"], training=True, fixed_attention=fixed)
            text = self.text_branches(batch["text"], training=True, fixed_attention=fixed)
            retrieval, adversarial = self._objectives(image, text, batch["label"])
            weight = tf.constant(self.adversarial_weight)
            if self.adversarial_scale is not None:
                weight = weight * tf.convert_to_tensor(self.adversarial_scale)
            loss = retrieval + weight * adversarial
        self.optimize("hash", tape, loss)
        logs = {"loss": loss, "retrieval_loss": retrieval, "adversarial_loss": adversarial}
        if self.adversarial_scale is not None:
            logs["adversarial_weight"] = weight
        if self.adversarial:  # the attended shares: how much of each item the codes see
            # (this replica's share of the global batch's mean: the shares sum to it)
            size = replicas.global_size(batch["label"])
            for name, mask in (("image_attended", image["mask"]), ("text_attended", text["mask"])):
                per_item = tf.reduce_mean(tf.reshape(mask, [tf.shape(mask)[0], -1]), axis=1)
                logs[name] = tf.reduce_sum(per_item) / size
        return logs

    def attention_step(self, batch):
        """Step 2: features and hashing held fixed (inference mode, not updated), the
        attention maximises the adversarial loss up to the bound; returns its loss."""
        with tf.GradientTape() as tape:
            image = self.image_branches(batch["image"], training=False)
            text = self.text_branches(batch["text"], training=False)
            _, adversarial = self._objectives(image, text, batch["label"])
            bound = self.adversarial_bound or 2.0 * self.margin
            # the hinge of the global adversarial loss (the replicas' shares summed);
            # every replica computes it and returns its 1/replicas share
            total = tf.reduce_sum(replicas.replica_gather(tf.reshape(adversarial, [1])))
            attention_loss = tf.nn.relu(bound - total) / replicas.num_replicas()
        self.optimize("attention", tape, attention_loss)
        return attention_loss

    def train_step(self, batch, variant=None):
        del variant
        logs = self.hash_step(batch)
        if self.adversarial and self.train_attention:  # G:D = 1:1
            logs["attention_loss"] = self.attention_step(batch)
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(backbone=nested.serialize(self.backbone), bits=self.bits,
                      num_classes=self.num_classes, text_dim=self.text_dim,
                      text_widths=list(self.text_widths), image_widths=list(self.image_widths),
                      triplet_margin=self.triplet_margin, squared=self.squared,
                      adversarial=self.adversarial, adversarial_bound=self.adversarial_bound,
                      adversarial_weight=self.adversarial_weight,
                      attended_share=self.attended_share, mask_gradient=self.mask_gradient,
                      train_attention=self.train_attention,
                      adversarial_warmup=self.adversarial_warmup,
                      attention_learning_rate=self.attention_learning_rate)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "backbone"))
