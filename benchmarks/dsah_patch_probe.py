"""Does DSaH's attention attend? Synthetic 24 px images of noise whose class (4) is set
by a 6x6 square of pure colour at a random position (tfhash.data.synthetic); trains
DSaH briefly and prints mAP@all and the mean saliency inside and outside the square
on the queries.

  python benchmarks/dsah_patch_probe.py [--epochs=60] [--seed=0] [--set=dsah.area_weight=3]

The setting is configs/dsah_patches.py, which tests/test_dsah.py::test_attention_attends
also trains (asserting margins measured here). Not CI.
"""

import argparse
import ast
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

from tfhash.data import synthetic  # noqa: E402
from tfhash.training import config_files, loop  # noqa: E402
from tfhash.training import strategy as strategy_lib  # noqa: E402
from tfhash.training import workdir as workdir_lib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE, PATCH = 24, 6


def probe_config(epochs=60, seed=0):
    """configs/dsah_patches.py with these epochs and seed."""
    config = config_files.load_config_file(os.path.join(REPO, "configs", "dsah_patches.py"))
    config.train.epochs, config.seed = epochs, seed
    return config


def run_probe(config, workdir):
    """Trains on the patch images; returns (mAP@all, saliency inside, outside)."""
    source, corners = synthetic.colour_patches(size=SIZE, patch=PATCH)  # the `patches` source
    report = loop.train_and_evaluate(config, workdir, source=source)
    model, _, split, _ = workdir_lib.restore(workdir, strategy_lib.make_strategy(config.num_cpu_replicas), config, source)
    maps = model.saliency(tf.cast(source.array[split.query], tf.float32)).numpy()[..., 0]
    inside, outside = synthetic.patch_saliency(maps, corners[split.query], PATCH)
    return report["map_all"], float(inside.mean()), float(outside.mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any other config field, e.g. --set=dsah.saliency_loss=margin")
    args = parser.parse_args()
    import tempfile

    config = probe_config(args.epochs, args.seed)
    for item in args.set:
        key, value = item.split("=", 1)
        *path, name = key.split(".")
        section = config
        for part in path:
            section = section[part]
        section[name] = value if isinstance(section[name], str) else ast.literal_eval(value)
    start = time.time()
    map_all, inside, outside = run_probe(config, tempfile.mkdtemp())
    def cut(value):  # truncated to 3 decimals, never rounded up
        return f"{math.floor(value * 1e3) / 1e3:.3f}"

    print(f"DSaH ({config.dsah.saliency_loss}, mask {config.dsah.mask_normalization}), "
          f"{args.epochs} epochs, seed {args.seed}: mAP@all {cut(map_all)} (chance about 0.25); "
          f"saliency inside the square {cut(inside)}, outside {cut(outside)}; "
          f"{time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
