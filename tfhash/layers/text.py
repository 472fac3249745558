"""Text networks over bag-of-words vectors."""

import keras


@keras.saving.register_keras_serializable(package="tfhash")
class TextMLP(keras.layers.Layer):
    """Bag-of-words `(batch, V)` -> ReLU dense layers of `widths` -> `(batch, widths[-1])`.

    The text counterpart of a backbone's feature vector (DCMH: one layer of 8192;
    HashGAN: two layers).

    Args:
      widths: units of each dense layer.
    """

    def __init__(self, widths=(8192,), **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) <= 0:
            raise ValueError(f"widths must be positive, got {widths}")
        self.widths = widths
        self.layers_ = [keras.layers.Dense(w, activation="relu") for w in widths]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers_:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        super().build(input_shape)

    def call(self, text):
        x = text
        for layer in self.layers_:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.widths[-1])

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths))
        return config
