"""An attention mask over a feature map (DAgH's attention network)."""

import keras


@keras.saving.register_keras_serializable(package="tfhash")
class FeatureMask(keras.layers.Layer):
    """`M = sigmoid(conv1x1(relu(conv3x3(F))))` over the positions of a feature map F,
    and the attended map `F * (1 + M)` (residual, default) or `F * M`.

    The residual form keeps every feature and amplifies the attended ones, so a mask
    that is still learning cannot erase the features the hashing network needs.

    Returns `{"attended": (batch, h, w, c), "mask": (batch, h, w, 1)}`.

    Args:
      units: channels of the 3x3 conv.
      residual: `F * (1 + M)` when True, `F * M` otherwise.
    """

    def __init__(self, units=64, residual=True, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"units must be positive, got {units}")
        self.units, self.residual = int(units), bool(residual)
        self.hidden = keras.layers.Conv2D(self.units, 3, padding="same", activation="relu")
        self.score = keras.layers.Conv2D(1, 1)

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.score.build(self.hidden.compute_output_shape(input_shape))
        super().build(input_shape)

    def call(self, feature_map):
        mask = keras.ops.sigmoid(self.score(self.hidden(feature_map)))  # (batch, h, w, 1)
        weight = 1.0 + mask if self.residual else mask
        return {"attended": feature_map * weight, "mask": mask}

    def compute_output_spec(self, feature_map):
        return {"attended": keras.KerasTensor(feature_map.shape, dtype=feature_map.dtype),
                "mask": keras.KerasTensor(feature_map.shape[:3] + (1,), dtype=feature_map.dtype)}

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, residual=self.residual)
        return config
