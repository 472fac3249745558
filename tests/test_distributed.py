"""MirroredStrategy with 2 logical CPUs trains exactly like 1 replica on the same
global batch: same loss, same updated weights, same memory bank."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import small_network
from tfhash import models
from tfhash.training import loop
from tfhash.training import strategy as strategy_lib


def one_step(num_replicas, method, batch, **loss_args):
    strategy = strategy_lib.make_strategy(num_replicas)
    assert strategy.num_replicas_in_sync == num_replicas
    with strategy.scope():
        keras.utils.set_random_seed(7)
        if method == "dpsh":
            model = models.DPSH(small_network(12, batch_norm=True), num_train=16, num_classes=3,
                                **loss_args)
        else:
            model = models.DSH(small_network(12), **loss_args)
        model.build_from_spec(models.DataSpec(image_size=16, num_train=16, num_classes=3))
        model.build_optimizers(lambda steps: keras.optimizers.SGD(0.5), 1, 1)
    dataset = tf.data.Dataset.from_tensor_slices(batch).batch(8)
    distributed = strategy.experimental_distribute_dataset(dataset)

    step = loop.make_distributed_step(model, strategy)
    logs = {}
    for b in distributed:  # two steps: the second sees the bank the first wrote
        logs = {k: float(v) for k, v in step(b).items()}
    return logs, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("method,loss_args", [
    ("dpsh", {}), ("dsh", {}),
    ("dpsh", {"similarity": "jaccard", "balance_weight": 0.5, "max_logit": 6.0}),
    ("dsh", {"similarity": "jaccard", "balance_weight": 0.5})])
def test_two_replicas_equal_one(rng, method, loss_args):
    labels = (rng.random((16, 3)) < 0.5).astype(np.float32)  # multi-label: graded similarity
    labels[labels.sum(1) == 0, 0] = 1.0
    batch = {
        "image": rng.uniform(0, 255, size=(16, 16, 16, 3)).astype(np.float32),
        "label": labels if loss_args else np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)],
        "index": rng.permutation(16).astype(np.int64),
    }
    logs1, weights1 = one_step(1, method, batch, **loss_args)
    logs2, weights2 = one_step(2, method, batch, **loss_args)
    assert logs1.keys() == logs2.keys()
    for key in logs1:
        assert logs2[key] == pytest.approx(logs1[key], rel=1e-5, abs=1e-6), key
    moved = False
    for w1, w2 in zip(weights1, weights2):
        np.testing.assert_allclose(w2, w1, rtol=1e-3, atol=2e-4)  # summation order only
        moved |= bool(np.any(w1 != 0))
    assert moved
