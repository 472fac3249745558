"""DPSH (memory bank) with the small CNN on CIFAR-10 (cifar10-1), 32 bits by default;
the shared setting is in configs/cifar10.py.

COMMAND:  tfhash-train --config=configs/dpsh_cifar10.py --workdir=runs/dpsh_cifar10
          (offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: mAP@all 0.4615 / 0.4981 / 0.5007 ± 0.0066 / 0.5102 at 12 / 24 / 32 (seeds 0, 1, 2) /
          48 bits; 7.1 to 9.9 min of training per run on 2 CPU cores (AMD EPYC, shared with
          other runs), measured by `python benchmarks/method_table.py --dataset=cifar10
          --epochs=30 --methods=dpsh` (JPEG copy of CIFAR-10; docs/results.md). The hash layer
          is batch-normalised with a tanh output, not the paper's linear layer, which
          collapses when trained from scratch (docs/dpsh_from_scratch.md); the logit is
          length-normalised (`loss.max_logit=6`), which made mAP rise with code length
          instead of falling (docs/dpsh_code_length.md).
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dpsh"
    return config
