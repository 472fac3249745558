"""DOH: deep ordinal hashing with spatial attention (a global CNN stream and a local
FCN stream with spatial-softmax attention, fused into ordinal groups)."""

import math

import keras
import tensorflow as tf

from tfhash import losses, replicas
from tfhash.layers import SpatialSoftmaxPooling, nested
from tfhash.losses import ordinal
from tfhash.models import base, contract
from tfhash.retrieval import codes as codes_lib

ORDINAL_LOSSES = ("likelihood", "triplet")
# "uniform": the attribution control, the spatial softmax held at its uniform start
# (the local stream average-pools its map), everything else the same
ATTENTIONS = ("learned", "uniform")
# "global": the attribution control without the local stream (no second backbone, no
# attention, no local head): DPSH-like codes with DOH's annealed soft assignment and
# its classification head
STREAMS = ("both", "global")


@keras.saving.register_keras_serializable(package="tfhash")
class DOH(base.HashingModel):
    """Two streams fused into R ordinal groups of K members; a group's code is the
    one-hot of its largest member.

    - Global stream: backbone -> global average pooling -> dense (ReLU), and a
      classification head on it.
    - Local stream: the feature map of a second backbone (the FCN) -> two 1x1 conv
      layers (ReLU) -> spatial-softmax attention `a = softmax_hw(w . F + b)` pooling
      the map, and a classification head on the pooled vector.
    - Fusion: dense([local; global]) -> (R, K) group logits h (batch-normalised with
      `fusion_batch_norm`); soft assignment `p = softmax(h / tau)` with the temperature
      annealed from `tau_start` to `tau_end` over the epochs (the schedule hook; a
      checkpointed weight).
    - Loss (`ordinal_loss`) on the ordinal similarity `s_ij = sum_r p_i^r . p_j^r` of
      the global batch: "likelihood" (DPSH's likelihood on `max_logit * (2 s / R - 1)`)
      or "triplet" (`max(0, m - s_ij + s_ik)` for label similarity ij > ik), plus
      `class_weight` x the cross-entropy of both classification heads (softmax for
      single-label, sigmoid for multi-label data).

    Codes: K = 2 (default) gives R = bits groups and one bit per group,
    `sign(h^1 - h^2)`: plain binary codes, searched by Hamming distance like every
    other method. K = 4, 8, ... gives R = bits / log2(K) groups, stored as the
    one-hot of each group (R * K bits): their Hamming distance is twice the number of
    groups that differ, so Hamming ranking is ranking by differing groups.

    Args:
      backbone: the global stream's backbone.
      bits: information bits (R * log2(K)).
      fusion_batch_norm: batch-normalise the fused group logits.
      num_classes, multi_label: the classification heads.
      local_backbone: the local stream's backbone; None shares `backbone` (one pass of it
        gives the global features and the local map).
      group_size: K, a power of 2.
      tau_start, tau_end: the temperature at the first and the last epoch
        (geometric in between).
      ordinal_loss: "likelihood" or "triplet".
      max_logit: the likelihood's logit when all groups agree.
      triplet_margin: m of "triplet"; 0 means R / 4.
      class_weight: weight of the two classification losses.
      local_units, global_units: widths of the local 1x1 convs and of the global
        dense layer; 0 takes the backbone's width.
      similarity: label similarity of the pairs (`losses.label_similarity`).
      attention: "learned", or "uniform" (the control for what the attention adds:
        its scoring conv keeps its zero start and never trains, so the local stream
        average-pools its map).
      streams: "both", or "global" (the control for what the local stream adds: the
        groups come from the global stream alone; `local_backbone` must be None).

    Reference: Jin, Shu, Li, Li, Qi, Tang, "Deep Ordinal Hashing with Spatial
    Attention", arXiv 1805.02459 / IEEE TIP 2019. The losses' exact forms and the
    fusion are our reconstruction (../shared/design/METHODS.md).
    """

    MEAN_LOGS = ("temperature", "attention_max")

    def __init__(self, backbone, bits, num_classes, multi_label=False, local_backbone=None,
                 group_size=2, tau_start=1.0, tau_end=0.1, ordinal_loss="likelihood",
                 max_logit=6.0, triplet_margin=0.0, class_weight=1.0, local_units=0,
                 global_units=0, fusion_batch_norm=False, similarity="shared",
                 attention="learned", streams="both", **kwargs):
        super().__init__(bits, **kwargs)
        losses.check_pair_settings(similarity, 0.0)
        self.backbone = backbone
        self.fusion_batch_norm, self.similarity = bool(fusion_batch_norm), similarity
        group_size = int(group_size)
        per_group = int(round(math.log2(group_size))) if group_size >= 2 else 0
        if group_size < 2 or 2 ** per_group != group_size:
            raise ValueError(f"group_size must be a power of 2 (2, 4, 8, ...), got {group_size}")
        if self.bits % per_group:
            raise ValueError(f"bits={self.bits} must be a multiple of log2(group_size)={per_group}")
        if ordinal_loss not in ORDINAL_LOSSES:
            raise ValueError(f"ordinal_loss must be one of {ORDINAL_LOSSES}, got {ordinal_loss!r}")
        if not 0 < float(tau_end) <= float(tau_start):
            raise ValueError(f"temperatures need 0 < tau_end <= tau_start, got {tau_start}, {tau_end}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        self.attention_mode = attention
        if streams not in STREAMS:
            raise ValueError(f"streams must be one of {STREAMS}, got {streams!r}")
        if streams == "global" and local_backbone is not None:
            raise ValueError("streams='global' has no local stream: pass no local_backbone")
        self.streams_mode = streams
        for name, value in (("class_weight", class_weight), ("triplet_margin", triplet_margin),
                            ("local_units", local_units), ("global_units", global_units)):
            if float(value) < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.num_classes, self.multi_label = int(num_classes), bool(multi_label)
        self.local_backbone = local_backbone
        self.group_size, self.groups = group_size, self.bits // per_group
        self.tau_start, self.tau_end = float(tau_start), float(tau_end)
        self.ordinal_loss, self.max_logit = ordinal_loss, float(max_logit)
        self.triplet_margin, self.class_weight = float(triplet_margin), float(class_weight)
        self.local_units, self.global_units = int(local_units), int(global_units)
        self.attention = self.local_class = None
        if streams == "both":
            self.attention = SpatialSoftmaxPooling(name="attention")
            self.attention.trainable = attention == "learned"  # the setter reaches its conv
        self.fusion = keras.layers.Dense(self.groups * self.group_size,
                                         use_bias=not self.fusion_batch_norm, name="fusion")
        self.fusion_norm = (keras.layers.BatchNormalization(synchronized=True, name="fusion_norm")
                            if self.fusion_batch_norm else None)
        self.global_class = keras.layers.Dense(self.num_classes, name="global_class")
        if streams == "both":
            self.local_class = keras.layers.Dense(self.num_classes, name="local_class")
        self.temperature = self.add_weight(shape=(), initializer=keras.initializers.Constant(
            self.tau_start), trainable=False, name="temperature")

    @property
    def _local_backbone(self):
        return self.local_backbone if self.local_backbone is not None else self.backbone

    # -- networks -------------------------------------------------------------------
    def build_networks(self, spec):
        images = spec.symbolic("image")
        if self.streams_mode == "global":
            features = self.backbone(images)["features"]
            self.global_dense = keras.layers.Dense(self.global_units or features.shape[-1],
                                                   activation="relu", name="fc7")
            vector = self.global_dense(features)
            self.global_class(vector)
            logits = self.fusion(vector)
            if self.fusion_norm is not None:
                self.fusion_norm(logits)
            return
        shared = self.backbone(images)
        features = shared["features"]
        feature_map = (shared if self.local_backbone is None
                       else self.local_backbone(images))["feature_map"]
        # conv6 / conv7 and fc7 of the paper's AlexNet streams, sized from the backbones
        local_units = self.local_units or feature_map.shape[-1]
        global_units = self.global_units or features.shape[-1]
        self.local_convs = [keras.layers.Conv2D(local_units, 1, activation="relu", name=f"conv{i}")
                            for i in (6, 7)]
        self.global_dense = keras.layers.Dense(global_units, activation="relu", name="fc7")
        for layer in self.local_convs:
            feature_map = layer(feature_map)
        pooled = self.attention(feature_map)["pooled"]
        vector = self.global_dense(features)
        self.local_class(pooled)
        self.global_class(vector)
        logits = self.fusion(keras.ops.concatenate([pooled, vector], axis=-1))
        if self.fusion_norm is not None:
            self.fusion_norm(logits)

    def networks(self):
        return {"hash": list(self.trainable_variables)}

    def streams(self, images, training=False):
        """`{"logits": (batch, R, K), "attention": (batch, h, w), "local_class",
        "global_class"}` of float images."""
        shared = self.backbone(images, training=training)
        vector = self.global_dense(shared["features"])
        if self.streams_mode == "global":
            logits, local = self.fusion(vector), None
        else:
            # a shared backbone runs once for both streams (its features and its map)
            feature_map = (shared if self.local_backbone is None else
                           self.local_backbone(images, training=training))["feature_map"]
            for layer in self.local_convs:
                feature_map = layer(feature_map)
            local = self.attention(feature_map)
            logits = self.fusion(keras.ops.concatenate([local["pooled"], vector], axis=-1))
        if self.fusion_norm is not None:
            logits = self.fusion_norm(logits, training=training)
        out = {"logits": keras.ops.reshape(logits, (-1, self.groups, self.group_size)),
               "global_class": self.global_class(vector)}
        if local is not None:
            out.update(attention=local["attention"], local_class=self.local_class(local["pooled"]))
        return out

    def call(self, images, training=False):
        """The relaxed codes: h^1 - h^2 per group for K = 2, the group logits otherwise."""
        logits = self.streams(images, training=training)["logits"]
        if self.group_size == 2:
            return logits[..., 0] - logits[..., 1]  # (batch, R)
        return keras.ops.reshape(logits, (-1, self.groups * self.group_size))

    def attention_maps(self, images):
        """Spatial-softmax attention of the local stream, `(batch, h, w)`, each map
        summing to 1, of float or uint8 images."""
        if self.streams_mode == "global":
            raise ValueError("streams='global' has no local stream and no attention maps")
        return self.streams(tf.cast(images, tf.float32))["attention"]

    # -- codes ----------------------------------------------------------------------
    def encode_images(self, images):
        logits = self.streams(tf.cast(images, tf.float32))["logits"]
        if self.group_size == 2:
            return codes_lib.binarize(logits[..., 0] - logits[..., 1])
        one_hot = tf.one_hot(tf.argmax(logits, axis=-1), self.group_size)  # (batch, R, K)
        return tf.reshape(2.0 * one_hot - 1.0, [-1, self.groups * self.group_size])

    def encoders(self):
        if self.group_size == 2:
            return super().encoders()
        return {"image": contract.Encoder(
            "image", self._spec().input_spec("image"), encode=self.encode_images,
            embed=self.embed_images, code_bits=self.groups * self.group_size,
            distance=(f"hamming over {self.groups} one-hot groups of {self.group_size} bits: "
                      "2 x the number of groups that differ"))}

    def figure_maps(self, images):
        if self.streams_mode == "global":  # no attention to draw
            return {}
        maps = self.attention_maps(images)[..., None]  # (batch, h, w, 1)
        cells = maps.shape[1] * maps.shape[2]
        upsampled = tf.image.resize(maps, images.shape[1:3], method="nearest")[..., 0].numpy()
        return {"attention": contract.Maps(
            upsampled, "query images and the local stream's spatial-softmax attention (each map "
            f"on its own scale; a map sums to 1 over {cells} cells, uniform: {1 / cells:.3g})")}

    # -- schedule and loss ----------------------------------------------------------
    def temperature_at(self, epoch, epochs):
        """Geometric from tau_start (first epoch) to tau_end (last epoch)."""
        fraction = epoch / max(1, epochs - 1)
        return self.tau_start * (self.tau_end / self.tau_start) ** fraction

    def on_epoch_begin(self, epoch, context):
        self.temperature.assign(self.temperature_at(epoch, context.epochs))

    def train_step(self, batch, variant=None):
        del variant
        with tf.GradientTape() as tape:
            out = self.streams(batch["image"], training=True)
            loss, logs = self.compute_ordinal_loss(out, batch)
        self.optimize("hash", tape, loss)
        return dict(logs, loss=loss)

    def compute_ordinal_loss(self, out, batch):
        """`(loss, logs)`: this replica's share of the global loss."""
        assignment = ordinal.soft_assignment(out["logits"], self.temperature)  # (batch, R, K)
        pairs = replicas.global_pairs(batch["label"], assignment, similarity=self.similarity)
        (all_assignment,) = pairs.codes  # (global, R, K), differentiable
        similarity_hat = ordinal.ordinal_similarity(assignment, all_assignment)  # (batch, global)
        if self.ordinal_loss == "likelihood":
            terms = ordinal.ordinal_likelihood(similarity_hat, pairs.similarity, self.groups,
                                               self.max_logit)
            pair = tf.reduce_sum(terms) / (pairs.size * pairs.size)
        else:
            margin = self.triplet_margin or self.groups / 4.0
            hinges, counts = ordinal.ordinal_triplet(similarity_hat, pairs.similarity, margin)
            total = tf.reduce_sum(replicas.replica_gather(tf.reduce_sum(counts)[None]))
            pair = tf.reduce_sum(hinges) / tf.maximum(total, 1.0)
        classes = ordinal.classification(out["global_class"], batch["label"], self.multi_label)
        if "local_class" in out:
            classes += ordinal.classification(out["local_class"], batch["label"], self.multi_label)
        class_loss = tf.reduce_sum(classes) / pairs.size
        logs = {"ordinal_loss": pair, "class_loss": class_loss,
                "temperature": tf.convert_to_tensor(self.temperature)}
        if "attention" in out:
            logs["attention_max"] = tf.reduce_mean(tf.reduce_max(out["attention"], axis=[1, 2]))
        return pair + self.class_weight * class_loss, logs

    def get_config(self):
        config = super().get_config()
        config.update(
            backbone=nested.serialize(self.backbone), bits=self.bits,
            fusion_batch_norm=self.fusion_batch_norm, similarity=self.similarity,
            num_classes=self.num_classes, multi_label=self.multi_label,
            local_backbone=nested.serialize(self.local_backbone),
            group_size=self.group_size, tau_start=self.tau_start, tau_end=self.tau_end,
            ordinal_loss=self.ordinal_loss, max_logit=self.max_logit,
            triplet_margin=self.triplet_margin, class_weight=self.class_weight,
            local_units=self.local_units, global_units=self.global_units,
            attention=self.attention_mode, streams=self.streams_mode)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "backbone", "local_backbone"))

