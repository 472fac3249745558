"""The trunk-map cache of a run: which backbones have a frozen trunk, whether the
method can train on their maps, and the `data.trunk_cache.MapSource` that training
and evaluation then read instead of pixels."""

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import backbones as backbones_lib
from tfhash.data import trunk_cache


def cut_backbones(model):
    """The model's backbones with a frozen trunk (each once)."""
    found, seen = [], set()
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, backbones_lib.Backbone) and id(layer) not in seen and layer.cut > 0:
            seen.add(id(layer))
            found.append(layer)
    return found


def input_trunks(model):
    """The backbones whose frozen trunks read the model's input: the model's own
    declaration (`input_trunks()`: DSaH masking the trunk's map reads only its hashing
    network's), else every backbone with a frozen trunk."""
    declared = getattr(model, "input_trunks", None)
    return list(declared()) if declared is not None else cut_backbones(model)


def _same_trunk(first, other):
    if type(first) is not type(other) or first.train_from != other.train_from:
        return False
    pairs = zip((w for i in range(first.cut) for layer in first.stage_layers(i) for w in layer.weights),
                (w for i in range(other.cut) for layer in other.stage_layers(i) for w in layer.weights))
    return all(a.shape == b.shape and np.array_equal(a.numpy(), b.numpy()) for a, b in pairs)


def map_source(model, config, source, split, build=True):
    """`source`, or a `MapSource` over the cached trunk maps of every item of the split
    (built, or resumed, when `build`) when the model has a frozen trunk, the config
    asks for the cache (`data.trunk_cache`) and the method can train on maps (a model
    with `PIXEL_INPUTS` runs its trunk on pixels at every step)."""
    cut = input_trunks(model)
    if not cut or not config.data.get("trunk_cache", True):
        return source
    if getattr(model, "PIXEL_INPUTS", False):
        logging.warning("%s works on pixels at every step (its input depends on the step), so "
                        "its frozen trunk runs on every batch instead of from a cache",
                        type(model).__name__)
        return source
    first = cut[0]
    if not all(_same_trunk(first, other) for other in cut[1:]):
        raise ValueError("the model's backbones have different frozen trunks, which one cache "
                         "cannot serve; set data.trunk_cache=False")
    items = np.unique(np.concatenate([split.train, split.validation, split.query, split.database]))
    flipped = np.asarray(split.train if config.data.augment else [], np.int64)
    key = trunk_cache.cache_key(first, config.data.image_size, items, flipped, source,
                                split.checksum())
    folder = config.data.get("trunk_cache_dir") or trunk_cache.default_folder()
    cache = trunk_cache.TrunkCache(folder, key, items, flipped)
    if not cache.complete:
        if not build:
            return source
        logging.info("Building the trunk cache %s (%d items, %d flipped) of %s up to %s",
                     cache.path, len(items), len(flipped), type(first).__name__, first.train_from)
        trunk = tf.function(lambda images: first.trunk(tf.cast(images, tf.float32)),
                            reduce_retracing=True)
        cache.build(source, trunk, config.data.image_size,
                    batch_size=int(config.data.get("trunk_batch_size", 64)))
    return trunk_cache.MapSource(source, cache.open())
