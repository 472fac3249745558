"""HashGAN / ADAH on IAPR TC-12 from the DCMH-style .mat files; the setting is
configs/iapr.py.

COMMAND:  tfhash-train --config=configs/hashgan_iapr.py --workdir=runs/hashgan_iapr
EXPECTED: not measured: the data set is not on this machine (a GPU is advised at 224 px).
"""

from configs import iapr


def get_config():
    config = iapr.get_config()
    config.method = "hashgan"
    return config
