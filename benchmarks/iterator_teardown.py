"""How long deleting a tf.data iterator takes after a long pass, autotuned or with
tfhash's fixed parallelism (tfhash.data.tuning): the pause a first tfhash-train run
showed between its last epoch and its evaluation.

  python benchmarks/iterator_teardown.py [--seconds=45]

Each mode runs in its own process: `range -> map -> batch(8) -> prefetch`, one
batch every 10 ms for --seconds, then the iterator is deleted and timed. The
"distributed" modes put the fixed pipeline through MirroredStrategy's
`experimental_distribute_dataset`, which turns autotuning on again unless its options
say otherwise.
"""

import argparse
import os
import subprocess
import sys
import time

CHILD = r"""
import sys, time
import tensorflow as tf
from tfhash.data import tuning
mode, seconds = sys.argv[1], float(sys.argv[2])
if mode == "autotuned":
    ds = tf.data.Dataset.range(10**9).map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(8).prefetch(tf.data.AUTOTUNE)
else:
    ds = tf.data.Dataset.range(10**9).map(lambda x: x * 2, num_parallel_calls=tuning.PARALLEL_CALLS)
    ds = tuning.fixed(ds.batch(8).prefetch(tuning.PREFETCH))
if mode.startswith("distributed"):  # as tfhash.training.loop._batches makes it
    options = tf.data.Options()
    if mode == "distributed, autotuning off":
        options.autotune.enabled = False
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    iterator = iter(strategy.experimental_distribute_dataset(ds.with_options(options)))
else:
    iterator = iter(ds)
start = time.time()
while time.time() - start < seconds:
    next(iterator)
    time.sleep(0.01)
start = time.time()
del iterator
print(f"{mode}: deleting the iterator after a {seconds:.0f} s pass took {time.time() - start:.2f} s")
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0)
    args = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for mode in ("autotuned", "fixed", "distributed", "distributed, autotuning off"):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD, mode, str(args.seconds)],
                             capture_output=True, text=True, env=env)
        line = out.stdout.strip() or out.stderr.strip().splitlines()[-1]
        print(f"{line} (process {time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
