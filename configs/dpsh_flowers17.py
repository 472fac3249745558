"""DPSH with the small CNN on Oxford Flowers-17 (per-class protocol, 32 px), 32 bits by
default; the shared setting and the data are described in configs/flowers17.py.

COMMAND:  tfhash-train --config=configs/dpsh_flowers17.py --workdir=runs/dpsh_flowers17 \
              --config.data.source=list:$HOME/.cache/tfhash/flowers17/labels.csv
EXPECTED: mAP@all 0.1848 / 0.3194 / 0.3735 ± 0.0103 / 0.3899 at 12 / 24 / 32 (seeds 0, 1, 2) /
          48 bits; 0.9 to 1.6 min of training per run on 2 CPU cores (AMD EPYC), measured by
          `python benchmarks/method_table.py --dataset=flowers17 --epochs=30 --methods=dpsh`
          (docs/results.md).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "dpsh"
    # as configs/dpsh_cifar10.py: the paper's linear hash layer collapses from scratch
    return config
