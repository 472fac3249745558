"""DSaH's control without per-image attention: the attention network and its step as
in DSaH, but the hashing network codes every input times one map, the mean of the
attention's maps over the training items (recomputed after every epoch); everything
else as configs/dsah_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dsah,dsah_mean,dsah_nomask
EXPECTED: mAP@all 0.9668 at 32 bits, seed 0 (DPSH 0.9672 on the same rebuilt cache;
          DSaH 0.9612 on the earlier one), 6.4 min of training (docs/results.md, the seed methods' Flowers-17 table; 2 CPU cores of an AMD EPYC,
          2026-12-06); over seeds 0, 1, 2: 0.9658 ± 0.0062 (0.9668, 0.9592, 0.9715;
          2026-12-07; DSaH 0.9644 ± 0.0057, no mask 0.9698 ± 0.0024).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import dsah_flowers17_pretrained


def get_config():
    config = dsah_flowers17_pretrained.get_config()
    config.dsah.mask = "mean"
    return config
