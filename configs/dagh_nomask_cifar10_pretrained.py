"""DAgH's attribution control: network 1 without its mask (DPSH's likelihood on the plain map),
so network 2 learns DPSH-like codes; everything else as
configs/dagh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dagh,dagh_nomask
EXPECTED: mAP@all 0.6845 (network 2) / 0.6851 (network 1) at 32 bits, seed 0, with stage
          1 half the run as DAgH (DAgH 0.6803 / 0.6914), 2026-12-06 on 2 cores of an AMD
          EPYC (`python benchmarks/method_table.py --dataset=cifar10_pretrained
          --methods=dagh_nomask --bits=32 --seeds=0 --table=cifar10_pretrained_seed`,
          docs/results.md; resumed from a checkpoint and paused for other timings, so its
          13.9 min are not a budget number). Over seeds 0, 1, 2 (`--seeds=0,1,2`): 0.6790
          ± 0.0047 / 0.6787 ± 0.0056 against DAgH's 0.6814 ± 0.0012 / 0.6886 ± 0.0024.
          With two thirds: 0.6729 / 0.6783 in 9.3 min
          of training on idle cores, after 14.5 min building the trunk cache once.
          At 24 bits, seed 0 (2 shared cores of an Intel Xeon, 2026-12-07, `--bits=24
          --seeds=0`): 0.6754 / 0.6687 (DAgH 0.6713 / 0.6725). At 12 bits (`--bits=12
          --seeds=0`): 0.6430 / 0.6339 (DAgH 0.6439 / 0.6298). At 48 bits
          (`--bits=48 --seeds=0`): 0.6891 / 0.6916 (DAgH 0.6843 / 0.7014).
"""

from configs import dagh_cifar10_pretrained


def get_config():
    config = dagh_cifar10_pretrained.get_config()
    config.dagh.attention = "none"
    return config
