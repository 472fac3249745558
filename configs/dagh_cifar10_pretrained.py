"""configs/dagh_cifar10.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DAgH: both networks'
backbones start from the same ImageNet trunk (one cache).

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dagh
EXPECTED: mAP@all 0.6803 at 32 bits, seed 0, network 2's codes (network 1: 0.6914;
          DPSH 0.6685 ± 0.0054 over 3 seeds), with stage 1 half the run
          (`dagh.stage1_share=0.5`, chosen on the Flowers-17 validation draw,
          docs/results.md); trained on 2 cores of an AMD EPYC shared with another
          training run (35.5 min there; not a budget measurement), 2026-12-06 (`python
          benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dagh --bits=32
          --seeds=0 --table=cifar10_pretrained_seed`, docs/results.md). Over seeds 0, 1, 2
          (`--seeds=0,1,2`): 0.6814 ± 0.0012 / 0.6886 ± 0.0024. With stage 1 two
          thirds of the run: 0.6690 / 0.6854 in 17.6 min on idle cores. At 12 / 24 /
          48 bits (seed 0, `--bits=12,24,48`): 0.6439 / 0.6713 / 0.6843 (network 1
          0.6298 / 0.6725 / 0.7014) against DPSH's 0.6204 / 0.6588 / 0.6763.
"""

from configs import default, dagh_cifar10


def get_config():
    config = default.pretrained_setting(dagh_cifar10.get_config())
    config.dagh.stage1_share = 0.5  # chosen on the Flowers-17 validation draw (docs/results.md)
    return config
