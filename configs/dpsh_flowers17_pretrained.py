"""configs/dpsh_flowers17.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dpsh
EXPECTED: mAP@all 0.9467 / 0.9631 / 0.9628 ± 0.0057 (3 seeds) / 0.9738 at 12 / 24 / 32 / 48
          bits (340 queries); 1.2 to 1.9 minutes of training per run from the cache,
          whose 2,380 maps took 63 s to build once (2 shared cores, AMD EPYC,
          2026-12-02).
"""

from configs import default, dpsh_flowers17


def get_config():
    return default.pretrained_setting(dpsh_flowers17.get_config())
