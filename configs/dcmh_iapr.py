"""DCMH (the cross-modal baseline) on IAPR TC-12 from the DCMH-style .mat files; the setting is
configs/iapr.py.

COMMAND:  tfhash-train --config=configs/dcmh_iapr.py --workdir=runs/dcmh_iapr
EXPECTED: not measured: the data set is not on this machine (a GPU is advised at 224 px).
"""

from configs import iapr


def get_config():
    config = iapr.get_config()
    config.method = "dcmh"
    config.model.head_activation = "linear"  # the paper's image head
    config.model.head_batch_norm = False
    return config
