"""DSaH's control without per-image attention: the attention network and its step as
in DSaH, but the hashing network codes every input times one map, the mean of the
attention's maps over the training items (recomputed after every epoch); everything
else as configs/dsah_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsah,dsah_mean,dsah_nomask
EXPECTED: not measured yet.
"""

from configs import dsah_flowers17_pretrained


def get_config():
    config = dsah_flowers17_pretrained.get_config()
    config.dsah.mask = "mean"
    return config
