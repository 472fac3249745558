"""DOH (deep ordinal hashing with spatial attention) with the small CNN on flowers17, 32 bits by
default; the shared setting is in configs/flowers17.py, so DOH is compared with DPSH, DSH and
DSaH under the same budget. Two small CNNs (global stream, local FCN stream), K = 2
(plain binary codes), fusion batch-normalised.

COMMAND:  tfhash-train --config=configs/doh_flowers17.py --workdir=runs/doh_flowers17
EXPECTED: mAP@all 0.5753 / 0.6450 / 0.6855 ± 0.0279 / 0.6766 at 12 / 24 / 32 (seeds 0, 1, 2) /
          48 bits (chance 0.0643), above every baseline at every length (best baseline:
          DSH 0.3407 / 0.3937 / 0.4296 ± 0.0139 / 0.4379); 1.4 to 2.9 min of training per run
          on 2 CPU cores (AMD EPYC), measured by `python benchmarks/method_table.py --dataset=flowers17
          --methods=dpsh,dsh,dsah,doh,dagh` (docs/results.md).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "doh"
    return config
