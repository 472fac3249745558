"""DAgH: losses against NumPy, guided codes, the stage boundary, replication,
serialisation and the export of either stream."""

import os
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import (assert_replicas_agree, restored, resume,
                            separable_source, small_network, tiny_config, train_until_killed)
from tfhash import backbones, export, layers, losses, models, retrieval
from tfhash.layers import batch_norm
from tfhash.models import dagh as dagh_lib
from tfhash.training import loop


def config(**overrides):
    values = {"dagh.stage1_epochs": 1, "train.epochs": 3, "model.head_batch_norm": True,
              "model.head_activation": "tanh", **overrides}
    return tiny_config(method="dagh", **values)


def test_bitwise_cross_entropy_matches_numpy(rng):
    logits = rng.normal(size=(4, 6)).astype(np.float32) * 3
    targets = (rng.random((4, 6)) < 0.5).astype(np.float32)
    p = 1 / (1 + np.exp(-logits))
    expected = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    np.testing.assert_allclose(losses.bitwise_cross_entropy(logits, targets).numpy(), expected,
                               rtol=1e-5, atol=1e-6)


def make(strategy=None, **kwargs):
    with (strategy or tf.distribute.get_strategy()).scope():
        keras.utils.set_random_seed(9)
        network = small_network(12, activation="tanh", batch_norm=True,
                                hidden_units=kwargs.pop("hidden_units", 0))
        second = kwargs.pop("second_backbone", None) or backbones.SmallCNN((4,), 1)
        mask = layers.FeatureMask(64, kwargs.pop("residual_attention", True), name="mask")
        model = models.DAgH(network, second, mask, num_train=16, num_classes=3, stage1_epochs=1,
                            **kwargs)
        model.build_from_spec(models.DataSpec(image_size=16, num_train=16, num_classes=3))
        model.build_optimizers(lambda steps: keras.optimizers.SGD(0.5), 1, 2)
    return model


def batch_of(rng, n=8):
    return {"image": rng.uniform(0, 255, size=(n, 16, 16, 3)).astype(np.float32),
            "label": np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)],
            "index": rng.permutation(16)[:n].astype(np.int64)}


@pytest.mark.parametrize("attention_loss", ["difference", "contrastive"])
def test_attention_losses_match_numpy(rng, attention_loss):
    model = make(attention_loss=attention_loss, margin=0.7)
    batch = batch_of(rng)
    out = model.stream1(batch["image"], training=False)
    attended, plain = out["attended"].numpy(), out["plain"].numpy()
    s = (batch["label"] @ batch["label"].T > 0).astype(np.float32)
    if attention_loss == "difference":
        def likelihood(u, v):
            theta = (6.0 / 12) * u @ v.T
            return np.log1p(np.exp(theta)) - s * theta

        expected = np.maximum(0, 0.7 + likelihood(attended, attended) - likelihood(plain, plain))
    else:
        d = ((attended[:, None] - attended[None]) ** 2).sum(-1)
        expected = 0.5 * s * d + 0.5 * (1 - s) * np.maximum(0, 24.0 - d)
    got = float(model._attention_loss(out, batch))
    assert got == pytest.approx(expected.sum() / 64, rel=1e-4, abs=1e-6)


