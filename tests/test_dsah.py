"""DSaH: losses against NumPy, serialisation, alternating updates, replication."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import (REPO, assert_replicas_agree, restored,
                            resume, separable_source, small_network, tiny_config)
from tfhash import backbones, layers, losses, models
from tfhash.training import loop


def np_likelihood(u, v, s):
    theta = 0.5 * u @ v.T
    return np.log1p(np.exp(theta)) - s * theta


def test_saliency_margin_matches_numpy(rng):
    su, sv, ou, ov = (rng.normal(size=shape).astype(np.float32) for shape in [(4, 6), (5, 6), (4, 6), (5, 6)])
    s = (rng.random((4, 5)) < 0.5).astype(np.float32)
    expected = np.maximum(0, 0.7 + np_likelihood(su, sv, s) - np_likelihood(ou, ov, s))
    np.testing.assert_allclose(losses.saliency_margin(su, sv, ou, ov, s, 0.7).numpy(), expected,
                               rtol=1e-5, atol=1e-5)
    mask = rng.random((3, 4, 4, 1)).astype(np.float32)
    np.testing.assert_allclose(losses.mask_area(mask).numpy(), mask.mean(axis=(1, 2, 3)), rtol=1e-6)


def make(strategy=None, shared=False, saliency_loss="margin", every=1, **kwargs):
    with (strategy or tf.distribute.get_strategy()).scope():
        keras.utils.set_random_seed(3)
        network = small_network(12, activation="tanh")
        mask = {k: kwargs.pop(k) for k in ("initial_bias", "normalize") if k in kwargs}
        attention = layers.SaliencyMask(
            network.backbone if shared else backbones.SmallCNN((4,), 1), **mask)
        model = models.DSaH(network, attention, num_train=16, num_classes=3,
                            saliency_loss=saliency_loss, attention_every=every, **kwargs)
        model.build_from_spec(models.DataSpec(image_size=16, num_train=16, num_classes=3))
        model.build_optimizers(lambda steps: keras.optimizers.SGD(0.5), 1, 1)
    return model


def batch_of(rng, n=8):
    return {"image": rng.uniform(0, 255, size=(n, 16, 16, 3)).astype(np.float32),
            "label": np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)],
            "index": rng.permutation(16)[:n].astype(np.int64)}


def test_round_trip_and_outputs(tmp_path, rng):
    model = make()
    images = rng.uniform(0, 255, size=(2, 16, 16, 3)).astype(np.float32)
    mask = model.saliency(images).numpy()
    assert mask.shape == (2, 16, 16, 1)
    np.testing.assert_allclose(mask, 1.0, rtol=1e-6)  # zero kernel: uniform, max-normalised
    expected = model(images).numpy()
    np.testing.assert_allclose(expected, model.hash(images * mask).numpy(), rtol=1e-5, atol=1e-5)
    path = str(tmp_path / "dsah.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is models.DSaH
    for key in ("saliency_loss", "margin", "area_weight", "area_target", "attention_every",
                "num_train"):
        assert loaded.get_config()[key] == model.get_config()[key]
    assert loaded.attention.normalize == model.attention.normalize == "max"
    # a shared backbone stays shared, stored once
    shared = make(shared=True)
    shared.save(str(tmp_path / "shared.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "shared.keras"))
    assert reloaded.attention.backbone is reloaded.network.backbone
    np.testing.assert_allclose(reloaded(images).numpy(), shared(images).numpy(), rtol=1e-5, atol=1e-5)
    assert loaded.attention.backbone.widths == (4,) and loaded.bits == 12
    np.testing.assert_allclose(loaded(images).numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("saliency_loss", ["margin", "semantic"])
@pytest.mark.parametrize("shared", [False, True])
def test_each_step_updates_only_its_network(rng, saliency_loss, shared):
    model = make(shared=shared, saliency_loss=saliency_loss)
    hash_before = [v.numpy() for v in model.networks()["hash"]]
    attention_before = [v.numpy() for v in model.networks()["attention"]]
    if shared:
        assert len(attention_before) == 2  # only the scoring conv's kernel and bias
    logs = model.train_step(batch_of(rng))
    assert np.isfinite(float(logs["loss"])) and np.isfinite(float(logs["saliency_loss"]))
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(hash_before, model.networks()["hash"]))
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(attention_before, model.networks()["attention"]))
    assert np.abs(model.bank.codes.numpy()).sum() > 0


def test_attention_every_skips_steps(rng):
    model = make(every=2)
    assert [model.step_variant(step) for step in range(4)] == [False, True, False, True]
    before = [v.numpy() for v in model.networks()["attention"]]
    model.train_step(batch_of(rng), model.step_variant(0))  # not due
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.networks()["attention"]))
    model.train_step(batch_of(rng), model.step_variant(1))  # due
    assert any(not np.array_equal(a, v.numpy()) for a, v in zip(before, model.networks()["attention"]))
    assert int(model.optimizers["attention"].iterations) == 1


def test_attention_every_in_the_loop_on_two_replicas(tmp_path):
    """An optimizer update inside tf.cond fails under MirroredStrategy (the first
    version of attention_every did that); the loop compiles one step per variant."""
    config = tiny_config(method="dsah", num_cpu_replicas=2,
                         **{"train.epochs": 1, "dsah.attention_every": 2})
    model, _, split, stats = loop.train(config, str(tmp_path))
    steps = len(split.train) // config.train.batch_size
    assert int(model.optimizers["hash"].iterations.numpy()) == steps
    assert int(model.optimizers["attention"].iterations.numpy()) == steps // 2


def test_two_replicas_equal_one(rng):
    assert_replicas_agree(make, batch_of(rng, 16))


def test_training_loop_runs_and_resumes_dsah(tmp_path, monkeypatch):
    settings = {"data.query_per_class": 5, "data.train_per_class": 20}
    config = tiny_config(method="dsah", **{"train.epochs": 1, **settings})
    report = loop.train_and_evaluate(config, str(tmp_path), source=separable_source())
    # it learned (about 0.7 after one epoch; chance 0.29)
    assert report["method"] == "dsah" and report["map_all"] > report["chance_map_all"] + 0.15
    resumed = resume(tiny_config(method="dsah", **{"train.epochs": 2, **settings}), tmp_path,
                     monkeypatch, source=separable_source())
    assert sorted(resumed.optimizers) == ["attention", "hash"]
    assert len(resumed.optimizer_variables()) == sum(
        len(o.variables) for o in resumed.optimizers.values())


def test_mask_normalisation(rng):
    plain = make(normalize="none", initial_bias=3.0)
    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(plain.saliency(images).numpy(), 1 / (1 + np.exp(-3.0)), rtol=1e-6)
    # a non-uniform map: every image's maximum becomes 1, ratios are kept
    plain.attention.score.kernel.assign(rng.normal(size=plain.attention.score.kernel.shape))
    raw = plain.saliency(images).numpy()
    normalised = make(normalize="max", initial_bias=3.0)
    normalised.set_weights(plain.get_weights())
    expected = raw / raw.max(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(normalised.saliency(images).numpy(), expected, rtol=1e-5)
    assert raw.std() > 0.01
    with pytest.raises(ValueError, match="normalize"):
        make(normalize="softmax")
    with pytest.raises(ValueError, match="area_target"):
        make(area_target=1.5)
    with pytest.raises(ValueError, match="area_weight"):
        make(area_weight=-1.0)


def test_semantic_attention_loss_is_bank_loss_plus_area(rng):
    model = make(saliency_loss="semantic", area_weight=0.7, area_target=0.0)
    model.attention.score.kernel.assign(rng.normal(size=model.attention.score.kernel.shape))
    batch = batch_of(rng)
    loss, mask = model._attention_loss(batch["image"], batch)
    semantic, _ = losses.bank_likelihood(model.bank, model.hash(batch["image"] * mask), batch,
                                         scale=0.5, quant_weight=model.quant_weight,
                                         update_bank=False)
    areas = mask.numpy().mean(axis=(1, 2, 3))
    np.testing.assert_allclose(float(loss), float(semantic) + 0.7 * areas.mean(), rtol=1e-5)
    # with a floor between the images' areas, only the images above it count
    model.area_target = target = float(np.median(areas))
    floored, _ = model._attention_loss(batch["image"], batch)
    expected = float(semantic) + 0.7 * np.maximum(areas - target, 0).sum() / len(areas)
    np.testing.assert_allclose(float(floored), expected, rtol=1e-5)
    assert float(floored) < float(loss)


def test_attention_attends(tmp_path):
    """configs/dsah_patches.py: the class is a small coloured square on noise. Measured
    with benchmarks/dsah_patch_probe.py (seeds 0, 1, 2): saliency inside the square
    0.851 / 0.769 / 0.831 against 0.389 / 0.379 / 0.348 outside, mAP@all 0.926 / 1.0 /
    1.0 (chance about 0.25). The first version (unnormalised maps, margin loss, no
    area term) kept more outside the square than inside."""
    from tfhash.data import synthetic
    from tfhash.training import config_files

    config = config_files.load_config_file(f"{REPO}/configs/dsah_patches.py")
    report = loop.train_and_evaluate(config, str(tmp_path))
    model, source, split, _ = restored(config, str(tmp_path))
    _, corners = synthetic.colour_patches()
    maps = model.saliency(tf.cast(source.array[split.query], tf.float32)).numpy()[..., 0]
    inside, outside = synthetic.patch_saliency(maps, corners[split.query], 6)
    assert inside.mean() > outside.mean() + 0.3, (inside.mean(), outside.mean())
    assert inside.mean() > 1.8 * outside.mean(), (inside.mean(), outside.mean())
    assert report["map_all"] > 0.85, report["map_all"]


def make_cut(mask_level="trunk_map", attention_cut="stage2", **kwargs):
    """DSaH whose two small CNNs are frozen up to stage2 (an 8 x 8 x 4 trunk map at 16 px)."""
    keras.utils.set_random_seed(5)
    head = layers.HashHead(12, "tanh")
    network = layers.HashingNetwork(backbones.SmallCNN((4, 8), 1, train_from="stage2"), head)
    attention = layers.SaliencyMask(backbones.SmallCNN((4, 8), 1, train_from=attention_cut))
    model = models.DSaH(network, attention, num_train=16, num_classes=3, mask_level=mask_level,
                        saliency_loss="semantic", **kwargs)
    model.build_from_spec(models.DataSpec(image_size=16, num_train=16, num_classes=3))
    model.build_optimizers(lambda steps: keras.optimizers.SGD(0.5), 1, 1)
    for backbone in (network.backbone, attention.backbone):
        backbone.freeze_trunk()
    return model


def np_bilinear(x, size):
    """Bilinear resize of `(batch, h, w, c)` to `size` x `size` with half-pixel centres
    (what keras.ops.image.resize does without antialiasing)."""
    def weights(n):
        src = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, n - 1)
        matrix = np.zeros((size, n))
        matrix[np.arange(size), low] += 1 - (src - low)
        matrix[np.arange(size), high] += src - low
        return matrix

    rows, cols = weights(x.shape[1]), weights(x.shape[2])
    return np.einsum("ih,bhwc,jw->bijc", rows, x, cols)


def test_trunk_map_level_masks_the_trunks_map_as_numpy_does(tmp_path, rng):
    model = make_cut()
    score = model.attention.score
    score.kernel.assign(rng.normal(size=score.kernel.shape))
    score.bias.assign([0.3])
    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    trunk_map = model.network.backbone.trunk(images).numpy()  # (3, 8, 8, 4)
    assert trunk_map.shape == (3, 8, 8, 4)
    # NumPy: the attention's tail on the map, its 1x1 score, sigmoid, / each map's maximum
    features = model.attention.backbone.tail(trunk_map)["feature_map"].numpy()  # (3, 4, 4, 8)
    logits = features @ score.kernel.numpy()[0, 0] + score.bias.numpy()  # (3, 4, 4, 1)
    mask = 1 / (1 + np.exp(-np_bilinear(logits, 8)))  # up to the map's (3, 8, 8, 1)
    mask = mask / mask.max(axis=(1, 2, 3), keepdims=True)
    assert mask.std() > 0.01
    np.testing.assert_allclose(model.saliency(trunk_map).numpy(), mask, rtol=1e-5, atol=1e-6)
    expected = model.network(trunk_map * mask).numpy()  # H's tail on the masked map
    np.testing.assert_allclose(model(images).numpy(), expected, rtol=1e-4, atol=1e-5)
    # a cached map and the pixels give the same codes; pixel-level masks differ
    np.testing.assert_allclose(model(trunk_map).numpy(), expected, rtol=1e-4, atol=1e-5)
    on_pixels = make_cut(mask_level="pixels")
    on_pixels.set_weights(model.get_weights())
    assert not np.allclose(on_pixels(images).numpy(), expected, atol=1e-3)
    assert model.PIXEL_INPUTS is False and on_pixels.PIXEL_INPUTS is True
    # the figure: the map-sized masks drawn over the images
    drawn = model.figure_maps(images.astype(np.uint8))["saliency"].maps
    assert drawn.shape == (3, 16, 16)
    # saved and loaded with its level
    model.save(str(tmp_path / "dsah.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "dsah.keras"))
    assert loaded.mask_level == "trunk_map"
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-5, atol=1e-5)
    # a training step on cached maps updates both networks, not the trunks
    frozen = [w.numpy() for w in model.network.backbone.stage_layers(0)[0].weights]
    batch = batch_of(rng)
    before = [v.numpy() for v in model.networks()["attention"]]
    logs = model.train_step(dict(batch, image=model.network.backbone.trunk(batch["image"])))
    assert np.isfinite(float(logs["saliency_loss"]))
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(before, model.networks()["attention"]))
    for a, w in zip(frozen, model.network.backbone.stage_layers(0)[0].weights):
        np.testing.assert_array_equal(a, w.numpy())


def test_trunk_map_level_needs_a_trunk_cut_in_the_same_place():
    with pytest.raises(ValueError, match="mask_level must be one of"):
        make_cut(mask_level="features")
    with pytest.raises(ValueError, match="the attention's backbone must be cut where"):
        make_cut(attention_cut=None)
    with pytest.raises(ValueError, match="needs one"):
        make(mask_level="trunk_map")  # small CNNs without a frozen trunk
    config = tiny_config(method="dsah", **{"dsah.mask_level": "trunk_map"})
    with pytest.raises(ValueError, match="set model.train_from"):
        loop.train(config, "/nonexistent/never/written")


def test_trunk_map_level_trains_from_the_cache(tmp_path, monkeypatch):
    """With the mask on the trunk's map DSaH reads the trunk-map cache like any method,
    and its cached-path codes are the pixel path's."""
    from tfhash.data import trunk_cache
    from tfhash.training import evaluation, trunks

    monkeypatch.setenv("TFHASH_CACHE", str(tmp_path / "cache"))
    config = tiny_config(method="dsah", **{"model.train_from": "stage2", "train.epochs": 2,
                                           "dsah.mask_level": "trunk_map"})
    report = loop.train_and_evaluate(config, str(tmp_path / "run"))
    assert len(os.listdir(tmp_path / "cache" / "trunks")) == 1
    model, source, split, stats = restored(config, tmp_path / "run")
    assert isinstance(trunks.map_source(model, config, source, split, build=False),
                      trunk_cache.MapSource)
    pixels = evaluation.evaluate(model, config, source, split, stats)
    cached = np.load(tmp_path / "run" / "codes.npz")
    bits = np.unpackbits(pixels.db_codes["image"]) == np.unpackbits(cached["db_codes"])
    assert bits.mean() > 0.999  # float16 maps: a bit near zero may flip
    assert pixels.report.map_all == pytest.approx(report["map_all"], abs=2e-3)


