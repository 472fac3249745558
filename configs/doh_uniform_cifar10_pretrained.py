"""DOH's attribution control: the local stream's spatial softmax held at its uniform start
(average pooling), everything else as
configs/doh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=doh,doh_uniform
EXPECTED: mAP@all 0.6763 at 32 bits, seed 0 (DOH 0.6699; one seed each), 16.1 min of
          training on 2 idle cores of an AMD EPYC, 2026-12-06 (`python
          benchmarks/method_table.py --dataset=cifar10_pretrained --methods=doh_uniform
          --bits=32 --seeds=0 --table=cifar10_pretrained_seed`, docs/results.md), after
          14.5 min building the trunk cache once. Over seeds 0, 1, 2: 0.6704 ± 0.0067
          (0.6763, 0.6718, 0.6632; seeds 1 and 2 on 2 cores of an Intel Xeon shared with
          another training run, 2026-12-07; `--seeds=0,1,2`), against DOH's 0.6706 ±
          0.0026: level. At 24 bits, seed 0 (the same Xeon, shared, 2026-12-07,
          `--bits=24 --seeds=0`): 0.6676 (DOH 0.6643). At 12 bits, seed 0 (the same
          Xeon, shared, `--bits=12 --seeds=0`): 0.6419 (DOH 0.6417). At 48 bits
          (`--bits=48 --seeds=0`): 0.6763 (DOH 0.6753, DPSH 0.6763).
"""

from configs import doh_cifar10_pretrained


def get_config():
    config = doh_cifar10_pretrained.get_config()
    config.doh.attention = "uniform"
    return config
