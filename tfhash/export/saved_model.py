"""SavedModel export for TF Serving and for embedding in other TF programs.

Signatures (every exported graph uses stock TF ops only, so the stock ModelServer
loads it; the custom op stays in the library):

- `encode_images` (also `serving_default`): uint8 images `[None, H, W, 3]` of any
  size -> `{"codes": uint8 [None, ceil(bits / 8)], "embedding": float32 [None, bits]}`;
  resizing and normalisation happen in the graph;
- `encode_jpeg`: `tf.string` JPEG/PNG bytes `[None]` -> the same outputs;
- `search` (with a database): images and `k` -> `{"distances", "indices", "ids"}`
  over packed database codes stored in the SavedModel.

A version is written under a temporary name and renamed into `export_dir/<version>`
only when complete: TF Serving polls the folder and never sees half a version.
"""

import os
import shutil

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfhash.retrieval import codes as codes_lib


def next_version(export_dir):
    """1 + the largest numeric version folder in `export_dir` (1 when there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir) if name.isdigit()]
    return max(versions, default=0) + 1


def _prepare(images, size):
    images = tf.cast(images, tf.float32)
    same = tf.logical_and(tf.equal(tf.shape(images)[1], size), tf.equal(tf.shape(images)[2], size))
    return tf.cond(same, lambda: images,
                   lambda: tf.image.resize(images, [size, size], antialias=True))


def _graph_topk(query_codes, db_words, nbytes, k):
    """Stock-op top-k with ties by lower index (top_k keeps lower indices first)."""
    query_codes = tf.ensure_shape(query_codes, [None, nbytes])
    padded = tf.pad(query_codes, [[0, 0], [0, (-nbytes) % 8]])
    query_words = tf.bitcast(tf.reshape(padded, [tf.shape(padded)[0], -1, 8]), tf.uint64)
    xor = tf.bitwise.bitwise_xor(query_words[:, None, :], db_words[None, :, :])  # (q, n, words)
    distances = tf.reduce_sum(tf.cast(tf.raw_ops.PopulationCount(x=xor), tf.int32), axis=2)
    negative, indices = tf.math.top_k(-distances, k=k, sorted=True)
    return -negative, tf.cast(indices, tf.int64)


def export(model, image_size, export_dir, version=None, database=None, warmup_images=None):
    """Writes `export_dir/<version>/` and returns its path.

    Args:
      model: a trained `HashingModel`.
      image_size: the model's input size (images are resized to it in the graph).
      export_dir: the model's base path (what TF Serving's `base_path` points at).
      version: a positive integer; default: the next free one. An existing version
        is never overwritten.
      database: optional `(packed_codes uint8 [n, nbytes], ids int64 [n])` for the
        `search` signature.
      warmup_images: optional uint8 images written as TF Serving warm-up requests
        (needs tensorflow-serving-api: `pip install tfhash[serving]`).
    """
    version = next_version(export_dir) if version is None else int(version)
    if version <= 0:
        raise ValueError(f"version must be a positive integer, got {version}")
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target):
        raise ValueError(f"{target} already exists; pass another --version (existing versions "
                         "are never overwritten)")
    os.makedirs(export_dir, exist_ok=True)
    bits, size = model.bits, int(image_size)

    def encode(images):
        embedding = model(_prepare(images, size), training=False)  # (batch, bits)
        return {"codes": codes_lib.pack_codes(codes_lib.binarize(embedding)), "embedding": embedding}

    def decode_one(data):
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image.set_shape([None, None, 3])
        return tf.image.resize(tf.cast(image, tf.float32), [size, size], antialias=True)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "encode_images", encode,
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    archive.add_endpoint(
        "encode_jpeg",
        lambda data: encode(tf.map_fn(decode_one, data, fn_output_signature=tf.TensorSpec(
            [size, size, 3], tf.float32))),
        input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    if database is not None:
        codes, ids = database
        codes = codes_lib.as_packed_numpy(codes, "database codes")
        if codes.shape[1] != codes_lib.num_bytes(bits):
            raise ValueError(f"database codes have {codes.shape[1]} bytes, {bits} bits need "
                             f"{codes_lib.num_bytes(bits)}")
        padded = np.pad(codes, [[0, 0], [0, (-codes.shape[1]) % 8]])
        db_words = tf.Variable(padded.view(np.uint64), trainable=False, name="database_codes")
        db_ids = tf.Variable(np.asarray(ids, np.int64), trainable=False, name="database_ids")

        def search(images, k):
            distances, indices = _graph_topk(encode(images)["codes"], db_words, codes.shape[1], k)
            return {"distances": distances, "indices": indices, "ids": tf.gather(db_ids, indices)}

        archive.add_endpoint("search", search, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="images"),
            tf.TensorSpec([], tf.int32, name="k")])
    tmp = os.path.join(export_dir, f".tmp-{version}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive.write_out(tmp, verbose=False)
        if warmup_images is not None:
            _write_warmup(tmp, np.asarray(warmup_images, np.uint8))
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logging.info("Exported %s", target)
    return target


def _write_warmup(saved_model_dir, images):
    """assets.extra/tf_serving_warmup_requests: PredictionLog records of real inputs."""
    try:
        from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
    except ImportError:
        logging.warning("tensorflow-serving-api is not installed: no warm-up requests written "
                        "(pip install tfhash[serving])")
        return
    folder = os.path.join(saved_model_dir, "assets.extra")
    os.makedirs(folder, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(folder, "tf_serving_warmup_requests")) as writer:
        for image in images:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(signature_name="encode_images"))
            request.inputs["images"].CopyFrom(tf.make_tensor_proto(image[None]))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
