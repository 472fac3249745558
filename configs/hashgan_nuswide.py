"""HashGAN / ADAH on NUS-WIDE (10 most frequent concepts) from the DCMH-style .mat files; the setting is
configs/nuswide.py.

COMMAND:  tfhash-train --config=configs/hashgan_nuswide.py --workdir=runs/hashgan_nuswide
EXPECTED: not measured: the data set is not on this machine (a GPU is advised at 224 px).
"""

from configs import nuswide


def get_config():
    config = nuswide.get_config()
    config.method = "hashgan"
    return config
