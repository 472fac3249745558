"""Encoding a collection with Apache Beam: `RunInference` on an exported model.

  python -m tfhash.search.beam --export=RUN/export/1 --images=DIR --output=CODES_DIR \
      [--milvus_uri=http://host:19530 --collection=photos] [--batch_size=64] \
      --runner=DirectRunner   # or PrismRunner, DataflowRunner, FlinkRunner, SparkRunner ...

Every argument this module does not know is a Beam pipeline option (runner, project,
region, temp_location, flink_master, ...). `--images` is a directory (searched
recursively), a list file (one path per line), or a file pattern (`gs://b/*.jpg`,
`/data/**/*.png`), read with Beam's file system layer, so a runner on another
machine reads the files where they are.

What the pipeline does, per file: reads its bytes, checks that the one preprocessing
(`tfhash.data.preprocess.decode`) can decode it (files that cannot are counted and
listed in `unreadable-*.txt`, never fatal), and hands the bytes to `RunInference`
with the export's `encode_jpeg` signature: the same decode, resize and network as
`tfhash-index --export` and TF Serving, so the codes are bit for bit theirs. Codes
are written in shards `codes-<digest>.npz` (`codes` uint8 packed, `ids` int64,
`keys` str), each named by a digest of its keys and written atomically, and
optionally upserted into Milvus.

Ids are the first 63 bits of the SHA-256 of an item's key (its path relative to
`--images`, or the path itself), so every worker agrees on them without
coordination, and a rerun gives every item the id it had. A rerun over the same
input writes nothing twice: items whose keys are in the output's shards already
are dropped before encoding (`already indexed`), and Milvus rows are upserted by id.
`read_shards(output)` gives the codes, ids and keys back (for `HammingIndex.add`).

Needs `pip install "tfhash[beam]"` (apache-beam 2.77 with TensorFlow 2.21; it pins
protobuf < 7, pillow < 13 and pyarrow < 26, which TensorFlow accepts).
"""

import argparse
import hashlib
import io
import json
import os
import sys
import uuid

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SHARD_PREFIX, UNREADABLE_PREFIX = "codes-", "unreadable-"


def _beam():
    try:
        import apache_beam as beam
        from apache_beam.ml.inference import base, tensorflow_inference
    except ImportError as e:
        raise ValueError(f"the Beam pipeline needs apache-beam: pip install 'tfhash[beam]' ({e})") \
            from None
    return beam, base, tensorflow_inference


def item_id(key):
    """The int64 id of a key: the first 63 bits of its SHA-256 (non-negative)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") >> 1


def list_items(images):
    """`[(key, path)]` of the collection, sorted by key: a directory (searched
    recursively; keys relative to it), a list file (one path per line; relative
    paths are relative to the file; keys as written), or a file pattern (keys the
    matched paths). Patterns and paths may use any Beam file system (gs://, s3://)."""
    from apache_beam.io.filesystems import FileSystems

    if os.path.isdir(images):
        found = [(os.path.relpath(os.path.join(root, name), images), os.path.join(root, name))
                 for root, _, names in os.walk(images) for name in names
                 if name.lower().endswith(IMAGE_EXTENSIONS)]
        if not found:
            raise ValueError(f"{images} has no image files {IMAGE_EXTENSIONS}")
        return sorted(found)
    if os.path.isfile(images) and images.lower().endswith((".txt", ".lst")):
        base = os.path.dirname(os.path.abspath(images))
        with open(images) as f:
            lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        if not lines:
            raise ValueError(f"{images} lists no files")
        return sorted((line, line if "://" in line or os.path.isabs(line)
                       else os.path.join(base, line)) for line in lines)
    matched = FileSystems.match([images])[0].metadata_list
    if not matched:
        raise ValueError(f"--images={images}: no such directory or list file, and the pattern "
                         "matches no file")
    return sorted((m.path, m.path) for m in matched)


def _matching(output, prefix, suffix):
    from apache_beam.io.filesystems import FileSystems

    pattern = FileSystems.join(output, prefix + "*" + suffix)
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def _read(path):
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path, compression_type="uncompressed") as f:
        return f.read()


