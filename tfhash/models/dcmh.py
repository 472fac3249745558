"""DCMH: deep cross-modal hashing (the cross-modal baseline)."""

import keras
import numpy as np
import tensorflow as tf

from tfhash import losses, replicas
from tfhash.layers import MemoryBank, TextMLP, nested
from tfhash.models import base


def bank_mean_with(bank_codes, local_codes):
    """The per-bit mean over all training items of a bank in which this global batch's
    rows carry gradient: `(bits,)`. The bank already holds the batch (no gradient);
    the gathered batch is swapped in with its gradient."""
    gathered = replicas.replica_gather(local_codes)  # (global, bits), differentiable
    total = (tf.reduce_sum(bank_codes, axis=0) - tf.reduce_sum(tf.stop_gradient(gathered), axis=0)
             + tf.reduce_sum(gathered, axis=0))
    return total / tf.cast(tf.shape(bank_codes)[0], tf.float32)


@keras.saving.register_keras_serializable(package="tfhash")
class DCMH(base.HashingModel):
    """An image network (backbone -> linear hash layer: F) and a text network (bag of
    words -> dense 8192 -> dense(bits): G), trained in turn on every step.

    Loss of the image network for its batch (the text network's is the mirror):
    the inter-modal likelihood `softplus(theta) - s * theta`, `theta = scale * F_i . G_j`,
    over the batch x every training item's latest G (a memory bank), plus
    `gamma * ||B_i - F_i||^2` and `eta * ||mean over all items of F||^2` (bit
    balance). `B = sign(F + G)` of every training item is refreshed before every
    epoch by the schedule hook from the two banks (filled from an un-augmented pass
    before the first epoch); it is a checkpointed weight. The logit scale is DPSH's
    (`max_logit`; 0 gives the paper's 0.5).

    Codes: sign(F) for images, sign(G) for texts; evaluated image->text and
    text->image.

    Args:
      network: the image network F (`layers.HashingNetwork`, a linear head in the paper).
      num_train, num_classes: banks, labels.
      text_dim: vocabulary size.
      text_widths: the text network's hidden layers (the paper: one of 8192).
      gamma, eta: weights of the quantisation and bit-balance terms (1 and 1).
      max_logit: see `losses.logit_scale`.
      similarity: label similarity of the pairs (`losses.label_similarity`).

    Reference: Jiang and Li, "Deep Cross-Modal Hashing", CVPR 2017 (official code
    jiangqy/DCMH-CVPR2017).
    """

    REQUIRED_MODALITIES = ("image", "text")

    def __init__(self, network, num_train, num_classes, text_dim, text_widths=(8192,),
                 gamma=1.0, eta=1.0, max_logit=6.0, similarity="shared", **kwargs):
        super().__init__(network.bits, **kwargs)
        losses.check_pair_settings(similarity, 0.0)
        self.network, self.similarity = network, similarity
        for name, value in (("gamma", gamma), ("eta", eta)):
            if float(value) < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.num_train, self.num_classes = int(num_train), int(num_classes)
        self.text_dim, self.text_widths = int(text_dim), tuple(int(w) for w in text_widths)
        self.gamma, self.eta, self.max_logit = float(gamma), float(eta), float(max_logit)
        self.scale = losses.logit_scale(self.bits, self.max_logit)
        self.text_net = TextMLP(self.text_widths, name="text_net")
        self.text_head = keras.layers.Dense(self.bits, name="text_head")
        self.image_bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="image_bank")
        self.text_bank = MemoryBank(self.num_train, self.bits, self.num_classes, name="text_bank")
        self.codes_b = self.add_weight(shape=(self.num_train, self.bits), initializer="zeros",
                                       trainable=False, name="codes_b")
        self.banks_filled = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                            trainable=False, name="banks_filled")

    def build_networks(self, spec):
        self.network(spec.symbolic("image"))
        self.text_head(self.text_net(spec.symbolic("text")))

    def call(self, images, training=False):
        return self.network(images, training=training)

    def networks(self):
        return {"image": self.network.trainable_variables,
                "text": self.text_net.trainable_variables + self.text_head.trainable_variables}

    def embed_text(self, text, training=False):
        return self.text_head(self.text_net(tf.cast(text, tf.float32)))

    def encoders(self):
        return dict(super().encoders(), text=self.text_encoder(self.embed_text))

    def evaluation_tasks(self):
        return [("image", "text"), ("text", "image")]

    def validation_tasks(self):
        # both directions: a setting chosen on one could trade the other away
        return self.evaluation_tasks()

    # -- B, refreshed every epoch ---------------------------------------------------
    def on_epoch_begin(self, epoch, context):
        if not int(self.banks_filled.numpy()):
            for name, bank in (("image", self.image_bank), ("text", self.text_bank)):
                codes = np.zeros((self.num_train, self.bits), np.float32)
                labels = np.zeros((self.num_train, self.num_classes), np.float32)
                for batch in context.train_pass(256):
                    rows = batch["index"].numpy()
                    codes[rows] = (self.embed_images(batch["image"]) if name == "image"
                                   else self.embed_text(batch["text"])).numpy()
                    labels[rows] = batch["label"].numpy()
                bank.store(codes, labels)
            self.banks_filled.assign(1)
        self.codes_b.assign(tf.sign(self.image_bank.codes + self.text_bank.codes))

    # -- one step: the image network, then the text network ---------------------------
    def _modality_loss(self, codes, batch, own_bank, other_bank):
        """This replica's share of one network's loss for its `codes` of the batch."""
        own_codes, own_labels, global_batch = own_bank.written(batch["index"], codes, batch["label"])
        similarity = losses.label_similarity(batch["label"], other_bank.labels, self.similarity)
        theta = losses.likelihood_logits(codes, other_bank.codes, self.scale)  # (batch, num_train)
        pair = tf.reduce_sum(losses.likelihood_from_logits(theta, similarity)) / (
            global_batch * self.num_train)
        target = tf.gather(self.codes_b, batch["index"])
        quant = tf.reduce_sum(tf.square(target - codes)) / (global_batch * self.bits)
        balance = tf.reduce_mean(tf.square(bank_mean_with(own_codes, codes)))
        balance = balance / replicas.num_replicas()  # every replica computes the global term
        own_bank.store(own_codes, own_labels)
        loss = pair + self.gamma * quant + self.eta * balance
        return loss, {"pair_loss": pair, "quant_loss": quant, "balance": balance}

    def train_step(self, batch, variant=None):
        del variant
        logs = {}
        for name, own, other in (("image", self.image_bank, self.text_bank),
                                 ("text", self.text_bank, self.image_bank)):
            with tf.GradientTape() as tape:
                codes = (self(batch["image"], training=True) if name == "image"
                         else self.embed_text(batch["text"], training=True))
                loss, terms = self._modality_loss(codes, batch, own, other)
            self.optimize(name, tape, loss)
            logs.update({f"{name}_{k}": v for k, v in terms.items()}, **{f"{name}_loss": loss})
        logs["loss"] = logs["image_loss"] + logs["text_loss"]
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(network=nested.serialize(self.network), num_train=self.num_train,
                      num_classes=self.num_classes, text_dim=self.text_dim,
                      text_widths=list(self.text_widths), gamma=self.gamma, eta=self.eta,
                      max_logit=self.max_logit, similarity=self.similarity)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "network"))
