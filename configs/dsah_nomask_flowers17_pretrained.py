"""DSaH's attribution control: the hashing network on the unmasked trunk map, no attention
step, everything else as
configs/dsah_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsah,dsah_nomask
EXPECTED: not measured yet.
"""

from configs import dsah_flowers17_pretrained


def get_config():
    config = dsah_flowers17_pretrained.get_config()
    config.dsah.mask = "none"
    return config
