"""The hash head: features -> relaxed codes."""

import keras

from tfhash.retrieval import codes as codes_lib


@keras.saving.register_keras_serializable(package="tfhash")
class HashHead(keras.layers.Layer):
    """Optional hidden layer, then dense(bits) with a linear or tanh output.

    Args:
      bits: code length (any positive integer).
      activation: "linear" (DPSH, DSH) or "tanh" (codes in (-1, 1)).
      hidden_units: width of a ReLU hidden layer before the code layer; 0 for none.
      dropout: dropout rate on the hidden layer.
      batch_norm: batch-normalise the code layer's output (removes the component
        that all codes share at initialisation; see docs/dpsh_from_scratch.md).
    """

    def __init__(self, bits, activation="linear", hidden_units=0, dropout=0.0,
                 batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        if activation not in ("linear", "tanh"):
            raise ValueError(f"activation must be 'linear' or 'tanh', got {activation!r}")
        self.bits = codes_lib.check_bits(bits)
        self.activation = activation
        self.hidden_units = int(hidden_units)
        self.dropout = float(dropout)
        self.hidden = keras.layers.Dense(self.hidden_units, activation="relu") if self.hidden_units else None
        self.drop = keras.layers.Dropout(self.dropout) if self.hidden_units and self.dropout else None
        self.batch_norm = bool(batch_norm)
        self.code = keras.layers.Dense(self.bits, use_bias=not self.batch_norm)
        self.norm = keras.layers.BatchNormalization(synchronized=True) if self.batch_norm else None

    def build(self, input_shape):
        shape = tuple(input_shape)
        if self.hidden is not None:
            self.hidden.build(shape)
            shape = self.hidden.compute_output_shape(shape)
        self.code.build(shape)
        if self.norm is not None:
            self.norm.build(self.code.compute_output_shape(shape))
        self.built = True

    def call(self, features, training=False):
        x = features
        if self.hidden is not None:
            x = self.hidden(x)
            if self.drop is not None:
                x = self.drop(x, training=training)
        x = self.code(x)  # (batch, bits)
        if self.norm is not None:
            x = self.norm(x, training=training)
        return keras.ops.tanh(x) if self.activation == "tanh" else x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.bits)

    def get_config(self):
        config = super().get_config()
        config.update(bits=self.bits, activation=self.activation,
                      hidden_units=self.hidden_units, dropout=self.dropout,
                      batch_norm=self.batch_norm)
        return config
