"""Encoding image files and source items with a trained workdir or an exported model."""

import json
import os

import numpy as np
import tensorflow as tf

from tfhash.data import preprocess
from tfhash.retrieval import codes as codes_lib


class FileEncoder:
    """Packed codes of images, from a tfhash-train workdir or a tfhash-export version.

    With a workdir, the model's image encoder after the one preprocessing; with an
    export, its `encode_jpeg` signature on the files' bytes (and `encode_images` on
    pixels), so the codes are exactly those the served model gives.

    Args:
      workdir: a tfhash-train workdir (its latest checkpoint), or
      export: a SavedModel version folder written by tfhash-export.
    """

    def __init__(self, workdir=None, export=None):
        if (workdir is None) == (export is None):
            raise ValueError("give a workdir or an export, not both")
        self.workdir, self.export = workdir, export
        if workdir is not None:
            from tfhash.training import config_files
            from tfhash.training import strategy as strategy_lib
            from tfhash.training import workdir as workdir_lib

            config = config_files.load_workdir_config(workdir, configure_devices=True)
            strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
            model, _, _, _ = workdir_lib.restore(workdir, strategy, config)
            self._encoder = model.encoders()["image"]
            self.image_size = int(config.data.image_size)
            self.bits = int(self._encoder.code_bits)
            self._encode = tf.function(
                lambda images: codes_lib.pack_codes(self._encoder.encode(images)),
                reduce_retracing=True)
        else:
            if not os.path.exists(os.path.join(export, "saved_model.pb")):
                raise ValueError(f"{export} is not a SavedModel version folder (no saved_model.pb)")
            self._loaded = tf.saved_model.load(export)
            signatures = self._loaded.signatures
            for name in ("encode_jpeg", "encode_images"):
                if name not in signatures:
                    raise ValueError(f"{export} has no {name} signature: not an image model "
                                     "exported by tfhash-export")
            self._jpeg, self._pixels = signatures["encode_jpeg"], signatures["encode_images"]
            self.image_size = None
            try:  # written by tfhash-export beside the model
                with open(os.path.join(export, "assets.extra", "tfhash.json")) as f:
                    self.bits = int(json.load(f)["encoders"]["image"]["code_bits"])
            except (OSError, ValueError, KeyError) as e:
                raise ValueError(f"{export} has no readable assets.extra/tfhash.json ({e}): "
                                 "export it again with this tfhash") from None

    def describe(self):
        """What a collection records to find this encoder again."""
        return {"workdir": os.path.abspath(self.workdir)} if self.workdir else {
            "export": os.path.abspath(self.export)}

    @classmethod
    def from_description(cls, description):
        if "workdir" in description:
            return cls(workdir=description["workdir"])
        if "export" in description:
            return cls(export=description["export"])
        raise ValueError(f"unknown encoder description {description}")

    def encode_pixels(self, images):
        """uint8 `[n, H, W, 3]` images of one size -> packed codes."""
        images = tf.convert_to_tensor(images, tf.uint8)
        if self.workdir is not None:
            return self._encode(preprocess.resize(images, self.image_size)).numpy()
        return self._pixels(images=images)["codes"].numpy()

    def encode_images(self, images):
        """A list of uint8 `[H, W, 3]` images of any sizes -> packed codes, in order."""
        out = [None] * len(images)
        groups = {}
        for i, image in enumerate(images):
            groups.setdefault(image.shape, []).append(i)
        for members in groups.values():
            codes = self.encode_pixels(np.stack([images[i] for i in members]))
            for i, code in zip(members, codes):
                out[i] = code
        return np.stack(out) if out else np.zeros((0, codes_lib.num_bytes(self.bits)), np.uint8)

    def encode_files(self, paths):
        """Packed codes of image files; returns `(codes [ok], ok bool [len(paths)])`:
        unreadable files (missing, not an image) are left out and marked."""
        blobs, ok = [], np.zeros(len(paths), bool)
        for i, path in enumerate(paths):
            try:
                with open(path, "rb") as f:
                    data = f.read()
                preprocess.decode(tf.constant(data))  # refuse what cannot be decoded
            except (OSError, tf.errors.InvalidArgumentError, ValueError):
                continue
            blobs.append(data)
            ok[i] = True
        if not blobs:
            return np.zeros((0, codes_lib.num_bytes(self.bits)), np.uint8), ok
        if self.workdir is None:
            return self._jpeg(images=tf.constant(blobs))["codes"].numpy(), ok
        images = [preprocess.decode(tf.constant(b)).numpy() for b in blobs]
        return self.encode_images(images), ok
