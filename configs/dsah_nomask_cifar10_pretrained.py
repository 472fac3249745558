"""DSaH's attribution control: the hashing network on the unmasked trunk map, no attention
step, everything else as
configs/dsah_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsah,dsah_nomask
EXPECTED: mAP@all 0.6665 at 32 bits, seed 0 (DSaH 0.6748; one seed each), 8.0 min of
          training on 2 idle cores of an AMD EPYC, 2026-12-06 (`python
          benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsah_nomask
          --bits=32 --seeds=0 --table=cifar10_pretrained_seed`, docs/results.md), after
          14.5 min building the trunk cache once. Over seeds 0, 1, 2
          (`--seeds=0,1,2`; seeds 1 and 2 on 2 shared cores of an Intel Xeon,
          2026-12-07): 0.6660 ± 0.0004 against DSaH's 0.6682 ± 0.0067. At 24 bits,
          seed 0 (the same Xeon, shared, `--bits=24 --seeds=0`): 0.6542 (DSaH 0.6541).
          At 12 bits (`--bits=12 --seeds=0`): 0.6278 (DSaH 0.6309, DPSH 0.6204).
          At 48 bits (`--bits=48 --seeds=0`): 0.6780 (DSaH 0.6840, DPSH 0.6763).
"""

from configs import dsah_cifar10_pretrained


def get_config():
    config = dsah_cifar10_pretrained.get_config()
    config.dsah.mask = "none"
    return config
