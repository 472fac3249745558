"""configs/dsh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsh
EXPECTED: mAP@all at seed 0: 0.5754 at 12 bits, 0.6222 at 24 bits, 0.6366 at 32 bits
          (seeds 0, 1, 2: 0.6387 ± 0.0020), 0.6550 at 48 bits (published 0.6457 /
          0.7492 / 0.7857 / 0.8113); 8.0 to 23.3 min of training per run on 2 CPU cores of an AMD EPYC, shared for some
          runs, 2026-12-06 (docs/results.md, "CIFAR-10, pretrained").
          CIFAR-10's trunk cache (65,000 maps) is built once before the first run:
          868 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import default, dsh_cifar10


def get_config():
    return default.pretrained_setting(dsh_cifar10.get_config())
