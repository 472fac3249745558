"""configs/dsh_flowers17.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsh
EXPECTED: mAP@all 0.8459 / 0.9229 / 0.9298 ± 0.0054 (3 seeds) / 0.9276 at 12 / 24 / 32 / 48
          bits; 1.2 to 1.6 minutes of training per run from the cache (2 shared cores,
          AMD EPYC, 2026-12-02).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import default, dsh_flowers17


def get_config():
    return default.pretrained_setting(dsh_flowers17.get_config())
