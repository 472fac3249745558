"""DCMH (the cross-modal baseline) on the MIRFlickr cross-modal mini: images and the
1,386-word tag bag-of-words, 24 concepts; the shared setting (protocol, image size,
small CNN, 30 epochs, batch 64, Adam) is configs/mirflickr.py. Text network: one
dense layer of 8,192 units, as in the paper; B = sign(F + G) refreshed every epoch.

COMMAND:  tfhash-train --config=configs/dcmh_mirflickr.py --workdir=runs/dcmh_mirflickr
EXPECTED: (to be measured)
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "dcmh"
    return config
