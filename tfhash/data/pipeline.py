"""From a source and a split to `tf.data` pipelines of
`{"image": float32 [S, S, 3] in [0, 255], "label": float32 [C], "index": int64}`.

`index` is the item's position inside the part being read (train, query or
database): for the training part it is the row of the memory bank. Normalisation
per backbone happens inside the model, so exported models take raw pixels.
"""

import os
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash.data import splits as splits_lib


def resize(image, size):
    """Resizes uint8 `image` to `size` x `size` (antialiased); a no-op at that size."""
    shape = tf.shape(image)

    def scaled():
        out = tf.image.resize(image, [size, size], antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)

    same = tf.logical_and(tf.equal(shape[0], size), tf.equal(shape[1], size))
    return tf.ensure_shape(tf.cond(same, lambda: image, scaled), [size, size, 3])


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


def resolve_split(source, data_config, workdir=None):
    """The split for this run: reloaded from the workdir, or drawn, checked and saved.

    Unreadable images are found before training starts: with
    `data_config.skip_corrupt` they are dropped and counted in the log, otherwise
    the error names them. Nothing is written to the workdir on error.
    """
    params = splits_lib.protocol_params(data_config)
    path = os.path.join(workdir, splits_lib.SPLIT_FILE) if workdir else None
    if path and os.path.exists(path):
        split = splits_lib.load_split(path)
        splits_lib.check_split_matches(split, source, params, path)
        logging.info("Reusing split from %s: %s", path, split.summary())
        return split
    if data_config.get("split_file"):
        split = splits_lib.load_split(data_config.split_file)
        splits_lib.check_split_matches(split, source, params, data_config.split_file)
    else:
        split = splits_lib.make_split(source, params)
        items = np.union1d(np.union1d(split.query, split.train), split.database)
        start = time.time()
        bad = source.unreadable(items)
        logging.info("Checked %d images in %.1fs: %d unreadable", len(items),
                     time.time() - start, len(bad))
        if bad:
            names = [source.describe(i) for i in bad]
            if not data_config.skip_corrupt:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                raise ValueError(
                    f"{len(names)} image(s) cannot be decoded: {shown}. Fix or remove them, "
                    "or set --config.data.skip_corrupt=True to leave them out"
                )
            logging.warning("Skipping %d unreadable image(s): %s", len(names), names[:20])
            split = splits_lib.drop_items(split, bad, names)
    if path:
        os.makedirs(workdir, exist_ok=True)
        splits_lib.save_split(split, path)
    logging.info("Split %s (checksum %s)", split.summary(), split.checksum()[:12])
    return split


def _with_meta(source, indices, size):
    indices = np.asarray(indices, np.int64)
    meta = tf.data.Dataset.from_tensor_slices(
        {"label": source.labels[indices], "index": np.arange(len(indices), dtype=np.int64)}
    )
    images = source.images(indices).map(
        lambda image: resize(image, size), num_parallel_calls=tf.data.AUTOTUNE
    )
    return tf.data.Dataset.zip((images, meta)).map(lambda image, m: dict(m, image=image))


class TrainData:
    """The training part, decoded once (cached in memory) and reshuffled per epoch."""

    def __init__(self, source, indices, image_size, batch_size, seed, augment_images=True,
                 cache=True):
        if len(indices) < batch_size:
            raise ValueError(
                f"the training part has {len(indices)} items, fewer than one batch of {batch_size}"
            )
        self.size = len(indices)
        self.image_size = image_size
        self.batch_size = batch_size
        self.seed = seed
        self.augment_images = augment_images
        self.labels = source.labels[np.asarray(indices, np.int64)]
        base = _with_meta(source, indices, image_size)
        self._base = base.cache() if cache else base

    @property
    def steps_per_epoch(self):
        return self.size // self.batch_size

    def epoch(self, epoch):
        """Batches of epoch `epoch`: the same order and augmentation on every run."""
        size, seed = self.image_size, self.seed

        def prepare(example):
            image = example["image"]
            if self.augment_images:
                item_seed = tf.stack([tf.constant(seed * 100003 + epoch, tf.int64), example["index"]])
                image = augment(image, item_seed, size)
            return dict(example, image=tf.cast(image, tf.float32))

        return (
            self._base.shuffle(self.size, seed=seed * 7919 + epoch, reshuffle_each_iteration=False)
            .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(self.batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)
        )


def eval_dataset(source, indices, image_size, batch_size):
    """Query or database items in order, no augmentation."""
    return (
        _with_meta(source, indices, image_size)
        .map(lambda ex: dict(ex, image=tf.cast(ex["image"], tf.float32)),
             num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
