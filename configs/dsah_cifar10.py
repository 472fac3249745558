"""DSaH (deep saliency hashing) with the small CNN on cifar10, 32 bits by default; the
shared setting (split, image size, network widths, epochs, optimiser) is in
configs/cifar10.py, so DSaH is compared with DPSH and DSH under the same budget.

The hashing network H is DPSH's (memory bank, batch-normalised tanh hash layer); the
attention network A is a second small CNN of the same widths. Saliency loss, area
weight and mask normalisation are the defaults of configs/default.py (chosen on the
coloured-patch probe; README "DSaH").

COMMAND:  tfhash-train --config=configs/dsah_cifar10.py --workdir=runs/dsah_cifar10
EXPECTED: (measured by benchmarks/method_table.py; filled in below)
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dsah"
    config.model.head_batch_norm = True
    config.model.head_activation = "tanh"
    return config
