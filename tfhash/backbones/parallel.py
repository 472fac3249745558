"""Backbones side by side on the same input: a wider feature extractor made of whole
backbones (e.g. a DPSH with the capacity of DOH's two streams)."""

import keras

from tfhash.layers import nested


@keras.saving.register_keras_serializable(package="tfhash")
class Parallel(keras.layers.Layer):
    """Float images (or, for backbones with a frozen trunk, their trunk maps) ->
    `{"feature_map": the first backbone's map, "features": every backbone's pooled
    features, concatenated in order}`.

    Each backbone keeps its own weights; backbones whose frozen trunks are equal are
    served by one trunk cache (`training.trunks`), and on pixels each runs its own
    trunk.

    Args:
      backbones: two or more backbone layers (`tfhash.backbones`).
    """

    def __init__(self, backbones, **kwargs):
        super().__init__(**kwargs)
        backbones = list(backbones)
        if len(backbones) < 2:
            raise ValueError(f"Parallel needs at least two backbones, got {len(backbones)}")
        self.backbones = backbones

    def build(self, input_shape):
        for backbone in self.backbones:
            if not backbone.built:  # a loaded backbone was built by its own config
                backbone.build(input_shape)
        self.built = True

    def call(self, images, training=False):
        outputs = [backbone(images, training=training) for backbone in self.backbones]
        return {"feature_map": outputs[0]["feature_map"],
                "features": keras.ops.concatenate([o["features"] for o in outputs], axis=-1)}

    def get_config(self):
        config = super().get_config()
        config.update(backbones=[nested.serialize(b) for b in self.backbones])
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbones"] = [keras.saving.deserialize_keras_object(b) if isinstance(b, dict)
                               else b for b in config["backbones"]]
        return cls(**config)
