"""The fixed CIFAR-10 setting every method is compared under: protocol cifar10-1
(1,000 query / 5,000 train / 59,000 database), 32 px, the small CNN (6 conv layers,
widths 32/64/128), 30 epochs, batch 64, Adam 1e-3 with cosine decay.

COMMAND:  tfhash-train --config=configs/cifar10.py --workdir=runs/cifar10_dpsh_linear
          (offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: on its own this trains DPSH with the paper's linear hash layer, 32 bits:
          mAP@all 0.1770, 384.8 s of training on 2 CPU cores (measured with the JPEG
          copy; docs/dpsh_from_scratch.md). configs/<method>_cifar10.py set the method. Users with internet
get CIFAR-10 from TFDS (the default source); offline, point
--config.data.source=folder:<dir> at an extracted copy (train/<class>/*.jpg, test/...).
"""

from configs import default


def get_config():
    config = default.get_config()
    config.bits = 32
    config.data.source = "tfds:cifar10"
    config.data.protocol = "cifar10-1"
    config.data.image_size = 32
    default.small_cnn_budget(config)
    return config
