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

    Reference: Zhang, Lai, Feng et al., "Attention-aware Deep Adversarial Hashing for
    Cross-Modal Retrieval", ECCV 2018 (arXiv 1711.09347). The schedule's hinge and
    the masked means are our choices (../shared/design/METHODS.md).
    """

    REQUIRED_MODALITIES = ("image", "text")

    def __init__(self, backbone, bits, num_classes, text_dim, text_widths=(512, 512),
                 image_widths=(512, 512), triplet_margin=0.0, squared=False, adversarial=True,
                 adversarial_bound=0.0, **kwargs):
        super().__init__(bits, **kwargs)
        self.backbone = backbone
        for name, value in (("triplet_margin", triplet_margin),
                            ("adversarial_bound", adversarial_bound)):
            if float(value) < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.num_classes, self.text_dim = int(num_classes), int(text_dim)
        self.text_widths = tuple(int(w) for w in text_widths)
        self.image_widths = tuple(int(w) for w in image_widths)
        self.triplet_margin, self.squared = float(triplet_margin), bool(squared)
        self.adversarial, self.adversarial_bound = bool(adversarial), float(adversarial_bound)
        self.text_features = TextMLP(self.text_widths, name="text_features")
        self.image_attention = HardSpatialMask(name="image_attention")
        self.text_attention = HardFeatureMask(name="text_attention")
        self.image_hash = keras.Sequential(
            [keras.layers.Dense(w, activation="relu") for w in self.image_widths]
            + [keras.layers.Dense(self.bits, activation="tanh")], name="image_hash")
        self.text_hash = keras.layers.Dense(self.bits, activation="tanh", name="text_hash")

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

    def image_branches(self, images, training=False):
        """`{"attended", "unattended", "mask", "probabilities"}` of float images."""
        feature_map = self.backbone(images, training=training)["feature_map"]
        if not self.adversarial:
            pooled = tf.reduce_mean(feature_map, axis=[1, 2])
            codes = self.image_hash(pooled, training=training)
            return {"attended": codes, "unattended": codes}
        masks = self.image_attention(feature_map)
        mask = masks["mask"]  # (batch, h, w, 1), hard forward, straight-through backward

        def masked_mean(weights):
            total = tf.reduce_sum(weights, axis=[1, 2])  # (batch, 1)
            return tf.reduce_sum(feature_map * weights, axis=[1, 2]) / tf.maximum(total, 1.0)

        return {"attended": self.image_hash(masked_mean(mask), training=training),
                "unattended": self.image_hash(masked_mean(1.0 - mask), training=training),
                "mask": mask, "probabilities": masks["probabilities"]}

    def text_branches(self, text, training=False):
        """`{"attended", "unattended", "mask"}` of bag-of-words texts."""
        features = self.text_features(tf.cast(text, tf.float32))
        if not self.adversarial:
            codes = self.text_hash(features)
            return {"attended": codes, "unattended": codes}
        mask = self.text_attention(features)["mask"]
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
        """Step 1: the attention held fixed, features and hashing minimise retrieval +
        adversarial; returns the logs."""
        with tf.GradientTape() as tape:
            image = self.image_branches(batch["image"], training=True)
            text = self.text_branches(batch["text"], training=True)
            retrieval, adversarial = self._objectives(image, text, batch["label"])
            loss = retrieval + adversarial
        self.optimize("hash", tape, loss)
        return {"loss": loss, "retrieval_loss": retrieval, "adversarial_loss": adversarial}

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
        if self.adversarial:  # G:D = 1:1
            logs["attention_loss"] = self.attention_step(batch)
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(backbone=nested.serialize(self.backbone), bits=self.bits,
                      num_classes=self.num_classes, text_dim=self.text_dim,
                      text_widths=list(self.text_widths), image_widths=list(self.image_widths),
                      triplet_margin=self.triplet_margin, squared=self.squared,
                      adversarial=self.adversarial, adversarial_bound=self.adversarial_bound)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "backbone"))
