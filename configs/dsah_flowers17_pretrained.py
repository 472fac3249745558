"""configs/dsah_flowers17.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DSaH with its mask on
the trunk's map (`dsah.mask_level="trunk_map"`; the paper masks pixels, which would need
the trunk on every masked batch).

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsah
EXPECTED: not measured yet on Flowers-17.
"""

from configs import default, dsah_flowers17


def get_config():
    config = default.pretrained_setting(dsah_flowers17.get_config())
    # the mask on the frozen trunk's 14 x 14 x 320 map, not on the pixels: the trunk then
    # runs once per image (the cache); on pixels it would run on every masked batch
    config.dsah.mask_level = "trunk_map"
    return config
