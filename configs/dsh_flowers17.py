"""DSH with the small CNN on Oxford Flowers-17 (per-class protocol, 32 px), 32 bits by
default; the shared setting and the data are described in configs/flowers17.py.

COMMAND:  tfhash-train --config=configs/dsh_flowers17.py --workdir=runs/dsh_flowers17 \
              --config.data.source=list:$HOME/.cache/tfhash/flowers17/labels.csv
EXPECTED: mAP@all 0.3407 / 0.3937 / 0.4151 / 0.4379 at 12 / 24 / 32 / 48 bits; 2.0 to 2.6
          min of training per run on 2 CPU cores shared with another training run
          (measured by `python benchmarks/method_table.py --dataset=flowers17 --epochs=30`).
          32 bits over seeds 0, 1, 2: 0.4296 ± 0.0139 (same command, docs/results.md).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "dsh"
    return config
