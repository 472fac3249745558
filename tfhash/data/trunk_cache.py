"""The maps of a frozen trunk, computed once per item and kept on disk.

A backbone cut at `train_from` (`backbones.Backbone`) has a trunk that never changes
during training: its output map for an item is the same at every step. The cache
runs the trunk once over every item a run reads (training, validation, queries,
database) and, for the training items, once more over their horizontally flipped
images (the flip is the augmentation the cached path keeps); training and
evaluation then read the maps (`MapSource`) and run only the tail. The exported
model and `tfhash-index` still run the whole network from pixels.

A cache is a folder named by the digest of what produced it: the backbone's
configuration, a checksum of the trunk's weights, the image size, the one
preprocessing, the cut point and the items (the split's checksum and the source's
fingerprint). Anything else gives another digest, so a cache is never used for
anything but what made it. It is written in chunks, each recorded in `meta.json`
(atomically) only after its maps are flushed, so a killed build resumes where it
stopped, and `complete` is set last: an incomplete cache is resumed, never read.
Maps are stored as float16.
"""

import hashlib
import json
import os
import shutil
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import atomic
from tfhash.data import preprocess, tuning

FORMAT = "tfhash.trunk-cache/1"
PROGRESS_SECONDS = 10.0
CHUNK = 512


def default_folder():
    root = os.environ.get("TFHASH_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "tfhash"))
    return os.path.join(root, "trunks")


def weights_checksum(variables):
    digest = hashlib.sha256()
    for v in variables:
        digest.update(np.ascontiguousarray(v.numpy()).tobytes())
    return digest.hexdigest()


def cache_key(backbone, image_size, items, flipped, source, split_checksum):
    """What identifies a cache: everything that changes the maps or the items."""
    config = {k: v for k, v in backbone.get_config().items() if k not in ("name", "trainable")}
    trunk = [w for index in range(backbone.cut) for layer in backbone.stage_layers(index)
             for w in layer.weights]
    return {"format": FORMAT, "backbone": type(backbone).__name__,
            "backbone_config": json.loads(json.dumps(config, default=str)),
            "trunk_sha256": weights_checksum(trunk), "cut": backbone.train_from,
            "computation": getattr(backbone, "TRUNK_COMPUTATION", "the layers"),
            "image_size": int(image_size), "preprocess": preprocess.VERSION,
            "source": source.fingerprint(), "split": split_checksum,
            "items": hashlib.sha256(np.asarray(items, np.int64).tobytes()).hexdigest(),
            "flipped": hashlib.sha256(np.asarray(flipped, np.int64).tobytes()).hexdigest()}


class TrunkCache:
    """The cached trunk maps of `items` (sorted source indices), and of the flipped
    images of `flipped` (a subset: the training items).

    Args:
      folder: where caches live (one subfolder per digest).
      key: `cache_key(...)`.
      items, flipped: source indices.
    """

    def __init__(self, folder, key, items, flipped):
        self.key = key
        self.digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
        self.path = os.path.join(folder, self.digest)
        self.items = np.asarray(items, np.int64)
        self.flipped_items = np.asarray(flipped, np.int64)
        self._position = {int(i): p for p, i in enumerate(self.items)}
        self._flip_position = {int(i): p for p, i in enumerate(self.flipped_items)}
        self.maps = self.flipped = None

    # -- the record of progress -------------------------------------------------------
    def _meta(self):
        try:
            with open(os.path.join(self.path, "meta.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            return None
        return meta if meta.get("key") == self.key else None

    def _write_meta(self, meta):
        atomic.write_json(os.path.join(self.path, "meta.json"), meta, indent=1)

    @property
    def complete(self):
        meta = self._meta()
        return bool(meta and meta.get("complete"))

    # -- building ---------------------------------------------------------------------
    def build(self, source, trunk, image_size, batch_size=64):
        """Runs `trunk` (uint8 images -> maps) over the items and their flips, in
        chunks, resuming a build that was stopped; returns self, opened for reading."""
        meta = self._meta()
        if meta is None:  # new, or a folder whose record does not match: start over
            shutil.rmtree(self.path, ignore_errors=True)
            os.makedirs(self.path)
            probe = trunk(tf.zeros([1, image_size, image_size, 3], tf.uint8)).numpy()
            meta = {"key": self.key, "shape": list(probe.shape[1:]), "done": 0, "done_flipped": 0,
                    "complete": False}
            for name, count in (("maps", len(self.items)), ("flipped", len(self.flipped_items))):
                np.lib.format.open_memmap(os.path.join(self.path, f"{name}.npy"), "w+", np.float16,
                                          (count, *meta["shape"])).flush()
            self._write_meta(meta)
        if not meta["complete"]:
            start = time.time()
            self._resumed_from = meta["done"] + meta["done_flipped"]
            for name, items, done_key, flip in (("maps", self.items, "done", False),
                                                ("flipped", self.flipped_items, "done_flipped", True)):
                self._fill(name, items, meta, done_key, flip, source, trunk, image_size,
                           batch_size, start)
            meta["complete"] = True
            self._write_meta(meta)
            logging.info("Trunk cache %s complete: %d maps %s and %d flipped, %.0f s",
                         self.path, len(self.items), tuple(meta["shape"]),
                         len(self.flipped_items), time.time() - start)
        return self.open()

    def _fill(self, name, items, meta, done_key, flip, source, trunk, image_size, batch_size,
              start):
        stored = np.lib.format.open_memmap(os.path.join(self.path, f"{name}.npy"), "r+")
        total = len(self.items) + len(self.flipped_items)
        last = time.time()
        while meta[done_key] < len(items):
            begin = meta[done_key]
            chunk = items[begin:begin + CHUNK]
            images = source.images(chunk).map(lambda image: preprocess.resize(image, image_size))
            if flip:
                images = images.map(tf.image.flip_left_right)
            row = begin
            for batch in tuning.fixed(images.batch(batch_size).prefetch(tuning.PREFETCH)):
                maps = trunk(batch).numpy()
                stored[row:row + len(maps)] = maps.astype(np.float16)
                row += len(maps)
            stored.flush()
            meta[done_key] = begin + len(chunk)
            self._write_meta(meta)
            if time.time() - last > PROGRESS_SECONDS or meta[done_key] == len(items):
                last = time.time()
                done = meta["done"] + meta["done_flipped"]
                logging.info("Trunk cache %s: %d/%d maps (%.0f items/s)", name, done, total,
                             (done - self._resumed_from) / max(last - start, 1e-9))
        del stored

    # -- reading ----------------------------------------------------------------------
    def open(self):
        if not self.complete:
            raise ValueError(f"the trunk cache {self.path} is incomplete; build it first")
        meta = self._meta()
        self.maps = np.load(os.path.join(self.path, "maps.npy"), mmap_mode="r")
        self.flipped = np.load(os.path.join(self.path, "flipped.npy"), mmap_mode="r")
        shape = tuple(meta["shape"])
        if (self.maps.shape != (len(self.items), *shape)
                or self.flipped.shape != (len(self.flipped_items), *shape)):
            raise ValueError(f"the trunk cache {self.path} has arrays of the wrong shape")
        self.shape = shape
        return self

    def read(self, indices, flipped=False):
        """float32 maps `[n, h, w, c]` of source items `indices`."""
        table, stored = (self._flip_position, self.flipped) if flipped else (self._position,
                                                                             self.maps)
        rows = np.asarray([table[int(i)] for i in indices], np.int64)
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(rows), *self.shape), np.float32)
        out[order] = stored[rows[order]]
        return out


class MapSource:
    """A source whose `images` are cached trunk maps (model inputs as they are: the
    pipeline does not resize them); labels, texts and everything else come from the
    wrapped source. `images(indices, flipped=True)` gives the maps of the flipped
    images (training items only)."""

    prepared = True

    def __init__(self, source, cache):
        self.source, self.cache = source, cache

    def __getattr__(self, name):
        return getattr(self.source, name)

    def __len__(self):
        return len(self.source)

    def images(self, indices, flipped=False):
        indices = np.asarray(indices, np.int64)
        shape = self.cache.shape

        def read(batch):
            return self.cache.read(batch, flipped)

        def lookup(batch):
            maps = tf.numpy_function(read, [batch], tf.float32)
            maps.set_shape([None, *shape])
            return maps

        return (tf.data.Dataset.from_tensor_slices(indices).batch(256).map(lookup).unbatch())
