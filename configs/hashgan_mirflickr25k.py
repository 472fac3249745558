"""HashGAN / ADAH on MIRFlickr-25K from the DCMH-style .mat files; the setting is
configs/mirflickr25k.py.

COMMAND:  tfhash-train --config=configs/hashgan_mirflickr25k.py --workdir=runs/hashgan_mirflickr25k
EXPECTED: not measured: the data set is not on this machine (a GPU is advised at 224 px).
"""

from configs import mirflickr25k


def get_config():
    config = mirflickr25k.get_config()
    config.method = "hashgan"
    return config
