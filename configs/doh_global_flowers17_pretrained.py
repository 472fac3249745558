"""DOH's attribution control: the global stream alone (no local stream, no attention; DOH's
annealed soft assignment and one classification head), everything else as
configs/doh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=doh,doh_global
EXPECTED: mAP@all 0.9586 at 32 bits, seed 0 (DOH 0.9649; earlier cache), 2.5 min of
          training (docs/results.md, the seed methods' Flowers-17 table; 2 CPU cores of an AMD EPYC,
          2026-12-06; one seed, so within the seed spread of about 0.006).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import doh_flowers17_pretrained


def get_config():
    config = doh_flowers17_pretrained.get_config()
    config.doh.streams = "global"
    return config
