"""HashGAN's triplet-only ablation on the MIRFlickr cross-modal mini: no attention and
no adversary (`hashgan.adversarial=False`), everything else as
configs/hashgan_mirflickr.py; the comparison the paper's claim rests on.

COMMAND:  tfhash-train --config=configs/hashgan_noadv_mirflickr.py --workdir=runs/hashgan_noadv
EXPECTED: (to be measured)
"""

from configs import hashgan_mirflickr


def get_config():
    config = hashgan_mirflickr.get_config()
    config.hashgan.adversarial = False
    return config
