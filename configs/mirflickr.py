"""The fixed MIRFlickr multi-label setting (the images and 24-concept labels of the
MIRFlickr cross-modal mini in ../shared/data; the tags are not used by image-only
methods): 2,188 items, the mini's suggested protocol (200 random queries, the other
1,988 the database, 1,000 of those for training, data seed 0), images resized to 32
px, and the small-CNN budget of CIFAR-10 and Flowers-17 (configs/default.py
`small_cnn_budget`). Items are relevant when they share at least one concept; about
half of the database shares one with a typical query, so random codes score high:
every report prints that chance mAP and the code health beside the mAP.

Data: extract ../shared/data/mirflickr-cm-mini.tar.gz to ~/.cache/tfhash:

COMMAND:  tar xzf ../shared/data/mirflickr-cm-mini.tar.gz -C ~/.cache/tfhash
          tfhash-train --config=configs/dsh_mirflickr.py --workdir=runs/dsh_mirflickr

configs/<method>_mirflickr.py set the method; their docstrings give the measured mAP.
"""

import os

from configs import default


def get_config():
    config = default.get_config()
    config.bits = 32
    config.data.source = "pairs:" + os.path.expanduser(
        "~/.cache/tfhash/mirflickr_cm_mini/mir_cm_mini.npz")
    config.data.protocol = "fixed"
    config.data.num_query = 200
    config.data.num_train = 1000
    config.data.train_in_database = True
    config.data.image_size = 32
    default.small_cnn_budget(config)
    config.eval.top_k = 100
    config.eval.precision_ks = (1, 10, 50, 100)
    return config
