"""configs/dpsh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dpsh
EXPECTED: mAP@all 0.6187 at 12 bits (an earlier run 0.6166), 0.6551 at 24 bits
          (published, VGG-F: 0.713 / 0.727; those runs' folders were lost); 0.6637 at
          32 bits, seed 0 (published 0.744; 16.6 min of training beside the test
          suite, 2026-12-06); 0.6763 at 48 bits, seed 0 (published 0.757; 15.0 min of
          training beside the test suite, after 15.6 min building the trunk cache,
          2026-12-06); 2 CPU cores of an AMD EPYC (docs/results.md, "CIFAR-10,
          pretrained").
"""

from configs import default, dpsh_cifar10


def get_config():
    return default.pretrained_setting(dpsh_cifar10.get_config())
