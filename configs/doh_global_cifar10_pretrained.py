"""DOH's attribution control: the global stream alone (no local stream, no attention; DOH's
annealed soft assignment and one classification head), everything else as
configs/doh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=doh,doh_global
EXPECTED: not measured yet.
"""

from configs import doh_cifar10_pretrained


def get_config():
    config = doh_cifar10_pretrained.get_config()
    config.doh.streams = "global"
    return config
