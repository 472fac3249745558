"""DAgH's attribution control: network 1 without its mask (DPSH's likelihood on the plain map),
so network 2 learns DPSH-like codes; everything else as
configs/dagh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dagh,dagh_nomask
EXPECTED: mAP@all 0.9208 (network 2) / 0.9477 (network 1) at 32 bits, seed 0 (DAgH
          0.9518 / 0.9661 on the same cache), stage 1 half the run as DAgH's config; 6.1 min
          of training on 2 cores of an AMD EPYC shared with a CIFAR-10 run, 2026-12-06
          (docs/results.md, the seed methods' Flowers-17 table). Over seeds 0, 1, 2
          (`--seeds=0,1,2`): 0.9285 ± 0.0075 / 0.9467 ± 0.0060 against DAgH's 0.9496 ±
          0.0028 / 0.9613 ± 0.0070. With two thirds: 0.9078 / 0.9606 (DAgH 0.9424 / 0.9686).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          63 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import dagh_flowers17_pretrained


def get_config():
    config = dagh_flowers17_pretrained.get_config()
    config.dagh.attention = "none"
    return config
