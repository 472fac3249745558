"""DSH with the small CNN on Oxford Flowers-17 (per-class protocol, 32 px), 32 bits by
default; the shared setting and the data are described in configs/flowers17.py.

COMMAND:  tfhash-train --config=configs/dsh_flowers17.py --workdir=runs/dsh_flowers17 \
              --config.data.source=list:$HOME/.cache/tfhash/flowers17/labels.csv
EXPECTED: (measured by benchmarks/method_table.py; filled in below)
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "dsh"
    return config
