"""DSH with the small CNN on CIFAR-10 (cifar10-1), 32 bits by default; the shared
setting is in configs/cifar10.py.

COMMAND:  tfhash-train --config=configs/dsh_cifar10.py --workdir=runs/dsh_cifar10
          (offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: see README.md "CIFAR-10 baselines" for mAP@all at 12/24/32/48 bits and the
          time, measured by benchmarks/cifar10_baselines.py.
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dsh"
    return config
