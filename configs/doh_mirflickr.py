"""DOH (deep ordinal hashing with spatial attention) with the small CNN on mirflickr, 32 bits by
default; the shared setting is in configs/mirflickr.py, so DOH is compared with DPSH, DSH and
DSaH under the same budget. Two small CNNs (global stream, local FCN stream), K = 2
(plain binary codes), fusion batch-normalised.

COMMAND:  tfhash-train --config=configs/doh_mirflickr.py --workdir=runs/doh_mirflickr
EXPECTED: mAP@all 0.6234 ± 0.0019 at 32 bits (seeds 0, 1, 2; chance 0.5256; DPSH 0.6196 ±
          0.0039, the best baseline); 1.5 to 2.3 min of training per run
          on 2 CPU cores (AMD EPYC), measured by `python benchmarks/method_table.py
          --dataset=mirflickr --bits=32 --methods=dpsh,dsh,dsah,doh,dagh` (docs/results.md).
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "doh"
    return config
