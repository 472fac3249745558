"""Encode latency (batch 1) and throughput (batch 64) through an exported SavedModel,
and client round-trip latency over gRPC against the test double of TF Serving.

  python benchmarks/serving_latency.py --workdir=runs/cifar10_baselines/dsh_32

The workdir must hold a trained run (tfhash-train); it is exported to a temporary
folder. Run on an otherwise idle machine.
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


def percentile_ms(times, q):
    return 1000 * float(np.percentile(times, q))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    from tests import serving_double
    from tfhash import export
    from tfhash.serving import Client
    from tfhash.training import config_files
    from tfhash.training import strategy as strategy_lib
    from tfhash.training import workdir as workdir_lib

    config = config_files.load_workdir_config(args.workdir)
    model, _, _, _ = workdir_lib.restore(args.workdir, strategy_lib.make_strategy(config.num_cpu_replicas), config)
    size = config.data.image_size
    base = tempfile.mkdtemp()
    path = export.export(model, base)
    loaded = tf.saved_model.load(path)
    encode = loaded.signatures["encode_images"]
    rng = np.random.default_rng(0)
    one = tf.constant(rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8))
    batch = tf.constant(rng.integers(0, 256, (64, size, size, 3), dtype=np.uint8))
    for _ in range(10):
        encode(images=one), encode(images=batch)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        encode(images=one)["codes"].numpy()
        times.append(time.perf_counter() - start)
    print(f"SavedModel encode_images, batch 1, {size} px: median {percentile_ms(times, 50):.2f} ms, "
          f"p90 {percentile_ms(times, 90):.2f} ms ({args.repeats} calls)")
    start = time.perf_counter()
    for _ in range(20):
        encode(images=batch)["codes"].numpy()
    rate = 20 * 64 / (time.perf_counter() - start)
    print(f"SavedModel encode_images, batch 64: {rate:.0f} images/s")
    server, port = serving_double.serve({"tfhash": base})
    client = Client(f"127.0.0.1:{port}", "tfhash")
    image = one.numpy()
    for _ in range(10):
        client.predict({"images": image})
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        client.predict({"images": image})
        times.append(time.perf_counter() - start)
    print(f"gRPC client round trip to the test double, batch 1: median {percentile_ms(times, 50):.2f} ms, "
          f"p90 {percentile_ms(times, 90):.2f} ms ({args.repeats} calls, {os.cpu_count()} cores)")
    server.stop(None)


if __name__ == "__main__":
    main()
