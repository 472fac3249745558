"""The image hashing network: a backbone, an optional attention over its feature map,
and a hash head. A method composes one (or several) of these with its losses."""

import keras

from tfhash.layers import nested


@keras.saving.register_keras_serializable(package="tfhash")
class HashingNetwork(keras.layers.Layer):
    """Images -> backbone -> (attention) -> pooled features -> hash head -> relaxed codes.

    Without `attention` the head reads the backbone's pooled `features`; with it,
    `attention` maps the backbone's feature map to `{"attended": map, ...}` and the
    head reads the attended map, average-pooled.

    Args:
      backbone: a backbone layer (`tfhash.backbones`): float images in [0, 255] ->
        `{"feature_map", "features"}`.
      head: a `layers.HashHead`.
      attention: optional layer over the feature map (e.g. `layers.FeatureMask`).

    Attributes:
      bits: the head's code length.
    """

    def __init__(self, backbone, head, attention=None, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.head = head
        self.attention = attention
        self.pool = keras.layers.GlobalAveragePooling2D() if attention is not None else None

    @property
    def bits(self):
        return self.head.bits

    def build(self, input_shape):
        self.head(self.pooled(keras.KerasTensor(tuple(input_shape)))["features"])
        self.built = True

    def pooled(self, images, training=False):
        """`{"features": (batch, c), "feature_map", "attention"?}`: what the head reads."""
        out = self.backbone(images, training=training)
        if self.attention is None:
            return {"features": out["features"], "feature_map": out["feature_map"]}
        attended = self.attention(out["feature_map"])
        return {"features": self.pool(attended["attended"]), "feature_map": out["feature_map"],
                "attention": attended}

    def call(self, images, training=False):
        return self.head(self.pooled(images, training=training)["features"], training=training)

    def compute_output_spec(self, images, training=False):
        return keras.KerasTensor((images.shape[0], self.head.bits))

    def get_config(self):
        config = super().get_config()
        config.update(backbone=nested.serialize(self.backbone), head=nested.serialize(self.head),
                      attention=nested.serialize(self.attention))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "backbone", "head", "attention"))
