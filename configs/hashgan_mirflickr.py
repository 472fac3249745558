"""HashGAN / ADAH on the MIRFlickr cross-modal mini (images and tags); the shared
setting is configs/mirflickr.py, the same backbone and budget as DCMH. Attention and
adversary on; configs/hashgan_noadv_mirflickr.py is the triplet-only ablation.

COMMAND:  tfhash-train --config=configs/hashgan_mirflickr.py --workdir=runs/hashgan_mirflickr
EXPECTED: (to be measured)
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "hashgan"
    return config
