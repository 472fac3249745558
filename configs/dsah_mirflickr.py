"""DSaH on the images of the MIRFlickr cross-modal mini (multi-label), 32 bits; the
shared setting and the data are described in configs/mirflickr.py.

COMMAND:  tfhash-train --config=configs/dsah_mirflickr.py --workdir=runs/dsah_mirflickr
EXPECTED: (to be measured)
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "dsah"
    config.model.head_batch_norm = True
    config.model.head_activation = "tanh"
    return config
