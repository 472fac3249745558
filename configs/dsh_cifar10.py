"""DSH with the small CNN on CIFAR-10 (cifar10-1), 32 bits by default; the shared
setting is in configs/cifar10.py.

COMMAND:  tfhash-train --config=configs/dsh_cifar10.py --workdir=runs/dsh_cifar10
          (offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: mAP@all 0.3331 / 0.3725 / 0.3840 ± 0.0130 / 0.4055 at 12 / 24 / 32 (seeds 0, 1, 2) /
          48 bits (chance 0.1001); 6.9 to 8.4 min of training per run on 2 CPU cores (AMD
          EPYC, shared with another run), measured by `python benchmarks/method_table.py
          --dataset=cifar10 --methods=dpsh,dsh,dsah,doh,dagh` (JPEG copy of CIFAR-10;
          docs/results.md). Below DPSH at every length.
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dsh"
    return config
