"""tfhash-query: ask a TF Serving model for codes or nearest neighbours of images.

  tfhash-query --server=localhost:8500 --model=tfhash IMAGE...                 # codes
  tfhash-query --server=localhost:8500 --model=tfhash --signature=search --k=5 IMAGE...

  tfhash-query --server=localhost:8500 --model=tfhash --text="dog beach" --text=sunset
  tfhash-query ... --signature=search_tags_to_image --k=5 --text="dog beach"

Text queries (cross-modal models exported with a vocabulary) are sent as words; the
server maps them to the bag-of-words with the vocabulary in the export.
`encode_jpeg` (the default for images) sends the files' bytes and the server decodes them;
`encode_images` and `search` take pixels, so the images are decoded here with the
preprocessing the model was trained with (`tfhash.data.preprocess`). Images of one
size go in one request and are resized by the server, exactly as in training; with
--image_size they are resized here first (with the same function).
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("server", "localhost:8500", "host:port (8500 gRPC, 8501 REST).")
flags.DEFINE_string("model", "tfhash", "Model name in the server's config.")
flags.DEFINE_integer("version", None, "Model version (default: the latest).")
flags.DEFINE_string("signature", None,
                    "Signature to call (default: encode_jpeg for images, encode_tags for --text); "
                    "search and search_tags_to_image take --k.")
flags.DEFINE_multi_string("text", [], "A text query: space-separated words (repeatable).")
flags.DEFINE_integer("k", 10, "Neighbours to return with --signature=search.")
flags.DEFINE_integer("image_size", None, "Resize to this many pixels (pixel signatures).")
flags.DEFINE_enum("protocol", "grpc", ["grpc", "rest"], "Wire protocol.")
flags.DEFINE_float("timeout", 10.0, "Seconds per attempt.")


def load_pixels(paths, size=None):
    """uint8 `[H, W, 3]` pixels of image files, decoded (and resized to `size` when
    given) by `tfhash.data.preprocess`."""
    import tensorflow as tf

    from tfhash.data import preprocess

    images = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        try:
            image = preprocess.decode(tf.constant(data))
        except (tf.errors.InvalidArgumentError, ValueError) as e:
            raise OSError(f"{path} is not a readable image ({str(e).splitlines()[0]})") from None
        images.append((preprocess.resize(image, size) if size else image).numpy())
    return images


def _by_size(images):
    """Groups image positions by (height, width): one request per group."""
    groups = {}
    for i, image in enumerate(images):
        groups.setdefault(image.shape[:2], []).append(i)
    return list(groups.values())


def main(argv):
    paths = argv[1:]
    if bool(paths) == bool(FLAGS.text):
        raise app.UsageError("give image files or --text queries (not both)")
    from tfhash.serving.client import Client, ServingError

    client = Client(FLAGS.server, FLAGS.model, FLAGS.version, FLAGS.protocol, FLAGS.timeout)
    signature = FLAGS.signature or ("encode_tags" if FLAGS.text else "encode_jpeg")
    searching = signature.startswith("search")
    try:
        if FLAGS.text:
            inputs = {"tags": list(FLAGS.text), **({"k": FLAGS.k} if searching else {})}
            outputs = client.predict(inputs, signature)
            paths = FLAGS.text
        elif signature == "encode_jpeg":
            blobs = []
            for path in paths:
                with open(path, "rb") as f:
                    blobs.append(f.read())
            outputs = client.predict({"images": blobs}, signature)
        else:
            import numpy as np

            images = load_pixels(paths, FLAGS.image_size)
            outputs = {}
            for group in _by_size(images):
                inputs = {"images": np.stack([images[i] for i in group])}
                if searching:
                    inputs["k"] = FLAGS.k
                for name, value in client.predict(inputs, signature).items():
                    merged = outputs.setdefault(name, np.zeros((len(paths),) + value.shape[1:],
                                                               value.dtype))
                    merged[group] = value
    except (OSError, ServingError) as e:
        print(f"tfhash-query: error: {e}", file=sys.stderr)
        sys.exit(1)
    for i, path in enumerate(paths):
        if searching:
            pairs = ", ".join(f"{int(item)} (d={int(d)})" for item, d in
                              zip(outputs["ids"][i], outputs["distances"][i]))
            print(f"{path}: {pairs}")
        else:
            print(f"{path}: {bytes(outputs['codes'][i].astype('uint8')).hex()}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
