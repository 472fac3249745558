"""Hard attention masks with a straight-through gradient (HashGAN / ADAH)."""

import keras

from tfhash.layers.spatial_attention import spatial_softmax


def straight_through_threshold(probabilities, count):
    """A hard 0/1 mask `[p >= 1 / count]` in the forward pass whose gradient is that of
    the soft score `p * count` (1 at the threshold): the straight-through estimator of
    BinaryNet (arXiv 1602.02830) for a threshold instead of a sign."""
    soft = probabilities * count
    hard = keras.ops.cast(soft >= 1.0, soft.dtype)
    return soft + keras.ops.stop_gradient(hard - soft)


@keras.saving.register_keras_serializable(package="tfhash")
class HardSpatialMask(keras.layers.Layer):
    """Feature map `(batch, h, w, c)` -> `P = softmax_hw(conv1x1(F))` and the hard mask
    `Z = [P >= 1 / (h * w)]` (straight-through): the positions scoring above uniform.

    Returns `{"mask": (batch, h, w, 1), "probabilities": (batch, h, w, 1)}`.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.score = keras.layers.Conv2D(1, 1)

    def build(self, input_shape):
        self.score.build(input_shape)
        super().build(input_shape)

    def call(self, feature_map):
        shape = keras.ops.shape(feature_map)
        probabilities = spatial_softmax(self.score, feature_map)  # (batch, h*w)
        mask = straight_through_threshold(probabilities, float(feature_map.shape[1] * feature_map.shape[2]))
        out_shape = (shape[0], shape[1], shape[2], 1)
        return {"mask": keras.ops.reshape(mask, out_shape),
                "probabilities": keras.ops.reshape(probabilities, out_shape)}

    def compute_output_spec(self, feature_map):
        shape = feature_map.shape[:3] + (1,)
        return {"mask": keras.KerasTensor(shape), "probabilities": keras.KerasTensor(shape)}


@keras.saving.register_keras_serializable(package="tfhash")
class HardFeatureMask(keras.layers.Layer):
    """Feature vector `(batch, d)` -> `p = softmax(dense(t))` over the d features and
    the hard mask `[p >= 1 / d]` (straight-through): `{"mask", "probabilities"}`,
    both `(batch, d)`."""

    def build(self, input_shape):
        self.score = keras.layers.Dense(int(input_shape[-1]))
        self.score.build(input_shape)
        super().build(input_shape)

    def call(self, features):
        probabilities = keras.ops.softmax(self.score(features), axis=-1)
        return {"mask": straight_through_threshold(probabilities, float(features.shape[-1])),
                "probabilities": probabilities}

    def compute_output_spec(self, features):
        return {"mask": keras.KerasTensor(features.shape),
                "probabilities": keras.KerasTensor(features.shape)}
