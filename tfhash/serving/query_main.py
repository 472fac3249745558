"""tfhash-query: ask a TF Serving model for codes or nearest neighbours of images.

  tfhash-query --server=localhost:8500 --model=tfhash IMAGE...                 # codes
  tfhash-query --server=localhost:8500 --model=tfhash --signature=search --k=5 IMAGE...

`encode_jpeg` (the default) sends the files' bytes and the server decodes them;
`encode_images` and `search` take pixels, so the images are decoded here and resized
to --image_size (default: the first image's size).
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("server", "localhost:8500", "host:port (8500 gRPC, 8501 REST).")
flags.DEFINE_string("model", "tfhash", "Model name in the server's config.")
flags.DEFINE_integer("version", None, "Model version (default: the latest).")
flags.DEFINE_enum("signature", "encode_jpeg", ["encode_jpeg", "encode_images", "serving_default", "search"],
                  "Signature to call.")
flags.DEFINE_integer("k", 10, "Neighbours to return with --signature=search.")
flags.DEFINE_integer("image_size", None, "Resize to this many pixels (pixel signatures).")
flags.DEFINE_enum("protocol", "grpc", ["grpc", "rest"], "Wire protocol.")
flags.DEFINE_float("timeout", 10.0, "Seconds per attempt.")


def load_pixels(paths, size=None):
    """uint8 [n, size, size, 3] from image files (RGB), resized to a common size."""
    import numpy as np
    from PIL import Image

    images = []
    for path in paths:
        with Image.open(path) as image:
            image = image.convert("RGB")
            size = size or image.size[0]
            images.append(np.asarray(image.resize((size, size), Image.BILINEAR), np.uint8))
    return np.stack(images)


def main(argv):
    paths = argv[1:]
    if not paths:
        raise app.UsageError("give at least one image file")
    from tfhash.serving.client import Client, ServingError

    client = Client(FLAGS.server, FLAGS.model, FLAGS.version, FLAGS.protocol, FLAGS.timeout)
    try:
        if FLAGS.signature == "encode_jpeg":
            blobs = []
            for path in paths:
                with open(path, "rb") as f:
                    blobs.append(f.read())
            inputs = {"images": blobs}
        else:
            inputs = {"images": load_pixels(paths, FLAGS.image_size)}
            if FLAGS.signature == "search":
                inputs["k"] = FLAGS.k
        outputs = client.predict(inputs, FLAGS.signature)
    except (OSError, ServingError) as e:
        print(f"tfhash-query: error: {e}", file=sys.stderr)
        sys.exit(1)
    for i, path in enumerate(paths):
        if FLAGS.signature == "search":
            pairs = ", ".join(f"{int(item)} (d={int(d)})" for item, d in
                              zip(outputs["ids"][i], outputs["distances"][i]))
            print(f"{path}: {pairs}")
        else:
            print(f"{path}: {bytes(outputs['codes'][i].astype('uint8')).hex()}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