def read_shards(output):
    """`(codes uint8 [n, bytes], ids int64 [n], keys [n], unreadable keys)` of every
    shard in `output` (a local or Beam file system directory), sorted by id."""
    codes, ids, keys = [], [], []
    for path in _matching(output, SHARD_PREFIX, ".npz"):
        with np.load(io.BytesIO(_read(path)), allow_pickle=False) as shard:
            codes.append(shard["codes"])
            ids.append(shard["ids"])
            keys += shard["keys"].tolist()
    unreadable = []
    for path in _matching(output, UNREADABLE_PREFIX, ".txt"):
        unreadable += [line for line in _read(path).decode("utf-8").splitlines() if line.strip()]
    if not codes:
        return np.zeros((0, 0), np.uint8), np.zeros(0, np.int64), [], unreadable
    ids = np.concatenate(ids)
    order = np.argsort(ids, kind="stable")
    return np.concatenate(codes)[order], ids[order], [keys[i] for i in order], unreadable


def _digest(keys):
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:20]


def _npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _write_once(path, data):
    """Writes `data` to `path` (any Beam file system) through a temporary name and a
    rename, unless `path` is there already (a retried bundle, a rerun)."""
    from apache_beam.io.filesystems import FileSystems

    if FileSystems.exists(path):
        return
    tmp = f"{path}.partial-{uuid.uuid4().hex}"
    with FileSystems.create(tmp) as f:
        f.write(data)
    FileSystems.rename([tmp], [path])


def build(pipeline, export, items, output, batch_size=64, milvus=None):
    """Adds the encoding to a Beam `pipeline`: `items` `[(key, path)]` (the ones not
    encoded yet), shards into `output` (a local or shared directory), and rows into
    Milvus when `milvus` is `{"uri", "collection", "bits", "token"}`."""
    beam, base, tensorflow_inference = _beam()
    import tensorflow as tf

    class ExportHandler(tensorflow_inference.TFModelHandlerTensor):
        """Beam's TensorFlow handler on a tfhash export (a SavedModel with an
        `encode_jpeg` signature; Keras 3 cannot load it as a Keras model)."""

        def load_model(self):
            return tf.saved_model.load(self._model_uri)

    def encode_jpeg(model, batch, inference_args, model_id=None):
        del inference_args
        images = tf.constant(list(batch), tf.string)
        codes = model.signatures["encode_jpeg"](images=images)["codes"].numpy()
        return [base.PredictionResult(None, c, model_id) for c in codes]  # no bytes carried on

    handler = base.KeyedModelHandler(ExportHandler(
        export, inference_fn=encode_jpeg, min_batch_size=1, max_batch_size=batch_size))

    class Read(beam.DoFn):
        """(key, path) -> (key, JPEG/PNG bytes), or the key to the unreadable output."""

        def process(self, item):
            from apache_beam.io.filesystems import FileSystems
            from tfhash.data import preprocess

            key, path = item
            try:
                with FileSystems.open(path, compression_type="uncompressed") as f:
                    blob = f.read()
                preprocess.decode(tf.constant(blob))  # what the export cannot decode
            except (OSError, tf.errors.InvalidArgumentError, ValueError):
                beam.metrics.Metrics.counter("tfhash", "unreadable").inc()
                yield beam.pvalue.TaggedOutput("unreadable", key)
                return
            yield key, blob

    class WriteShard(beam.DoFn):
        """A batch of (key, code) -> one shard file (named by its keys: a retried
        bundle rewrites the same file), and the rows into Milvus."""

        def setup(self):
            self.milvus = None
            if milvus:
                from tfhash.retrieval.milvus import MilvusIndex

                self.milvus = MilvusIndex(milvus["uri"], milvus["collection"], milvus["bits"],
                                          token=milvus.get("token"))

        def process(self, batch):
            batch = sorted(batch)
            keys = [k for k, _ in batch]
            codes = np.stack([c for _, c in batch]).astype(np.uint8)
            ids = np.array([item_id(k) for k in keys], np.int64)
            from apache_beam.io.filesystems import FileSystems

            path = FileSystems.join(output, f"{SHARD_PREFIX}{_digest(keys)}.npz")
            _write_once(path, _npz_bytes(codes=codes, ids=ids, keys=np.array(keys, dtype=str)))
            if self.milvus is not None:
                self.milvus.update(codes, ids, keys)
            beam.metrics.Metrics.counter("tfhash", "encoded").inc(len(keys))
            yield path

    def write_unreadable(keys):
        keys = sorted(keys)
        if keys:
            from apache_beam.io.filesystems import FileSystems

            path = FileSystems.join(output, f"{UNREADABLE_PREFIX}{_digest(keys)}.txt")
            _write_once(path, "".join(k + "\n" for k in keys).encode("utf-8"))
        return len(keys)

    read = (pipeline | "Items" >> beam.Create(items)
            | "Read" >> beam.ParDo(Read()).with_outputs("unreadable", main="images"))
    shards = (read.images
              | "Encode" >> base.RunInference(handler)
              | "Codes" >> beam.Map(lambda kv: (kv[0], np.asarray(kv[1].inference)))
              | "Shards" >> beam.BatchElements(min_batch_size=1, max_batch_size=4096)
              | "Write" >> beam.ParDo(WriteShard()))
    unreadable = (read.unreadable
                  | "AllUnreadable" >> beam.combiners.ToList()
                  | "WriteUnreadable" >> beam.Map(write_unreadable))
    return shards, unreadable


