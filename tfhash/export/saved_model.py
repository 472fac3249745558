"""SavedModel export for TF Serving and for embedding in other TF programs.

Signatures come from the model's encoders (`HashingModel.encoders()`), so every
method exports the same way; every exported graph uses stock TF ops only, so the
stock ModelServer loads it (the custom op stays in the library):

- image encoder: `encode_images` (also `serving_default`): uint8 images
  `[None, H, W, 3]` of any size, and `encode_jpeg`: `tf.string` JPEG/PNG bytes
  `[None]`, both -> `{"codes": uint8 [None, ceil(bits / 8)], "embedding": float32
  [None, d]}`; decoding and resizing are `tfhash.data.preprocess`, the functions
  training and evaluation use;
- text encoder (cross-modal methods): `encode_text`: float32 bag-of-words
  `[None, V]` -> the same outputs; with a vocabulary, also `encode_tags`: `tf.string`
  `[None]` (each a space-separated list of words; unknown words are ignored) -> the
  same, through the vocabulary kept in the graph and in
  `assets.extra/vocabulary.txt`;
- with databases: `search` (the first evaluation task) and, when the model has
  several tasks, `search_<query>_to_<database>` for each: the query input and `k`
  -> `{"distances", "indices", "ids"}` over packed codes stored in the SavedModel.

A version is written under a temporary name and renamed into `export_dir/<version>`
only when complete: TF Serving polls the folder and never sees half a version.
"""

import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import atomic
from tfhash.data import preprocess
from tfhash.retrieval import codes as codes_lib

_IMAGES_ANY_SIZE = tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")
_TAGS = tf.TensorSpec([None], tf.string, name="tags")


