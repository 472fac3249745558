"""configs/dpsh_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dpsh --bits=32
EXPECTED: mAP@all 0.8044 ± 0.0045 at 32 bits over 3 seeds (200 queries); 1.0 to 1.5 minutes
          of training per run from the cache (2 cores, AMD EPYC, 2026-12-02).
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import default, dpsh_mirflickr


def get_config():
    return default.pretrained_setting(dpsh_mirflickr.get_config())
