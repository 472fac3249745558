"""Spatial attention that produces a saliency mask over the input pixels."""

import keras

from tfhash.layers import nested


@keras.saving.register_keras_serializable(package="tfhash")
class SaliencyMask(keras.layers.Layer):
    """Backbone feature map -> 1x1 conv -> sigmoid, upsampled to the input size.

    Returns `S(x)` in [0, 1] with shape `(batch, H, W, 1)`. A sigmoid, not a spatial
    softmax: the mask multiplies pixels, and a softmax over H*W positions would make
    every pixel tiny.

    With `normalize="max"` (default) each map is divided by its own maximum, so the
    most salient pixel of every image is kept whole. Without it the attention can
    dim a whole image by an amount that depends on its class, which separates codes
    without locating anything; that is what it learned on the coloured-patch probe
    (benchmarks/dsah_patch_probe.py, docs/dsah.md). The 1x1 conv starts with a zero
    kernel, so the first maps are uniform: all ones when normalised.

    Args:
      backbone: a backbone layer (`{"feature_map", "features"}` from images).
      initial_bias: starting bias of the 1x1 conv (sets the sigmoid's slope at the
        start; without normalisation also the starting mask, sigmoid(bias)).
      normalize: "max" or "none".
    """

    NORMALIZATIONS = ("max", "none")

    def __init__(self, backbone, initial_bias=0.0, normalize="max", **kwargs):
        super().__init__(**kwargs)
        if normalize not in self.NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {self.NORMALIZATIONS}, got {normalize!r}")
        self.backbone = backbone
        self.initial_bias = float(initial_bias)
        self.normalize = normalize
        # zero kernel: the first mask is sigmoid(initial_bias) everywhere, whatever the
        # features; the kernel's gradient is not zero, so it learns from there
        self.score = keras.layers.Conv2D(
            1, 1, kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(self.initial_bias))

    def build(self, input_shape):
        feature_map = self.backbone(keras.KerasTensor(tuple(input_shape)))["feature_map"]
        self.score(feature_map)
        self.built = True

    def compute_output_spec(self, images, training=False):
        return keras.KerasTensor(tuple(images.shape[:3]) + (1,))

    def call(self, images, training=False):
        feature_map = self.backbone(images, training=training)["feature_map"]
        logits = self.score(feature_map)  # (batch, h, w, 1)
        shape = keras.ops.shape(images)
        logits = keras.ops.image.resize(logits, (shape[1], shape[2]), interpolation="bilinear")
        mask = keras.ops.sigmoid(logits)  # (batch, H, W, 1)
        if self.normalize == "max":
            peak = keras.ops.max(mask, axis=(1, 2, 3), keepdims=True)
            mask = mask / keras.ops.maximum(peak, 1e-6)
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(backbone=nested.serialize(self.backbone),
                      initial_bias=self.initial_bias, normalize=self.normalize)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "backbone"))
