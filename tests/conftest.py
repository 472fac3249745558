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


def load_benchmark(name):
    """benchmarks/<name>.py as a module (the benchmarks folder is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        name, os.path.join(REPO, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def demo_config(**overrides):
    """configs/demo.py with overrides {"train.epochs": 2, ...}, as `--config.train.epochs=2`
    would set them."""
    from tfhash.training import config_files

    config = config_files.load_config_file(os.path.join(REPO, "configs", "demo.py"))
    for key, value in overrides.items():
        node = config
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return config


def tiny_config(**overrides):
    """The demo config shrunk to a tiny model: 16 px, 12 bits, a few steps."""
    tiny = {"method": "dpsh", "bits": 12, "data.image_size": 16, "data.query_per_class": 5,
            "data.train_per_class": 8, "model.widths": (4, 8), "model.convs_per_stage": 1,
            "train.epochs": 2, "train.batch_size": 20, "train.log_every": 2,
            "eval.batch_size": 128}
    return demo_config(**{**tiny, **overrides})


def train_until_killed(config, workdir, monkeypatch, epoch, step):
    """Runs `loop.train` and stops it (KeyboardInterrupt) right after step `step` of the
    0-based epoch `epoch`, where a kill would stop it: the steps of that epoch are
    lost, its checkpoint is never written. Returns the epochs the workdir's last
    checkpoint holds."""
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
    return checkpointed_epochs(workdir)


def checkpointed_epochs(workdir):
    """The number of the workdir's latest checkpoint (the epochs it holds); 0 if none."""
    latest = tf.train.latest_checkpoint(os.path.join(str(workdir), "checkpoints"))
    return int(latest.rsplit("-", 1)[1]) if latest else 0


def resume(config, workdir, monkeypatch, source=None):
    """Reruns `loop.train` in a workdir that holds checkpoints and checks that it
    resumed: the first step it runs is step 1 of the epoch after the last checkpoint
    (a rerun that ignored the checkpoint would start again at epoch 1, and being
    deterministic could still end with the same weights). Returns the model."""
    from tfhash.training import loop

    done = checkpointed_epochs(workdir)
    assert done > 0, f"{workdir} has no checkpoint to resume from"
    steps = []
    original = loop._check_finite

    def record(logs, at_epoch, at_step, manager):
        steps.append((at_epoch, at_step))
        original(logs, at_epoch, at_step, manager)

    monkeypatch.setattr(loop, "_check_finite", record)
    try:
        model, *_ = loop.train(config, str(workdir), source)
    finally:
        monkeypatch.setattr(loop, "_check_finite", original)
    if done < config.train.epochs:
        assert steps and steps[0] == (done, 1), (
            f"the rerun started at (epoch, step) {steps[:1]}, not at step 1 of epoch {done} "
            f"(0-based) after the checkpoint of epoch {done}: it did not resume")
    else:
        assert not steps, f"every epoch was checkpointed, yet the rerun trained {len(steps)} steps"
    return model


def separable_source(classes=4, per_class=30, size=16, seed=0):
    """An in-memory source that any hashing network separates in a few steps: class c
    is a top half of one colour and a bottom half of another (both from a fixed
    palette), with pixel noise. For tests that check that training learned."""
    from tfhash.data import sources

    palette = np.array([[230, 40, 40], [40, 200, 40], [40, 40, 230], [220, 220, 40],
                        [200, 40, 200], [40, 210, 210], [240, 240, 240], [20, 20, 20]], np.float32)
    if classes > len(palette):
        raise ValueError(f"at most {len(palette)} classes")
    draw = np.random.default_rng(seed)
    ids = np.repeat(np.arange(classes), per_class)
    images = np.empty((len(ids), size, size, 3), np.float32)
    images[:, : size // 2] = palette[ids][:, None, None, :]
    images[:, size // 2:] = palette[(ids + 3) % len(palette)][:, None, None, :]
    images += draw.normal(0.0, 25.0, images.shape)
    images = np.clip(np.round(images), 0, 255).astype(np.uint8)
    labels = np.eye(classes, dtype=np.float32)[ids]
    return sources.ArraySource("separable", images, labels, [f"class{c}" for c in range(classes)])


def restored(config, workdir, source=None):
    """`(model, source, split, stats)` of a run folder at its latest checkpoint, with
    `config` (the run's) and the process's strategy for its replicas."""
    from tfhash.training import workdir as workdir_lib

    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    return workdir_lib.restore(str(workdir), strategy, config, source)


def small_network(bits, widths=(4, 8), activation="linear", hidden_units=0, batch_norm=False):
    """A `layers.HashingNetwork` of a small CNN (one conv per stage) and a hash head."""
    from tfhash import backbones, layers

    head = layers.HashHead(bits, activation, hidden_units, batch_norm=batch_norm)
    return layers.HashingNetwork(backbones.SmallCNN(widths, 1), head)


def assert_replicas_agree(make_model, batch, variants=(None,), rel=None):
    """One step per variant on the same global batch, on one replica and on two
    (`make_model(strategy)` builds the model in the strategy's scope): equal logs (to
    `rel[log]` or 1e-4) and equal updated weights (up to summation order)."""
    from tfhash.training import loop

    def run(replicas):
        strategy = strategy_lib.make_strategy(replicas)
        model = make_model(strategy)
        dataset = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices(batch).batch(len(batch["index"])))
        global_batch = next(iter(dataset))
        logs = {}
        for variant in variants:
            step = loop.make_distributed_step(model, strategy, variant)
            suffix = "" if variant is None else f"_{variant}"
            logs.update({f"{k}{suffix}": float(v) for k, v in step(global_batch).items()})
        return logs, [w.numpy() for w in model.weights]

    logs1, weights1 = run(1)
    logs2, weights2 = run(2)
    assert logs1.keys() == logs2.keys()
    for key in logs1:
        tolerance = (rel or {}).get(key, 1e-4)
        assert logs2[key] == pytest.approx(logs1[key], rel=tolerance, abs=1e-5), key
    for w1, w2 in zip(weights1, weights2):
        np.testing.assert_allclose(w2, w1, rtol=1e-3, atol=2e-4)


def separable_pairs(classes=4, per_class=30, size=16, seed=0):
    """`separable_source` with a text per item: its class's word and two of eight
    filler words (a paired source any cross-modal method aligns in a few steps)."""
    from tfhash.data import paired

    images = separable_source(classes, per_class, size, seed)
    draw = np.random.default_rng([seed, 5])
    text = np.zeros((len(images), classes + 8), np.float32)
    text[np.arange(len(images)), images.labels.argmax(axis=1)] = 1
    for row in text:
        row[classes + draw.choice(8, 2, replace=False)] = 1
    return paired.PairedArraySource("separable_pairs", images.array, images.labels,
                                    images.class_names, text)
