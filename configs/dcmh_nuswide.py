"""DCMH (the cross-modal baseline) on NUS-WIDE (10 most frequent concepts) from the DCMH-style .mat files; the setting is
configs/nuswide.py.

COMMAND:  tfhash-train --config=configs/dcmh_nuswide.py --workdir=runs/dcmh_nuswide
EXPECTED: not measured: the data set is not on this machine (a GPU is advised at 224 px).
"""

from configs import nuswide


def get_config():
    config = nuswide.get_config()
    config.method = "dcmh"
    config.model.head_activation = "linear"  # the paper's image head
    config.model.head_batch_norm = False
    return config
