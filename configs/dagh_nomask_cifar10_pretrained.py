"""DAgH's attribution control: network 1 without its mask (DPSH's likelihood on the plain map),
so network 2 learns DPSH-like codes; everything else as
configs/dagh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dagh,dagh_nomask
EXPECTED: not measured yet.
"""

from configs import dagh_cifar10_pretrained


def get_config():
    config = dagh_cifar10_pretrained.get_config()
    config.dagh.attention = "none"
    return config
