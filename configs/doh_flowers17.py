"""DOH (deep ordinal hashing with spatial attention) with the small CNN on flowers17, 32 bits by
default; the shared setting is in configs/flowers17.py, so DOH is compared with DPSH, DSH and
DSaH under the same budget. Two small CNNs (global stream, local FCN stream), K = 2
(plain binary codes), fusion batch-normalised.

COMMAND:  tfhash-train --config=configs/doh_flowers17.py --workdir=runs/doh_flowers17
EXPECTED: mAP@all 0.6855 ± 0.0279 at 32 bits (seeds 0, 1, 2; chance 0.0643), far above DSH
          (0.4296 ± 0.0139) and DPSH (0.3735 ± 0.0103); 1.5 to 2.9 min of training per run
          on 2 CPU cores (AMD EPYC), measured by `python benchmarks/method_table.py
          --dataset=flowers17 --methods=dpsh,dsh,dsah,doh,dagh` (32-bit column; the other
          lengths were not run in this session; docs/results.md).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "doh"
    config.model.head_batch_norm = True
    return config
