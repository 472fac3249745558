"""Test set-up: quiet TensorFlow, and two logical CPUs so that MirroredStrategy can
run with one or two replicas in the same session (this must precede any TF op)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash.training import strategy as strategy_lib  # noqa: E402

strategy_lib.configure_cpu_replicas(2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def tiny_config(**overrides):
    """The demo config shrunk to a tiny model: 16 px, 12 bits, a few steps."""
    from tfhash.training import config_files

    config = config_files.load_config_file(os.path.join(REPO, "configs", "demo.py"))
    config.method = "dpsh"
    config.bits = 12
    config.data.image_size = 16
    config.data.query_per_class = 5
    config.data.train_per_class = 8
    config.model.widths = (4, 8)
    config.model.convs_per_stage = 1
    config.train.epochs = 2
    config.train.batch_size = 20
    config.train.log_every = 2
    config.eval.batch_size = 128
    for key, value in overrides.items():
        node = config
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return config




def train_until_killed(config, workdir, monkeypatch, epoch, step):
    """Runs `loop.train` and stops it (KeyboardInterrupt) right after step `step` of the
    0-based epoch `epoch`, where a kill would stop it: the steps of that epoch are
    lost, its checkpoint is never written."""
    from tfhash.training import loop

    original = loop._check_finite

    def check(logs, at_epoch, at_step, manager):
        original(logs, at_epoch, at_step, manager)
        if (at_epoch, at_step) == (epoch, step):
            raise KeyboardInterrupt(f"killed after epoch {epoch} step {step}")

    monkeypatch.setattr(loop, "_check_finite", check)
    with pytest.raises(KeyboardInterrupt):
        loop.train(config, str(workdir))
    monkeypatch.setattr(loop, "_check_finite", original)
