"""configs/dsah_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DSaH with its mask on
the trunk's map (`dsah.mask_level="trunk_map"`; the paper masks pixels, which would need
the trunk on every masked batch).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah --bits=32
EXPECTED: mAP@all 0.7970 at 32 bits, seed 0 (DPSH 0.7992 on the cache before the trunk
          was folded; 0.8044 ± 0.0045 over 3 seeds); 7.5 min of training on 2 CPU cores of an AMD EPYC
          shared with the unit tests for part of it, 2026-12-06 (`python
          benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah,dagh
          --bits=32 --seeds=0 --table=mirflickr_pretrained_seed`, docs/results.md).
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md)."""

from configs import default, dsah_mirflickr


def get_config():
    config = default.pretrained_setting(dsah_mirflickr.get_config())
    # the mask on the frozen trunk's 14 x 14 x 320 map, not on the pixels: the trunk then
    # runs once per image (the cache); on pixels it would run on every masked batch
    config.dsah.mask_level = "trunk_map"
    return config
