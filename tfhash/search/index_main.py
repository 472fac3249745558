"""tfhash-index: encode a collection of images into a searchable index.

  tfhash-index --workdir=RUN --images=DIR --index=PATH
  tfhash-index --export=RUN/export/1 --images=folder:/data/photos --index=PATH
  tfhash-index --workdir=RUN --images=DIR --backend=milvus --uri=codes.db --collection=photos

--images is a plain directory of images (searched recursively; no labels needed) or
any tfhash source (folder:, list:, pairs:, tfds:, mat:). Items are encoded in batches
with a progress line; every batch is stored as it is done, so an interrupted run
continues where it stopped, and rerunning after adding files encodes only those.
Unreadable files are skipped, counted and listed (collection.json, or the log).
"""

import json
import os
import time

from absl import app, flags, logging

from tfhash import cli

FLAGS = flags.FLAGS


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
PROGRESS_SECONDS = 10.0


def collection_items(spec):
    """`(keys, files or None, source or None)`: a plain directory gives relative paths
    (and the files); a source gives its item names (and files when it has them)."""
    if os.path.isdir(spec):
        files = sorted(os.path.join(root, name) for root, _, names in os.walk(spec)
                       for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise ValueError(f"{spec} has no image files {IMAGE_EXTENSIONS}")
        return [os.path.relpath(f, spec) for f in files], files, None
    from tfhash import data

    source = data.load_source(spec)
    keys = [source.describe(i) for i in range(len(source))]
    files = [str(p) for p in source.paths] if hasattr(source, "paths") else None
    return keys, files, source


class Store:
    """The local collection or a Milvus collection, behind one small interface."""

    def __init__(self, encoder, backend="local", index=None, uri=None, collection="tfhash",
                 index_type="BIN_FLAT", nlist=1024):
        description = encoder.describe()
        if backend == "local":
            if not index:
                raise ValueError("--index is required with the local backend")
            from tfhash.search import LocalCollection

            self.local = LocalCollection.create(index, encoder.bits, description)
            self.done, self.next_id = self.local.keys(), self.local.next_id()
        else:
            if not uri:
                raise ValueError("--uri is required with the milvus backend")
            from tfhash.retrieval.milvus import MilvusIndex

            self.local = None
            self.milvus = MilvusIndex(uri, collection, encoder.bits, index_type, nlist,
                                      description=json.dumps(description))
            if json.loads(self.milvus.description() or "{}") != description:
                raise ValueError(f"Milvus collection {collection!r} was made with another "
                                 f"encoder ({self.milvus.description()})")
            self.done = self.milvus.keys()
            self.next_id = self.milvus.next_id()

    def add(self, codes, keys):
        ids = list(range(self.next_id, self.next_id + len(keys)))
        self.next_id += len(keys)
        if self.local is not None:
            self.local.append(codes, ids, keys)
        else:
            self.milvus.add(codes, ids, keys)

    def skipped(self, keys):
        if self.local is not None:
            self.local.record_skipped(keys)


def index_collection(encoder, keys, files, source, store, batch_size=256):
    """Encodes the items of `keys` that `store` does not hold yet, batch by batch, each
    batch stored as it is done. Returns `(new items, already there, unreadable keys)`."""
    todo = [i for i, key in enumerate(keys) if key not in store.done]
    logging.info("%d items, %d already indexed, %d to encode", len(keys), len(keys) - len(todo),
                 len(todo))
    start = last = time.time()
    done, skipped = 0, []
    for begin in range(0, len(todo), batch_size):
        batch = sorted(todo[begin:begin + batch_size])  # sources such as TFDS read in order
        if files is not None:
            codes, ok = encoder.encode_files([files[i] for i in batch])
        else:
            images = list(source.images(batch).as_numpy_iterator())
            codes, ok = encoder.encode_images(images), [True] * len(batch)
        kept = [keys[i] for i, good in zip(batch, ok) if good]
        skipped += [keys[i] for i, good in zip(batch, ok) if not good]
        if kept:
            store.add(codes, kept)
        done += len(batch)
        if time.time() - last > PROGRESS_SECONDS or done == len(todo):
            last = time.time()
            logging.info("Indexed %d/%d items (%.0f items/s)", done, len(todo),
                         done / max(last - start, 1e-9))
    store.skipped(skipped)
    return done - len(skipped), len(keys) - len(todo), skipped


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    with cli.one_line_errors("tfhash-index"):
        from tfhash.search import FileEncoder

        encoder = FileEncoder(workdir=FLAGS.workdir, export=FLAGS.export)
        keys, files, source = collection_items(FLAGS.images)
        store = Store(encoder, FLAGS.backend, FLAGS.index, FLAGS.uri, FLAGS.collection,
                      FLAGS.index_type, FLAGS.nlist)
        added, present, skipped = index_collection(encoder, keys, files, source, store,
                                                   FLAGS.batch_size)
    where = FLAGS.index if FLAGS.backend == "local" else f"{FLAGS.uri} ({FLAGS.collection})"
    print(f"indexed {added} new items into {where} ({present} were there already); "
          f"{len(skipped)} unreadable" + (
              f": {', '.join(skipped[:10])}" + (" ..." if len(skipped) > 10 else "")
              if skipped else ""))


def _define_flags():
    flags.DEFINE_string("workdir", None, "A tfhash-train workdir (its latest checkpoint).")
    flags.DEFINE_string("export", None, "Or: a SavedModel version folder from tfhash-export.")
    flags.DEFINE_string("images", None, "A directory of images, or a tfhash source spec.")
    flags.DEFINE_string("index", None, "The collection folder (local backend).")
    flags.DEFINE_enum("backend", "local", ["local", "milvus"], "Where the codes go.")
    flags.DEFINE_string("uri", None, "Milvus: a Milvus Lite file or a server URI.")
    flags.DEFINE_string("collection", "tfhash", "Milvus: the collection name.")
    flags.DEFINE_enum("index_type", "BIN_FLAT", ["BIN_FLAT", "BIN_IVF_FLAT"], "Milvus index.")
    flags.DEFINE_integer("nlist", 1024, "Milvus BIN_IVF_FLAT: clusters.")
    flags.DEFINE_integer("batch_size", 256, "Items encoded per batch.")
    flags.mark_flag_as_required("images")


def run():
    _define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
