"""DSaH's control without per-image attention: the attention network and its step as
in DSaH, but the hashing network codes every input times one map, the mean of the
attention's maps over the training items (recomputed after every epoch); everything
else as configs/dsah_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsah,dsah_mean,dsah_nomask
EXPECTED: mAP@all 0.6708 at 32 bits, seed 0 (DSaH 0.6748; one seed each), 16.9 min of
          training on 2 idle cores of an AMD EPYC, 2026-12-06 (`python
          benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dsah_mean
          --bits=32 --seeds=0 --table=cifar10_pretrained_seed`, docs/results.md), after
          14.5 min building the trunk cache once. Seed 1 (2 cores of an Intel Xeon
          shared with another training run, 2026-12-07, `--seeds=0,1,2`): 0.6707
          and seed 2 (the same) 0.6663: seeds 0, 1, 2 0.6692 ± 0.0025 (DSaH 0.6682 ±
          0.0067, 0.0010 below it). At 24 bits, seed 0 (the same Xeon, shared,
          `--bits=24 --seeds=0`): 0.6460 (DSaH 0.6541, no mask 0.6542).
          At 12 bits (`--bits=12 --seeds=0`): 0.6308 (DSaH 0.6309, no mask 0.6278). At 48
          bits (`--bits=48 --seeds=0`): 0.6819 (DSaH 0.6840, no mask 0.6780).
"""

from configs import dsah_cifar10_pretrained


def get_config():
    config = dsah_cifar10_pretrained.get_config()
    config.dsah.mask = "mean"
    return config