def next_version(export_dir):
    """1 + the largest numeric version folder in `export_dir` (1 when there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir) if name.isdigit()]
    return max(versions, default=0) + 1


def _graph_topk(query_codes, db_words, nbytes, k):
    """Stock-op top-k with ties by lower index (top_k keeps lower indices first)."""
    query_codes = tf.ensure_shape(query_codes, [None, nbytes])
    padded = tf.pad(query_codes, [[0, 0], [0, (-nbytes) % 8]])
    query_words = tf.bitcast(tf.reshape(padded, [tf.shape(padded)[0], -1, 8]), tf.uint64)
    xor = tf.bitwise.bitwise_xor(query_words[:, None, :], db_words[None, :, :])  # (q, n, words)
    distances = tf.reduce_sum(tf.cast(tf.raw_ops.PopulationCount(x=xor), tf.int32), axis=2)
    negative, indices = tf.math.top_k(-distances, k=k, sorted=True)
    return -negative, tf.cast(indices, tf.int64)




class _Graphs:
    """The graph functions of one model: raw input -> outputs, per encoder."""

    def __init__(self, encoders):
        self.encoders = encoders

    def encode(self, name, inputs):
        encoder = self.encoders[name]
        # An empty batch gets empty outputs: the network runs on one stand-in item
        # (Keras layers refuse a batch of zero) whose outputs are then dropped.
        count = tf.shape(inputs)[0]
        inputs = tf.cond(count > 0, lambda: inputs, lambda: tf.zeros(
            tf.concat([[1], tf.shape(inputs)[1:]], axis=0), inputs.dtype))
        if encoder.modality == "image":
            inputs = preprocess.resize(inputs, encoder.input_spec.shape[1])
        embedding = encoder.embed(inputs)
        codes = codes_lib.pack_codes(encoder.encode(inputs))
        return {"codes": tf.ensure_shape(codes, [None, codes_lib.num_bytes(encoder.code_bits)])[:count],
                "embedding": tf.cast(embedding, tf.float32)[:count]}

    def encode_bytes(self, name, blobs):
        size = self.encoders[name].input_spec.shape[1]
        return self.encode(name, preprocess.decode_batch(blobs, size))

    def input_spec(self, name):
        encoder = self.encoders[name]
        return _IMAGES_ANY_SIZE if encoder.modality == "image" else encoder.input_spec


def _checked_k(k, size):
    """`k` once it is known to be in 1..size (an INVALID_ARGUMENT naming both otherwise)."""
    message = f"k must be between 1 and the database size {size}"
    checks = [tf.debugging.assert_greater_equal(k, 1, message=message),
              tf.debugging.assert_less_equal(k, size, message=message)]
    with tf.control_dependencies(checks):
        return tf.identity(k)


def _search_function(graphs, query, db_words, db_ids, nbytes):
    size = int(db_words.shape[0])

    def search(inputs, k):
        k = _checked_k(k, size)
        distances, indices = _graph_topk(graphs.encode(query, inputs)["codes"], db_words, nbytes, k)
        return {"distances": distances, "indices": indices, "ids": tf.gather(db_ids, indices)}

    return search


def _bag_of_words(table, size):
    def convert(tags):
        ids = table.lookup(tf.strings.split(tags))  # ragged (N, None)
        ids = tf.ragged.boolean_mask(ids, ids >= 0)
        counts = tf.math.bincount(tf.cast(ids, tf.int32), minlength=size, maxlength=size,
                                  axis=-1)  # (N, V)
        return tf.ensure_shape(tf.cast(counts, tf.float32), [None, size])

    return convert


def _composed(search, convert):
    def search_tags(tags, k):
        return search(convert(tags), k)

    return search_tags


def export(model, export_dir, version=None, databases=None, warmup_images=None,
           image_encoder="image", vocabulary=None):
    """Writes `export_dir/<version>/` and returns its path.

    Args:
      model: a trained `HashingModel` built from its DataSpec.
      export_dir: the model's base path (what TF Serving's `base_path` points at).
      version: a positive integer; default: the next free one. An existing version
        is never overwritten.
      databases: optional dict, database encoder name -> `(packed_codes uint8
        [n, nbytes], ids int64 [n])`, for the search signatures.
      warmup_images: optional uint8 images written as TF Serving warm-up requests
        (needs tensorflow-serving-api: `pip install tfhash[serving]`).
      image_encoder: the model's encoder served as the image signatures (a method
        with several image encoders, e.g. DAgH's "image_stream1"); the text encoder,
        when there is one, is served as `encode_text`.
      vocabulary: the V words of the text columns (the source's), for `encode_tags`
        and the `search_tags_to_<database>` signatures.
    """
    version = next_version(export_dir) if version is None else int(version)
    if version <= 0:
        raise ValueError(f"version must be a positive integer, got {version}")
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target):
        raise ValueError(f"{target} already exists; pass another --version (existing versions "
                         "are never overwritten)")
    available = model.encoders()
    roles = {"image": image_encoder, **({"text": "text"} if "text" in available else {})}
    unknown = [name for name in roles.values() if name not in available]
    if unknown or available[image_encoder].modality != "image":
        raise ValueError(f"image_encoder must be one of the model's image encoders "
                         f"{sorted(n for n, e in available.items() if e.modality == 'image')}, "
                         f"got {image_encoder!r}")
    role_of = {name: role for role, name in roles.items()}
    encoders = {role: available[name] for role, name in roles.items()}
    graphs = _Graphs(encoders)
    archive = keras.export.ExportArchive()
    archive.track(model)
    signatures = []

    def add(name, fn, input_signature):
        archive.add_endpoint(name, fn, input_signature=input_signature)
        signatures.append(name)

    for role in encoders:  # "image": encode_images, serving_default, encode_jpeg; "text"
        for signature in (("encode_images", "serving_default") if role == "image"
                          else ("encode_text",)):
            add(signature, lambda x, r=role: graphs.encode(r, x),
                                 input_signature=[graphs.input_spec(role)])
        if role == "image":
            add("encode_jpeg", lambda x: graphs.encode_bytes("image", x),
                                 input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    bag_of_words = None
    if vocabulary is not None and "text" in encoders:
        vocabulary = [str(w) for w in vocabulary]
        if len(vocabulary) != encoders["text"].input_spec.shape[1]:
            raise ValueError(f"the vocabulary has {len(vocabulary)} words, the text encoder "
                             f"takes {encoders['text'].input_spec.shape[1]}")
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(vocabulary), tf.range(len(vocabulary), dtype=tf.int64)), -1)
        archive.track(table)
        bag_of_words = _bag_of_words(table, len(vocabulary))
        add("encode_tags", lambda tags: graphs.encode("text", bag_of_words(tags)),
                             input_signature=[_TAGS])
    tasks = [(role_of[q], role_of[d]) for q, d in model.evaluation_tasks()
             if q in role_of and d in role_of]
    if not tasks and image_encoder in role_of:
        tasks = [("image", "image")]
    databases = {role_of[n]: value for n, value in (databases or {}).items() if n in role_of}
    searchable = [t for t in tasks if t[1] in databases]
    for i, (query, database) in enumerate(searchable):
        codes, ids = databases[database]
        codes = codes_lib.as_packed_numpy(codes, f"{database} database codes")
        nbytes = codes_lib.num_bytes(encoders[database].code_bits)
        if codes.shape[1] != nbytes:
            raise ValueError(f"{database} database codes have {codes.shape[1]} bytes, "
                             f"{encoders[database].code_bits} bits need {nbytes}")
        padded = np.pad(codes, [[0, 0], [0, (-nbytes) % 8]])
        db_words = tf.Variable(padded.view(np.uint64), trainable=False,
                               name=f"{database}_database_codes")
        db_ids = tf.Variable(np.asarray(ids, np.int64), trainable=False,
                             name=f"{database}_database_ids")

        search = _search_function(graphs, query, db_words, db_ids, nbytes)
        names = (["search"] if i == 0 else []) + (
            [f"search_{query}_to_{database}"] if len(tasks) > 1 else [])
        for signature in names:
            add(signature, search, input_signature=[
                graphs.input_spec(query), tf.TensorSpec([], tf.int32, name="k")])
        if query == "text" and bag_of_words is not None:
            add(
                f"search_tags_to_{database}", _composed(search, bag_of_words),
                input_signature=[_TAGS, tf.TensorSpec([], tf.int32, name="k")])
    logging.info("Writing %s (signatures: %s)", target, ", ".join(sorted(signatures)))
    start = time.time()
    with atomic.atomic_directory(target) as tmp:
        archive.write_out(tmp, verbose=False)
        if warmup_images is not None and "image" in encoders:
            _write_warmup(tmp, np.asarray(warmup_images, np.uint8))
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        atomic.write_json(os.path.join(tmp, "assets.extra", "tfhash.json"), {
            "signatures": sorted(signatures),
            "encoders": {role: {"code_bits": int(e.code_bits), "distance": e.distance,
                                **({"image_size": int(e.input_spec.shape[1])}
                                   if role == "image" else {})}
                         for role, e in encoders.items()}}, indent=1)
        if bag_of_words is not None:
            with open(os.path.join(tmp, "assets.extra", "vocabulary.txt"), "w") as f:
                f.write("".join(f"{word}\n" for word in vocabulary))
    logging.info("Exported %s in %.1fs", target, time.time() - start)
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
