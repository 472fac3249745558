"""The common base of every hashing method: backbone -> hash head -> codes."""

import keras
import tensorflow as tf

from tfhash.layers import HashHead
from tfhash.retrieval import codes as codes_lib


def replica_gather(x):
    """Concatenates `x` over all replicas along axis 0 (differentiable).

    Under a multi-replica strategy this is `all_gather`, whose gradient sends each
    replica its own slice of the summed upstream gradient; with one replica (or
    outside a strategy) it is the identity, so both paths compute the same thing.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return x
    return ctx.all_gather(x, axis=0)


@keras.saving.register_keras_serializable(package="tfhash")
class HashingModel(keras.Model):
    """Backbone -> HashHead. Subclasses define `compute_hash_loss`.

    `train_step(batch)` runs in replica context (inside `strategy.run`): the loss a
    replica returns is its share of the global loss, already divided by the global
    number of pairs/items, so summing over replicas gives the loss of one replica
    on the whole global batch, and the optimizer's all-reduced gradient is that
    loss's gradient.

    Args:
      backbone: a backbone layer (see `tfhash.backbones`).
      bits: code length.
      head_activation: "linear" or "tanh".
      hidden_units: hidden layer width in the head (0: none).
      head_batch_norm: batch-normalise the code layer's output.
    """

    def __init__(self, backbone, bits, head_activation="linear", hidden_units=0,
                 head_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.bits = codes_lib.check_bits(bits)
        self.head_activation = head_activation
        self.hidden_units = int(hidden_units)
        self.head_batch_norm = bool(head_batch_norm)
        self.head = HashHead(self.bits, head_activation, self.hidden_units,
                             batch_norm=self.head_batch_norm)

    def hash(self, images, training=False):
        """The hashing network: backbone -> head, relaxed codes `(batch, bits)`."""
        features = self.backbone(images, training=training)["features"]
        return self.head(features, training=training)

    def call(self, images, training=False):
        return self.hash(images, training=training)

    def encode(self, images):
        """{-1, +1} float32 codes `[batch, bits]` of float images in [0, 255]."""
        return codes_lib.binarize(self(images, training=False))

    def compute_hash_loss(self, codes, batch):
        """Returns `(loss, logs)`: this replica's share of the global loss."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_hash_loss")

    def build_optimizers(self, make_optimizer):
        """Creates and builds the optimizer(s); `make_optimizer()` returns a new one.

        Methods with several networks trained in turn override this (and
        `optimizer_variables`) to hold one optimizer per network.
        """
        self.compile(optimizer=make_optimizer())
        self.optimizer.build(self.trainable_variables)

    def optimizer_variables(self):
        """Every optimizer variable, for checkpoints."""
        return list(self.optimizer.variables)

    def train_step(self, batch):
        with tf.GradientTape() as tape:
            codes = self(batch["image"], training=True)
            loss, logs = self.compute_hash_loss(codes, batch)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return dict(logs, loss=loss)

    def get_config(self):
        config = super().get_config()
        config.update(
            backbone=keras.saving.serialize_keras_object(self.backbone),
            bits=self.bits,
            head_activation=self.head_activation,
            hidden_units=self.hidden_units,
            head_batch_norm=self.head_batch_norm,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