def test_no_attention_control_is_dpsh_on_the_plain_map(tmp_path, rng):
    """`attention="none"`: network 1 codes pool(F) through the head, its stage-1 loss
    is the bank likelihood alone (against NumPy), the mask never moves; the guided
    codes network 2 learns are those codes' signs."""
    model = make(attention="none")
    mask_start = [w.numpy() for w in model.mask.weights]
    assert not model.mask.trainable_weights
    assert all(id(w) not in {id(v) for v in model.networks()["stage1"]} for w in model.mask.weights)
    batch = batch_of(rng)
    out = model.stream1(batch["image"], training=False)
    plain = model.head(model.pool(model.backbone(batch["image"])["feature_map"])).numpy()
    np.testing.assert_allclose(out["attended"].numpy(), plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["attended"].numpy(), out["plain"].numpy(), rtol=1e-5, atol=1e-6)
    # the step's loss is DPSH's bank likelihood of the plain codes, nothing more (the
    # likelihood itself is checked against NumPy in test_training_losses.py)
    reference = make(attention="none")
    reference.set_weights(model.get_weights())
    codes = reference.head(reference.pool(reference.backbone(
        batch["image"], training=True)["feature_map"]), training=True)
    expected, _ = losses.bank_likelihood(reference.bank, codes, batch, scale=0.5,
                                         quant_weight=reference.quant_weight)
    logs = model.train_step(batch, 1)
    assert float(logs["attention_loss"]) == 0.0
    assert float(logs["loss"]) == pytest.approx(float(expected), rel=1e-5)
    learned = make()
    learned.set_weights(model.get_weights())
    assert float(learned.train_step(batch, 1)["attention_loss"]) > 0
    for _ in range(3):
        model.train_step(batch_of(rng), 1)
    for a, w in zip(mask_start, model.mask.weights):
        np.testing.assert_array_equal(a, w.numpy())
    model.save(str(tmp_path / "none.keras"))
    assert keras.saving.load_model(str(tmp_path / "none.keras")).attention_mode == "none"
    with pytest.raises(ValueError, match="attention must be one of"):
        make(attention="uniform")


def test_stage_steps_update_their_network_only(rng):
    model = make()
    networks = model.networks()
    before = {name: [v.numpy() for v in variables] for name, variables in networks.items()}
    model.train_step(batch_of(rng), 1)
    after = {name: [v.numpy() for v in variables] for name, variables in networks.items()}
    assert any(not np.array_equal(a, b) for a, b in zip(before["stage1"], after["stage1"]))
    assert all(np.array_equal(a, b) for a, b in zip(before["stage2"], after["stage2"]))
    model.guided.assign(np.sign(np.random.default_rng(0).normal(size=(16, 12))).astype(np.float32))
    logs = model.train_step(batch_of(rng), 2)
    assert 0 <= float(logs["bit_agreement"]) <= 1
    final = {name: [v.numpy() for v in variables] for name, variables in networks.items()}
    assert all(np.array_equal(a, b) for a, b in zip(after["stage1"], final["stage1"]))
    assert any(not np.array_equal(a, b) for a, b in zip(after["stage2"], final["stage2"]))


def test_two_replicas_equal_one_in_both_stages(rng):
    guided = np.sign(np.random.default_rng(1).normal(size=(16, 12))).astype(np.float32)

    def make_model(strategy):
        model = make(strategy=strategy)
        model.guided.assign(guided)
        return model

    assert_replicas_agree(make_model, batch_of(rng, 16), variants=(1, 2))


