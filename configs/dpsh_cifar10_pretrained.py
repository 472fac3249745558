"""configs/dpsh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dpsh
EXPECTED: not measured yet: the runs were started on 2026-12-02 (docs/results.md,
          "CIFAR-10, pretrained"); the published numbers to compare with are in issue 24.
"""

from configs import default, dpsh_cifar10


def get_config():
    return default.pretrained_setting(dpsh_cifar10.get_config())
