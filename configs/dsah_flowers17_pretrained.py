"""configs/dsah_flowers17.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DSaH with its mask on
the trunk's map (`dsah.mask_level="trunk_map"`; the paper masks pixels, which would need
the trunk on every masked batch).

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsah
EXPECTED: mAP@all 0.9612 at 32 bits, seed 0 (DPSH on the same trunk cache 0.9731; this
          config with `dsah.mask="none"` 0.9681); over seeds 0, 1, 2 0.9644 ± 0.0057
          (no mask 0.9698 ± 0.0024, DPSH 0.9637 ± 0.0085; `--seeds=0,1,2`); 6.9 min of training on 2 shared cores
          of an AMD EPYC, 2026-12-06 (`python benchmarks/method_table.py
          --dataset=flowers17_pretrained --methods=dpsh,dsah,dsah_nomask,doh,dagh --bits=32
          --seeds=0 --table=flowers17_pretrained_seed`, docs/results.md).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import default, dsah_flowers17


def get_config():
    config = default.pretrained_setting(dsah_flowers17.get_config())
    # the mask on the frozen trunk's 14 x 14 x 320 map, not on the pixels: the trunk then
    # runs once per image (the cache); on pixels it would run on every masked batch
    config.dsah.mask_level = "trunk_map"
    return config
