"""configs/dpsh_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dpsh
EXPECTED: not measured yet.
"""

from configs import default, dpsh_mirflickr


def get_config():
    return default.pretrained_setting(dpsh_mirflickr.get_config())
