"""DSH with the small CNN on CIFAR-10, protocol cifar10-1 (1,000 query / 5,000 train /
59,000 database), 32 px, 32 bits by default.

COMMAND:  tfhash-train --config=configs/dsh_cifar10.py --workdir=runs/dsh_cifar10
          (users with internet: the default source tfds:cifar10 downloads CIFAR-10;
          offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: see README.md "CIFAR-10 baselines" for mAP@all at 12/24/32/48 bits and the
          time, measured by benchmarks/cifar10_baselines.py.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.method = "dsh"
    config.bits = 32
    config.data.source = "tfds:cifar10"
    config.data.protocol = "cifar10-1"
    config.data.image_size = 32
    config.model.backbone = "small_cnn"
    config.model.widths = (32, 64, 128)
    config.model.convs_per_stage = 2
    config.model.head_batch_norm = False
    config.train.epochs = 30
    config.train.batch_size = 64
    return config
