"""Hard attention masks with a straight-through gradient (HashGAN / ADAH)."""

import keras

from tfhash.layers.spatial_attention import spatial_softmax


def straight_through_threshold(probabilities, count, share=0.0):
    """A hard 0/1 mask in the forward pass whose gradient is that of the soft score
    `p * count` (1 at uniform): the straight-through estimator of BinaryNet (arXiv
    1602.02830) for a threshold instead of a sign.

    The mask is `[p >= 1 / count]` (the paper's: above uniform) with `share` 0, or
    with `0 < share <= 1` the `max(1, round(share * count))` largest of each row's
    `count` values (all tied with the last one kept too). `probabilities` is
    `(batch, count)`."""
    soft = probabilities * count
    if share:
        keep = max(1, int(round(float(share) * count)))
        threshold = keras.ops.top_k(probabilities, keep, sorted=True)[0][:, keep - 1:keep]
        hard = keras.ops.cast(probabilities >= threshold, soft.dtype)
    else:
        hard = keras.ops.cast(soft >= 1.0, soft.dtype)
    return soft + keras.ops.stop_gradient(hard - soft)


def _check_share(share):
    share = float(share)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1] (0: above uniform), got {share}")
    return share


@keras.saving.register_keras_serializable(package="tfhash")
class HardSpatialMask(keras.layers.Layer):
    """Feature map `(batch, h, w, c)` -> `P = softmax_hw(conv1x1(F))` and the hard mask
    `Z = [P >= 1 / (h * w)]` (straight-through): the positions scoring above uniform.

    With `share` > 0 the mask keeps that share of the positions instead (the highest
    P; `straight_through_threshold`). Returns `{"mask": (batch, h, w, 1),
    "probabilities": (batch, h, w, 1)}`.
    """

    def __init__(self, share=0.0, **kwargs):
        super().__init__(**kwargs)
        self.share = _check_share(share)
        self.score = keras.layers.Conv2D(1, 1)

    def build(self, input_shape):
        self.score.build(input_shape)
        super().build(input_shape)

    def call(self, feature_map):
        shape = keras.ops.shape(feature_map)
        probabilities = spatial_softmax(self.score, feature_map)  # (batch, h*w)
        mask = straight_through_threshold(
            probabilities, int(feature_map.shape[1] * feature_map.shape[2]), self.share)
        out_shape = (shape[0], shape[1], shape[2], 1)
        return {"mask": keras.ops.reshape(mask, out_shape),
                "probabilities": keras.ops.reshape(probabilities, out_shape)}

    def compute_output_spec(self, feature_map):
        shape = feature_map.shape[:3] + (1,)
        return {"mask": keras.KerasTensor(shape), "probabilities": keras.KerasTensor(shape)}

    def get_config(self):
        return dict(super().get_config(), share=self.share)


@keras.saving.register_keras_serializable(package="tfhash")
class HardFeatureMask(keras.layers.Layer):
    """Feature vector `(batch, d)` -> `p = softmax(dense(t))` over the d features and
    the hard mask `[p >= 1 / d]` (straight-through), or with `share` > 0 that share of
    the features (the highest p): `{"mask", "probabilities"}`, both `(batch, d)`."""

    def __init__(self, share=0.0, **kwargs):
        super().__init__(**kwargs)
        self.share = _check_share(share)

    def build(self, input_shape):
        self.score = keras.layers.Dense(int(input_shape[-1]))
        self.score.build(input_shape)
        super().build(input_shape)

    def call(self, features):
        probabilities = keras.ops.softmax(self.score(features), axis=-1)
        return {"mask": straight_through_threshold(probabilities, int(features.shape[-1]),
                                                   self.share),
                "probabilities": probabilities}

    def compute_output_spec(self, features):
        return {"mask": keras.KerasTensor(features.shape),
                "probabilities": keras.KerasTensor(features.shape)}

    def get_config(self):
        return dict(super().get_config(), share=self.share)
