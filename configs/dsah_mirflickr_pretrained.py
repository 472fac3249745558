"""configs/dsah_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DSaH with its mask on
the trunk's map (`dsah.mask_level="trunk_map"`; the paper masks pixels, which would need
the trunk on every masked batch).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah --bits=32
EXPECTED: not measured yet on MIRFlickr images.
"""

from configs import default, dsah_mirflickr


def get_config():
    config = default.pretrained_setting(dsah_mirflickr.get_config())
    # the mask on the frozen trunk's 14 x 14 x 320 map, not on the pixels: the trunk then
    # runs once per image (the cache); on pixels it would run on every masked batch
    config.dsah.mask_level = "trunk_map"
    return config
