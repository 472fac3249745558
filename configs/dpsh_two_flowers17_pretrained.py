"""DOH's capacity control: DPSH with two backbones side by side (`dpsh.backbones=2`:
two trainable tails, each the 1x1 head conv from the ImageNet weights, on the one
frozen trunk, their pooled features concatenated before the hash layer); everything
else as configs/dpsh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dpsh,dpsh_two,doh,doh_uniform,doh_global
EXPECTED: mAP@all 0.9663 at 32 bits, seed 0 (DPSH 0.9672 on the same rebuilt cache),
          3.0 min of training (docs/results.md, the seed methods' Flowers-17 table; 2 CPU cores of an AMD EPYC,
          2026-12-06; one seed, so within the seed spread of about 0.006). Over seeds
          0, 1, 2 (`--methods=dpsh_two --bits=32 --seeds=0,1,2
          --table=flowers17_pretrained_seed`; seeds 1 and 2 on 2 cores of an Intel Xeon
          shared with another run, 2026-12-07): 0.9658 ± 0.0064 (0.9663, 0.9592, 0.9722).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import dpsh_flowers17_pretrained


def get_config():
    config = dpsh_flowers17_pretrained.get_config()
    config.dpsh.backbones = 2
    return config
