"""configs/dpsh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dpsh
EXPECTED: mAP@all at seed 0: 0.6204 at 12 bits, 0.6588 at 24 bits (published, VGG-F:
          0.713 / 0.727), 0.6637 at 32 bits (seeds 0, 1, 2: 0.6685 ± 0.0054;
          published 0.744), 0.6763 at 48 bits (published 0.757); 8.1 to 16.6 min
          of training per run on 2 CPU cores of an AMD EPYC, shared for some runs,
          after 15.6 min building the trunk cache once, 2026-12-06
          (docs/results.md, "CIFAR-10, pretrained").
"""

from configs import default, dpsh_cifar10


def get_config():
    return default.pretrained_setting(dpsh_cifar10.get_config())
