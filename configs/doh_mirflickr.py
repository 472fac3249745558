"""DOH (deep ordinal hashing with spatial attention) with the small CNN on mirflickr, 32 bits by
default; the shared setting is in configs/mirflickr.py, so DOH is compared with DPSH, DSH and
DSaH under the same budget. Two small CNNs (global stream, local FCN stream), K = 2
(plain binary codes), fusion batch-normalised.

COMMAND:  tfhash-train --config=configs/doh_mirflickr.py --workdir=runs/doh_mirflickr
EXPECTED: (to be measured)
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "doh"
    config.model.head_batch_norm = True
    return config
