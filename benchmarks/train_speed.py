"""Training throughput of the loop against a plain `keras.Model.fit`, and the idle
time between epochs.

For DSH and DPSH (and the attention methods, for their cost per step): images/s of
`tfhash.training.loop.train` on configs/demo.py's data and network (digits at 32 px,
small CNN, batch 50), against `keras.Model.fit` of the same backbone and hash head
with a plain classification loss on the same data pipeline (`TrainData.stream`),
same batch, in the same process. Also the gap between epochs: from the end of one
epoch's last step to the end of the next epoch's first step, minus one step's
median time (checkpoint, schedule hook and data pipeline between epochs).

  python benchmarks/train_speed.py [--epochs=6] [--methods=dsh,dpsh,dsah,doh,dagh] [--jit_compile]

Not part of CI; run on an otherwise idle machine (prints the CPU).
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import backbones, data, layers  # noqa: E402
from tfhash.training import config_files, loop  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTRA = {"dagh": {"dagh.stage1_epochs": 3}}  # the heads: each method's defaults


def demo_config(method, epochs):
    config = config_files.load_config_file(os.path.join(REPO, "configs", "demo.py"))
    config.method, config.train.epochs = method, epochs
    config.train.log_every = 10 ** 6
    for key, value in EXTRA.get(method, {}).items():
        section, name = key.split(".")
        config[section][name] = value
    return config


def time_loop(config):
    """Runs the loop, recording when every step ends; returns (images/s over the steps
    after the first epoch, gaps between epochs in s, median step in s)."""
    stamps = []
    original = loop._check_finite

    def record(logs, epoch, step, manager):
        original(logs, epoch, step, manager)
        stamps.append((epoch, step, time.perf_counter()))

    loop._check_finite = record
    try:
        loop.train(config, tempfile.mkdtemp())
    finally:
        loop._check_finite = original
    durations = [b[2] - a[2] for a, b in zip(stamps, stamps[1:]) if b[1] != 1]
    median_step = float(np.median(durations))
    gaps = [b[2] - a[2] - median_step for a, b in zip(stamps, stamps[1:]) if b[1] == 1]
    after_first = [t for e, s, t in stamps if e >= 1]
    seconds = after_first[-1] - after_first[0]
    images = (len(after_first) - 1) * config.train.batch_size
    return images / seconds, gaps, median_step


def time_fit(config):
    """keras.Model.fit of the same backbone and hash head (+ a softmax classifier on
    the codes), on the same stream of batches; images/s over epochs 2.."""
    source = data.load_source(config.data.source, config.data.image_size)
    split = data.make_split(source, data.splits.protocol_params(config.data))
    train = data.TrainData(source, split.train, config.data.image_size,
                           config.train.batch_size, config.seed)
    keras.utils.set_random_seed(config.seed)
    inputs = keras.Input((config.data.image_size, config.data.image_size, 3))
    features = backbones.SmallCNN(tuple(config.model.widths), config.model.convs_per_stage)(inputs)
    codes = layers.HashHead(config.bits)(features["features"])
    outputs = keras.layers.Dense(source.num_classes)(codes)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(config.train.learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    stream = train.stream(0, config.train.epochs).map(lambda b: (b["image"], b["label"]))
    times = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(stream, epochs=config.train.epochs, steps_per_epoch=train.steps_per_epoch,
              verbose=0, callbacks=[Clock()])
    return train.steps_per_epoch * config.train.batch_size * (len(times) - 1) / sum(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--methods", default="dsh,dpsh,dsah,doh,dagh")
    parser.add_argument("--jit_compile", action="store_true",
                        help="also time each method with train.jit_compile=True (XLA)")
    args = parser.parse_args()
    tf.get_logger().setLevel("ERROR")
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                   "unknown CPU")
    print(f"CPU: {cpu}, {os.cpu_count()} cores; digits at 32 px, small CNN 32/64/128, batch 50, "
          f"{args.epochs} epochs (the first one, with tracing, not counted)")
    plain = time_fit(demo_config("dsh", args.epochs))
    print(f"keras.Model.fit (same backbone and head, softmax loss): {plain:.0f} images/s")
    for method in args.methods.split(","):
        for jit in (False, True) if args.jit_compile else (False,):
            config = demo_config(method, args.epochs)
            config.train.jit_compile = jit
            rate, gaps, step = time_loop(config)
            print(f"{method:5}{' XLA' if jit else ''} loop: {rate:6.0f} images/s ({rate / plain:.2f}x "
                  f"fit), median step {step * 1e3:.0f} ms; between epochs: "
                  f"{', '.join(f'{g:.2f}' for g in gaps)} s (max {max(gaps):.2f} s)")


if __name__ == "__main__":
    main()
