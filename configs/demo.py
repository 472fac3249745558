"""DSH, 32 bits, on scikit-learn's digits upsampled to 32 px: the README's first command.

COMMAND:  tfhash-train --config=configs/demo.py --workdir=runs/demo
EXPECTED: mAP@all 0.8360 (300 queries, 1,497 database items), 585 distinct database
          codes; 20.5 s of training, 51 s for the whole command (2 idle cores of an
          AMD EPYC with AVX-512, measured 2026-12-02). Other methods on it
          (`--config.method=M`): README "Try another method".
"""

from configs import default


def get_config():
    config = default.get_config()
    config.method = "dsh"
    config.bits = 32
    config.data.source = "digits"
    config.data.protocol = "per_class"
    config.data.query_per_class = 30
    config.data.train_per_class = 100
    config.model.widths = (32, 64, 128)
    config.model.convs_per_stage = 2
    config.train.epochs = 20
    config.train.batch_size = 50
    return config
