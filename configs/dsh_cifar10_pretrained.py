"""configs/dsh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsh
EXPECTED: mAP@all 0.6366 at 32 bits, seed 0 (published 0.7857; 23.3 min of training
          on shared cores with a 9-minute pause), 0.6550 at 48 bits, seed 0 (published
          0.8113; 8.0 min of training on idle cores), 2026-12-06, 2 CPU cores of an AMD
          EPYC (docs/results.md, "CIFAR-10, pretrained"); 12 and 24 bits not run yet.
"""

from configs import default, dsh_cifar10


def get_config():
    return default.pretrained_setting(dsh_cifar10.get_config())
