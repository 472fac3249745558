"""Times EfficientNet-Lite0's frozen trunk (224 px, cut at "head", output stride 16) on
batches of random uint8 images, in one process, the variants alternating, median of
5 rounds:

- "folded": `Backbone.trunk` as the trunk cache runs it (each batch norm folded into
  its conv), batch 64, and batch 128;
- "layers": the same stages run layer by layer (convolution, batch norm, ReLU6 as
  separate ops: the trunk before the folding);
- with --xla, the folded trunk under XLA (jit_compile=True).

It also prints the largest difference between the variants' maps. Needs the
[pretrained] extra; not part of CI.

  python benchmarks/trunk_speed.py [--xla]
"""

import argparse
import os
import platform
import statistics
import time

import numpy as np
import tensorflow as tf

from tfhash.methods import common
from tfhash.training import config_files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xla", action="store_true", help="also time the folded trunk under XLA")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    config = config_files.load_config_file(
        os.path.join(REPO, "configs", "dpsh_cifar10_pretrained.py"))
    backbone = common.backbone(config.model, 224)
    backbone(tf.zeros([1, 224, 224, 3]))

    def by_layers(x):
        x = backbone._input(tf.cast(x, tf.float32))
        for index in range(backbone.cut):
            x = backbone._stage(index, x, False)
        return x

    variants = {"folded 64": (tf.function(lambda x: backbone.trunk(tf.cast(x, tf.float32)),
                                          reduce_retracing=True), 64),
                "layers 64": (tf.function(by_layers), 64)}
    variants["folded 128"] = (variants["folded 64"][0], 128)
    if args.xla:
        variants["xla folded 64"] = (tf.function(lambda x: backbone.trunk(tf.cast(x, tf.float32)),
                                                 jit_compile=True), 64)
    rng = np.random.default_rng(0)
    images = {b: tf.constant(rng.integers(0, 256, (b, 224, 224, 3), np.uint8)) for b in (64, 128)}
    reference = variants["layers 64"][0](images[64]).numpy()
    print(f"map {reference.shape[1:]}, largest |value| {np.abs(reference).max():.3f}")
    for name, (fn, batch) in variants.items():
        out = fn(images[batch]).numpy()  # traces each variant once before the timing
        if name != "layers 64" and batch == 64:
            print(f"max |{name} - layers 64|: {np.abs(out - reference).max():.2e}")
    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (fn, batch) in variants.items():
            start = time.perf_counter()
            fn(images[batch]).numpy()
            times[name].append(batch / (time.perf_counter() - start))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    base = statistics.median(times["layers 64"])
    for name, rates in times.items():
        median = statistics.median(rates)
        print(f"{name}: {median:.1f} images/s ({median / base:.2f}x layers 64; rounds "
              f"{', '.join(f'{r:.1f}' for r in rates)})")


if __name__ == "__main__":
    main()
