"""tfhash-search: query an index made by tfhash-index with image files.

  tfhash-search --index=PATH [--k=10] [--radius=R] [--json] FILE...
  tfhash-search --backend=milvus --uri=codes.db --collection=photos FILE...

The query files are encoded with the index's own encoder (the workdir or export it
was made with). Prints each query's results nearest first: rank, Hamming distance
and the item's path or key; --json prints them as JSON for scripts.
"""

import json

from absl import app, flags

from tfhash import cli

FLAGS = flags.FLAGS



def open_index():
    """`(encoder, search(codes) -> [[(distance, id), ...]], paths(ids) -> keys)`."""
    from tfhash.search import FileEncoder

    if FLAGS.backend == "local":
        if not FLAGS.index:
            raise ValueError("--index is required with the local backend")
        from tfhash.search import LocalCollection

        collection = LocalCollection(FLAGS.index)
        encoder = FileEncoder.from_description(collection.meta["encoder"])
        index, keys = collection.index(FLAGS.mode)
        lookup = keys.get
    else:
        if not FLAGS.uri:
            raise ValueError("--uri is required with the milvus backend")
        from tfhash.retrieval.milvus import MilvusIndex, _client

        client = _client(FLAGS.uri)
        if not client.has_collection(FLAGS.collection):
            raise ValueError(f"no Milvus collection {FLAGS.collection!r} at {FLAGS.uri}")
        description = json.loads(client.describe_collection(FLAGS.collection)["description"] or "{}")
        encoder = FileEncoder.from_description(description)
        index = MilvusIndex(FLAGS.uri, FLAGS.collection, encoder.bits)
        lookup = None

    def search(codes):
        if FLAGS.radius is not None:
            lims, distances, ids = index.range_search(codes, FLAGS.radius)
            return [list(zip(distances[a:b], ids[a:b])) for a, b in zip(lims[:-1], lims[1:])]
        distances, ids = index.search(codes, FLAGS.k)
        return [list(zip(d, i)) for d, i in zip(distances, ids)]

    def paths(ids):
        return [lookup(int(i)) for i in ids] if lookup else index.paths(ids)

    return encoder, search, paths


def main(argv):
    files = argv[1:]
    if not files:
        raise app.UsageError("give at least one query image file")
    with cli.one_line_errors("tfhash-search"):
        encoder, search, paths = open_index()
        codes, ok = encoder.encode_files(files)
        bad = [f for f, good in zip(files, ok) if not good]
        if bad:
            raise ValueError(f"cannot read the query image(s) {', '.join(bad)}")
        results = []
        for query, hits in zip(files, search(codes)):
            names = paths([i for _, i in hits])
            results.append({"query": query, "results": [
                {"rank": r + 1, "distance": int(d), "id": int(i), "path": name}
                for r, ((d, i), name) in enumerate(zip(hits, names))]})
    if FLAGS.json:
        print(json.dumps(results, indent=1))
        return
    for result in results:
        print(f"{result['query']}:")
        for hit in result["results"]:
            print(f"  {hit['rank']:3d}. d={hit['distance']:3d}  {hit['path']}")


def _define_flags():
    flags.DEFINE_string("index", None, "A collection folder made by tfhash-index.")
    flags.DEFINE_enum("backend", "local", ["local", "milvus"], "Where the codes are.")
    flags.DEFINE_string("uri", None, "Milvus: a Milvus Lite file or a server URI.")
    flags.DEFINE_string("collection", "tfhash", "Milvus: the collection name.")
    flags.DEFINE_integer("k", 10, "Results per query.")
    flags.DEFINE_enum("mode", "auto", ["auto", "linear", "multi_index"],
                      "local: the HammingIndex search path (the same answers; auto chooses).")
    flags.DEFINE_integer("radius", None, "Instead of the top k: everything within this distance.")
    flags.DEFINE_bool("json", False, "Print JSON.")


def run():
    _define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
