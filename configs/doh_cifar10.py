"""DOH (deep ordinal hashing with spatial attention) with the small CNN on cifar10, 32 bits by
default; the shared setting is in configs/cifar10.py, so DOH is compared with DPSH, DSH and
DSaH under the same budget. Two small CNNs (global stream, local FCN stream), K = 2
(plain binary codes), fusion batch-normalised.

COMMAND:  tfhash-train --config=configs/doh_cifar10.py --workdir=runs/doh_cifar10
EXPECTED: mAP@all 0.5612 / 0.5997 / 0.5978 ± 0.0036 / 0.6215 at 12 / 24 / 32 (seeds 0, 1, 2) /
          48 bits (chance 0.1001), above the best baseline, DPSH, at every length (0.4615 /
          0.4981 / 0.5007 ± 0.0066 / 0.5102); 14.0 to 18.3 min of training per run on 2 CPU
          cores (AMD EPYC, shared with another run), measured by `python
          benchmarks/method_table.py --dataset=cifar10 --methods=dpsh,dsh,dsah,doh,dagh`
          (JPEG copy of CIFAR-10; docs/results.md).
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "doh"
    # doh.ordinal_loss stays "likelihood", chosen on a validation draw (50 training images
    # per class held out, 30 epochs, 32 bits, val mAP@all): likelihood 0.6769, triplet 0.6484
    return config
