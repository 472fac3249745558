"""Fixed tf.data parallelism for tfhash's pipelines, instead of autotuning.

tf.data's autotuning keeps a model thread per iterator whose optimisation period
grows towards a minute, and deleting an iterator waits for that thread: measured
with TensorFlow 2.21 on 2 cores of an AMD EPYC (`python
benchmarks/iterator_teardown.py`, twice), an autotuned `range -> map -> batch ->
prefetch` iterator that ran for 45 s took 36.90 s to delete, one with autotuning off
0.00 s; the same pipeline through MirroredStrategy's `experimental_distribute_dataset`
36.91 s unless the distributed dataset's own options turn autotuning off too
(`tfhash.training.loop._batches` does), 0.01 s then.
That wait was the silent pause between the last epoch and the evaluation of a run
(issue 28: 41 s seen on a fresh clone, 29 s reproduced here), and it would follow
every long encoding pass. With the parallelism fixed at the CPU count and two
batches prefetched, the same map ran as fast as autotuned (0.34 s and 0.33 s
against 0.35 s and 0.33 s for 4,000 resizes of 64 px images to 96 px, two runs
each; tests/test_data.py checks the pipelines' options).
"""

import os

import tensorflow as tf

PARALLEL_CALLS = max(1, os.cpu_count() or 1)
PREFETCH = 2


def fixed(dataset):
    """`dataset` with autotuning off (its maps and prefetches use the constants
    above): deleting its iterators does not wait for an autotuning thread."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
