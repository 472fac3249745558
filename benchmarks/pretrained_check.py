"""Are the EfficientNet-Lite0 ImageNet weights right, and what do their features know?

On the CIFAR-10 copy in ../shared/data (images upsampled to --size px with the one
preprocessing), in one run:

1. a linear probe: logistic regression on the frozen, average-pooled features of
   --train images (per class, from the training split) scored on --test images per
   class of the test split, with the ImageNet weights and with a random
   initialisation of the same network;
2. zero-shot ImageNet classification: the network's own 1000-way classifier (the
   `_fc` layer of the file) on the test images, its classes grouped into the nine
   CIFAR-10 classes ImageNet has (no deer), under the conventions the weights could
   have been trained with: TensorFlow "same" padding or symmetric padding, inputs
   (x - 127) / 128 or ImageNet mean / std, batch-norm epsilon 1e-3 or 1e-5. The
   conventions the backbone uses should score best; a second, unchanged copy of the
   network is the control that must score exactly as the first.

Not part of CI. Prints a table with the machine and the time.

  python benchmarks/pretrained_check.py [--size=224] [--train=100] [--test=100]
"""

import argparse
import glob
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from method_table import DATASETS, cpu_name, extract  # noqa: E402

# ImageNet classes of each CIFAR-10 class (standard 1000-class order)
GROUPS = {
    "airplane": [404, 895, 908], "automobile": [436, 468, 511, 609, 627, 656, 661, 751, 817, 581],
    "bird": list(range(7, 25)) + list(range(80, 101)) + list(range(127, 147)),
    "cat": list(range(281, 286)), "dog": list(range(151, 269)), "frog": [30, 31, 32],
    "horse": [339, 603], "ship": [472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 913],
    "truck": [555, 569, 675, 717, 734, 864, 867]}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


def load(root, split, per_class, size):
    from tfhash.data import preprocess

    images, labels = [], []
    for c, name in enumerate(CLASSES):
        for path in sorted(glob.glob(os.path.join(root, split, name, "*.jpg")))[:per_class]:
            images.append(preprocess.resize(preprocess.read_file(path), size).numpy())
            labels.append(c)
    return np.stack(images), np.asarray(labels)


def features(backbone, images, batch=64):
    import tensorflow as tf

    run = tf.function(lambda x: backbone(tf.cast(x, tf.float32))["features"])
    return np.concatenate([run(images[i:i + batch]).numpy() for i in range(0, len(images), batch)])


def probe(train_x, train_y, test_x, test_y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    model = LogisticRegression(max_iter=2000, C=0.5).fit(scaler.transform(train_x), train_y)
    return float(model.score(scaler.transform(test_x), test_y))


def variant(name):
    """An EfficientNetLite0 with the ImageNet weights under one set of conventions."""
    import keras
    import tensorflow as tf

    from tfhash import backbones

    net = backbones.EfficientNetLite0(weights="imagenet")
    net.build((None, args.size, args.size, 3))
    changed = 0
    if name == "symmetric padding":
        for layer in net._flatten_layers():
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)) and \
                    layer.strides[0] == 2:
                changed += 1
                k = layer.kernel_size[0]
                layer.padding = "valid"
                layer.call = (lambda call, k: lambda x, *a, **kw: call(
                    tf.pad(x, [[0, 0], [k // 2, k // 2], [k // 2, k // 2], [0, 0]]), *a, **kw))(
                        layer.call, k)
    elif name == "ImageNet mean / std":
        mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
        std = np.array([0.229, 0.224, 0.225], np.float32) * 255
        net._input = lambda x: (x - mean) / std
        changed = 1
    elif name == "batch-norm epsilon 1e-5":
        for layer in net._flatten_layers():
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.epsilon = 1e-5
                changed += 1
    if name != "a second copy, unchanged" and not changed:
        raise SystemExit(f"variant {name!r} changed no layer")
    return net, changed


def zero_shot(net, images, labels, fc):
    logits = features(net, images) @ fc["_fc.weight"] + fc["_fc.bias"]
    kept = labels != CLASSES.index("deer")
    scores = np.stack([logits[:, g].max(axis=1) for g in GROUPS.values()], axis=1)
    truth = np.array([list(GROUPS).index(CLASSES[c]) for c in labels[kept]])
    return float(np.mean(scores[kept].argmax(axis=1) == truth))


def main():
    spec = DATASETS["cifar10"]
    if not os.path.exists(spec["archive"]):
        print(f"skipped: {spec['archive']} is not there (see ../shared/data/README.md)")
        return
    root = extract(spec["archive"], spec["extract_dir"], "cifar10")
    from tfhash import backbones
    from tfhash.backbones import efficientnet_lite

    start = time.time()
    train_x, train_y = load(root, "train", args.train, args.size)
    test_x, test_y = load(root, "test", args.test, args.size)
    rows = []
    pretrained = backbones.EfficientNetLite0(weights="imagenet")
    random_init = backbones.EfficientNetLite0(weights=None)
    for name, net in (("ImageNet weights", pretrained), ("random initialisation", random_init)):
        began = time.time()
        accuracy = probe(features(net, train_x), train_y, features(net, test_x), test_y)
        rows.append(("linear probe", name, accuracy, time.time() - began))
    fc = efficientnet_lite.imagenet_weights()
    for name in ("as the backbone runs (TF same padding, (x - 127) / 128, epsilon 1e-3)",
                 "a second copy, unchanged", "symmetric padding", "ImageNet mean / std",
                 "batch-norm epsilon 1e-5"):
        began = time.time()
        if name.startswith("as the"):
            net, label = pretrained, name
        else:
            net, changed = variant(name)
            label = f"{name} ({changed} layers changed)" if changed > 1 else name
        rows.append(("zero-shot", label, zero_shot(net, test_x, test_y, fc), time.time() - began))
    print(f"CIFAR-10 (JPEG copy), {args.train} training and {args.test} test images per class at "
          f"{args.size} px; {os.cpu_count()} CPU cores ({cpu_name()}); "
          f"{time.time() - start:.0f} s in all\n")
    print("| check | network | accuracy | seconds |\n|---|---|---|---|")
    for check, name, accuracy, seconds in rows:
        print(f"| {check} | {name} | {accuracy:.4f} | {seconds:.0f} |")
    print("\nChance: 0.1 (linear probe, 10 classes), 0.111 (zero-shot, 9 classes).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--train", type=int, default=100, help="training images per class")
    parser.add_argument("--test", type=int, default=100, help="test images per class")
    args = parser.parse_args()
    main()
