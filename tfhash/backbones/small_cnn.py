"""A small VGG-style CNN that trains from scratch on a CPU."""

import keras


@keras.saving.register_keras_serializable(package="tfhash")
class SmallCNN(keras.layers.Layer):
    """Stages of (3x3 conv, batch norm, ReLU) x `convs_per_stage`, then 2x2 max-pool.

    Takes float images in [0, 255] (normalised to [-1, 1] inside) and returns
    `{"feature_map": (batch, h, w, c), "features": (batch, c)}` (global average
    pooled). Knows nothing about hashing.

    Args:
      widths: channels of each stage.
      convs_per_stage: conv layers per stage.
    """

    def __init__(self, widths=(32, 64, 128), convs_per_stage=2, **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) <= 0 or convs_per_stage <= 0:
            raise ValueError(
                f"widths must be positive and convs_per_stage >= 1, got {widths}, {convs_per_stage}"
            )
        self.widths = widths
        self.convs_per_stage = int(convs_per_stage)
        self.blocks = []
        for width in widths:
            for _ in range(self.convs_per_stage):
                self.blocks.append(keras.layers.Conv2D(width, 3, padding="same", use_bias=False))
                self.blocks.append(keras.layers.BatchNormalization(synchronized=True))
                self.blocks.append(keras.layers.ReLU())
            self.blocks.append(keras.layers.MaxPooling2D(2))
        self.pool = keras.layers.GlobalAveragePooling2D()

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.pool.build(shape)
        super().build(input_shape)

    def call(self, images, training=False):
        x = images / 127.5 - 1.0
        for block in self.blocks:
            x = block(x, training=training)
        return {"feature_map": x, "features": self.pool(x)}

    def compute_output_spec(self, images, training=False):
        x = images
        for block in self.blocks:
            x = block.compute_output_spec(x)
        return {"feature_map": x, "features": self.pool.compute_output_spec(x)}

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths), convs_per_stage=self.convs_per_stage)
        return config
