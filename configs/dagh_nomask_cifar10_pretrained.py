"""DAgH's attribution control: network 1 without its mask (DPSH's likelihood on the plain map),
so network 2 learns DPSH-like codes; everything else as
configs/dagh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dagh,dagh_nomask
EXPECTED: not measured yet with stage 1 half the run (DAgH's config since 2026-12-06).
          With two thirds: 0.6729 (network 2) / 0.6783 (network 1) at 32 bits, seed 0
          (DAgH then 0.6690 / 0.6854), 9.3 min of training on 2 idle cores of an AMD EPYC
          (`python benchmarks/method_table.py --dataset=cifar10_pretrained
          --methods=dagh_nomask --bits=32 --seeds=0 --table=cifar10_pretrained_seed`,
          docs/results.md), after 14.5 min building the trunk cache once.
"""

from configs import dagh_cifar10_pretrained


def get_config():
    config = dagh_cifar10_pretrained.get_config()
    config.dagh.attention = "none"
    return config
