"""DPSH (memory bank) with the small CNN on CIFAR-10 (cifar10-1), 32 bits by default;
the shared setting is in configs/cifar10.py.

COMMAND:  tfhash-train --config=configs/dpsh_cifar10.py --workdir=runs/dpsh_cifar10
          (offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: mAP@all 0.4615 / 0.4214 / 0.3199 / 0.2467 at 12 / 24 / 32 / 48 bits; 5.8 to 6.9
          min of training per run on 2 CPU cores (measured by
          `python benchmarks/method_table.py --dataset=cifar10 --epochs=30`, JPEG copy of CIFAR-10).
          The hash layer is batch-normalised with a tanh output, not the paper's
          linear layer, which collapses when trained from scratch (README "DPSH from
          scratch"); mAP falls with code length here, which is not understood yet.
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dpsh"
    config.model.head_batch_norm = True
    config.model.head_activation = "tanh"
    return config