def run(argv=None):
    """The command line (see the module docstring); returns the summary dict."""
    parser = argparse.ArgumentParser(prog="python -m tfhash.search.beam",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--export", required=True, help="a tfhash-export version folder")
    parser.add_argument("--images", required=True,
                        help="a directory, a list file (.txt) or a file pattern")
    parser.add_argument("--output", required=True, help="the directory of the code shards")
    parser.add_argument("--batch_size", type=int, default=64, help="images per model call")
    parser.add_argument("--milvus_uri", default=None, help="also upsert into this Milvus")
    parser.add_argument("--collection", default="tfhash", help="the Milvus collection")
    parser.add_argument("--milvus_token", default=None)
    args, beam_args = parser.parse_known_args(argv)
    beam, _, _ = _beam()
    from apache_beam.options.pipeline_options import PipelineOptions

    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    info_path = os.path.join(args.export, "assets.extra", "tfhash.json")
    try:
        bits = int(json.loads(_read(info_path))["encoders"]["image"]["code_bits"])
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{args.export} is not an image model exported by tfhash-export "
                         f"({info_path}: {e})") from None
    items = list_items(args.images)
    output = args.output if "://" in args.output else os.path.abspath(args.output)
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    _, _, done_keys, unreadable_before = read_shards(output)
    done = set(done_keys) | set(unreadable_before)
    todo = [item for item in items if item[0] not in done]
    print(f"{len(items)} items, {len(items) - len(todo)} already indexed or listed unreadable, "
          f"{len(todo)} to encode", flush=True)
    milvus = None
    if args.milvus_uri:
        milvus = {"uri": args.milvus_uri, "collection": args.collection, "bits": bits,
                  "token": args.milvus_token}
    if todo:
        with beam.Pipeline(options=PipelineOptions(beam_args)) as pipeline:
            build(pipeline, args.export if "://" in args.export else os.path.abspath(args.export),
                  todo, output, args.batch_size, milvus)
    codes, ids, keys, unreadable = read_shards(output)
    new_unreadable = sorted(set(unreadable) - set(unreadable_before))
    summary = {"items": len(items), "already": len(items) - len(todo),
               "encoded": len(keys) - len(done_keys), "unreadable": new_unreadable,
               "shard_codes": int(len(ids))}
    print(f"encoded {summary['encoded']} new items into {args.output} "
          f"({summary['already']} were there already; {len(ids)} codes in all); "
          f"{len(new_unreadable)} unreadable" + (
              f": {', '.join(new_unreadable[:10])}" + (" ..." if len(new_unreadable) > 10 else "")
              if new_unreadable else ""), flush=True)
    return summary


def main():
    try:
        run(sys.argv[1:])
    except ValueError as e:
        print(f"tfhash.search.beam: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
