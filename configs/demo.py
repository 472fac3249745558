"""DPSH, 32 bits, on scikit-learn's digits upsampled to 32 px: the README's first command.

COMMAND:  tfhash-train --config=configs/demo.py --workdir=runs/demo
EXPECTED: see README.md "Demo" for the measured mAP@all and time (2 CPU cores).
"""

from configs import default


def get_config():
    config = default.get_config()
    config.method = "dpsh"
    config.bits = 32
    config.data.source = "digits"
    config.data.protocol = "per_class"
    config.data.query_per_class = 30
    config.data.train_per_class = 100
    config.model.widths = (16, 32, 64)
    config.model.convs_per_stage = 1
    config.train.epochs = 12
    config.train.batch_size = 50
    return config
