"""configs/dagh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DAgH: both networks'
backbones start from the same ImageNet trunk (one cache).

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dagh
EXPECTED: not measured yet on CIFAR-10.
"""

from configs import default, dagh_cifar10


def get_config():
    return default.pretrained_setting(dagh_cifar10.get_config())