def test_no_mask_control_codes_the_inputs_with_the_same_h_step(tmp_path, rng):
    """`mask="none"`: H codes x itself (not x * S(x)); the H step is DSaH's with S = 1;
    A is never stepped."""
    control = make(mask="none", saliency_loss="semantic")
    attention = control.attention.score
    attention.kernel.assign(rng.normal(size=attention.kernel.shape))  # A would mask
    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(control(images).numpy(), control.hash(images).numpy(),
                               rtol=1e-6, atol=1e-6)
    assert [control.step_variant(step) for step in range(3)] == [False, False, False]
    reference = make(saliency_loss="semantic")  # the same weights, a uniform A (S = 1)
    reference.set_weights(control.get_weights())
    reference.attention.score.kernel.assign(np.zeros(attention.kernel.shape, np.float32))
    before = [v.numpy() for v in control.networks()["attention"]]
    batch = batch_of(rng)
    logs = control.train_step(batch, control.step_variant(0))
    expected = reference.train_step(batch, False)
    assert float(logs["loss"]) == pytest.approx(float(expected["loss"]), rel=1e-6)
    for a, b in zip(control.networks()["hash"], reference.networks()["hash"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for a, v in zip(before, control.networks()["attention"]):
        np.testing.assert_array_equal(a, v.numpy())
    with pytest.raises(ValueError, match="mask must be one of"):
        make(mask="median")
    control.save(str(tmp_path / "none.keras"))
    assert keras.saving.load_model(str(tmp_path / "none.keras")).mask_mode == "none"


def test_mean_map_control_codes_every_input_with_the_mean_of_as_maps(tmp_path, rng):
    """`mask="mean"`: H codes x * M for every x, M the mean of A's maps over the
    training items (NumPy over a pass of the items), computed before the first epoch
    and after each; the H step is DSaH's with M in place of S(x); A still steps; M is
    checkpointed and kept in the `.keras` file."""
    control = make(mask="mean", saliency_loss="semantic")
    score = control.attention.score
    score.kernel.assign(rng.normal(size=score.kernel.shape).astype(np.float32))  # A varies
    items = rng.uniform(0, 255, size=(10, 16, 16, 3)).astype(np.float32)

    def train_pass(batch_size):
        assert batch_size == models.dsah.MEAN_MAP_BATCH
        return tf.data.Dataset.from_tensor_slices({"image": items.astype(np.uint8)}).batch(4)

    context = models.EpochContext(0, 2, 1, 2, train_pass)
    np.testing.assert_array_equal(control.mean_map.numpy(), 1.0)  # before the first epoch
    control.on_epoch_begin(0, context)
    per_item = control.saliency(items.astype(np.uint8).astype(np.float32)).numpy()
    expected = per_item.mean(axis=0)
    assert np.ptp(per_item, axis=0).max() > 0.05  # the items' maps differ
    np.testing.assert_allclose(control.mean_map.numpy(), expected, rtol=1e-5, atol=1e-6)
    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(control(images).numpy(), control.hash(images * expected).numpy(),
                               rtol=1e-5, atol=1e-5)
    control.on_epoch_begin(1, context)  # computed once: a resumed run keeps its map
    np.testing.assert_allclose(control.mean_map.numpy(), expected, rtol=1e-5, atol=1e-6)
    # the H step is DSaH's with the mean map in place of each image's map
    reference = make(mask="mean", saliency_loss="semantic")
    reference.set_weights(control.get_weights())
    batch = batch_of(rng)
    h_before = [v.numpy() for v in control.networks()["hash"]]
    with tf.GradientTape() as tape:
        codes = reference.hash(batch["image"] * expected, training=True)
        loss, _ = reference._semantic(codes, batch, update_bank=True)
    reference.optimize("hash", tape, loss)
    a_before = [v.numpy() for v in control.networks()["attention"]]
    logs = control.train_step(batch, control.step_variant(0))
    assert control.step_variant(0) is True and float(logs["loss"]) == pytest.approx(float(loss), rel=1e-6)
    for a, b in zip(control.networks()["hash"], reference.networks()["hash"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert any(not np.array_equal(before, v.numpy())  # H stepped
               for before, v in zip(h_before, control.networks()["hash"]))
    assert any(not np.array_equal(a, v.numpy())  # A stepped
               for a, v in zip(a_before, control.networks()["attention"]))
    control.on_epoch_end(0, context)  # A moved: so does the map
    moved = control.saliency(items.astype(np.uint8).astype(np.float32)).numpy().mean(axis=0)
    assert np.abs(moved - expected).max() > 1e-6
    np.testing.assert_allclose(control.mean_map.numpy(), moved, rtol=1e-5, atol=1e-6)
    control.save(str(tmp_path / "mean.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "mean.keras"))
    assert loaded.mask_mode == "mean"
    np.testing.assert_array_equal(loaded.mean_map.numpy(), control.mean_map.numpy())
    np.testing.assert_allclose(loaded(images).numpy(), control(images).numpy(), rtol=1e-5, atol=1e-5)
    figure = control.figure_maps(images)["saliency"]
    np.testing.assert_allclose(figure.maps, np.broadcast_to(moved[..., 0], (3, 16, 16)), atol=1e-6)


def test_mean_map_control_in_the_loop_resumes_and_replicates(tmp_path, monkeypatch, rng):
    settings = {"data.query_per_class": 5, "data.train_per_class": 20, "dsah.mask": "mean"}
    config = tiny_config(method="dsah", **{"train.epochs": 1, **settings})
    report = loop.train_and_evaluate(config, str(tmp_path), source=separable_source())
    assert report["map_all"] > report["chance_map_all"]
    resumed = resume(tiny_config(method="dsah", **{"train.epochs": 2, **settings}), tmp_path,
                     monkeypatch, source=separable_source())
    assert int(resumed.mean_map_ready.numpy()) == 1 and resumed.mean_map.numpy().min() < 1.0
    mean_map = rng.uniform(0.2, 1.0, size=(16, 16, 1)).astype(np.float32)

    def with_a_map(strategy=None):
        model = make(strategy, mask="mean")
        model.mean_map.assign(mean_map)
        return model

    assert_replicas_agree(with_a_map, batch_of(rng, 16))


def test_mean_map_control_on_the_trunks_map(tmp_path, rng):
    """With `mask_level="trunk_map"` the mean map has the trunk map's size, and the
    codes are H's tail on each trunk map times it (pixels and cached maps alike)."""
    model = make_cut(mask="mean")
    score = model.attention.score
    score.kernel.assign(rng.normal(size=score.kernel.shape).astype(np.float32))
    images = rng.uniform(0, 255, size=(6, 16, 16, 3)).astype(np.float32)
    trunk_map = model.network.backbone.trunk(images).numpy()
    assert model.mean_map.shape == (8, 8, 1) == trunk_map.shape[1:3] + (1,)

    def train_pass(batch_size):
        return tf.data.Dataset.from_tensor_slices({"image": trunk_map}).batch(4)

    model.on_epoch_begin(0, models.EpochContext(0, 1, 1, 1, train_pass))
    expected_map = model.saliency(trunk_map).numpy().mean(axis=0)
    np.testing.assert_allclose(model.mean_map.numpy(), expected_map, rtol=1e-5, atol=1e-6)
    expected = model.network(trunk_map * expected_map).numpy()
    np.testing.assert_allclose(model(images).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model(trunk_map).numpy(), expected, rtol=1e-4, atol=1e-5)
    model.save(str(tmp_path / "mean.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "mean.keras"))
    np.testing.assert_allclose(loaded(images).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_mask_floor_dims_instead_of_blacking_out(tmp_path, rng):
    """`mask_floor=f`: H codes x * (f + (1 - f) S(x)) (NumPy), in the model's codes, the
    H step and the A step alike; kept in the `.keras` file; f outside [0, 1) refused."""
    model = make(mask_floor=0.3, saliency_loss="semantic")
    score = model.attention.score
    score.kernel.assign(rng.normal(size=score.kernel.shape).astype(np.float32))
    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    s = model.saliency(images).numpy()
    assert s.min() < 0.5
    dimmed = images * (0.3 + 0.7 * s)
    np.testing.assert_allclose(model(images).numpy(), model.hash(dimmed).numpy(), rtol=1e-5, atol=1e-5)
    # the H step: DPSH's loss on the dimmed input (a reference by hand, same weights)
    reference = make(mask_floor=0.3, saliency_loss="semantic")
    reference.set_weights(model.get_weights())
    batch = batch_of(rng)
    mask = reference.saliency(batch["image"]).numpy()
    with tf.GradientTape() as tape:
        codes = reference.hash(batch["image"] * (0.3 + 0.7 * mask), training=True)
        loss, _ = reference._semantic(codes, batch, update_bank=True)
    reference.optimize("hash", tape, loss)
    logs = model.train_step(batch, False)
    assert float(logs["loss"]) == pytest.approx(float(loss), rel=1e-6)
    for a, b in zip(model.networks()["hash"], reference.networks()["hash"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # the A step reads the dimmed input too
    saliency_loss, a_mask = model._attention_loss(batch["image"], batch)
    a_mask = a_mask.numpy()  # A in training mode (batch statistics)
    salient = model.hash(batch["image"] * (0.3 + 0.7 * a_mask))
    expected, _ = model._semantic(salient, batch, update_bank=False)
    area = np.maximum(a_mask.mean(axis=(1, 2, 3)) - 0.5, 0).sum() / 8
    assert float(saliency_loss) == pytest.approx(float(expected + area), rel=1e-5)
    model.save(str(tmp_path / "floor.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "floor.keras"))
    assert loaded.mask_floor == 0.3
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-5, atol=1e-5)
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="mask_floor"):
            make(mask_floor=bad)


def test_hash_step_on_both_inputs(tmp_path, rng):
    """`hash_inputs="both"`: the H step's loss is the mean of DPSH's loss on x * S(x)
    (writing the bank) and on x (not writing it), through one H; 2 replicas = 1."""
    model = make(hash_inputs="both", saliency_loss="semantic")
    score = model.attention.score
    score.kernel.assign(rng.normal(size=score.kernel.shape).astype(np.float32))
    reference = make(hash_inputs="both", saliency_loss="semantic")
    reference.set_weights(model.get_weights())
    batch = batch_of(rng)
    mask = reference.saliency(batch["image"]).numpy()
    with tf.GradientTape() as tape:
        salient, _ = reference._semantic(reference.hash(batch["image"] * mask, training=True),
                                         batch, update_bank=True)
        plain, _ = reference._semantic(reference.hash(batch["image"], training=True), batch,
                                       update_bank=False)
        loss = 0.5 * (salient + plain)
    reference.optimize("hash", tape, loss)
    logs = model.train_step(batch, False)
    assert float(logs["loss"]) == pytest.approx(float(loss), rel=1e-6)
    assert float(logs["plain_loss"]) == pytest.approx(float(plain), rel=1e-6)
    assert float(salient) != pytest.approx(float(plain), rel=1e-3)
    for a, b in zip(model.networks()["hash"], reference.networks()["hash"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.bank.codes.numpy(), reference.bank.codes.numpy())
    model.save(str(tmp_path / "both.keras"))
    assert keras.saving.load_model(str(tmp_path / "both.keras")).hash_inputs == "both"
    with pytest.raises(ValueError, match="hash_inputs must be one of"):
        make(hash_inputs="plain")
    assert_replicas_agree(lambda strategy=None: make(strategy, hash_inputs="both", mask_floor=0.2),
                          batch_of(rng, 16), variants=(False, True))
