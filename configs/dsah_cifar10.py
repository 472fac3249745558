"""DSaH (deep saliency hashing) with the small CNN on cifar10, 32 bits by default; the
shared setting (split, image size, network widths, epochs, optimiser) is in
configs/cifar10.py, so DSaH is compared with DPSH and DSH under the same budget.

The hashing network H is DPSH's (memory bank, batch-normalised tanh hash layer); the
attention network A is a second small CNN of the same widths. Saliency loss, area
weight and floor, and mask normalisation are the defaults of configs/default.py
(chosen on the coloured-patch probe and CIFAR-10; docs/dsah.md).

COMMAND:  tfhash-train --config=configs/dsah_cifar10.py --workdir=runs/dsah_cifar10
          (offline: --config.data.source=folder:<extracted cifar10-jpeg>)
EXPECTED: mAP@all 0.2569 / 0.3398 / 0.4067 ± 0.0250 / 0.4078 at 12 / 24 / 32 (seeds 0, 1,
          2) / 48 bits (chance 0.1001); 20.3 to 31.0 min of training per run on 2 CPU
          cores (AMD EPYC, shared with one or two other runs), measured by `python
          benchmarks/method_table.py --dataset=cifar10 --methods=dpsh,dsh,dsah,doh,dagh`
          (JPEG copy of CIFAR-10; docs/results.md). Below DPSH (the same hashing network
          without the attention) at every length. Before the DPSH logit fix
          (docs/dpsh_code_length.md), which DSaH shares: 0.2569 / 0.1982 / 0.1810 / 0.3012
          (docs/dsah.md).
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dsah"
    return config
