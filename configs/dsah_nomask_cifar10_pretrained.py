"""DSaH's attribution control: the hashing network on the unmasked trunk map, no attention
step, everything else as
configs/dsah_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsah,dsah_nomask
EXPECTED: not measured yet.
"""

from configs import dsah_cifar10_pretrained


def get_config():
    config = dsah_cifar10_pretrained.get_config()
    config.dsah.mask = "none"
    return config
