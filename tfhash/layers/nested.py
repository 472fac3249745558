"""Serialising layers that hold other layers: one rule for every composite layer and
model (`get_config` stores the inner layers' configs, `from_config` rebuilds them)."""

import keras


def serialize(layer):
    """A layer's Keras config for `get_config` (None stays None)."""
    return None if layer is None else keras.saving.serialize_keras_object(layer)


def deserialize(config, *names):
    """A copy of `config` whose entries `names` (serialised layers) are rebuilt as
    layers, for `from_config`; None and layers already built are left as they are."""
    config = dict(config)
    for name in names:
        if isinstance(config.get(name), dict):
            config[name] = keras.saving.deserialize_keras_object(config[name])
    return config
