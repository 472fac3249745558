"""What every backbone is: a feature extractor in named stages that can be cut into a
frozen trunk and a trainable tail."""

import keras


class Backbone(keras.layers.Layer):
    """Float images in [0, 255] -> `{"feature_map": (batch, h, w, c), "features":
    (batch, c)}` (the map average-pooled), computed in named stages. Knows nothing
    about hashing.

    `train_from` names the first stage that trains: the stages before it are the
    frozen trunk (their weights are not trainable and their batch norms always run
    in inference mode), the stages from it on are the tail. `trunk(images)` gives the
    map the tail starts from, `tail(map)` the outputs; `call(images)` is both, so
    `tail(trunk(x)) == call(x)`, and `call(map)` on a trunk map (its channels are not
    3) is `tail(map)`: a cache of trunk maps (`data.trunk_cache`) feeds the same
    network, whichever method holds it.

    Subclasses define `stage_names` (a tuple), `_input(images)` (the normalisation
    before the first stage), `_stage(i, x, training)` and `_pool(map)`.

    Args:
      train_from: a stage name, or None (every stage trains).
    """

    def __init__(self, train_from=None, **kwargs):
        super().__init__(**kwargs)
        self.train_from = train_from or None

    @property
    def stage_names(self):
        raise NotImplementedError(f"{type(self).__name__} must define stage_names")

    @property
    def cut(self):
        """The index of the first trainable stage (0 when every stage trains)."""
        return self.check_train_from()

    def check_train_from(self):
        """The index of stage `train_from` (0 for None); a clear error for a name that
        is not a stage."""
        if self.train_from is None:
            return 0
        if self.train_from not in self.stage_names:
            raise ValueError(f"train_from must be one of the stages {list(self.stage_names)} of "
                             f"{type(self).__name__}, got {self.train_from!r}")
        return list(self.stage_names).index(self.train_from)

    def stage_layers(self, index):
        """The layers of stage `index` (frozen by `freeze_trunk`)."""
        raise NotImplementedError(f"{type(self).__name__} must define stage_layers")

    def freeze_trunk(self):
        """Makes the stages before `train_from` untrainable (call after building)."""
        for index in range(self.cut):
            for layer in self.stage_layers(index):
                layer.trainable = False

    def trunk(self, images, training=False):
        """The map after the frozen stages (the images, normalised, when none is)."""
        del training  # the trunk always runs in inference mode
        x = self._input(images)
        for index in range(self.cut):
            x = self._stage(index, x, False)
        return x

    def tail(self, trunk_map, training=False):
        """`{"feature_map", "features"}` from the trunk's map."""
        x = trunk_map
        for index in range(self.cut, len(self.stage_names)):
            x = self._stage(index, x, training)
        return {"feature_map": x, "features": self._pool(x)}

    def takes_trunk_maps(self, x):
        """Whether `x` is a trunk map rather than images: with a trunk, a 4-d input
        whose channels are not the images' 3 (`data.trunk_cache` feeds those)."""
        return self.cut > 0 and x.shape[-1] is not None and x.shape[-1] != 3

    def call(self, images, training=False):
        if self.takes_trunk_maps(images):
            return self.tail(images, training=training)
        return self.tail(self.trunk(images), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(train_from=self.train_from)
        return config
