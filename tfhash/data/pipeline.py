"""From a source and a split to `tf.data` pipelines of items
`{"image", "text" (paired sources only), "label": float32 [C], "index": int64}`.

`index` is the item's position inside the part being read (train, query or
database): for the training part it is the row of a memory bank. Training images
are float32 `[S, S, 3]` in [0, 255] after augmentation; evaluation images are the
uint8 pixels that `tfhash.data.preprocess` gives (what an exported model receives).
Normalisation per backbone happens inside the model.
"""

import numpy as np
import tensorflow as tf

from tfhash.data import preprocess, tuning


def augment(image, seed, size):
    """Random horizontal flip and a random crop from an image padded by size // 8.

    `seed` is a stateless seed `[2]`: the same item in the same epoch gets the same
    augmentation, so a resumed run sees exactly what an uninterrupted one would.
    """
    pad = max(1, size // 8)
    flip_seed, crop_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    image = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    return tf.image.stateless_random_crop(image, [size, size, 3], crop_seed)


def _with_meta(source, indices, size, modalities=("image", "text")):
    """Items of `indices` in order: uint8 images of `size` px (when "image" is among
    `modalities`), texts (when the source has them and "text" is asked for), labels
    and positions."""
    indices = np.asarray(indices, np.int64)
    meta = {"label": source.labels[indices], "index": np.arange(len(indices), dtype=np.int64)}
    if "text" in modalities and source.text is not None:
        meta["text"] = source.text[indices]
    meta = tf.data.Dataset.from_tensor_slices(meta)
    if "image" not in modalities:
        return meta
    if getattr(source, "prepared", False):  # cached trunk maps: model inputs as they are
        return tf.data.Dataset.zip((source.images(indices), meta)).map(
            lambda image, m: dict(m, image=image))
    images = source.images(indices).map(
        lambda image: preprocess.resize(image, size), num_parallel_calls=tuning.PARALLEL_CALLS
    )
    return tf.data.Dataset.zip((images, meta)).map(lambda image, m: dict(m, image=image))


class TrainData:
    """The training part, decoded once (cached in memory) and reshuffled per epoch.

    On a `data.trunk_cache.MapSource` the items are cached trunk maps; the
    augmentation is then a coin per item and epoch between the map of the image and
    the map of its flipped image (a crop of a map is not the map of a crop)."""

    def __init__(self, source, indices, image_size, batch_size, seed, augment_images=True,
                 cache=True):
        self.check_size(indices, batch_size)
        self.size = len(indices)
        self.image_size = image_size
        self.batch_size = batch_size
        self.seed = seed
        self.augment_images = augment_images
        self._source, self._indices = source, np.asarray(indices, np.int64)
        base = _with_meta(source, indices, image_size)
        self.maps = bool(getattr(source, "prepared", False))
        if self.maps and augment_images:  # the cached maps of the flipped images beside
            base = tf.data.Dataset.zip((base, source.images(indices, flipped=True))).map(
                lambda item, flipped: dict(item, flipped=flipped))
        self._base = base.cache() if cache else base

    @staticmethod
    def check_size(indices, batch_size):
        if len(indices) < batch_size:
            raise ValueError(
                f"the training part has {len(indices)} items, fewer than one batch of {batch_size}"
            )

    @property
    def steps_per_epoch(self):
        return self.size // self.batch_size

    def epoch(self, epoch):
        """Batches of epoch `epoch`: the same order and augmentation on every run."""
        return tuning.fixed(self._batches(epoch).prefetch(tuning.PREFETCH))

    def stream(self, first_epoch, epochs):
        """The batches of epochs `first_epoch` .. `epochs - 1` back to back, each epoch
        exactly as `epoch(e)` gives it. One iterator serves the whole run: tearing down
        an iterator (and the distribution strategy's per-device iterator around it)
        at the end of every epoch cost seconds between epochs."""
        parts = [self._batches(e) for e in range(first_epoch, epochs)]
        if not parts:
            raise ValueError(f"no epochs from {first_epoch} to {epochs}")
        while len(parts) > 1:  # a balanced tree: any batch passes few concatenations
            parts = [a.concatenate(b) for a, b in zip(parts[::2], parts[1::2])] + (
                [parts[-1]] if len(parts) % 2 else [])
        return tuning.fixed(parts[0].prefetch(tuning.PREFETCH))

    def _batches(self, epoch):
        size, seed = self.image_size, self.seed

        def prepare(example):
            image = example.pop("image")
            flipped = example.pop("flipped", None)
            if self.augment_images:
                item_seed = tf.stack([tf.constant(seed * 100003 + epoch, tf.int64), example["index"]])
                if self.maps:  # a trunk map, or the map of the flipped image: a coin per item
                    coin = tf.random.stateless_uniform([], item_seed) < 0.5
                    image = tf.where(coin, flipped, image)
                else:
                    image = augment(image, item_seed, size)
            return dict(example, image=tf.cast(image, tf.float32))

        return (
            self._base.shuffle(self.size, seed=seed * 7919 + epoch, reshuffle_each_iteration=False)
            .map(prepare, num_parallel_calls=tuning.PARALLEL_CALLS)
            .batch(self.batch_size, drop_remainder=True)
        )

    def ordered(self, batch_size):
        """The training part in order, without augmentation, as `eval_dataset` gives
        it (uint8 images): what a schedule hook encodes, e.g. for guided codes."""
        return eval_dataset(self._source, self._indices, self.image_size, batch_size)


def eval_dataset(source, indices, image_size, batch_size, modalities=("image", "text")):
    """Query or database items in order, no augmentation, uint8 images; only the
    `modalities` asked for are read (a text-only pass decodes no image)."""
    return tuning.fixed(
        _with_meta(source, indices, image_size, modalities)
        .batch(batch_size)
        .prefetch(tuning.PREFETCH)
    )


def item_images(source, items, size):
    """uint8 `[n, size, size, 3]` of source items, in the given order, through the one
    preprocessing (what the model sees)."""
    items = np.asarray(items, np.int64)
    order = np.argsort(items, kind="stable")
    loaded = [preprocess.resize(image, size).numpy() for image in source.images(items[order])]
    result = np.empty((len(items), size, size, 3), np.uint8)
    result[order] = np.stack(loaded)
    return result
