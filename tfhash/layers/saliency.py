"""Spatial attention that produces a saliency mask over the input pixels."""

import keras


@keras.saving.register_keras_serializable(package="tfhash")
class SaliencyMask(keras.layers.Layer):
    """Backbone feature map -> 1x1 conv -> sigmoid, upsampled to the input size.

    Returns `S(x)` in [0, 1] with shape `(batch, H, W, 1)`. A sigmoid, not a spatial
    softmax: the mask multiplies pixels, and a softmax over H*W positions would make
    every pixel tiny. The 1x1 conv starts with bias `initial_bias`, so early masks
    keep most of the image (sigmoid(3) = 0.95) instead of erasing it.

    Args:
      backbone: a backbone layer (`{"feature_map", "features"}` from images).
      initial_bias: starting bias of the 1x1 conv.
    """

    def __init__(self, backbone, initial_bias=3.0, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.initial_bias = float(initial_bias)
        # zero kernel: the first mask is sigmoid(initial_bias) everywhere, whatever the
        # features; the kernel's gradient is not zero, so it learns from there
        self.score = keras.layers.Conv2D(
            1, 1, kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(self.initial_bias))

    def call(self, images, training=False):
        feature_map = self.backbone(images, training=training)["feature_map"]
        logits = self.score(feature_map)  # (batch, h, w, 1)
        shape = keras.ops.shape(images)
        logits = keras.ops.image.resize(logits, (shape[1], shape[2]), interpolation="bilinear")
        return keras.ops.sigmoid(logits)  # (batch, H, W, 1)

    def get_config(self):
        config = super().get_config()
        config.update(backbone=keras.saving.serialize_keras_object(self.backbone),
                      initial_bias=self.initial_bias)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
