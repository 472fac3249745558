"""DOH (deep ordinal hashing with spatial attention) with the small CNN on flowers17, 32 bits by
default; the shared setting is in configs/flowers17.py, so DOH is compared with DPSH, DSH and
DSaH under the same budget. Two small CNNs (global stream, local FCN stream), K = 2
(plain binary codes), fusion batch-normalised.

COMMAND:  tfhash-train --config=configs/doh_flowers17.py --workdir=runs/doh_flowers17
EXPECTED: (to be measured)
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "doh"
    config.model.head_batch_norm = True
    return config
