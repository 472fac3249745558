"""DAgH's attribution control: network 1 without its mask (DPSH's likelihood on the plain map),
so network 2 learns DPSH-like codes; everything else as
configs/dagh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dagh,dagh_nomask
EXPECTED: not measured yet.
"""

from configs import dagh_flowers17_pretrained


def get_config():
    config = dagh_flowers17_pretrained.get_config()
    config.dagh.attention = "none"
    return config
