"""A small VGG-style CNN that trains from scratch on a CPU."""

import keras

from tfhash.backbones.base import Backbone


@keras.saving.register_keras_serializable(package="tfhash")
class SmallCNN(Backbone):
    """Stages of (3x3 conv, batch norm, ReLU) x `convs_per_stage`, then 2x2 max-pool.

    Takes float images in [0, 255] (normalised to [-1, 1] inside) and returns
    `{"feature_map": (batch, h, w, c), "features": (batch, c)}` (global average
    pooled); the map is `image_size / 2 ** len(widths)` pixels on a side. Stages are
    named "stage1", "stage2", ... (`train_from` freezes the ones before it).

    Args:
      widths: channels of each stage.
      convs_per_stage: conv layers per stage.
      train_from: see `Backbone`.
    """

    def __init__(self, widths=(32, 64, 128), convs_per_stage=2, train_from=None, **kwargs):
        super().__init__(train_from=train_from, **kwargs)
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) <= 0 or convs_per_stage <= 0:
            raise ValueError(
                f"widths must be positive and convs_per_stage >= 1, got {widths}, {convs_per_stage}"
            )
        self.widths = widths
        self.convs_per_stage = int(convs_per_stage)
        self.blocks = []  # flat, stage after stage (the checkpoint order)
        for width in widths:
            for _ in range(self.convs_per_stage):
                self.blocks.append(keras.layers.Conv2D(width, 3, padding="same", use_bias=False))
                self.blocks.append(keras.layers.BatchNormalization(synchronized=True))
                self.blocks.append(keras.layers.ReLU())
            self.blocks.append(keras.layers.MaxPooling2D(2))
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.check_train_from()

    @property
    def stage_names(self):
        return tuple(f"stage{i + 1}" for i in range(len(self.widths)))

    def stage_layers(self, index):
        per_stage = 3 * self.convs_per_stage + 1
        return self.blocks[index * per_stage:(index + 1) * per_stage]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.pool.build(shape)
        super().build(input_shape)
        self.freeze_trunk()

    def _input(self, images):
        return images / 127.5 - 1.0

    def _stage(self, index, x, training):
        for block in self.stage_layers(index):
            x = block(x, training=training)
        return x

    def _pool(self, feature_map):
        return self.pool(feature_map)

    def compute_output_spec(self, images, training=False):
        x = images
        for block in self.blocks:
            x = block.compute_output_spec(x)
        return {"feature_map": x, "features": self.pool.compute_output_spec(x)}

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths), convs_per_stage=self.convs_per_stage)
        return config