def test_stage_boundary_resume_and_guided_codes(tmp_path, monkeypatch):
    straight, source, split, _ = loop.train(config(), str(tmp_path / "straight"))
    steps = len(split.train) // 20
    assert int(straight.optimizers["stage1"].iterations.numpy()) == steps
    assert int(straight.optimizers["stage2"].iterations.numpy()) == 2 * steps
    assert straight.optimizers["stage2"]._learning_rate.decay_steps == 2 * steps
    guided = straight.guided.numpy()
    # the file in the workdir holds the same codes, packed, with a checksum
    path = tmp_path / "straight" / dagh_lib.GUIDED_CODES_FILE
    np.testing.assert_array_equal(dagh_lib.read_guided_codes(str(path)),
                                  retrieval.pack_codes(guided).numpy())
    # deterministic: the same B again from the stage-1 checkpoint (ckpt-1)
    model, source, split, _ = restored(config(), str(tmp_path / "straight"))
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(
        model_weights=[w.value for w in model.weights]), str(tmp_path / "straight" / "checkpoints"), 3)
    manager.checkpoint.restore(str(tmp_path / "straight" / "checkpoints" / "ckpt-1")).expect_partial()
    from tfhash import data

    train_pass = lambda size: data.eval_dataset(source, split.train, 16, size)  # noqa: E731
    np.testing.assert_array_equal(model.guided_codes_of(train_pass), guided)
    # killed right after the boundary (B computed, not yet checkpointed) and inside stage 2
    for name, (epoch, step) in (("boundary", (1, 1)), ("stage2", (2, 2))):
        train_until_killed(config(), tmp_path / name, monkeypatch, epoch, step)
        resumed = resume(config(), tmp_path / name, monkeypatch)
        for a, b in zip(straight.weights, resumed.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    damaged = dict(np.load(path))
    damaged["codes"] = damaged["codes"] ^ 1
    np.savez(tmp_path / "damaged.npz", **damaged)
    with pytest.raises(ValueError, match="does not match its checksum"):
        dagh_lib.read_guided_codes(str(tmp_path / "damaged.npz"))


def test_report_scores_both_streams_and_export_picks_one(tmp_path):
    workdir = str(tmp_path / "run")
    settings = {"train.epochs": 2, "data.query_per_class": 5, "data.train_per_class": 20}
    report = loop.train_and_evaluate(config(**settings), workdir, source=separable_source())
    assert list(report["tasks"]) == ["image->image", "image_stream1->image_stream1"]
    for block in report["tasks"].values():
        assert "code_health" in block
        # both streams learned (network 2 about 0.52, network 1 0.74; chance 0.29)
        assert block["map_all"] > block["chance_map_all"] + 0.1, block
    model, source, split, _ = restored(config(**settings), workdir,
                                                    source=separable_source())
    images = source.array[split.query[:4]]
    stream2 = model.encoders()["image"].encode(images).numpy()
    stream1 = model.encoders()["image_stream1"].encode(images).numpy()
    assert not np.array_equal(stream1, stream2)
    for name, expected in (("image", stream2), ("image_stream1", stream1)):
        path = export.export(model, str(tmp_path / name), image_encoder=name)
        served = tf.saved_model.load(path).signatures["encode_images"](images=tf.constant(images))
        np.testing.assert_array_equal(served["codes"].numpy(), retrieval.pack_codes(expected).numpy())
    with pytest.raises(ValueError, match="image_encoder must be one of"):
        export.export(model, str(tmp_path / "bad"), image_encoder="image_stream3")
    assert os.path.exists(os.path.join(workdir, "attention.png"))


def test_keras_round_trip_and_bad_settings(tmp_path, rng):
    model = make(attention_loss="contrastive", residual_attention=False)
    images = rng.uniform(0, 255, size=(2, 16, 16, 3)).astype(np.float32)
    path = str(tmp_path / "dagh.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is models.DAgH and loaded.attention_loss == "contrastive"
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(loaded.stream1(images)["attended"].numpy(),
                               model.stream1(images)["attended"].numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="must leave epochs for stage 2"):
        loop.train(config(**{"dagh.stage1_epochs": 3}), str(tmp_path / "w"))
    with pytest.raises(ValueError, match="attention_loss"):
        make(attention_loss="kl")


def test_second_init_stream1_makes_network2_network1_without_its_mask(rng):
    model = make(second_init="stream1", second_backbone=backbones.SmallCNN((4, 8), 1))
    for _ in range(3):  # batch-norm moving statistics away from their initial values
        model.train_step(batch_of(rng), 1)
    norm = model.head.norm
    assert not np.allclose(norm.moving_mean.numpy(), 0)
    model.copy_stream1_into_stream2()
    images = batch_of(rng)["image"]
    # reference: network 1's code layer and batch norm by hand, on the unattended map
    features = model.backbone(images)["features"].numpy()
    pre = features @ model.head.code.kernel.numpy()
    pre = ((pre - norm.moving_mean.numpy()) / np.sqrt(norm.moving_variance.numpy() + norm.epsilon)
           * norm.gamma.numpy() + norm.beta.numpy())
    logits = model.stream2(images).numpy()
    np.testing.assert_allclose(logits, pre, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.tanh(logits), model.stream1(images)["plain"].numpy(),
                               rtol=1e-4, atol=1e-4)
    for a, b in zip(model.backbone.weights, model.second_backbone.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_second_init_refuses_networks_of_different_shapes(tmp_path):
    with pytest.raises(ValueError, match="second_widths"):  # refused when built, before training
        make(second_init="stream1")  # network 2: a narrower backbone
    with pytest.raises(ValueError, match="second_widths"):
        loop.train(config(**{"dagh.second_init": "stream1", "dagh.second_widths": (4,)}),
                   str(tmp_path / "w"))
    assert not os.path.exists(tmp_path / "w" / "checkpoints")
    with pytest.raises(ValueError, match="second_init"):
        make(second_init="network1")
    with pytest.raises(ValueError, match="hidden layer"):
        make(second_init="stream1", hidden_units=8)


def test_second_init_stream1_happens_at_the_stage_boundary(rng):
    model = make(second_init="stream1", second_backbone=backbones.SmallCNN((4, 8), 1))
    images = rng.uniform(0, 255, size=(16, 16, 16, 3)).astype(np.float32)

    def train_pass(batch_size):
        yield {"image": tf.constant(images), "index": tf.range(16, dtype=tf.int64)}

    context = types.SimpleNamespace(train_pass=train_pass, artifacts=None)
    model.on_epoch_begin(0, context)  # stage 1: network 2 untouched
    assert not np.array_equal(model.backbone.weights[0].numpy(), model.second_backbone.weights[0].numpy())
    model.on_epoch_begin(1, context)  # the boundary: guided codes, then the copy
    for a, b in zip(model.backbone.weights, model.second_backbone.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(np.sign(model.stream2(images).numpy()),
                                  np.sign(model.stream1(images)["plain"].numpy()))


def test_batch_norm_reestimated_at_the_end_of_each_stage(rng):
    model = make()  # stage 1 is epoch 0
    images = rng.uniform(0, 255, size=(16, 16, 16, 3)).astype(np.float32)

    def train_pass(batch_size):
        yield {"image": tf.constant(images), "index": tf.range(16, dtype=tf.int64)}

    context = types.SimpleNamespace(train_pass=train_pass, artifacts=None)

    def stats(layer):
        return [v.numpy().copy() for n in batch_norm.norm_layers(layer) for v in
                (n.moving_mean, n.moving_variance)]

    first, second = stats(model.backbone), stats(model.second_backbone)
    model.on_epoch_end(0, context)  # the end of stage 1: network 1
    assert all(not np.allclose(a, b) for a, b in zip(first, stats(model.backbone)))
    assert all(np.array_equal(a, b) for a, b in zip(second, stats(model.second_backbone)))
    # network 1's first batch norm now holds the statistics of its conv over the pass
    conv = model.backbone.stage_layers(0)[0]
    pre = conv(images / 127.5 - 1.0).numpy()
    norm = batch_norm.norm_layers(model.backbone)[0]
    np.testing.assert_allclose(norm.moving_mean.numpy(), pre.mean(axis=(0, 1, 2)), rtol=1e-4,
                               atol=1e-5)
    first = stats(model.backbone)
    model.on_epoch_end(1, context)  # a stage-2 epoch: network 2 only
    assert all(np.array_equal(a, b) for a, b in zip(first, stats(model.backbone)))
    assert all(not np.allclose(a, b) for a, b in zip(second, stats(model.second_backbone)))
    off = make(reestimate_bn=False)
    before = stats(off.second_backbone)
    off.on_epoch_end(1, context)
    assert all(np.array_equal(a, b) for a, b in zip(before, stats(off.second_backbone)))


def test_plain_codes_in_the_attended_codes_batch_norm_mode(tmp_path, rng):
    """`plain_bn="same"`: in training the plain codes of the difference loss use batch
    statistics like the attended ones (by default: the moving statistics); in
    inference both use the moving statistics either way."""
    same, default = make(plain_bn="same"), make()
    default.set_weights(same.get_weights())
    images = batch_of(rng)["image"]
    pooled = same.pool(same.backbone(images, training=True)["feature_map"])
    moving = same.head(pooled, training=False).numpy()
    batch_mode = same.head(pooled, training=True).numpy()  # (moves the statistics)
    assert np.abs(batch_mode - moving).max() > 1e-2
    for model in (same, default):  # the heads' statistics are moved by these calls
        model.set_weights(default.get_weights())
    got_same = same.stream1(images, training=True)["plain"].numpy()
    got_default = default.stream1(images, training=True)["plain"].numpy()
    np.testing.assert_allclose(got_same, batch_mode, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_default, moving, rtol=1e-4, atol=1e-5)
    same.set_weights(default.get_weights())  # "same" moved its head's statistics twice
    np.testing.assert_allclose(same.stream1(images)["plain"].numpy(),
                               default.stream1(images)["plain"].numpy(), rtol=1e-5, atol=1e-6)
    same.save(str(tmp_path / "same.keras"))
    assert keras.saving.load_model(str(tmp_path / "same.keras")).plain_bn == "same"
    with pytest.raises(ValueError, match="plain_bn must be one of"):
        make(plain_bn="batch")


def test_balanced_stage2_weights_against_numpy(tmp_path, rng):
    """`stage2_weights="balanced"`: stage 2's cross-entropy weighs a one of bit b by
    0.5 / p_b and a zero by 0.5 / (1 - p_b), p_b the share of ones of bit b in the
    guided codes (NumPy); 2 replicas = 1."""
    guided = np.where(rng.random((16, 12)) < np.linspace(0.1, 0.9, 12), 1.0, -1.0)
    guided[:, 0] = -1.0  # a bit that is never set: its share is clipped to 1 / 16
    guided = guided.astype(np.float32)
    model = make(stage2_weights="balanced")
    model.guided.assign(guided)
    p = np.clip(((guided + 1) / 2).mean(axis=0), 1 / 16, 1 - 1 / 16)
    batch = batch_of(rng)
    targets = (guided[batch["index"]] + 1) / 2
    weights = targets * 0.5 / p + (1 - targets) * 0.5 / (1 - p)
    np.testing.assert_allclose(model.balanced_bit_weights(targets).numpy(), weights, rtol=1e-6)
    np.testing.assert_allclose((((guided + 1) / 2) * 0.5 / p).sum(0)[1:],
                               (((1 - guided) / 2) * 0.5 / (1 - p)).sum(0)[1:], rtol=1e-5)
    logits = model.stream2(batch["image"], training=True).numpy()
    prob = 1 / (1 + np.exp(-logits))
    bce = -(targets * np.log(prob) + (1 - targets) * np.log(1 - prob))
    reference = make(stage2_weights="balanced")
    reference.set_weights(model.get_weights())
    logs = model.train_step(batch, 2)
    assert float(logs["loss"]) == pytest.approx((bce * weights).sum() / (8 * 12), rel=1e-4)
    plain = make()
    plain.set_weights(reference.get_weights())
    assert float(plain.train_step(batch, 2)["loss"]) == pytest.approx(bce.sum() / (8 * 12), rel=1e-4)
    model.save(str(tmp_path / "balanced.keras"))
    assert keras.saving.load_model(str(tmp_path / "balanced.keras")).stage2_weights == "balanced"
    with pytest.raises(ValueError, match="stage2_weights must be one of"):
        make(stage2_weights="weighted")

    def make_model(strategy):
        model = make(strategy=strategy, stage2_weights="balanced", plain_bn="same")
        model.guided.assign(guided)
        return model

    assert_replicas_agree(make_model, batch_of(rng, 16), variants=(1, 2))
