"""DCMH (the cross-modal baseline) on MIRFlickr-25K from the DCMH-style .mat files; the setting is
configs/mirflickr25k.py.

COMMAND:  tfhash-train --config=configs/dcmh_mirflickr25k.py --workdir=runs/dcmh_mirflickr25k
EXPECTED: not measured: the data set is not on this machine (a GPU is advised at 224 px).
"""

from configs import mirflickr25k


def get_config():
    config = mirflickr25k.get_config()
    config.method = "dcmh"
    config.model.head_activation = "linear"  # the paper's image head
    config.model.head_batch_norm = False
    return config
