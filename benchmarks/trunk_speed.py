"""Times EfficientNet-Lite0's frozen trunk (224 px, cut at "head") on batches of
random uint8 images: the tf.function the trunk cache uses (batch 64, and 128) against
the same with XLA (jit_compile=True); one process, the three alternating, median of 5
rounds. Needs the [pretrained] extra; not part of CI.

  python benchmarks/trunk_speed.py
"""

import os
import statistics
import time

import numpy as np
import tensorflow as tf

from tfhash.methods import common
from tfhash.training import config_files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
config = config_files.load_config_file(os.path.join(REPO, "configs", "dpsh_cifar10_pretrained.py"))
backbone = common.backbone(config.model, 224)
backbone(tf.zeros([1, 224, 224, 3]))
backbone.freeze_trunk()
images = {b: tf.constant(np.random.default_rng(0).integers(0, 256, (b, 224, 224, 3), np.uint8)) for b in (64, 128)}
plain = tf.function(lambda x: backbone.trunk(tf.cast(x, tf.float32)), reduce_retracing=True)
xla = tf.function(lambda x: backbone.trunk(tf.cast(x, tf.float32)), jit_compile=True)
ref = plain(images[64]).numpy()
print("max |xla - plain|:", float(np.abs(xla(images[64]).numpy() - ref).max()), "scale", float(np.abs(ref).max()))
plain(images[128])
times = {"plain 64": [], "xla 64": [], "plain 128": []}
for _ in range(5):
    for name, fn, b in (("plain 64", plain, 64), ("xla 64", xla, 64), ("plain 128", plain, 128)):
        t = time.perf_counter(); fn(images[b]).numpy(); times[name].append(b / (time.perf_counter() - t))
for name, v in times.items():
    print(f"{name}: {statistics.median(v):.1f} images/s (rounds {', '.join(f'{x:.1f}' for x in v)})")
