"""DSaH's attribution control: the hashing network on the unmasked trunk map, no attention
step, everything else as
configs/dsah_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsah,dsah_nomask
EXPECTED: mAP@all 0.9681 at 32 bits, seed 0 (DSaH with its mask 0.9612); over seeds 0,
          1, 2 0.9698 ± 0.0024 against DSaH's 0.9644 ± 0.0057 (`--seeds=0,1,2`); 4.4 min
          of training on 2 CPU cores of an AMD EPYC, 2026-12-06
          (docs/results.md, the seed methods' Flowers-17 table).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import dsah_flowers17_pretrained


def get_config():
    config = dsah_flowers17_pretrained.get_config()
    config.dsah.mask = "none"
    return config
