"""Spatial-softmax attention pooling of a feature map (DOH's local stream)."""

import keras


def spatial_softmax(score, feature_map):
    """`softmax_hw(score(F))` of a `(batch, h, w, c)` feature map, flattened to
    `(batch, h * w)`; `score` is a layer giving one logit per position."""
    shape = keras.ops.shape(feature_map)
    logits = keras.ops.reshape(score(feature_map), (shape[0], -1))
    return keras.ops.softmax(logits, axis=-1)


@keras.saving.register_keras_serializable(package="tfhash")
class SpatialSoftmaxPooling(keras.layers.Layer):
    """`a = softmax_hw(w . F_hw + b)` over the positions of a feature map, and the
    attention-weighted sum of the features `sum_hw a_hw F_hw`.

    A spatial softmax is right here (unlike DSaH's pixel mask): it pools features,
    so the weights summing to 1 keep the pooled vector on the features' scale.

    Returns `{"pooled": (batch, c), "attention": (batch, h, w)}`; each attention map
    sums to 1.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # zero kernel: the first maps are uniform (plain average pooling)
        self.score = keras.layers.Conv2D(1, 1, kernel_initializer="zeros")

    def build(self, input_shape):
        self.score.build(input_shape)
        super().build(input_shape)

    def call(self, feature_map):
        shape = keras.ops.shape(feature_map)
        weights = spatial_softmax(self.score, feature_map)  # (batch, h*w)
        flat = keras.ops.reshape(feature_map, (shape[0], -1, shape[3]))  # (batch, h*w, c)
        pooled = keras.ops.einsum("bp,bpc->bc", weights, flat)
        return {"pooled": pooled, "attention": keras.ops.reshape(weights, shape[:3])}

    def compute_output_spec(self, feature_map):
        batch, h, w, c = feature_map.shape
        return {"pooled": keras.KerasTensor((batch, c), dtype=feature_map.dtype),
                "attention": keras.KerasTensor((batch, h, w), dtype=feature_map.dtype)}
