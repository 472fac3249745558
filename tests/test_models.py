import keras
import numpy as np
import pytest
import tensorflow as tf

from tfhash import backbones, layers, models


def make(method, bits=12):
    backbone = backbones.SmallCNN((4, 8), 1)
    if method == "dpsh":
        return models.DPSH(backbone, bits, num_train=10, num_classes=3, quant_weight=0.5,
                           head_batch_norm=True, head_activation="tanh")
    return models.DSH(backbone, bits, alpha=0.02, margin=5.0, hidden_units=8)


@pytest.mark.parametrize("method", ["dpsh", "dsh"])
def test_config_round_trip_and_keras_file(tmp_path, rng, method):
    model = make(method)
    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    expected = model(images).numpy()
    clone = type(model).from_config(model.get_config())
    assert isinstance(clone, type(model)) and clone.get_config() == model.get_config()
    assert isinstance(clone.backbone, backbones.SmallCNN)
    path = str(tmp_path / f"{method}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded(images).numpy(), expected, rtol=1e-5, atol=1e-5)
    codes = loaded.encode(images).numpy()
    assert set(np.unique(codes)) <= {-1.0, 1.0} and codes.shape == (3, 12)


def test_hash_head_round_trip():
    head = layers.HashHead(20, activation="tanh", hidden_units=5, dropout=0.1)
    assert layers.HashHead.from_config(head.get_config()).get_config() == head.get_config()
    assert head(tf.zeros([2, 7])).shape == (2, 20)


@pytest.mark.parametrize("bad", [0, -4, 1.5])
def test_bad_bits(bad):
    with pytest.raises(ValueError, match="bits must be a positive integer"):
        models.DSH(backbones.SmallCNN((4,), 1), bad)


def test_application_backbone_builds_without_weights():
    backbone = backbones.ApplicationBackbone("vgg16", image_size=32, weights=None)
    out = backbone(tf.zeros([1, 32, 32, 3]))
    assert out["features"].shape == (1, 512) and out["feature_map"].shape == (1, 1, 1, 512)
    assert backbones.ApplicationBackbone.from_config(backbone.get_config()).name_ == "vgg16"
    with pytest.raises(ValueError, match="unknown backbone 'alexnet'"):
        backbones.ApplicationBackbone("alexnet")
