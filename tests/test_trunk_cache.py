"""The trunk-map cache: built once, reused, rebuilt on any mismatch, resumed after a
kill, never read while incomplete; training on it gives the codes of the pixel path."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import restored, tiny_config
from tfhash import backbones, data
from tfhash.data import preprocess, trunk_cache
from tfhash.training import evaluation, loop, trunks


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHASH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "trunks"


def cut_config(method="dpsh", **overrides):
    return tiny_config(method=method, **{"model.train_from": "stage2", "train.epochs": 2,
                                         **overrides})


def test_training_on_cached_maps_gives_the_pixel_paths_codes(tmp_path, cache_dir):
    config = cut_config()
    report = loop.train_and_evaluate(config, str(tmp_path / "a"))
    (folder,) = os.listdir(cache_dir)
    meta = json.loads((cache_dir / folder / "meta.json").read_text())
    assert meta["complete"] and meta["shape"] == [8, 8, 4]  # 16 px after one 2x2 pool
    assert meta["key"]["cut"] == "stage2" and meta["key"]["image_size"] == 16
    # the exported / indexed path: the whole network on pixels, evaluated without a cache
    model, source, split, stats = restored(config, tmp_path / "a")
    pixels = evaluation.evaluate(model, config, source, split, stats)
    cached = np.load(tmp_path / "a" / "codes.npz")
    bits = np.unpackbits(pixels.db_codes["image"]) == np.unpackbits(cached["db_codes"])
    assert bits.mean() > 0.999  # float16 maps: a bit near zero may flip
    assert pixels.report.map_all == pytest.approx(report["map_all"], abs=2e-3)
    # the same trunk, split and image size in another run: the cache is reused as it is
    stamp = os.path.getmtime(cache_dir / folder / "maps.npy")
    loop.train(cut_config(method="dsh"), str(tmp_path / "b"))  # another method, same trunk
    assert os.listdir(cache_dir) == [folder]
    assert os.path.getmtime(cache_dir / folder / "maps.npy") == stamp
    # another image size, or another split: another cache
    loop.train(cut_config(**{"data.image_size": 24}), str(tmp_path / "c"))
    loop.train(cut_config(**{"data.seed": 3}), str(tmp_path / "d"))
    assert len(os.listdir(cache_dir)) == 3


def test_the_maps_are_the_trunks_and_the_flips_the_flipped_images(tmp_path, cache_dir):
    config = cut_config()
    model, source, split, _ = loop.train(config, str(tmp_path / "a"))
    inputs = trunks.map_source(model, config, source, split, build=False)
    assert isinstance(inputs, trunk_cache.MapSource)
    backbone = trunks.cut_backbones(model)[0]
    items = split.train[:5]
    images = np.stack([preprocess.resize(source.array[i], 16).numpy() for i in items])
    expected = backbone.trunk(tf.cast(images, tf.float32)).numpy()
    np.testing.assert_allclose(inputs.cache.read(items), expected, rtol=2e-3, atol=2e-3)
    flipped = backbone.trunk(tf.cast(images[:, :, ::-1], tf.float32)).numpy()
    np.testing.assert_allclose(inputs.cache.read(items, flipped=True), flipped, rtol=2e-3,
                               atol=2e-3)
    # training batches are maps, one of the two per item and epoch
    train = data.TrainData(inputs, split.train, 16, 20, seed=0)
    batch = next(iter(train.epoch(0)))
    assert batch["image"].shape == (20, 8, 8, 4) and batch["image"].dtype == tf.float32


def test_a_killed_build_resumes_and_an_incomplete_cache_is_never_read(tmp_path, cache_dir,
                                                                     monkeypatch):
    source = data.load_source("digits", 16)
    backbone = backbones.SmallCNN((4, 8), 1, train_from="stage2")
    backbone.build((None, 16, 16, 3))
    items, flipped = np.arange(300), np.arange(0, 300, 3)
    key = trunk_cache.cache_key(backbone, 16, items, flipped, source, "split")
    kill = {"at": 3, "calls": 0}

    def trunk(images):
        kill["calls"] += 1
        if kill["calls"] == kill["at"]:
            raise KeyboardInterrupt("killed")
        return backbone.trunk(tf.cast(images, tf.float32))

    monkeypatch.setattr(trunk_cache, "CHUNK", 64)  # chunks of 2 batches of 32
    cache = trunk_cache.TrunkCache(str(cache_dir), key, items, flipped)
    with pytest.raises(KeyboardInterrupt):  # the probe, then killed in chunk 1
        cache.build(source, trunk, 16, batch_size=32)
    assert not cache.complete
    with pytest.raises(ValueError, match="incomplete"):
        cache.open()
    meta = json.loads(open(os.path.join(cache.path, "meta.json")).read())
    assert meta["done"] == 0
    kill.update(at=4, calls=0)  # resumed: chunk 1 done, killed in chunk 2
    with pytest.raises(KeyboardInterrupt):
        cache.build(source, trunk, 16, batch_size=32)
    meta = json.loads(open(os.path.join(cache.path, "meta.json")).read())
    assert meta["done"] == 64 and not meta["complete"]
    kill.update(at=-1, calls=0)
    cache.build(source, trunk, 16, batch_size=32)
    assert cache.complete and kill["calls"] == 8 + 4  # the rest, in batches of 32: nothing twice
    fresh = trunk_cache.TrunkCache(str(tmp_path / "fresh"), key, items, flipped)
    fresh.build(source, lambda images: backbone.trunk(tf.cast(images, tf.float32)), 16)
    np.testing.assert_array_equal(cache.maps, fresh.maps)
    np.testing.assert_array_equal(cache.flipped, fresh.flipped)
    # a record that does not parse (or names another key) starts the cache over
    with open(os.path.join(cache.path, "meta.json"), "w") as f:
        f.write("{half")
    assert not cache.complete
    cache.build(source, lambda images: backbone.trunk(tf.cast(images, tf.float32)), 16)
    np.testing.assert_array_equal(cache.open().maps, fresh.maps)


def test_a_method_on_pixels_runs_its_trunk_at_every_step(tmp_path, cache_dir):
    """DSaH masks pixels: no cache, the frozen trunk runs on every masked batch."""
    config = tiny_config(method="dsah", **{"model.train_from": "stage2", "train.epochs": 1})
    model, *_ = loop.train(config, str(tmp_path / "a"))
    assert not os.path.exists(cache_dir) or not os.listdir(cache_dir)
    frozen = trunks.cut_backbones(model)
    assert frozen and all(not w.trainable for b in frozen for w in b.stage_layers(0)[0].weights)


def test_the_key_names_how_the_trunk_computes(monkeypatch):
    """Maps computed another way (EfficientNet-Lite0 folds its batch norms into the
    convs) are another cache: the trunk's computation is part of the key."""
    source = data.load_source("digits", 16)
    backbone = backbones.SmallCNN((4, 8), 1, train_from="stage2")
    backbone.build((None, 16, 16, 3))
    items, flipped = np.arange(30), np.arange(0, 30, 3)
    key = trunk_cache.cache_key(backbone, 16, items, flipped, source, "split")
    assert key["computation"] == "the layers"
    monkeypatch.setattr(backbones.SmallCNN, "TRUNK_COMPUTATION", "folded", raising=False)
    other = trunk_cache.cache_key(backbone, 16, items, flipped, source, "split")
    assert other != key and {k for k in key if key[k] != other[k]} == {"computation"}
    assert (trunk_cache.TrunkCache("/tmp", other, items, flipped).digest
            != trunk_cache.TrunkCache("/tmp", key, items, flipped).digest)
    assert backbones.EfficientNetLite0.TRUNK_COMPUTATION == "batch norm folded into each conv"
