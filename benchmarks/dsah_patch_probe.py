"""Does DSaH's attention attend? Synthetic 24 px images of noise whose class (4) is set
by a 6x6 patch of pure colour at a random position; trains DSaH briefly and prints
mAP@all and the mean saliency inside and outside the patch on the queries.

  python benchmarks/dsah_patch_probe.py [--epochs=60] [--saliency_loss=margin|semantic]

A diagnostic for issue 5 (not CI): the test that asserts the attention attends needs
a margin measured here first.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import data  # noqa: E402
from tfhash.training import config_files, loop  # noqa: E402

SIZE, PATCH = 24, 6
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)


def patch_source(per_class=60, seed=0):
    rng = np.random.default_rng(seed)
    images, labels, corners = [], [], []
    for c, colour in enumerate(COLOURS):
        for _ in range(per_class):
            image = rng.integers(0, 256, (SIZE, SIZE, 3)).astype(np.uint8)
            y, x = rng.integers(0, SIZE - PATCH + 1, 2)
            image[y:y + PATCH, x:x + PATCH] = colour
            images.append(image)
            labels.append(c)
            corners.append((y, x))
    source = data.ArraySource("patches", np.stack(images), np.eye(len(COLOURS))[labels],
                              [str(c) for c in range(len(COLOURS))])
    return source, np.array(corners)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--saliency_loss", default="margin")
    parser.add_argument("--area_weight", type=float, default=0.1)
    args = parser.parse_args()
    source, corners = patch_source()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = config_files.load_config_file(os.path.join(repo, "configs", "default.py"))
    config.method, config.bits = "dsah", 12
    config.data.update(image_size=SIZE, query_per_class=10, train_per_class=40, augment=False)
    config.model.update(widths=(8, 16), convs_per_stage=1)
    config.dsah.update(saliency_loss=args.saliency_loss, area_weight=args.area_weight)
    config.train.update(epochs=args.epochs, batch_size=32, log_every=1000)
    config.eval.batch_size = 128
    start = time.time()
    workdir = tempfile.mkdtemp()
    report = loop.train_and_evaluate(config, workdir, source=source)
    model, _, split, _ = loop.restore_for_eval(config, workdir, source=source)
    maps = model.saliency(tf.cast(source.array[split.query], tf.float32)).numpy()[..., 0]
    inside, outside = [], []
    for mask, item in zip(maps, split.query):
        y, x = corners[item]
        patch = np.zeros((SIZE, SIZE), bool)
        patch[y:y + PATCH, x:x + PATCH] = True
        inside.append(mask[patch].mean())
        outside.append(mask[~patch].mean())
    print(f"DSaH ({args.saliency_loss}), {args.epochs} epochs: mAP@all {report['map_all']:.3f} "
          f"(chance about 0.25); saliency inside the patch {np.mean(inside):.3f}, outside "
          f"{np.mean(outside):.3f}; {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
